package storetest

import (
	"testing"

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
