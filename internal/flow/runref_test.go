package flow

import (
	"context"
	"fmt"
	"testing"
)

// refCards reports a card-run id for every call, "card-<step>-<index>",
// also for failed calls.
type refCards struct{ CardRunner }

func (c refCards) RunCard(ctx context.Context, call Call) (map[string]any, error) {
	ReportRunRef(ctx, fmt.Sprintf("card-%s-%d", call.StepID, call.Index))
	return c.CardRunner.RunCard(ctx, call)
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

	// Outside a run, ReportRunRef does nothing.
	ReportRunRef(context.Background(), "x")
}
