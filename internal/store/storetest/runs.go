package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

func testRun(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	_, err := s.GetRun(ctx, "missing")
	wantErr(t, err, store.ErrNotFound, "GetRun(missing)")
	wantErr(t, s.UpdateRun(ctx, &store.Run{ID: "missing"}), store.ErrNotFound, "UpdateRun(missing)")

	r := &store.Run{
		ID: "r1", Card: "okta-devices/suspend-device", ConnectionID: "c1", ConnectionNickname: "Prod",
		Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"}, ActingAs: "admin@example.com", Status: "running",
		Input: json.RawMessage(`{"deviceId":"guo1"}`), StartedAt: at(0), Owner: "server-a", LeaseUntil: at(15),
	}
	noErr(t, s.CreateRun(ctx, r), "CreateRun")
	wantErr(t, s.CreateRun(ctx, r), store.ErrConflict, "CreateRun(duplicate)")
	got, err := s.GetRun(ctx, "r1")
	noErr(t, err, "GetRun")
	diff(t, "created run", r, got)

	r.Status = "failed"
	r.Output = json.RawMessage(`{"status":"ACTIVE","changed":false}`)
	r.ErrorCode, r.ErrorMessage, r.Remedy = "insufficient_scope", "needs okta.devices.manage", "reauthorize"
	r.OktaRequestIDs = []string{"req-1", "req-2"}
	r.FlowRunID, r.StepID, r.ItemIndex = "fr1", "suspend", 7
	r.FinishedAt = at(2)
	noErr(t, s.UpdateRun(ctx, r), "UpdateRun")
	got, err = s.GetRun(ctx, "r1")
	noErr(t, err, "GetRun")
	diff(t, "updated run", r, got)

	// The read of a plan names the flow planned.
	plan := &store.Run{ID: "r2", Card: "okta-devices/search-devices", ConnectionID: "c1", Status: "running", StartedAt: at(1),
		Actor: store.Actor{Type: store.ActorBootstrap}, Plan: store.PlanRef{FlowID: "flow_1", FlowName: "stale-macs"}}
	noErr(t, s.CreateRun(ctx, plan), "CreateRun(plan)")
	plan.Status, plan.FinishedAt = "succeeded", at(2)
	noErr(t, s.FinishRun(ctx, plan, &store.AuditEvent{Time: at(2), Action: store.ActionCardRun, Plan: plan.Plan, Outcome: "success"}), "FinishRun(plan)")
	got, err = s.GetRun(ctx, "r2")
	noErr(t, err, "GetRun(plan)")
	diff(t, "run of a plan", plan, got)
	plan.Plan = store.PlanRef{FlowName: "not-stored"}
	noErr(t, s.UpdateRun(ctx, plan), "UpdateRun(plan)")
	got, err = s.GetRun(ctx, "r2")
	noErr(t, err, "GetRun(plan)")
	diff(t, "run of a plan updated", plan, got)

	noRun := &store.Run{Card: "okta-devices/read-device", StartedAt: at(1)}
	noErr(t, s.CreateRun(ctx, noRun), "CreateRun(no id)")
	if noRun.ID == "" {
		t.Errorf("CreateRun left ID empty; want one filled in")
	}
}

