package ratebudget

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/store"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 30, 0, time.UTC)

func sec(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func TestReserve(t *testing.T) {
	// Calls flow again this long after a window's end (okta.WindowState's
	// margin for the latency between the org's clock and ours).
	const margin = 50 * time.Millisecond
	tests := []struct {
		name     string
		b        store.RateBudget
		now      time.Time
		want     store.RateBudget
		wantWait time.Duration
	}{
		{
			name: "unknown limit: go, nothing to count",
			b:    store.RateBudget{Key: "k"},
			now:  sec(0),
			want: store.RateBudget{Key: "k", LastGrant: sec(0), UpdatedAt: sec(0)},
		},
		{
			name: "plenty left: go and count",
			b:    store.RateBudget{Key: "k", Limit: 100, Used: 10, WindowEnd: sec(30)},
			now:  sec(1),
			want: store.RateBudget{Key: "k", Limit: 100, Used: 11, WindowEnd: sec(30), LastGrant: sec(1), UpdatedAt: sec(1)},
		},
		{
			name:     "only the reserve left: wait for the reset",
			b:        store.RateBudget{Key: "k", Limit: 100, Used: 99, WindowEnd: sec(30)},
			now:      sec(10),
			want:     store.RateBudget{Key: "k", Limit: 100, Used: 99, WindowEnd: sec(30)},
			wantWait: 20*time.Second + margin,
		},
		{
			name: "window over: assume a new one",
			b:    store.RateBudget{Key: "k", Limit: 100, Used: 99, WindowEnd: sec(30), LastGrant: sec(29)},
			now:  sec(31),
			want: store.RateBudget{Key: "k", Limit: 100, Used: 1, WindowEnd: sec(91), Estimated: true, LastGrant: sec(31), UpdatedAt: sec(31)},
		},
		{
			name: "last tenth: paced over the rest of the window",
			b:    store.RateBudget{Key: "k", Limit: 100, Used: 91, WindowEnd: sec(20), LastGrant: sec(9).Add(500 * time.Millisecond)},
			now:  sec(10),
			want: store.RateBudget{Key: "k", Limit: 100, Used: 91, WindowEnd: sec(20), LastGrant: sec(9).Add(500 * time.Millisecond)},
		},
		{
			name:     "the window's uncertain last stretch: wait for the reset",
			b:        store.RateBudget{Key: "k", Limit: 100, Used: 50, WindowEnd: sec(20)},
			now:      sec(19),
			want:     store.RateBudget{Key: "k", Limit: 100, Used: 50, WindowEnd: sec(20)},
			wantWait: time.Second + margin,
		},
		{
			name: "last tenth, interval passed: go",
			b:    store.RateBudget{Key: "k", Limit: 100, Used: 91, WindowEnd: sec(20), LastGrant: sec(8)},
			now:  sec(10),
			want: store.RateBudget{Key: "k", Limit: 100, Used: 92, WindowEnd: sec(20), LastGrant: sec(10), UpdatedAt: sec(10)},
		},
	}
	// 9 remaining, reserve 1: 8 available; the 10 s left, less the
	// window end's uncertainty, are split in 9 after the last grant.
	tests[4].wantWait = sec(9).Add(500 * time.Millisecond).Add((10*time.Second - okta.WindowEndUncertainty) / 9).Sub(sec(10))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			wait := reserve(&b, tt.now)
			if wait != tt.wantWait {
				t.Errorf("got wait %v; want %v", wait, tt.wantWait)
			}
			if d := cmp.Diff(tt.want, b); d != "" {
				t.Errorf("budget mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestLearn(t *testing.T) {
	obs := func(limit, remaining int, reset time.Time) okta.Observation {
		return okta.Observation{Known: true, Limit: limit, Remaining: remaining, Reset: reset}
	}
	tests := []struct {
		name string
		b    store.RateBudget
		o    okta.Observation
		want store.RateBudget
	}{
		{
			name: "first response",
			b:    store.RateBudget{Key: "k"},
			o:    obs(100, 95, sec(30)),
			want: store.RateBudget{Key: "k", Limit: 100, Used: 5, WindowEnd: sec(30), UpdatedAt: sec(1)},
		},
		{
			name: "estimated window confirmed, grants in flight kept",
			b:    store.RateBudget{Key: "k", Limit: 100, Used: 7, WindowEnd: sec(59), Estimated: true},
			o:    obs(100, 97, sec(30)),
			want: store.RateBudget{Key: "k", Limit: 100, Used: 7, WindowEnd: sec(30), UpdatedAt: sec(1)},
		},
		{
			name: "same window, org counted more (other callers)",
			b:    store.RateBudget{Key: "k", Limit: 100, Used: 7, WindowEnd: sec(30.9)},
			o:    obs(100, 80, sec(30)),
			want: store.RateBudget{Key: "k", Limit: 100, Used: 20, WindowEnd: sec(30), UpdatedAt: sec(1)},
		},
		{
			name: "same window, org counted less (grants in flight)",
			b:    store.RateBudget{Key: "k", Limit: 100, Used: 30, WindowEnd: sec(30)},
			o:    obs(100, 80, sec(30.5)),
			want: store.RateBudget{Key: "k", Limit: 100, Used: 30, WindowEnd: sec(30), UpdatedAt: sec(1)},
		},
		{
			name: "late response of an older window",
			b:    store.RateBudget{Key: "k", Limit: 100, Used: 3, WindowEnd: sec(90)},
			o:    obs(100, 2, sec(30)),
			want: store.RateBudget{Key: "k", Limit: 100, Used: 3, WindowEnd: sec(90), UpdatedAt: sec(1)},
		},
		{
			name: "the org is in a newer window",
			b:    store.RateBudget{Key: "k", Limit: 100, Used: 50, WindowEnd: sec(30)},
			o:    obs(120, 110, sec(90)),
			want: store.RateBudget{Key: "k", Limit: 120, Used: 10, WindowEnd: sec(90), UpdatedAt: sec(1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			learn(&b, tt.o, sec(1))
			if d := cmp.Diff(tt.want, b); d != "" {
				t.Errorf("budget mismatch (-want +got):\n%s", d)
			}
		})
	}
}

// failingStore answers every update with an error, as a database that is
// down would.
type failingStore struct{ calls int }

func (f *failingStore) UpdateRateBudget(context.Context, string, func(*store.RateBudget) error) error {
	f.calls++
	return errors.New("connection refused")
}

func TestWaitStoreDown(t *testing.T) {
	st := &failingStore{}
	s := &Shared{Store: st}
	key := okta.Key{Org: "https://example.okta.com", Bucket: "/api/v1/devices"}
	for i := range 2 {
		_, err := s.Wait(t.Context(), key, nil)
		if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), key.Org) {
			t.Errorf("Wait %d returned %v; want the store's error naming the org", i+1, err)
		}
	}
	if st.calls != 2 {
		t.Errorf("the store was asked %d times; want 2 (a failure must not pass for an unlimited org)", st.calls)
	}
}
