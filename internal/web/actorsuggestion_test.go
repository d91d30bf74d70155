package web

import (
	"context"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

type auditLister []*store.AuditEvent

func (l auditLister) ListAudit(context.Context, store.AuditFilter) ([]*store.AuditEvent, error) {
	return l, nil
}

// TestActorSuggestionOfTheBootstrapAdmin: an --actor that matched nothing
// is answered with "bootstrap", the filter of the bootstrap admin (who has
// no login), when it is "bootstrap admin" as the audit lists name that
// actor, or a misspelling of bootstrap while the bootstrap admin or a token
// of theirs is among the audit's actors, where neither had a suggestion.
func TestActorSuggestionOfTheBootstrapAdmin(t *testing.T) {
	ada := &store.AuditEvent{Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"}}
	boot := &store.AuditEvent{Actor: store.Actor{Type: store.ActorBootstrap}}
	bootToken := &store.AuditEvent{Actor: store.Actor{Type: store.ActorToken, TokenName: "deploy"}}
	server := &store.AuditEvent{Actor: store.ServerActor}
	for _, tc := range []struct {
		events auditLister
		actor  string
		want   string
	}{
		{auditLister{ada, boot}, "bootstrap admin", BootstrapActor},
		{auditLister{ada, boot}, "Bootstrap  Admin", BootstrapActor},
		{auditLister{ada, boot}, "bootstap", BootstrapActor},
		{auditLister{ada, bootToken}, "bootstrp", BootstrapActor},
		{auditLister{ada, server}, "bootstap", ""},
		{auditLister{ada, boot}, "ada@exmaple.com", "ada@example.com"},
		{auditLister{ada, boot}, "bootstrap", ""},
		{auditLister{ada, boot}, "ada@example.com", ""},
	} {
		got, err := ActorSuggestion(t.Context(), tc.events, tc.actor)
		if err != nil || got != tc.want {
			t.Errorf("ActorSuggestion(%q) = %q, %v; want %q", tc.actor, got, err, tc.want)
		}
	}
}
