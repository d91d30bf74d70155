package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// testItemRuns: the card runs of one flow item, and the interrupted card
// runs of a resumed flow run.
func testItemRuns(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	runs := []*store.Run{
		{ID: "second", Card: "okta-devices/suspend-device", Status: store.RunRunning, FlowRunID: "f1", StepID: "s", ItemIndex: 3, StartedAt: at(20)},
		{ID: "first", Card: "okta-devices/suspend-device", Status: "succeeded", FlowRunID: "f1", StepID: "s", ItemIndex: 3, StartedAt: at(10), FinishedAt: at(11)},
		{ID: "other-index", Card: "okta-devices/suspend-device", Status: store.RunRunning, FlowRunID: "f1", StepID: "s", ItemIndex: 4, StartedAt: at(10)},
		{ID: "other-step", Card: "okta-devices/suspend-device", Status: "failed", FlowRunID: "f1", StepID: "t", ItemIndex: 3, StartedAt: at(10)},
		{ID: "other-run", Card: "okta-devices/suspend-device", Status: store.RunRunning, FlowRunID: "f2", StepID: "s", ItemIndex: 3, StartedAt: at(10)},
		{ID: "direct", Card: "okta-devices/suspend-device", Status: store.RunRunning, StartedAt: at(10)},
	}
	for _, r := range runs {
		noErr(t, s.CreateRun(ctx, r), "CreateRun "+r.ID)
	}
	ids := func(rs []*store.Run) []string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	got, err := s.ListItemRuns(ctx, "f1", "s", 3)
	noErr(t, err, "ListItemRuns")
	diff(t, "runs of item f1/s/3, oldest first", []string{"first", "second"}, ids(got))
	got, err = s.ListItemRuns(ctx, "f1", "s", 9)
	noErr(t, err, "ListItemRuns(no runs)")
	diff(t, "runs of an item without runs", []string{}, ids(got))

	n, err := s.InterruptRuns(ctx, "f1", at(30))
	noErr(t, err, "InterruptRuns")
	if n != 2 {
		t.Errorf("InterruptRuns marked %d runs; want 2 (f1's running ones)", n)
	}
	want := map[string]string{
		"second": store.RunInterrupted, "first": "succeeded", "other-index": store.RunInterrupted,
		"other-step": "failed", "other-run": store.RunRunning, "direct": store.RunRunning,
	}
	for id, status := range want {
		r, err := s.GetRun(ctx, id)
		noErr(t, err, "GetRun "+id)
		if r.Status != status {
			t.Errorf("run %s: status %q; want %q", id, r.Status, status)
		}
		if status == store.RunInterrupted && (!r.FinishedAt.Equal(at(30)) || r.ErrorMessage != store.InterruptedMessage) {
			t.Errorf("interrupted run %s: finished %v, error %q; want %v and InterruptedMessage", id, r.FinishedAt, r.ErrorMessage, at(30))
		}
	}
	n, err = s.InterruptRuns(ctx, "f1", at(40))
	noErr(t, err, "InterruptRuns again")
	if n != 0 {
		t.Errorf("InterruptRuns again marked %d runs; want 0", n)
	}
}

// testCancelFlowRun: a free queued run ends canceled at once; a run a
// server holds (queued or running) keeps its status and gets the request,
// which UpdateFlowRun leaves alone and ClaimFlowRun hands over; finished
// runs refuse.
func testCancelFlowRun(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	_, err := s.CancelFlowRun(ctx, "missing", at(0))
	wantErr(t, err, store.ErrNotFound, "CancelFlowRun(missing)")

	free := newFlowRun("free", 0)
	noErr(t, s.CreateFlowRun(ctx, free), "CreateFlowRun")
	got, err := s.CancelFlowRun(ctx, "free", at(5))
	noErr(t, err, "CancelFlowRun(free queued)")
	if got.Status != store.FlowRunCanceled || !got.FinishedAt.Equal(at(5)) || !got.CancelRequestedAt.Equal(at(5)) {
		t.Errorf("canceled queued run = %s finished %v requested %v; want canceled at %v", got.Status, got.FinishedAt, got.CancelRequestedAt, at(5))
	}
	again, err := s.CancelFlowRun(ctx, "free", at(9))
	noErr(t, err, "CancelFlowRun(canceled)")
	diff(t, "a canceled run canceled again", got, again)
	if _, err := s.ClaimFlowRun(ctx, "a", time.Minute, at(10)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ClaimFlowRun after the only run was canceled: %v; want ErrNotFound", err)
	}

	held := newFlowRun("held", 20)
	noErr(t, s.CreateFlowRun(ctx, held), "CreateFlowRun")
	claimed, err := s.ClaimFlowRun(ctx, "a", time.Minute, at(21))
	noErr(t, err, "ClaimFlowRun")
	got, err = s.CancelFlowRun(ctx, "held", at(22))
	noErr(t, err, "CancelFlowRun(held queued)")
	if got.Status != "queued" || !got.CancelRequestedAt.Equal(at(22)) || !got.FinishedAt.IsZero() {
		t.Errorf("held queued run after cancel = %s requested %v finished %v; want queued, requested at %v", got.Status, got.CancelRequestedAt, got.FinishedAt, at(22))
	}
	// The owner writes its state; the request stays.
	claimed.Status = "running"
	noErr(t, s.UpdateFlowRun(ctx, claimed), "UpdateFlowRun")
	got, err = s.CancelFlowRun(ctx, "held", at(30))
	noErr(t, err, "CancelFlowRun(running)")
	if got.Status != "running" || !got.CancelRequestedAt.Equal(at(22)) {
		t.Errorf("running run after a second cancel = %s requested %v; want running, first request %v kept", got.Status, got.CancelRequestedAt, at(22))
	}
	// Its owner died: the next claimer gets the request with the run.
	next, err := s.ClaimFlowRun(ctx, "b", time.Minute, at(200))
	noErr(t, err, "ClaimFlowRun(expired)")
	if next.ID != "held" || !next.CancelRequestedAt.Equal(at(22)) {
		t.Errorf("claimed %s with request %v; want held with %v", next.ID, next.CancelRequestedAt, at(22))
	}

	done := newFlowRun("done", 40)
	done.Status = "succeeded"
	noErr(t, s.CreateFlowRun(ctx, done), "CreateFlowRun")
	got, err = s.CancelFlowRun(ctx, "done", at(41))
	wantErr(t, err, store.ErrConflict, "CancelFlowRun(succeeded)")
	if got == nil || got.Status != "succeeded" || !got.CancelRequestedAt.IsZero() {
		t.Errorf("finished run after a refused cancel = %+v; want it unchanged", got)
	}
}
