package okta

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// windowCounter counts requests in fixed windows aligned to the minute, the
// way Okta's per-minute buckets behave, and answers with Okta's headers.
type windowCounter struct {
	mu        sync.Mutex
	limit     int
	end       time.Time
	used      int
	rejected  int
	perWindow map[time.Time]int
}

func (w *windowCounter) hit(now time.Time) http.Header {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !now.Before(w.end) {
		w.end = now.Truncate(time.Minute).Add(time.Minute)
		w.used = 0
	}
	if w.used < w.limit {
		w.used++
		if w.perWindow == nil {
			w.perWindow = map[time.Time]int{}
		}
		w.perWindow[w.end]++
	} else {
		w.rejected++
	}
	h := http.Header{}
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(w.limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(w.limit-w.used))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(w.end.Unix(), 10))
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	return h
}

func TestBudgetReachesLimitWithout429(t *testing.T) {
	tests := []struct {
		name              string
		limit, n, workers int
		startOffset       time.Duration // into the first window
		wantMinThroughput float64
	}{
		{name: "one worker", limit: 100, n: 1000, workers: 1, wantMinThroughput: 0.95},
		{name: "eight workers", limit: 100, n: 1000, workers: 8, wantMinThroughput: 0.95},
		{name: "start mid-window", limit: 120, n: 600, workers: 4, startOffset: 37*time.Second + 400*time.Millisecond, wantMinThroughput: 0.95},
		{name: "high limit", limit: 1200, n: 5000, workers: 16, wantMinThroughput: 0.95},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(tt.startOffset)
			clk := newSimClock(start)
			b := NewBudget()
			b.Now, b.Sleep = clk.Now, clk.Sleep
			srv := &windowCounter{limit: tt.limit}
			key := Key{Org: "https://example.okta.com", Bucket: "/api/v1/devices"}

			var mu sync.Mutex
			left := tt.n
			var last time.Time
			var wg sync.WaitGroup
			for range tt.workers {
				clk.Go(&wg, func() {
					for {
						mu.Lock()
						if left == 0 {
							mu.Unlock()
							return
						}
						left--
						mu.Unlock()
						done, err := b.Wait(context.Background(), key, nil)
						if err != nil {
							t.Errorf("Wait: %v", err)
							return
						}
						now := clk.Now()
						done(observe(srv.hit(now), now))
						mu.Lock()
						last = now
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if srv.rejected != 0 {
				t.Errorf("server rejected %d requests; want 0", srv.rejected)
			}
			// Every window but the last (where the work ran out) and a first
			// one entered mid-way must carry nearly the whole limit.
			ends := slices.SortedFunc(maps.Keys(srv.perWindow), time.Time.Compare)
			full := ends[:len(ends)-1]
			if tt.startOffset > 0 {
				full = full[1:]
			}
			if len(full) == 0 {
				t.Fatalf("the work spanned %d windows; want enough for a full one", len(ends))
			}
			for _, end := range full {
				if got := float64(srv.perWindow[end]) / float64(tt.limit); got < tt.wantMinThroughput {
					t.Errorf("window ending %v carried %.3f of the limit; want >= %.2f", end.Format(time.TimeOnly), got, tt.wantMinThroughput)
				}
			}
			t.Logf("%d requests in %.2f simulated minutes, %d full windows at %v of %d", tt.n, last.Sub(start).Minutes(), len(full), srv.perWindow, tt.limit)
		})
	}
}

func TestBudgetHonoursOtherConsumers(t *testing.T) {
	clk := newSimClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	b := NewBudget()
	b.Now, b.Sleep = clk.Now, clk.Sleep
	key := Key{Org: "o", Bucket: "/api/v1/devices"}
	reset := clk.Now().Add(time.Minute)

	var wg sync.WaitGroup
	clk.Go(&wg, func() {
		done, err := b.Wait(context.Background(), key, nil)
		if err != nil {
			t.Errorf("Wait: %v", err)
			return
		}
		// Another process has used the window: 1 call left, our reserve.
		done(Observation{Known: true, Limit: 100, Remaining: 1, Reset: reset})
		done, err = b.Wait(context.Background(), key, nil)
		if err != nil {
			t.Errorf("Wait: %v", err)
			return
		}
		if got := clk.Now(); got.Before(reset) {
			t.Errorf("second request went out at %v; want at or after the reset %v", got, reset)
		}
		done(Observation{})
	})
	wg.Wait()
}

func TestBudgetWaitHonoursContext(t *testing.T) {
	b := NewBudget()
	key := Key{Org: "o", Bucket: "b"}
	done, err := b.Wait(context.Background(), key, nil)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	done(Observation{Known: true, Limit: 10, Remaining: 0, Reset: time.Now().Add(50 * time.Second)})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.Wait(ctx, key, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait on an exhausted bucket = %v; want context.DeadlineExceeded", err)
	}
}

func TestBudgetIgnoresUnknownAndStale(t *testing.T) {
	clk := newSimClock(time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC))
	b := NewBudget()
	b.Now, b.Sleep = clk.Now, clk.Sleep
	key := Key{Org: "o", Bucket: "b"}
	var wg sync.WaitGroup
	clk.Go(&wg, func() {
		for _, o := range []Observation{
			{}, // no headers
			{Known: true, Limit: 0, Remaining: 0, Reset: clk.Now().Add(time.Hour)},       // concurrency 429
			{Known: true, Limit: 50, Remaining: 0, Reset: clk.Now().Add(-time.Second)},   // window already over
			{Known: true, Limit: 50, Remaining: 0, Reset: clk.Now().Add(24 * time.Hour)}, // no window of Okta's is that long
		} {
			done, err := b.Wait(context.Background(), key, nil)
			if err != nil {
				t.Errorf("Wait: %v", err)
				return
			}
			done(o)
		}
		start := clk.Now()
		done, err := b.Wait(context.Background(), key, nil)
		if err != nil {
			t.Errorf("Wait: %v", err)
			return
		}
		done(Observation{})
		if got := clk.Now(); !got.Equal(start) {
			t.Errorf("Wait after uninformative observations waited %v; want no wait", got.Sub(start))
		}
	})
	wg.Wait()
}

func TestBucketFor(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/api/v1/devices", "/api/v1/devices"},
		{"/api/v1/devices/guo1/lifecycle/suspend", "/api/v1/devices"},
		{"/api/v1/devicesX", "/api/v1/devicesX"},
		{"/api/v1/users/00u1/roles", "/api/v1/users"},
		{"/api/v1/apps", "/api/v1/apps"},
		{"/oauth2/v1/token", "/oauth2/v1/token"},
	}
	for _, tt := range tests {
		if got := BucketFor(tt.path); got != tt.want {
			t.Errorf("BucketFor(%q) = %q; want %q", tt.path, got, tt.want)
		}
	}
}