func testRunList(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	runs := []*store.Run{
		{ID: "a", Card: "okta-devices/read-device", ConnectionID: "c1", StartedAt: at(10)},
		{ID: "b", Card: "okta-devices/suspend-device", ConnectionID: "c1", StartedAt: at(20), FlowRunID: "f1"},
		{ID: "c", Card: "okta-devices/read-device", ConnectionID: "c2", StartedAt: at(30), FlowRunID: "f1"},
		{ID: "d", Card: "okta-devices/read-device", ConnectionID: "c1", StartedAt: at(30)},
		{ID: "e", Card: "okta-devices/delete-device", ConnectionID: "c2", StartedAt: at(40)},
		{ID: "p1", Card: "okta-devices/read-device", ConnectionID: "c1", StartedAt: at(25), Plan: store.PlanRef{FlowID: "flow_1", FlowName: "f"}},
		{ID: "p2", Card: "okta-devices/search-devices", ConnectionID: "c2", StartedAt: at(35), Plan: store.PlanRef{FlowName: "g"}},
	}
	for _, r := range runs {
		noErr(t, s.CreateRun(ctx, r), "CreateRun")
	}
	tests := []struct {
		name   string
		filter store.RunFilter
		want   []string
	}{
		{name: "all, newest first", want: []string{"e", "p2", "d", "c", "p1", "b", "a"}},
		{name: "connection", filter: store.RunFilter{ConnectionID: "c1"}, want: []string{"d", "p1", "b", "a"}},
		{name: "card", filter: store.RunFilter{Card: "okta-devices/read-device"}, want: []string{"d", "c", "p1", "a"}},
		{name: "flow run", filter: store.RunFilter{FlowRunID: "f1"}, want: []string{"c", "b"}},
		{name: "limit", filter: store.RunFilter{Limit: 2}, want: []string{"e", "p2"}},
		{name: "before", filter: store.RunFilter{Before: at(30)}, want: []string{"p1", "b", "a"}},
		{name: "plans excluded", filter: store.RunFilter{Plans: store.PlansExclude}, want: []string{"e", "d", "c", "b", "a"}},
		{name: "plans only", filter: store.RunFilter{Plans: store.PlansOnly}, want: []string{"p2", "p1"}},
		{name: "plans only, before", filter: store.RunFilter{Plans: store.PlansOnly, Before: at(35), BeforeID: "p2"}, want: []string{"p1"}},
		{name: "plans only of a card", filter: store.RunFilter{Plans: store.PlansOnly, Card: "okta-devices/read-device"}, want: []string{"p1"}},
		{name: "combined", filter: store.RunFilter{ConnectionID: "c1", Card: "okta-devices/read-device", Limit: 1}, want: []string{"d"}},
		{name: "none", filter: store.RunFilter{ConnectionID: "nope"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListRuns(ctx, tt.filter)
			noErr(t, err, "ListRuns")
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			diff(t, "run ids", tt.want, ids)
		})
	}

	// Limit 0 means 100.
	for i := range 105 {
		noErr(t, s.CreateRun(ctx, &store.Run{ID: fmt.Sprintf("bulk%03d", i), StartedAt: at(100 + i)}), "CreateRun")
	}
	got, err := s.ListRuns(ctx, store.RunFilter{})
	noErr(t, err, "ListRuns")
	if len(got) != 100 {
		t.Errorf("ListRuns with Limit 0 returned %d runs; want 100", len(got))
	}
}

