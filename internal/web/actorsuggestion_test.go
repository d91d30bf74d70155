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
		{auditLister{ada, server}, "cardflow", ""},
		{auditLister{ada, server}, "cardlfow", ServerActor},
	} {
		got, err := ActorSuggestion(t.Context(), tc.events, tc.actor)
		if err != nil || got != tc.want {
			t.Errorf("ActorSuggestion(%q) = %q, %v; want %q", tc.actor, got, err, tc.want)
		}
	}
}

// TestFilterActor: --actor keeps a login's events, "bootstrap" the
// bootstrap admin's and "cardflow" (as the audit's lists name it) what
// cardflow did on its own, in any capitals.
func TestFilterActor(t *testing.T) {
	for _, tc := range []struct {
		actor string
		want  store.AuditFilter
	}{
		{"ada@example.com", store.AuditFilter{ActorLogin: "ada@example.com"}},
		{"Bootstrap", store.AuditFilter{Bootstrap: true}},
		{"cardflow", store.AuditFilter{Server: true}},
		{"CardFlow", store.AuditFilter{Server: true}},
		{"", store.AuditFilter{}},
	} {
		f := store.AuditFilter{Server: true, Bootstrap: true}
		FilterActor(&f, tc.actor)
		if f != tc.want {
			t.Errorf("FilterActor(%q) = %+v; want %+v", tc.actor, f, tc.want)
		}
	}
}
