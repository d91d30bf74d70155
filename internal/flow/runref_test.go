package flow

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// refCards reports a card-run id for every call, "card-<step>-<index>",
// also for failed calls.
type refCards struct{ CardRunner }

func (c refCards) RunCard(ctx context.Context, call Call) (CardResult, error) {
	res, err := c.CardRunner.RunCard(ctx, call)
	res.RunRef = fmt.Sprintf("card-%s-%d", call.StepID, call.Index)
	return res, err
}

// TestRunRecordsRunRef: every item the card ran is saved with the card
// run's id the CardRunner reported, failed items included; skipped items
// have none.
func TestRunRecordsRunRef(t *testing.T) {
	doc := validated(t, suspendFlow)
	cards := newDeviceCards(8) // guo0000, guo0001, guo0004, guo0005 ACTIVE
	cards.failIDs["guo0004"] = true
	state := newMemState()
	res, err := (&Runner{Cards: refCards{cards}, State: state}).Run(context.Background(), "r1", doc, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Status != StatusFailed {
		t.Errorf("status = %s; want failed (guo0004 fails)", res.Status)
	}
	check := func(step string, index int, want string) {
		t.Helper()
		it, ok := state.item("r1", step, index)
		if !ok {
			t.Fatalf("item %s/%d not saved", step, index)
		}
		if it.RunRef != want {
			t.Errorf("item %s/%d (%s) RunRef = %q; want %q", step, index, it.Status, it.RunRef, want)
		}
	}
	check("find", 0, "card-find-0")
	for i := range 4 {
		check("suspend", i, fmt.Sprintf("card-suspend-%d", i))
	}
	if it, _ := state.item("r1", "suspend", 2); it.Status != StatusFailed {
		t.Errorf("item suspend/2 is %s; want failed", it.Status)
	}
}

// retryCards records which calls were marked Retry.
type retryCards struct {
	CardRunner
	mu    sync.Mutex
	retry map[string]bool // "step/index" -> Call.Retry
}

func (c *retryCards) RunCard(ctx context.Context, call Call) (CardResult, error) {
	c.mu.Lock()
	c.retry[fmt.Sprintf("%s/%d", call.StepID, call.Index)] = call.Retry
	c.mu.Unlock()
	return c.CardRunner.RunCard(ctx, call)
}

// TestResumeMarksRetry: items of a step that was running when the run was
// interrupted, and were not recorded, are run with Call.Retry; the items of
// a fresh run and of steps that had not started are not.
func TestResumeMarksRetry(t *testing.T) {
	doc := validated(t, suspendFlow)
	state := newMemState()
	ctx := context.Background()
	// The interrupted run: the search finished, the suspend step started
	// and recorded item 0.
	cards := &retryCards{CardRunner: newDeviceCards(8), retry: map[string]bool{}}
	if _, err := (&Runner{Cards: cards, State: state}).Run(ctx, "r1", doc, nil); err != nil {
		t.Fatal(err)
	}
	for k, v := range cards.retry {
		if v {
			t.Errorf("fresh run: %s marked Retry", k)
		}
	}
	state.mu.Lock()
	for key := range state.items {
		if key != "r1/find/0" && key != "r1/suspend/0" {
			delete(state.items, key)
		}
	}
	s := state.steps["r1/suspend"]
	s.Status = StatusRunning
	state.steps["r1/suspend"] = s
	state.mu.Unlock()

	cards.retry = map[string]bool{}
	if _, err := (&Runner{Cards: cards, State: state}).Run(ctx, "r1", doc, nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"suspend/1": true, "suspend/2": true, "suspend/3": true}
	if diff := cmp.Diff(want, cards.retry); diff != "" {
		t.Errorf("resumed calls' Retry (-want +got):\n%s", diff)
	}
}
