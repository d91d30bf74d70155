package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// testRunLeases: an owner's renewal moves the lease of the running card
// runs it names among its own only; a sweep ends the direct runs whose lease lapsed, and leaves
// live leases, finished runs and a flow run's card runs alone.
func testRunLeases(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	// The flow run fr1 is b's: its card runs are recorded only while b
	// holds it (see FencedWrites).
	noErr(t, s.CreateFlowRun(ctx, newFlowRun("fr1", 0)), "CreateFlowRun")
	_, err := s.ClaimFlowRun(ctx, "b", time.Hour, at(0))
	noErr(t, err, "ClaimFlowRun")
	runs := []*store.Run{
		{ID: "a-live", Status: store.RunRunning, Owner: "a", LeaseUntil: at(10), StartedAt: at(0)},
		{ID: "a-given-up", Status: store.RunRunning, Owner: "a", LeaseUntil: at(10), StartedAt: at(0)},
		{ID: "a-done", Status: "succeeded", Owner: "a", LeaseUntil: at(10), StartedAt: at(0), FinishedAt: at(1)},
		{ID: "b-dead", Status: store.RunRunning, Owner: "b", LeaseUntil: at(10), StartedAt: at(0)},
		{ID: "b-flow", Status: store.RunRunning, Owner: "b", LeaseUntil: at(10), StartedAt: at(0), FlowRunID: "fr1", StepID: "s", ItemIndex: 1},
		{ID: "old", Status: store.RunRunning, StartedAt: at(0)}, // recorded before leases: none
	}
	for _, r := range runs {
		noErr(t, s.CreateRun(ctx, r), "CreateRun "+r.ID)
	}
	n, err := s.RenewRunLeases(ctx, "a", []string{"a-live", "a-done", "b-dead"}, at(40))
	noErr(t, err, "RenewRunLeases")
	if n != 1 {
		t.Errorf("RenewRunLeases renewed %d runs; want 1 (a's running one)", n)
	}
	for id, want := range map[string]int{"a-live": 40, "a-given-up": 10, "a-done": 10, "b-dead": 10} {
		got, err := s.GetRun(ctx, id)
		noErr(t, err, "GetRun "+id)
		if !got.LeaseUntil.Equal(at(want)) {
			t.Errorf("run %s's lease ends %v; want %v", id, got.LeaseUntil, at(want))
		}
	}

	ids, err := s.InterruptLapsedRuns(ctx, at(20))
	noErr(t, err, "InterruptLapsedRuns")
	slices.Sort(ids)
	diff(t, "interrupted runs", []string{"a-given-up", "b-dead", "old"}, ids)
	got, err := s.GetRun(ctx, "b-dead")
	noErr(t, err, "GetRun")
	if got.Status != store.RunInterrupted || !got.FinishedAt.Equal(at(20)) || got.ErrorMessage != store.InterruptedDirectMessage ||
		got.Remedy != store.InterruptedDirectRemedy || got.Owner != "b" {
		t.Errorf("a lapsed run: %+v; want interrupted at %v with the message and remedy", got, at(20))
	}
	for id, want := range map[string]string{"a-live": store.RunRunning, "a-done": "succeeded", "b-flow": store.RunRunning} {
		got, err := s.GetRun(ctx, id)
		noErr(t, err, "GetRun "+id)
		if got.Status != want {
			t.Errorf("run %s is %s after the sweep; want %s", id, got.Status, want)
		}
	}
	// A run its owner finishes after the sweep ends as the owner says.
	got.Status, got.FinishedAt = "succeeded", at(21)
	noErr(t, s.UpdateRun(ctx, got), "UpdateRun")
	if ids, err := s.InterruptLapsedRuns(ctx, at(30)); err != nil || len(ids) != 0 {
		t.Errorf("a second sweep interrupted %v (%v); want nothing", ids, err)
	}
}
