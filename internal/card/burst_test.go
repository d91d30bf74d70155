package card

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestBurstStaysWithinRateLimit runs a burst of suspend-device cards from
// several goroutines through one Executor against an org limited to 60
// calls a minute: every item succeeds, the shared budget keeps the org from
// answering 429, and the burst uses the limit's throughput. It runs in a
// synctest bubble against an org served in memory: the org, the budget and
// the clients share the bubble's fake clock, which moves only while every
// goroutine waits, so the minutes of the burst take no wall-clock time and
// no scheduling delay can carry a call into another window.
func TestBurstStaysWithinRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnvOn(t, emutest.StartInMemory(t, oktaemu.Config{Devices: 200, RateLimitPerMinute: 60}))
		om := okta.NewMetrics()
		e.exec.Budget = okta.NewBudget()
		e.exec.Okta = okta.Client{Metrics: om, MaxRetries: 10}
		e.exec.Recorder = nil // the store is not what this test measures

		// The ACTIVE devices, listed with the admin's client (one call of the
		// same bucket, outside the budget).
		var ids []string
		for d, err := range e.admin.ListDevices(context.Background(), okta.ListOptions{Search: `status eq "ACTIVE"`}) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, d.ID)
		}
		const workers = 4
		items := min(len(ids), 60) // 120 calls: a GET and a POST each
		var next, ok atomic.Int32
		start := time.Now()
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < items; i = int(next.Add(1)) - 1 {
					res := e.run("okta-devices/suspend-device", "Prod", map[string]any{"deviceId": ids[i]})
					if res.Status != StatusSucceeded {
						t.Errorf("item %d failed: %v", i, res.Error)
						continue
					}
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		var n429 float64
		if m, err := om.RateLimited.GetMetricWithLabelValues("GetDevice"); err == nil {
			n429 += counterValueTB(t, m)
		}
		if m, err := om.RateLimited.GetMetricWithLabelValues("Lifecycle.suspend"); err == nil {
			n429 += counterValueTB(t, m)
		}
		t.Logf("%d items (%d calls) in %v of the org's clock; %v answers were 429", ok.Load(), 2*items, elapsed.Round(time.Second), n429)
		if int(ok.Load()) != items {
			t.Errorf("%d of %d items succeeded; want all", ok.Load(), items)
		}
		if n429 != 0 {
			t.Errorf("the org answered 429 %v times; want none with the shared budget", n429)
		}
		// 121 calls at 60 a minute end in the third window at the latest
		// (the first one may be entered part way).
		if elapsed > 3*time.Minute+5*time.Second {
			t.Errorf("the burst took %v of the org's clock; want at most about 3 minutes", elapsed)
		}
		// The bubble's clock starts on the minute, where a window starts:
		// 121 calls need three windows, so fewer than two minutes would
		// mean the budget let more through than the org allows.
		if elapsed < 2*time.Minute {
			t.Errorf("the burst took %v of the org's clock; want about 2 to 3 minutes at 60 calls a minute", elapsed)
		}
	})
}
