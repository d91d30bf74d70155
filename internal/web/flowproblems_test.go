package web

import (
	"context"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// oneConnection is a connection lookup that knows Prod, active.
type oneConnection struct{}

func (oneConnection) Get(_ context.Context, name string) (*connection.View, error) {
	if name != "Prod" {
		return nil, problem.New(problem.NotFound, "no connection %q", name)
	}
	return &connection.View{ID: "c1", Nickname: "Prod", Status: store.StatusActive}, nil
}

// oneSource is Prod's event source.
type oneSource store.EventSource

func (s *oneSource) GetEventSource(_ context.Context, id string) (*store.EventSource, error) {
	if id != "c1" {
		return nil, store.ErrNotFound
	}
	src := store.EventSource(*s)
	return &src, nil
}

// TestFlowProblemsPollDelivery: the failing System Log polls of an event
// trigger's connection stop the flow when the trigger reads only them, or
// the event hook too and it does not work; with hook+poll delivery (named,
// or the server's default for a trigger that names none) and a hook that
// works, the flow still gets events: a warning. A trigger that reads only
// the hook, or a disabled flow, has no poll problem.
func TestFlowProblemsPollDelivery(t *testing.T) {
	failing := store.PollStatus{Error: "Okta answered 400", Remedy: "check the org", FailingSince: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	tests := []struct {
		name            string
		delivery        string // the trigger's; "" names none
		defaultDelivery string
		hook            string
		enabled         bool
		want            string // Problem, and "(warning)" when it does not stop the flow; "" for none
	}{
		{"poll", "poll", "", "active", true, PollsFailing},
		{"hook+poll, hook active", "hook+poll", "", "active", true, PollsFailingHookOnly + " (warning)"},
		{"hook+poll, hook in error", "hook+poll", "", "error", true, PollsFailing},
		{"hook+poll, hook pending", "hook+poll", "", "pending", true, PollsFailing},
		{"default hook+poll, hook active", "", "hook+poll", "active", true, PollsFailingHookOnly + " (warning)"},
		{"default poll", "", "poll", "active", true, PollsFailing},
		{"no default", "", "", "active", true, PollsFailing},
		{"hook", "hook", "", "active", true, ""},
		{"disabled", "poll", "", "active", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "name: f\non:\n  event:\n    card: okta-devices/device-enrolled\n    connection: Prod\n"
			if tt.delivery != "" {
				src += "    delivery: " + tt.delivery + "\n"
			}
			src += "steps:\n  - id: read\n    card: okta-devices/list-devices\n    connection: Prod\n"
			doc, err := flow.Parse([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			fp := &FlowProblems{Connections: oneConnection{}, Events: &oneSource{ConnectionID: "c1", Poll: failing, HookStatus: tt.hook},
				DefaultDelivery: tt.defaultDelivery}
			ps, err := fp.Find(t.Context(), doc, tt.enabled)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, p := range ps {
				if p.Connection != "Prod" || p.Kind != FlowProblemPolls || !p.Trigger || len(p.Steps) != 0 || p.Reason != failing.Error || p.Remedy != failing.Remedy {
					t.Errorf("problem %+v; want Prod's polls, of the trigger only, with the poll's error and remedy", p)
				}
				got = p.Problem
				if !p.Stops {
					got += " (warning)"
				}
			}
			if len(ps) > 1 || got != tt.want {
				t.Errorf("got %d problems, %q; want %q", len(ps), got, tt.want)
			}
		})
	}
}
