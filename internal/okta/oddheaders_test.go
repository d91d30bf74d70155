package okta

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestOddRateLimitHeadersDoNotPoisonTheBudget: one answer with odd
// rate-limit headers (a reset in the past or a year ahead, no Date, no
// headers, a concurrency 429) costs at most one capped wait; the calls
// after it go on at the org's real pace.
func TestOddRateLimitHeadersDoNotPoisonTheBudget(t *testing.T) {
	const route = "/api/v1/devices/{deviceId}"
	yearAhead := "8760h"
	tests := []struct {
		name  string
		fault emutest.FaultSpec
	}{
		{name: "200 with a reset a year ahead and nothing left",
			fault: emutest.FaultSpec{After: true, Headers: map[string]string{"X-Rate-Limit-Remaining": "0"}, ResetIn: yearAhead}},
		{name: "200 with a reset a year ahead",
			fault: emutest.FaultSpec{After: true, Headers: map[string]string{"X-Rate-Limit-Remaining": "5"}, ResetIn: yearAhead}},
		{name: "200 with a limit that is no number", fault: emutest.FaultSpec{After: true, Headers: map[string]string{"X-Rate-Limit-Limit": "many"}}},
		{name: "200 with more remaining than the limit", fault: emutest.FaultSpec{After: true, Headers: map[string]string{"X-Rate-Limit-Remaining": "100000"}}},
		{name: "429 with a reset a year ahead", fault: emutest.FaultSpec{Status: 429, ResetIn: yearAhead}},
		{name: "429 with a reset in the past", fault: emutest.FaultSpec{Status: 429, ResetIn: "-30s"}},
		{name: "429 without Date", fault: emutest.FaultSpec{Status: 429, Headers: map[string]string{"Date": ""}}},
		{name: "429 without rate-limit headers", fault: emutest.FaultSpec{Status: 429,
			Headers: map[string]string{"X-Rate-Limit-Limit": "", "X-Rate-Limit-Remaining": "", "X-Rate-Limit-Reset": ""}}},
		{name: "concurrency 429 as HTML", fault: emutest.FaultSpec{Status: 429, Body: "html"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC)
			clk := newSimClock(start)
			srv, c := startOrg(t, oktaemu.Config{Devices: 10, RateLimitPerMinute: 100, Now: clk.Now})
			c.Now, c.Sleep = clk.Now, clk.Sleep
			b := NewBudget()
			b.Now, b.Sleep = clk.Now, clk.Sleep
			c.Budget = b
			f := tt.fault
			f.Method, f.Path = "GET", route
			var errs []error
			var wg sync.WaitGroup
			clk.Go(&wg, func() {
				id := firstDevice(t, c, StatusActive)
				srv.Inject(t, f)
				for range 30 {
					if _, err := c.GetDevice(context.Background(), id); err != nil {
						errs = append(errs, err)
					}
				}
			})
			wg.Wait()
			if len(errs) > 0 {
				t.Fatalf("calls failed: %v", errs)
			}
			var total time.Duration
			for _, d := range clk.Sleeps() {
				if d > DefaultMaxWait+time.Second {
					t.Errorf("waited %v; want no wait beyond %v", d, DefaultMaxWait)
				}
				total += d
			}
			if total > 2*time.Minute {
				t.Errorf("31 calls at 100 a minute waited %v in all (%v); want at most one capped wait", total, clk.Sleeps())
			}
			if got := srv.Stats(t)["GET "+route]; got > 32 {
				t.Errorf("%s made %d times; want 30, or 31 with the 429 sent again", route, got)
			}
		})
	}
}

// TestConcurrencyLimitWaitsBriefly: a concurrency 429 (E0000047 with limit
// and remaining 0) frees up as soon as calls in flight end, and its reset
// is only an estimate: the client waits a short, growing while, not the
// whole estimated window.
func TestConcurrencyLimitWaitsBriefly(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC)
	clk := newSimClock(start)
	srv, c := startOrg(t, oktaemu.Config{Devices: 10, Now: clk.Now})
	c.Now, c.Sleep = clk.Now, clk.Sleep
	var errs []error
	var wg sync.WaitGroup
	clk.Go(&wg, func() {
		id := firstDevice(t, c, StatusActive)
		srv.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/api/v1/devices/{deviceId}", Status: 429, Count: 2,
			Headers: map[string]string{"X-Rate-Limit-Limit": "0", "X-Rate-Limit-Remaining": "0"}, ResetIn: "50s"})
		if _, err := c.GetDevice(context.Background(), id); err != nil {
			errs = append(errs, err)
		}
	})
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("GetDevice: %v", errs)
	}
	want := []time.Duration{DefaultConcurrencyWait, 2 * DefaultConcurrencyWait}
	if got := clk.Sleeps(); !equalDurations(got, want) {
		t.Errorf("waits %v; want %v", got, want)
	}
}
