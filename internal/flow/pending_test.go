package flow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// pendingCards wraps deviceCards so that each lifecycle call leaves its
// card run's outcome to be stored with the item (CardResult.Pending), and
// checks that each call after a worker's first found the worker's previous
// item saved (Call.Ready).
type pendingCards struct {
	*deviceCards
	state *memState
	fail  map[int]bool // items whose save fails
	// handBack is the item whose card run this server cannot go on after
	// (ErrHandBack); 0 for none.
	handBack int

	mu       sync.Mutex
	outcomes map[int]string // item index -> "saved", "more", "alone"
	unready  []int          // items called before Ready said the previous one was saved
	noReady  int            // lifecycle calls without Ready (a worker's first)
}

type pendingRecord struct {
	c     *pendingCards
	index int
}

func (p pendingRecord) SaveItem(ctx context.Context, it ItemState, next func()) error {
	if next != nil {
		next() // queued: nothing to wait for here
	}
	if p.c.fail[p.index] {
		return errors.New("disk full")
	}
	if err := p.c.state.SaveItem(ctx, it); err != nil {
		return err
	}
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	p.c.outcomes[p.index] = "saved"
	if next != nil {
		p.c.outcomes[p.index] = "more"
	}
	return nil
}

func (p pendingRecord) Store(context.Context) error {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	p.c.outcomes[p.index] = "alone"
	return nil
}

func (c *pendingCards) RunCard(ctx context.Context, call Call) (CardResult, error) {
	if _, manage := targets[call.Card]; manage {
		if call.Ready == nil {
			c.mu.Lock()
			c.noReady++
			c.mu.Unlock()
		} else if err := call.Ready(); err != nil {
			return CardResult{}, err
		} else if c.savedBefore(call.Index) < call.Index {
			c.mu.Lock()
			c.unready = append(c.unready, call.Index)
			c.mu.Unlock()
		}
	}
	res, err := c.deviceCards.RunCard(ctx, call)
	if _, manage := targets[call.Card]; manage {
		res.Pending = pendingRecord{c: c, index: call.Index}
		if c.handBack != 0 && call.Index == c.handBack {
			err = fmt.Errorf("%w: the access token cannot be decrypted", ErrHandBack)
		}
	}
	return res, err
}

// savedBefore counts the items before index that are saved (with one
// worker, all of them must be).
func (c *pendingCards) savedBefore(index int) int {
	n := 0
	for i := range index {
		if _, ok := c.state.item("r1", "suspend", i); ok {
			n++
		}
	}
	return n
}

// TestRunSavesPendingRecords: an item whose card run's outcome is pending
// is saved through it, with more set while the worker goes on; the next
// item's card acts only once the previous item is saved (one worker, so
// every earlier item is saved by then).
func TestRunSavesPendingRecords(t *testing.T) {
	doc := validated(t, strings.Replace(suspendFlow, "concurrency: 8", "concurrency: 1", 1))
	state := newMemState()
	cards := &pendingCards{deviceCards: newDeviceCards(12), state: state, outcomes: map[int]string{}} // 6 ACTIVE
	res, err := (&Runner{Cards: cards, State: state, Now: fixedNow}).Run(context.Background(), "r1", doc, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if step := res.Steps[1]; step.Items != 6 || step.Succeeded != 6 {
		t.Errorf("step %+v; want 6 items succeeded", step)
	}
	want := map[int]string{0: "more", 1: "more", 2: "more", 3: "more", 4: "more", 5: "saved"}
	for i, w := range want {
		if cards.outcomes[i] != w {
			t.Errorf("item %d: %q; want %q (%v)", i, cards.outcomes[i], w, cards.outcomes)
		}
	}
	if len(cards.unready) > 0 || cards.noReady != 1 {
		t.Errorf("items called before the previous one was saved: %v; calls without Ready: %d (want only the first)", cards.unready, cards.noReady)
	}
}

// TestRunPendingSaveFails: a failed save fails the run, and the card of
// the worker's next item does not act.
func TestRunPendingSaveFails(t *testing.T) {
	doc := validated(t, strings.Replace(suspendFlow, "concurrency: 8", "concurrency: 1", 1))
	state := newMemState()
	cards := &pendingCards{deviceCards: newDeviceCards(12), state: state, outcomes: map[int]string{}, fail: map[int]bool{1: true}}
	done := make(chan error, 1)
	go func() {
		_, err := (&Runner{Cards: cards, State: state, Now: fixedNow}).Run(context.Background(), "r1", doc, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("Run error = %v; want the failed save's", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end")
	}
	cards.mu.Lock()
	defer cards.mu.Unlock()
	if n := cards.runCalls["okta-devices/suspend-device guo0004"] + cards.runCalls["okta-devices/suspend-device guo0005"]; n != 0 {
		t.Errorf("%d calls after the failed save; want none (the next card waits for it)", n)
	}
}

// TestRunHandedBack: a card run this server cannot go on after
// (ErrHandBack) stops the run with that error instead of failing its item:
// the item is not saved (the server that resumes the run runs it again),
// its card run is stored alone, and the worker's next item is not called.
func TestRunHandedBack(t *testing.T) {
	doc := validated(t, strings.Replace(suspendFlow, "concurrency: 8", "concurrency: 1", 1))
	state := newMemState()
	cards := &pendingCards{deviceCards: newDeviceCards(12), state: state, outcomes: map[int]string{}, handBack: 2}
	_, err := (&Runner{Cards: cards, State: state, Now: fixedNow}).Run(context.Background(), "r1", doc, nil)
	if !errors.Is(err, ErrHandBack) {
		t.Fatalf("Run error = %v; want ErrHandBack", err)
	}
	if it, ok := state.item("r1", "suspend", 2); ok {
		t.Errorf("item 2 was saved as %s; want it left for the server that resumes the run", it.Status)
	}
	if _, ok := state.item("r1", "suspend", 1); !ok {
		t.Errorf("item 1, which ran before, was not saved")
	}
	cards.mu.Lock()
	defer cards.mu.Unlock()
	if cards.outcomes[2] != "alone" {
		t.Errorf("item 2's card run: %q; want it stored alone", cards.outcomes[2])
	}
	if n := cards.runCalls["okta-devices/suspend-device guo0005"] + cards.runCalls["okta-devices/suspend-device guo0008"] + cards.runCalls["okta-devices/suspend-device guo0009"]; n != 0 {
		t.Errorf("%d calls after the item handed back; want none", n)
	}
}