func testAudit(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	events := []*store.AuditEvent{
		{Time: at(0), Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"}, Action: store.ActionConnectionCreate, ConnectionID: "c1", Outcome: "success"},
		{Time: at(1), Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"}, Action: store.ActionConnectionAuthorize, ConnectionID: "c1", ActingAs: "admin@example.com", Outcome: "success"},
		{Time: at(2), Actor: store.Actor{Type: store.ActorToken, Login: "ada@example.com", TokenName: "ci"}, Action: store.ActionCardRun, ConnectionID: "c1", ActingAs: "admin@example.com",
			Card: "okta-devices/suspend-device", InputSummary: "deviceId=guo1", Outcome: "failure",
			Error: "device is DEACTIVATED", OktaRequestID: "req-9"},
		{Time: at(3), Actor: store.Actor{Type: store.ActorBootstrap}, Action: store.ActionConnectionCreate, ConnectionID: "c2", Outcome: "success"},
		// Logins compare ignoring case, beyond ASCII too, as people do.
		{Time: at(4), Actor: store.Actor{Type: store.ActorUser, Login: "Éva@Example.com"}, Action: store.ActionPersonSignIn, Outcome: "success"},
		{Time: at(5), Actor: store.Actor{Type: store.ActorToken, Login: "éva@example.com", TokenName: "ci"}, Action: store.ActionCardRun, Outcome: "success"},
		{Time: at(6), Actor: store.Actor{Type: store.ActorUser, Login: "eva@example.com"}, Action: store.ActionPersonSignIn, Outcome: "success"},
		// The read of a plan names the flow planned.
		{Time: at(7), Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"}, Action: store.ActionCardRun, ConnectionID: "c1",
			Card: "okta-devices/search-devices", Outcome: "success", Plan: store.PlanRef{FlowID: "flow_1", FlowName: "stale-macs"}},
		// A token of the bootstrap admin, which has no login.
		{Time: at(8), Actor: store.Actor{Type: store.ActorToken, TokenName: "deploy"}, Action: store.ActionCardRun, ConnectionID: "c2", Outcome: "success"},
		// cardflow on its own.
		{Time: at(9), Actor: store.ServerActor, Action: store.ActionConnectionExpired, ConnectionID: "c3", Outcome: "success"},
	}
	var last int64
	for _, e := range events {
		noErr(t, s.AppendAudit(ctx, e), "AppendAudit")
		if e.ID <= last {
			t.Errorf("AppendAudit id %d; want > %d", e.ID, last)
		}
		last = e.ID
	}
	ids := func(es []*store.AuditEvent) []int64 {
		var out []int64
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	all, err := s.ListAudit(ctx, store.AuditFilter{})
	noErr(t, err, "ListAudit")
	diff(t, "audit events, newest first", []*store.AuditEvent{events[9], events[8], events[7], events[6], events[5], events[4], events[3], events[2], events[1], events[0]}, all)

	tests := []struct {
		name   string
		filter store.AuditFilter
		want   []int64
	}{
		{name: "connection", filter: store.AuditFilter{ConnectionID: "c1"}, want: append(ids(events[:3]), events[7].ID)},
		{name: "action", filter: store.AuditFilter{Action: store.ActionConnectionCreate}, want: []int64{events[0].ID, events[3].ID}},
		{name: "before id", filter: store.AuditFilter{BeforeID: events[2].ID}, want: ids(events[:2])},
		{name: "limit", filter: store.AuditFilter{Limit: 1}, want: []int64{events[9].ID}},
		{name: "actor login", filter: store.AuditFilter{ActorLogin: "ada@example.com"}, want: append(ids(events[:3]), events[7].ID)},
		{name: "actor login in capitals", filter: store.AuditFilter{ActorLogin: "ADA@example.COM"}, want: append(ids(events[:3]), events[7].ID)},
		{name: "plans excluded", filter: store.AuditFilter{Plans: store.PlansExclude}, want: append(ids(events[:7]), events[8].ID, events[9].ID)},
		{name: "plans only", filter: store.AuditFilter{Plans: store.PlansOnly}, want: []int64{events[7].ID}},
		{name: "card runs of no plan", filter: store.AuditFilter{Action: store.ActionCardRun, Plans: store.PlansExclude}, want: []int64{events[2].ID, events[5].ID, events[8].ID}},
		{name: "the bootstrap admin and its tokens", filter: store.AuditFilter{Bootstrap: true}, want: []int64{events[3].ID, events[8].ID}},
		{name: "cardflow on its own", filter: store.AuditFilter{Server: true}, want: []int64{events[9].ID}},
		{name: "actor login beyond ASCII", filter: store.AuditFilter{ActorLogin: "ÉVA@example.com"}, want: ids(events[4:6])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tt.filter)
			noErr(t, err, "ListAudit")
			want := append([]int64(nil), tt.want...)
			sort.Slice(want, func(i, j int) bool { return want[i] > want[j] })
			diff(t, "audit ids", want, ids(got))
		})
	}
}

func testAuditConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	const n = 20
	var mu sync.Mutex
	seen := map[int64]bool{}
	parallel(n, func(i int) {
		s := alternate(i, s1, s2)
		e := &store.AuditEvent{Time: at(i), Action: store.ActionCardRun, Outcome: "success"}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Errorf("AppendAudit: %v", err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if seen[e.ID] {
			t.Errorf("id %d assigned twice", e.ID)
		}
		seen[e.ID] = true
	})
	got, err := s1.ListAudit(ctx, store.AuditFilter{})
	noErr(t, err, "ListAudit")
	if len(got) != n {
		t.Errorf("ListAudit returned %d events; want %d", len(got), n)
	}
	// A later append gets a larger id than every earlier one.
	e := &store.AuditEvent{Action: store.ActionCardRun}
	noErr(t, s2.AppendAudit(ctx, e), "AppendAudit")
	for id := range seen {
		if id >= e.ID {
			t.Errorf("later event id %d is not above earlier id %d", e.ID, id)
		}
	}
}

func testRunFinish(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	r := &store.Run{ID: "r1", Card: "okta-devices/suspend-device", ConnectionID: "c1", Status: "running", StartedAt: at(0)}
	noErr(t, s.CreateRun(ctx, r), "CreateRun")
	// Every part of a run that its end sets.
	r.Status, r.FinishedAt, r.Output = "failed", at(1), json.RawMessage(`{"changed":false}`)
	r.ErrorCode, r.ErrorMessage, r.Remedy = "okta_error", "Okta said no", "ask again"
	r.OktaRequestIDs, r.DeviceName = []string{"req-1", "req-2"}, "Ada's laptop"
	e := &store.AuditEvent{Time: at(1), Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"}, Action: store.ActionCardRun, ConnectionID: "c1", Card: r.Card, Outcome: "failure"}
	noErr(t, s.FinishRun(ctx, r, e), "FinishRun")
	if e.ID == 0 {
		t.Errorf("FinishRun left the audit event's ID 0; want one assigned")
	}
	got, err := s.GetRun(ctx, "r1")
	noErr(t, err, "GetRun")
	diff(t, "finished run", r, got)
	events, err := s.ListAudit(ctx, store.AuditFilter{})
	noErr(t, err, "ListAudit")
	diff(t, "audit events", []*store.AuditEvent{e}, events)

	// Neither is stored when the run is missing.
	missing := &store.Run{ID: "missing", Status: "succeeded"}
	wantErr(t, s.FinishRun(ctx, missing, &store.AuditEvent{Action: store.ActionCardRun}), store.ErrNotFound, "FinishRun(missing)")
	events, err = s.ListAudit(ctx, store.AuditFilter{})
	noErr(t, err, "ListAudit")
	if len(events) != 1 {
		t.Errorf("after a failed FinishRun the store has %d audit events; want 1", len(events))
	}
}

// testRunConcurrentWrites writes runs, finishes and audit events from many
// goroutines on two handles at once, some of them bound to fail: each call
// gets its own outcome (a backend may commit concurrent writes together),
// and exactly the successful writes are stored.
func testRunConcurrentWrites(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	noErr(t, s1.CreateRun(ctx, &store.Run{ID: "taken", StartedAt: at(0)}), "CreateRun")
	const n = 48
	parallel(n, func(i int) {
		s := alternate(i, s1, s2)
		id := fmt.Sprintf("run%02d", i)
		switch i % 4 {
		case 0: // a duplicate id fails alone
			err := s.CreateRun(ctx, &store.Run{ID: "taken", StartedAt: at(i)})
			if err == nil || !errors.Is(err, store.ErrConflict) {
				t.Errorf("CreateRun(taken) = %v; want ErrConflict", err)
			}
		case 1: // finishing a missing run fails alone and appends nothing
			err := s.FinishRun(ctx, &store.Run{ID: "none" + id}, &store.AuditEvent{Action: "lost", Time: at(i)})
			if err == nil || !errors.Is(err, store.ErrNotFound) {
				t.Errorf("FinishRun(missing) = %v; want ErrNotFound", err)
			}
		default:
			r := &store.Run{ID: id, Status: "running", StartedAt: at(i)}
			if err := s.CreateRun(ctx, r); err != nil {
				t.Errorf("CreateRun(%s): %v", id, err)
				return
			}
			r.Status, r.FinishedAt = "succeeded", at(i+1)
			if err := s.FinishRun(ctx, r, &store.AuditEvent{Action: store.ActionCardRun, Card: id, Time: at(i + 1)}); err != nil {
				t.Errorf("FinishRun(%s): %v", id, err)
			}
		}
	})
	runs, err := s1.ListRuns(ctx, store.RunFilter{Limit: 1000})
	noErr(t, err, "ListRuns")
	var finished int
	for _, r := range runs {
		if r.ID != "taken" {
			if r.Status != "succeeded" {
				t.Errorf("run %s is %s; want succeeded", r.ID, r.Status)
			}
			finished++
		}
	}
	events, err := s2.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	noErr(t, err, "ListAudit")
	cards := map[string]bool{}
	for _, e := range events {
		if e.Action != "card.run" {
			t.Errorf("audit event %+v stored; want only the finished runs' events", e)
		}
		cards[e.Card] = true
	}
	if want := n / 2; finished != want || len(cards) != want || len(events) != want {
		t.Errorf("stored %d finished runs and %d audit events (%d distinct); want %d of each", finished, len(events), len(cards), want)
	}
}
