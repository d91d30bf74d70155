package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// downStore fails the reads of the server's background loops, as a
// database that cannot be reached does, while down is set.
type downStore struct {
	store.Store
	down atomic.Bool
}

// errDown is what the store answers while down: a driver's connect error,
// as store.ErrUnavailable.
func errDown(op string) error {
	return fmt.Errorf("store: %s: postgres: failed to connect to `user=cardflow database=cardflow`: dial tcp 10.255.0.1:5432: connect: connection refused: %w", op, store.ErrUnavailable)
}

func (s *downStore) ClaimFlowRun(ctx context.Context, owner string, ttl time.Duration, now time.Time) (*store.FlowRun, error) {
	if s.down.Load() {
		return nil, errDown("claim flow run")
	}
	return s.Store.ClaimFlowRun(ctx, owner, ttl, now)
}

func (s *downStore) ListDueFlows(ctx context.Context, now time.Time, limit int) ([]*store.Flow, error) {
	if s.down.Load() {
		return nil, errDown("list due flows")
	}
	return s.Store.ListDueFlows(ctx, now, limit)
}

func (s *downStore) ListFlows(ctx context.Context) ([]*store.Flow, error) {
	if s.down.Load() {
		return nil, errDown("list flows")
	}
	return s.Store.ListFlows(ctx)
}

func (s *downStore) InterruptLapsedRuns(ctx context.Context, now time.Time) ([]string, error) {
	if s.down.Load() {
		return nil, errDown("interrupt lapsed runs")
	}
	return s.Store.InterruptLapsedRuns(ctx, now)
}

func (s *downStore) ClaimNotification(ctx context.Context, owner string, receivers []string, ttl time.Duration, now time.Time) (*store.Notification, error) {
	if s.down.Load() {
		return nil, errDown("claim notification")
	}
	return s.Store.ClaimNotification(ctx, owner, receivers, ttl, now)
}

func (s *downStore) ListConnections(ctx context.Context) ([]*store.Connection, error) {
	if s.down.Load() {
		return nil, errDown("list connections")
	}
	return s.Store.ListConnections(ctx)
}

// loopWork is, for each background loop, the work whose failure it logs
// while the database is down.
var loopWork = []struct{ loop, what string }{
	{"flow_runs", "claim a flow run"},
	{"schedule", "schedule tick"},
	{"events", "events: reading the enabled flows"},
	{"events", "events: reading the enabled flows to dispatch events"},
	{"card_leases", "end the card runs of servers that stopped"},
	{"notifications", "claim a notification"},
	{"expiry_check", "check connection expiries"},
}

