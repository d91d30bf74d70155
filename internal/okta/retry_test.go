package okta

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

func TestRetriesOnlyWhereAllowed(t *testing.T) {
	const (
		getDevice = "/api/v1/devices/{deviceId}"
		suspend   = "/api/v1/devices/{deviceId}/lifecycle/suspend"
	)
	tests := []struct {
		name     string
		method   string
		path     string // fault path (route pattern)
		status   int
		count    int
		run      func(ctx context.Context, c *Client, id string) error
		wantErr  bool
		wantReqs int
	}{
		{name: "GET 503 twice then ok", method: "GET", path: getDevice, status: 503, count: 2,
			run: func(ctx context.Context, c *Client, id string) error { _, err := c.GetDevice(ctx, id); return err }, wantReqs: 3},
		{name: "GET 500 beyond the retries", method: "GET", path: getDevice, status: 500, count: 10,
			run: func(ctx context.Context, c *Client, id string) error { _, err := c.GetDevice(ctx, id); return err }, wantErr: true, wantReqs: 4},
		{name: "GET 400 not retried", method: "GET", path: getDevice, status: 400, count: 1,
			run: func(ctx context.Context, c *Client, id string) error { _, err := c.GetDevice(ctx, id); return err }, wantErr: true, wantReqs: 1},
		{name: "list page 502 once", method: "GET", path: "/api/v1/devices", status: 502, count: 1,
			run: func(ctx context.Context, c *Client, _ string) error {
				for _, err := range c.ListDevices(ctx, ListOptions{}) {
					if err != nil {
						return err
					}
				}
				return nil
			}, wantReqs: 3}, // two pages of 250 devices, the first sent twice
		{name: "lifecycle POST 500 once", method: "POST", path: suspend, status: 500, count: 1,
			run: func(ctx context.Context, c *Client, id string) error { return c.Lifecycle(ctx, id, ActionSuspend) }, wantReqs: 2},
		{name: "DELETE 500 never retried", method: "DELETE", path: getDevice, status: 500, count: 1,
			run: func(ctx context.Context, c *Client, id string) error { return c.DeleteDevice(ctx, id) }, wantErr: true, wantReqs: 1},
		{name: "custom POST 503 never retried", method: "POST", path: suspend, status: 503, count: 1,
			run: func(ctx context.Context, c *Client, id string) error {
				_, err := c.Do(ctx, "POST", "/api/v1/devices/"+id+"/lifecycle/suspend", nil, nil, nil)
				return err
			}, wantErr: true, wantReqs: 1},
		{name: "custom GET 503 retried", method: "GET", path: getDevice, status: 503, count: 1,
			run: func(ctx context.Context, c *Client, id string) error {
				_, err := c.Do(ctx, "GET", "/api/v1/devices/"+id, nil, nil, nil)
				return err
			}, wantReqs: 2},
		{name: "DELETE 429 waited out and sent again", method: "DELETE", path: getDevice, status: 429, count: 1,
			run: func(ctx context.Context, c *Client, id string) error {
				if err := c.Lifecycle(ctx, id, ActionDeactivate); err != nil {
					return err
				}
				return c.DeleteDevice(ctx, id)
			}, wantReqs: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := startOrg(t, oktaemu.Config{Devices: 250})
			c.Sleep = func(context.Context, time.Duration) error { return nil }
			ctx := context.Background()
			id := firstDevice(t, c, StatusActive)
			key := tt.method + " " + tt.path
			before := srv.Stats(t)[key]
			srv.Fault(t, tt.method, tt.path, tt.status, tt.count)
			err := tt.run(ctx, c, id)
			if (err != nil) != tt.wantErr {
				t.Errorf("error = %v; want error %v", err, tt.wantErr)
			}
			if got := srv.Stats(t)[key] - before; got != tt.wantReqs {
				t.Errorf("%s made %d times; want %d", key, got, tt.wantReqs)
			}
		})
	}
}

// TestRetriesNetworkErrors: a listing whose first page's connection is
// reset and whose second page is cut off midway is read in full, each
// device once; a DELETE whose connection is reset is not sent again.
func TestRetriesNetworkErrors(t *testing.T) {
	srv, c := startOrg(t, oktaemu.Config{Devices: 450})
	ctx := context.Background()

	srv.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/api/v1/devices", Body: "reset"})
	srv.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/api/v1/devices", After: true, Body: "cut", Skip: 1})
	seen := map[string]int{}
	for d, err := range c.ListDevices(ctx, ListOptions{}) {
		if err != nil {
			t.Fatalf("ListDevices: %v", err)
		}
		seen[d.ID]++
	}
	if len(seen) != 450 {
		t.Errorf("listed %d distinct devices; want 450", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("device %s yielded %d times; want once despite a retried page", id, n)
		}
	}
	// Three pages, the first and the second sent twice.
	if got := srv.Stats(t)["GET /api/v1/devices"]; got != 5 {
		t.Errorf("GET /api/v1/devices made %d times; want 5 (3 pages + 2 retries)", got)
	}

	id := firstDevice(t, c, StatusActive)
	if err := c.Lifecycle(ctx, id, ActionDeactivate); err != nil {
		t.Fatal(err)
	}
	srv.Inject(t, emutest.FaultSpec{Method: "DELETE", Path: "/api/v1/devices/{deviceId}", Body: "reset"})
	if err := c.DeleteDevice(ctx, id); err == nil || !isTransient(err) || !Unsure(err) {
		t.Errorf("DELETE after a connection reset: error = %v; want the network error, not a retry", err)
	}
	if got := srv.Stats(t)["DELETE /api/v1/devices/{deviceId}"]; got != 1 {
		t.Errorf("DELETE made %d times; want 1", got)
	}
}

