package storetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

func testRateBudget(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	const key = "https://example.okta.com /api/v1/devices"

	_, err := s.GetRateBudget(ctx, key)
	wantErr(t, err, store.ErrNotFound, "GetRateBudget(missing)")

	want := store.RateBudget{Key: key, Limit: 100, Used: 7, WindowEnd: at(60), Estimated: true, LastGrant: at(3), UpdatedAt: at(4)}
	noErr(t, s.UpdateRateBudget(ctx, key, func(b *store.RateBudget) error {
		diff(t, "a new budget", store.RateBudget{Key: key}, *b)
		*b = want
		return nil
	}), "UpdateRateBudget(new)")
	want.WindowEnd, want.LastGrant, want.UpdatedAt = want.WindowEnd.UTC(), want.LastGrant.UTC(), want.UpdatedAt.UTC()
	got, err := s.GetRateBudget(ctx, key)
	noErr(t, err, "GetRateBudget")
	diff(t, "stored budget", want, *got)

	noErr(t, s.UpdateRateBudget(ctx, key, func(b *store.RateBudget) error {
		diff(t, "budget seen by the next update", want, *b)
		b.Estimated, b.LastGrant = false, at(5)
		return nil
	}), "UpdateRateBudget(existing)")
	want.Estimated, want.LastGrant = false, at(5).UTC()

	sentinel := errors.New("no grant")
	err = s.UpdateRateBudget(ctx, key, func(b *store.RateBudget) error {
		b.Used = 99
		return sentinel
	})
	if err != sentinel {
		t.Errorf("UpdateRateBudget returned %v; want fn's error unwrapped", err)
	}
	err = s.UpdateRateBudget(ctx, key, func(b *store.RateBudget) error {
		b.Key, b.Used = "another", 98
		return nil
	})
	if err == nil {
		t.Errorf("UpdateRateBudget let fn change the key; want an error")
	}
	got, err = s.GetRateBudget(ctx, key)
	noErr(t, err, "GetRateBudget")
	diff(t, "budget after refused updates", want, *got)
	_, err = s.GetRateBudget(ctx, "another")
	wantErr(t, err, store.ErrNotFound, "GetRateBudget(another)")

	// Budgets are independent.
	noErr(t, s.UpdateRateBudget(ctx, "other", func(b *store.RateBudget) error { b.Used = 1; return nil }), "UpdateRateBudget(other)")
	got, err = s.GetRateBudget(ctx, key)
	noErr(t, err, "GetRateBudget")
	if got.Used != want.Used {
		t.Errorf("after updating another budget, Used = %d; want %d", got.Used, want.Used)
	}
}

// testRateBudgetExact has many goroutines on two handles (two servers)
// take grants from one budget at once: exactly Limit are granted, and
// unconditional counts lose no update.
func testRateBudgetExact(t *testing.T, open func(t *testing.T) store.Store) {
	handles := []store.Store{open(t), open(t)}
	ctx := t.Context()
	const (
		limit   = 37
		perSide = 30
	)
	noErr(t, handles[0].UpdateRateBudget(ctx, "limited", func(b *store.RateBudget) error {
		b.Limit = limit
		return nil
	}), "UpdateRateBudget(set limit)")

	var granted, refused atomic.Int64
	errNoBudget := errors.New("no budget left")
	parallel(2*perSide, func(i int) {
		s := handles[i%2]
		err := s.UpdateRateBudget(ctx, "limited", func(b *store.RateBudget) error {
			if b.Used >= b.Limit {
				return errNoBudget
			}
			b.Used++
			return nil
		})
		switch {
		case err == nil:
			granted.Add(1)
		case errors.Is(err, errNoBudget):
			refused.Add(1)
		default:
			t.Errorf("UpdateRateBudget: %v", err)
		}
		if err := s.UpdateRateBudget(ctx, "counter", func(b *store.RateBudget) error {
			b.Used++
			b.LastGrant = at(i)
			return nil
		}); err != nil {
			t.Errorf("UpdateRateBudget(counter): %v", err)
		}
	})
	if t.Failed() {
		return
	}
	if got := granted.Load(); got != limit {
		t.Errorf("got %d grants; want exactly %d", got, limit)
	}
	if got, want := refused.Load(), int64(2*perSide-limit); got != want {
		t.Errorf("got %d refusals; want %d", got, want)
	}
	for _, tt := range []struct {
		key  string
		used int
	}{
		{"limited", limit},
		{"counter", 2 * perSide},
	} {
		for i, s := range handles {
			b, err := s.GetRateBudget(ctx, tt.key)
			noErr(t, err, fmt.Sprintf("GetRateBudget(%s) on handle %d", tt.key, i))
			if b.Used != tt.used {
				t.Errorf("handle %d: %s.Used = %d; want %d", i, tt.key, b.Used, tt.used)
			}
		}
	}
}
