package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// testFencedWrites drives two owners of one flow run step by step: a
// claims it and writes; its lease lapses and b claims the run; every
// write a then makes (a card run, an item with or without its card run,
// items together, a step, the run, its outcome with a notification, the
// end of the run's running card runs) is refused with ErrLeaseLost and
// stores nothing, while b's are stored.
func testFencedWrites(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	ttl := time.Minute
	noErr(t, s.CreateFlowRun(ctx, newFlowRun("fr", 0)), "CreateFlowRun")
	claimed, err := s.ClaimFlowRun(ctx, "a", ttl, at(1))
	noErr(t, err, "ClaimFlowRun(a)")
	if claimed.ID != "fr" {
		t.Fatalf("a claimed %q; want fr", claimed.ID)
	}
	runA := *claimed
	runA.Status = "running"
	noErr(t, s.UpdateFlowRun(ctx, &runA), "UpdateFlowRun(a, holding)")

	step := func(status string) *store.FlowStep {
		return &store.FlowStep{RunID: "fr", StepID: "suspend", Status: status, Items: 4, StartedAt: at(2)}
	}
	item := func(i int, ref string) *store.FlowItem {
		return &store.FlowItem{RunID: "fr", StepID: "suspend", Index: i, Status: "succeeded", Output: []byte(`{"changed":true}`),
			RunRef: ref, StartedAt: at(3), FinishedAt: at(4)}
	}
	cardRun := func(id, owner string, i int) *store.Run {
		return &store.Run{ID: id, Card: "okta-devices/suspend-device", ConnectionID: "c1", Status: store.RunRunning,
			FlowRunID: "fr", StepID: "suspend", ItemIndex: i, StartedAt: at(3), Owner: owner, LeaseUntil: at(3).Add(ttl)}
	}
	finished := func(r *store.Run) (*store.Run, *store.AuditEvent) {
		done := *r
		done.Status, done.Output, done.FinishedAt = "succeeded", []byte(`{"changed":true}`), at(4)
		return &done, &store.AuditEvent{Time: at(4), Action: store.ActionCardRun, Card: r.Card, Outcome: "success", InputSummary: "run " + r.ID}
	}

	// While a holds the run, its writes are stored.
	noErr(t, s.PutFlowStep(ctx, "a", step("running")), "PutFlowStep(a, holding)")
	noErr(t, s.PutFlowItem(ctx, "a", item(0, "")), "PutFlowItem(a, holding)")
	held := cardRun("held", "a", 1)
	noErr(t, s.CreateRun(ctx, held), "CreateRun(a, holding)")
	// A card run of no flow run is not fenced.
	noErr(t, s.CreateRun(ctx, &store.Run{ID: "direct", Card: "okta-devices/read-device", ConnectionID: "c1",
		Status: store.RunRunning, StartedAt: at(3), Owner: "a", LeaseUntil: at(3).Add(ttl)}), "CreateRun(direct)")

	// a's lease lapses (a is paused, it renews nothing) and b claims the
	// run.
	claimed, err = s.ClaimFlowRun(ctx, "b", ttl, at(1).Add(ttl+time.Second))
	noErr(t, err, "ClaimFlowRun(b)")
	if claimed.ID != "fr" || claimed.Owner != "b" {
		t.Fatalf("b claimed %q held by %q; want fr held by b", claimed.ID, claimed.Owner)
	}
	audits := func() int {
		t.Helper()
		events, err := s.ListAudit(ctx, store.AuditFilter{})
		noErr(t, err, "ListAudit")
		return len(events)
	}

	// a resumes: each of its writes is refused, and stores nothing.
	lost := func(err error, what string) {
		t.Helper()
		wantErr(t, err, store.ErrLeaseLost, what)
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: %v is not ErrConflict", what, err)
		}
	}
	lost(s.CreateRun(ctx, cardRun("stale", "a", 2)), "CreateRun(a, lost)")
	_, err = s.GetRun(ctx, "stale")
	wantErr(t, err, store.ErrNotFound, "GetRun(the refused card run)")
	done, e := finished(held)
	lost(s.FinishFlowItem(ctx, item(1, held.ID), done, e), "FinishFlowItem(a, lost)")
	if got, err := s.GetRun(ctx, held.ID); err != nil || got.Status != store.RunRunning {
		t.Errorf("the card run of a refused FinishFlowItem: %+v, %v; want it still running", got, err)
	}
	lost(s.PutFlowItem(ctx, "a", item(2, "")), "PutFlowItem(a, lost)")
	lost(s.PutFlowItems(ctx, "a", []*store.FlowItem{item(2, ""), item(3, "")}), "PutFlowItems(a, lost)")
	if items, err := s.ListFlowItems(ctx, "fr", "suspend"); err != nil || len(items) != 1 {
		t.Errorf("items after a's refused writes: %d, %v; want only item 0, stored while a held the run", len(items), err)
	}
	lost(s.PutFlowStep(ctx, "a", step("succeeded")), "PutFlowStep(a, lost)")
	if steps, err := s.ListFlowSteps(ctx, "fr"); err != nil || len(steps) != 1 || steps[0].Status != "running" {
		t.Errorf("steps after a's refused step: %+v, %v; want the running step", steps, err)
	}
	runA.Status, runA.Error = "failed", "a's outcome"
	lost(s.UpdateFlowRun(ctx, &runA), "UpdateFlowRun(a, lost)")
	note := []*store.Notification{{ID: "nt_flow_run_failed_fr", Receiver: "r1", Type: "flow_run.failed", Body: []byte(`{}`),
		NextAttemptAt: at(5), CreatedAt: at(5)}}
	runA.FinishedAt = at(5)
	lost(s.FinishFlowRun(ctx, &runA, event(&store.AuditEvent{Time: at(5), Action: store.ActionFlowRun, Outcome: "failure"}), note),
		"FinishFlowRun(a, lost)")
	if got, err := s.GetFlowRun(ctx, "fr"); err != nil || got.Status != "running" || got.Owner != "b" {
		t.Errorf("the run after a's refused writes: %+v, %v; want b's running run", got, err)
	}
	if n := audits(); n != 0 {
		t.Errorf("a's refused writes left %d audit events; want none", n)
	}
	if ns, err := s.ListNotifications(ctx, 0); err != nil || len(ns) != 0 {
		t.Errorf("a's refused outcome queued notifications %+v, %v; want none", ns, err)
	}
	// A fenced write of a run that does not exist is ErrNotFound.
	wantErr(t, s.PutFlowItem(ctx, "a", &store.FlowItem{RunID: "missing", StepID: "s"}), store.ErrNotFound, "PutFlowItem(a, missing run)")
	wantErr(t, s.PutFlowStep(ctx, "a", &store.FlowStep{RunID: "missing", StepID: "s"}), store.ErrNotFound, "PutFlowStep(a, missing run)")

	// b's writes are stored: it ends the card run a left running, and
	// runs the item again.
	runB := *claimed
	noErr(t, s.UpdateFlowRun(ctx, &runB), "UpdateFlowRun(b)")
	n, err := s.InterruptRuns(ctx, "fr", "b", at(6))
	noErr(t, err, "InterruptRuns(b)")
	if n != 1 {
		t.Errorf("b's InterruptRuns marked %d card runs; want 1, the one a left running", n)
	}
	again := cardRun("again", "b", 1)
	noErr(t, s.CreateRun(ctx, again), "CreateRun(b)")
	// a, going on as if it had just claimed the run, does not end the
	// card run b is running.
	_, err = s.InterruptRuns(ctx, "fr", "a", at(6))
	lost(err, "InterruptRuns(a, lost)")
	if got, err := s.GetRun(ctx, again.ID); err != nil || got.Status != store.RunRunning {
		t.Errorf("b's card run after a's refused InterruptRuns: %+v, %v; want running", got, err)
	}
	done, e = finished(again)
	noErr(t, s.FinishFlowItem(ctx, item(1, again.ID), done, e), "FinishFlowItem(b)")
	noErr(t, s.PutFlowItems(ctx, "b", []*store.FlowItem{item(2, ""), item(3, "")}), "PutFlowItems(b)")
	noErr(t, s.PutFlowStep(ctx, "b", step("succeeded")), "PutFlowStep(b)")
	runB.Status, runB.FinishedAt = "failed", at(6)
	noErr(t, s.FinishFlowRun(ctx, &runB, event(&store.AuditEvent{Time: at(6), Action: store.ActionFlowRun, Outcome: "failure"}), note), "FinishFlowRun(b)")
	if items, err := s.ListFlowItems(ctx, "fr", "suspend"); err != nil || len(items) != 4 {
		t.Errorf("items after b's writes: %d, %v; want 4", len(items), err)
	}
	if ns, err := s.ListNotifications(ctx, 0); err != nil || len(ns) != 1 || ns[0].ID != note[0].ID {
		t.Errorf("b's outcome queued %+v, %v; want its notification", ns, err)
	}
	if n := audits(); n != 2 {
		t.Errorf("%d audit events after b's card run and outcome; want 2", n)
	}
}
