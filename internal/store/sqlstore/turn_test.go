package sqlstore

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// newTurns is a Store with write turns and nothing else.
func newTurns() *Store {
	s := &Store{turn: make(chan struct{}, 1)}
	s.turn <- struct{}{}
	return s
}

// TestTurnsFirstComeFirstServed: writers waiting for the write turn get it
// in the order they came, however often the one holding it comes back; a
// release given twice gives the turn back once.
func TestTurnsFirstComeFirstServed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newTurns()
		ctx := t.Context()
		release := s.takeTurn(ctx)
		var mu sync.Mutex
		var order []string
		var wg sync.WaitGroup
		for _, name := range []string{"b", "c", "d"} {
			wg.Go(func() {
				r := s.takeTurn(ctx)
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				r()
			})
			synctest.Wait() // name now waits for the turn
		}
		release()
		release() // a second release gives back nothing
		// The first writer, back for more, queues behind the others.
		again := s.takeTurn(ctx)
		mu.Lock()
		order = append(order, "a")
		mu.Unlock()
		again()
		wg.Wait()
		if want := []string{"b", "c", "d", "a"}; !slices.Equal(order, want) {
			t.Errorf("turns taken in the order %v; want %v", order, want)
		}
		if len(s.turn) != 1 {
			t.Errorf("%d turns left; want the one", len(s.turn))
		}
	})
}

// TestTurnGivesUp: a writer whose context ends, or that waited turnWait,
// goes on without the turn (and its release gives nothing back), so that a
// turn never held up anything for longer than turnWait.
func TestTurnGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newTurns()
		held := s.takeTurn(t.Context())
		start := time.Now()
		s.takeTurn(t.Context())()
		if waited := time.Since(start); waited != turnWait {
			t.Errorf("waited %v for a turn held throughout; want turnWait, %v", waited, turnWait)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		start = time.Now()
		s.takeTurn(ctx)()
		if waited := time.Since(start); waited != 0 {
			t.Errorf("waited %v with an ended context; want no wait", waited)
		}
		held()
		if len(s.turn) != 1 {
			t.Errorf("%d turns after the releases; want 1 (the ones given up gave nothing back)", len(s.turn))
		}
	})
}