// failures reads cardflow_background_failures_total of each loop.
func (h *harness) failures() map[string]float64 {
	h.t.Helper()
	// The expiry gauge cannot be collected while the database is down;
	// Gather returns the other metrics with its error.
	mfs, _ := h.app.Registry.Gather()
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "cardflow_background_failures_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "loop" {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// awaitFailures waits until every loop of loopWork has failed more than
// past[loop]+n times.
func (h *harness) awaitFailures(past map[string]float64, n float64) map[string]float64 {
	h.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got, short := h.failures(), ""
		for _, lw := range loopWork {
			loop := lw.loop
			if got[loop] < past[loop]+n {
				short = loop
			}
		}
		if short == "" {
			return got
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("loop %s failed %v times; want over %v (counts %v)\nlogs:\n%s", short, got[short], past[short]+n, got, h.logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// awaitLines waits (up to a minute) until the server has logged a line
// whose msg is msg, and returns those lines.
func (h *harness) awaitLines(msg string) []map[string]any {
	h.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if l := h.logLines(msg); len(l) > 0 || time.Now().After(deadline) {
			return l
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logLines returns the server's log lines whose msg is msg.
func (h *harness) logLines(msg string) []map[string]any {
	h.t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(h.logs.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			h.t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// TestDatabaseDownLogsOnceAndSummarises: the database goes down under a
// running server whose loops each look at it every 100 ms. Each loop logs
// its first failure once at ERROR with the error, then nothing until five
// minutes have passed, then one summary; when the database is back, one
// recovery line each. Every failure is counted.
func TestDatabaseDownLogsOnceAndSummarises(t *testing.T) {
	t.Parallel()
	clock := emutest.NewClock(time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC))
	ds := &downStore{}
	h := startHarness(t, oktaemu.Config{}, func(c *Config) {
		c.Now = clock.Now
		c.wrapStore = func(st store.Store) store.Store { ds.Store = st; return ds }
		c.FlowLeaseTTL = 300 * time.Millisecond
		c.CardLeaseTTL = 300 * time.Millisecond
		c.SchedulePoll = 100 * time.Millisecond
		c.EventPollInterval = 100 * time.Millisecond
		c.ExpiryCheckInterval = 100 * time.Millisecond
		c.NotifyURLs, c.NotifySecret, c.notifyPoll = []string{"https://hooks.example.com/services/T0/B0/secret"}, "a-long-random-notification-secret", 100*time.Millisecond
	})
	ds.down.Store(true)
	start := clock.Now()
	h.awaitFailures(h.failures(), 5)
	for _, lw := range loopWork {
		first := h.awaitLines(lw.what)
		if len(first) != 1 || first[0]["level"] != "ERROR" || !strings.Contains(fmt.Sprint(first[0]["error"], first[0]["cause"]), "connection refused") {
			t.Errorf("%s failed and logged %q %d times: %v; want once, at ERROR, with the error", lw.loop, lw.what, len(first), first)
		}
		if s := h.logLines(lw.what + ": still failing"); len(s) != 0 {
			t.Errorf("%s: summaries %v before five minutes passed; want none", lw.loop, s)
		}
	}
	counts := h.failures()

	clock.Advance(5 * time.Minute)
	// Each loop's summaries count its failures: together, at least those
	// the metric had counted before the clock moved on.
	summarised := map[string]float64{}
	for _, lw := range loopWork {
		s := h.awaitLines(lw.what + ": still failing")
		if n := len(h.logLines(lw.what)); n != 1 {
			t.Errorf("%s: %q logged %d times; want still once", lw.loop, lw.what, n)
		}
		if len(s) != 1 {
			t.Errorf("%s: %d summaries of %q five minutes on: %v; want 1", lw.loop, len(s), lw.what, s)
			continue
		}
		summarised[lw.loop] += s[0]["failures"].(float64)
		if s[0]["failing_since"] != start.Format(time.RFC3339) || !strings.Contains(fmt.Sprint(s[0]["error"], s[0]["cause"]), "connection refused") {
			t.Errorf("%s: summary %v; want failing_since %v and the error", lw.loop, s[0], start)
		}
	}
	for loop, n := range summarised {
		if n < counts[loop] {
			t.Errorf("%s: the summaries count %v failures; want at least the %v counted before", loop, n, counts[loop])
		}
	}

	clock.Advance(time.Minute)
	ds.down.Store(false)
	for _, lw := range loopWork {
		r := h.awaitLines(lw.what + ": recovered")
		if len(r) != 1 || r[0]["level"] != "INFO" || r[0]["failing_for"] == nil || r[0]["failures"].(float64) < 1 {
			t.Errorf("%s: recovery lines of %q %v; want one at INFO with failures and failing_for", lw.loop, lw.what, r)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", h.logs)
	}
}

// TestBackgroundFailuresHelp: the metric's help names every loop it
// counts, so that whoever writes the alert knows what each label is.
func TestBackgroundFailuresHelp(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	mfs, _ := h.app.Registry.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "cardflow_background_failures_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "loop" && !strings.Contains(mf.GetHelp(), l.GetValue()+" (") {
					t.Errorf("the help of cardflow_background_failures_total does not say what loop %q is: %q", l.GetValue(), mf.GetHelp())
				}
			}
		}
		return
	}
	t.Fatal("no cardflow_background_failures_total")
}
