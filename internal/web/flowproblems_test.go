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

// TestFlowProblemsEventDelivery: the failing System Log polls, or event
// hook, of an event trigger's connection stop the flow when the trigger
// reads only them, or both and neither works; with hook+poll delivery
// (named, or the server's default for a trigger that names none) and one
// of them working, the flow still gets events: a warning. A hook being
// registered is not counted as failing; a disabled flow has no such
// problem.
func TestFlowProblemsEventDelivery(t *testing.T) {
	failing := store.PollStatus{Error: "Okta answered 400", Remedy: "check the org", FailingSince: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	const hookReason, hookRemedy = "Okta shows the event hook as deactivated", "enable the flows again"
	tests := []struct {
		name            string
		delivery        string // the trigger's; "" names none
		defaultDelivery string
		pollsFail       bool
		hook            string
		enabled         bool
		want            string // Problem, and "(warning)" when it does not stop the flow; "" for none
	}{
		{"poll", "poll", "", true, "active", true, PollsFailing},
		{"poll, polls working", "poll", "", false, "deactivated", true, ""},
		{"hook+poll, hook active", "hook+poll", "", true, "active", true, PollsFailingHookOnly + " (warning)"},
		{"hook+poll, hook in error", "hook+poll", "", true, "error", true, PollsAndHookFailing},
		{"hook+poll, hook deactivated", "hook+poll", "", true, "deactivated", true, PollsAndHookFailing},
		{"hook+poll, hook pending", "hook+poll", "", true, "pending", true, PollsFailing},
		{"hook+poll, hook deactivated, polls working", "hook+poll", "", false, "deactivated", true, HookFailingPollsOnly + " (warning)"},
		{"hook+poll, hook pending, polls working", "hook+poll", "", false, "pending", true, ""},
		{"default hook+poll, hook active", "", "hook+poll", true, "active", true, PollsFailingHookOnly + " (warning)"},
		{"default poll", "", "poll", true, "active", true, PollsFailing},
		{"no default", "", "", true, "active", true, PollsFailing},
		{"hook, polls failing", "hook", "", true, "active", true, ""},
		{"hook, hook in error", "hook", "", false, "error", true, HookFailing},
		{"hook, hook deactivated", "hook", "", true, "deactivated", true, HookFailing},
		{"hook, hook pending", "hook", "", false, "pending", true, ""},
		{"disabled", "poll", "", true, "deactivated", false, ""},
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
			es := &oneSource{ConnectionID: "c1", HookStatus: tt.hook}
			if tt.pollsFail {
				es.Poll = failing
			}
			if tt.hook == "error" || tt.hook == "deactivated" {
				es.HookReason, es.HookRemedy = hookReason, hookRemedy
			}
			fp := &FlowProblems{Connections: oneConnection{}, Events: es, DefaultDelivery: tt.defaultDelivery}
			ps, err := fp.Find(t.Context(), doc, tt.enabled)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, p := range ps {
				reason, remedy := failing.Error, failing.Remedy
				switch {
				case p.Kind == FlowProblemHook:
					reason, remedy = hookReason, hookRemedy
				case p.Problem == PollsAndHookFailing:
					reason = "System Log polls: " + failing.Error + "; event hook: " + hookReason
					remedy = failing.Remedy + "; for the event hook: " + hookRemedy
				}
				if p.Connection != "Prod" || (p.Kind != FlowProblemPolls && p.Kind != FlowProblemHook) || !p.Trigger || len(p.Steps) != 0 || p.Reason != reason || p.Remedy != remedy {
					t.Errorf("problem %+v; want Prod's polls or hook, of the trigger only, with their reason and remedy", p)
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
