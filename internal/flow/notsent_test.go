package flow

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

// notSentCards is deviceCards whose suspensions, once notSent says so,
// end as a card stopped before it sent its call does (ErrNotSent), and
// whose stored card runs are counted.
type notSentCards struct {
	*deviceCards
	state   *memState
	notSent func(call Call) bool
	stored  atomic.Int32 // card runs stored alone (PendingRecord.Store)
}

func (c *notSentCards) RunCard(ctx context.Context, call Call) (CardResult, error) {
	if call.Card == "okta-devices/suspend-device" && c.notSent(call) {
		return CardResult{RunRef: "run-" + fmt.Sprint(call.Index), Pending: storedAlone{c.state, &c.stored}},
			fmt.Errorf("%w: this run did not send its call to Okta", ErrNotSent)
	}
	return c.deviceCards.RunCard(ctx, call)
}

// storedAlone is a PendingRecord that saves its item in state and counts
// the card runs stored alone.
type storedAlone struct {
	state *memState
	n     *atomic.Int32
}

func (s storedAlone) SaveItem(ctx context.Context, it ItemState, next func()) error {
	if next != nil {
		defer next()
	}
	return s.state.SaveItem(ctx, it)
}

func (s storedAlone) Store(context.Context) error { s.n.Add(1); return nil }

// TestNotSentItemsDidNotRun: an item of a run asked to stop whose card
// sent no call (ErrNotSent) is not recorded: it did not run, as the items
// never started, and the step is saved canceled with no failed item, its
// card run stored alone; when it is the last item, the run ends canceled
// all the same. Without a stop such an item fails.
func TestNotSentItemsDidNotRun(t *testing.T) {
	doc := validated(t, suspendFlow)
	var stop atomic.Bool
	state := newMemState()
	cards := &notSentCards{deviceCards: newDeviceCards(600), state: state} // 300 ACTIVE
	// The first 20 suspends go through; the 21st is asked to stop while
	// it waits (for the rate limit), as are any started with it.
	cards.notSent = func(call Call) bool {
		if call.Index < 20 {
			return false
		}
		stop.Store(true)
		return true
	}
	r := &Runner{Cards: cards, State: state, Stopped: func(runID string) bool { return runID == "run1" && stop.Load() }}
	if _, err := r.Run(t.Context(), "run1", doc, nil); !errors.Is(err, ErrCanceled) {
		t.Fatalf("Run error = %v; want ErrCanceled", err)
	}
	st := state.step("run1", "suspend")
	if st.Status != StatusCanceled || st.Items != 300 || st.Failed != 0 || st.Succeeded != 20 || state.saves != 21 {
		t.Errorf("suspend step = %+v with %d items recorded; want canceled, 300 items, 20 succeeded, none failed, those 20 and the search recorded", st, state.saves)
	}
	if n := cards.stored.Load(); n < 1 || n > 8 {
		t.Errorf("%d card runs stopped before their call stored alone; want those of the items waiting at the stop (1 to the step's concurrency, 8)", n)
	}

	// The last item stopped so: the run is canceled, not failed (which
	// would notify a failure).
	var stopLast atomic.Bool
	state = newMemState()
	cards = &notSentCards{deviceCards: newDeviceCards(600), state: state}
	cards.notSent = func(call Call) bool {
		if call.Index < 299 {
			return false
		}
		stopLast.Store(true)
		return true
	}
	r = &Runner{Cards: cards, State: state, Stopped: func(string) bool { return stopLast.Load() }}
	if res, err := r.Run(t.Context(), "run3", doc, nil); !errors.Is(err, ErrCanceled) {
		t.Errorf("Run stopped at its last item = %+v, %v; want ErrCanceled", res, err)
	}
	if st := state.step("run3", "suspend"); st.Status != StatusCanceled || st.Succeeded != 299 || st.Failed != 0 {
		t.Errorf("suspend step stopped at its last item = %+v; want canceled, 299 succeeded, none failed", st)
	}

	// Not asked to stop: the item fails.
	state = newMemState()
	cards = &notSentCards{deviceCards: newDeviceCards(600), state: state}
	cards.notSent = func(call Call) bool { return call.Index == 3 }
	r = &Runner{Cards: cards, State: state}
	res, err := r.Run(t.Context(), "run2", doc, nil)
	if err != nil || res.Status != StatusFailed || res.Steps[1].Failed != 1 {
		t.Fatalf("run without a stop = %+v, %v; want failed with the one item failed", res, err)
	}
	if it, ok := state.item("run2", "suspend", 3); !ok || it.Status != StatusFailed {
		t.Errorf("item 3 = %+v (recorded %t); want recorded failed", it, ok)
	}
}