// TestRateLimitWaitsUntilReset drives the org with its clock simulated:
// every 429 is waited out for exactly reset − Date + 1 s, and every call
// succeeds.
func TestRateLimitWaitsUntilReset(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC)
	clk := newSimClock(start)
	srv, c := startOrg(t, oktaemu.Config{Devices: 10, RateLimitPerMinute: 5, Now: clk.Now})
	c.Now, c.Sleep = clk.Now, clk.Sleep
	var statuses []int
	var mu sync.Mutex
	c.OnResponse = func(ri ResponseInfo) {
		mu.Lock()
		statuses = append(statuses, ri.Status)
		mu.Unlock()
	}
	id := "guo" // filled below
	var wg sync.WaitGroup
	var errs []error
	clk.Go(&wg, func() {
		for d, err := range c.ListDevices(context.Background(), ListOptions{Limit: 1}) {
			if err != nil {
				errs = append(errs, err)
				return
			}
			id = d.ID
			break
		}
		for range 11 {
			if _, err := c.GetDevice(context.Background(), id); err != nil {
				errs = append(errs, err)
			}
		}
	})
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("calls failed: %v", errs)
	}
	// 12 calls at 5 per window starting at 12:00:10: the 6th is refused at
	// 12:00:10 (reset 12:01:00: wait 50 s + 1 s), the 11th at 12:01:01
	// (reset 12:02:00: wait 59 s + 1 s).
	want := []time.Duration{51 * time.Second, 60 * time.Second}
	if got := clk.Sleeps(); !equalDurations(got, want) {
		t.Errorf("waits = %v; want %v", got, want)
	}
	n429 := 0
	for _, s := range statuses {
		if s == http.StatusTooManyRequests {
			n429++
		}
	}
	if n429 != 2 || len(statuses) != 14 {
		t.Errorf("saw %d responses, %d of them 429; want 14 and 2", len(statuses), n429)
	}
	if got := srv.Stats(t)["GET /api/v1/devices/{deviceId}"]; got != 13 {
		t.Errorf("GET /api/v1/devices/{deviceId} made %d times; want 13", got)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRateLimitBurst sends a burst from several workers at an org limited
// to 60 calls a minute, with and without a Budget: every item finishes;
// without a Budget the 429s are waited out, with one there are none.
func TestRateLimitBurst(t *testing.T) {
	for _, withBudget := range []bool{false, true} {
		t.Run("budget="+strconv.FormatBool(withBudget), func(t *testing.T) {
			start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			clk := newSimClock(start)
			srv, c := startOrg(t, oktaemu.Config{Devices: 10, RateLimitPerMinute: 60, Now: clk.Now})
			c.Now, c.Sleep = clk.Now, clk.Sleep
			c.MaxRetries = 10
			if withBudget {
				b := NewBudget()
				b.Now, b.Sleep = clk.Now, clk.Sleep
				c.Budget = b
			}
			var n429, ok atomic.Int32
			c.OnResponse = func(ri ResponseInfo) {
				if ri.Status == http.StatusTooManyRequests {
					n429.Add(1)
				}
			}
			const items, workers = 300, 6
			var next atomic.Int32
			var wg sync.WaitGroup
			var last atomic.Int64
			for range workers {
				clk.Go(&wg, func() {
					for next.Add(1) <= items {
						if _, err := c.Do(context.Background(), "GET", "/api/v1/devices", url.Values{"limit": {"1"}}, nil, nil); err != nil {
							t.Errorf("item failed: %v", err)
							continue
						}
						ok.Add(1)
						last.Store(clk.Now().UnixNano())
					}
				})
			}
			wg.Wait()
			if ok.Load() != items {
				t.Errorf("%d of %d items done; want all", ok.Load(), items)
			}
			elapsed := time.Unix(0, last.Load()).Sub(start)
			t.Logf("%d items in %v (simulated), %d answers were 429", items, elapsed, n429.Load())
			if got, want := srv.Stats(t)["GET /api/v1/devices"], items+int(n429.Load()); got != want {
				t.Errorf("GET /api/v1/devices made %d times; want %d (each item once, plus each 429)", got, want)
			}
			if withBudget && n429.Load() != 0 {
				t.Errorf("with a budget the org answered 429 %d times; want 0", n429.Load())
			}
			if !withBudget && n429.Load() == 0 {
				t.Errorf("without a budget no 429 was seen; the test does not exercise the waits")
			}
			// 300 calls at 60 a minute need at least 4 full windows; they
			// must not need more than 5 (95 % of the limit or better).
			if elapsed < 4*time.Minute || elapsed > 5*time.Minute+2*time.Second {
				t.Errorf("burst took %v; want between 4 and 5 minutes of the org's clock", elapsed)
			}
		})
	}
}

func TestRateLimitWaitHonoursContext(t *testing.T) {
	srv, c := startOrg(t, oktaemu.Config{Devices: 10})
	// The 429 names a reset a minute away (and a limit: a concurrency 429,
	// of limit 0, is waited out for at most two seconds); the context ends
	// first. The reset is far enough that the bound below tells a wait cut
	// short from one waited out, however slow the machine.
	srv.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/api/v1/devices/{deviceId}", Status: http.StatusTooManyRequests, Count: 1,
		ResetIn: "60s", Headers: map[string]string{"X-Rate-Limit-Limit": "600"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetDevice(ctx, "guo0000000000000none")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v; want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("returned after %v; want soon after the context ended, not at the reset", d)
	}
}
