package main

import (
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
)

// TestWhenNamesTheZone: a time is shown in a zone (when: the local one)
// with its name,
// so that a flow's next run at 02:00 Berlin time does not read as 01:00
// of an unnamed zone; the zero time is "-".
func TestWhenNamesTheZone(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	if got, want := whenIn(time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC), cet), "2026-12-06 02:00:00 CET"; got != want {
		t.Errorf("whenIn = %q; want %q", got, want)
	}
	if got := whenIn(time.Time{}, cet); got != "-" {
		t.Errorf("whenIn(zero) = %q; want -", got)
	}
}

// TestActorText: the audit table names each kind of actor as the console
// does, the server acting on its own included.
func TestActorText(t *testing.T) {
	for _, tt := range []struct {
		a    *api.Actor
		want string
	}{
		{nil, "-"},
		{&api.Actor{Type: "user", Login: "ada@example.com"}, "ada@example.com"},
		{&api.Actor{Type: "token", Login: "ada@example.com", TokenName: "ci"}, "token ci of ada@example.com"},
		{&api.Actor{Type: "token", TokenName: "ci"}, "token ci of the bootstrap admin"},
		{&api.Actor{Type: "bootstrap"}, "bootstrap admin"},
		{&api.Actor{Type: "server"}, "cardflow"},
	} {
		if got := actorText(tt.a); got != tt.want {
			t.Errorf("actorText(%+v) = %q; want %q", tt.a, got, tt.want)
		}
	}
}
