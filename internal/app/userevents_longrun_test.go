package app

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestUserConnectionEventsAcrossItsEnd: an event flow (hook+poll) on a
// user connection, a device enrolled each week for 16 weeks, nobody
// reauthorizing until day 100. Every enrollment starts one run. Those
// after the refresh token's end wait, once the connection is known to
// need reauthorization, and run after the reauthorization, succeeding;
// only a run started before that was known fails (the one that found it
// out, if a poll did not first), and runs again by itself after the
// reauthorization, succeeding, before the waiting ones. The outage is told
// once of each kind (connection.expiring, connection.needs_reauthorization,
// and flow_run.failed for such a run) however many enrollments and polls
// meet it, and a failed run's flow_run.recovered follows, once.
func TestUserConnectionEventsAcrossItsEnd(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.Now, c.EventPollInterval, c.ExpiryCheckInterval = emu.Now, 100*time.Millisecond, 20*time.Millisecond
		c.NotifyRepeat = 30 * day
		c.NotifyURLs, c.NotifySecret = []string{notificationReceiver(t, make(chan map[string]any, 256))}, "a-long-random-notification-secret"
	})
	c := h.connect("Person")
	start := emu.Now()
	end := *h.lifetime(c.ID).RefreshTokenExpiresAt
	flowID := storeEnabledDoc(t, h, strings.ReplaceAll(enrolledFlow, "Robot", "Person"))
	waitHookVerified(t, emu)

	runs := map[string]triggeredRun{}
	sent := map[string]*store.Notification{}
	var reauthorized time.Time
	for week := range 16 {
		if reauthorized.IsZero() && emu.Now().After(start.Add(100*day)) {
			var re struct {
				AuthorizeURL string `json:"authorizeUrl"`
			}
			if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/reauthorize", map[string]any{}, &re); code != http.StatusOK {
				t.Fatalf("reauthorize: %d %s", code, data)
			}
			if code, page := h.signIn(re.AuthorizeURL, oktaemu.AdminLogin); code != http.StatusOK {
				t.Fatalf("reauthorize sign-in: %d %s", code, page)
			}
			reauthorized = emu.Now()
		}
		enrollDevice(t, emu, oktaemu.AdminLogin)
		waitFor(t, "the enrollment's run, or the enrollment waiting for the reauthorization", func() bool {
			rs := h.runsOf(flowID)
			for _, r := range rs {
				runs[r.ID] = r
			}
			if slices.ContainsFunc(rs, func(r triggeredRun) bool { return r.Status != "succeeded" && r.Status != "failed" }) {
				return false
			}
			if len(runs) >= week+1 {
				return true
			}
			evs, err := h.app.Store.UndispatchedEvents(t.Context(), c.ID, nil, 100)
			return err == nil && len(runs)+countEnrollments(evs) >= week+1 && h.connStatus(c.ID) == store.StatusNeedsReauthorization
		})
		emu.AdvanceClock(t, 7*day)
		if now := emu.Now(); now.After(end.Add(-14*day)) && now.Before(end) {
			// The server's own check, every 20 ms, announces the end.
			waitFor(t, "connection.expiring", func() bool { return countActions(h.audit("connection="+c.ID), "connection.expiring") == 1 })
		}
		ns, err := h.app.Store.ListNotifications(t.Context(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			sent[n.ID] = n // the purge empties the outbox too
		}
		if _, err := h.app.Retention.Purge(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	failed, reruns := 0, 0
	for _, r := range runs {
		if r.RerunOf != "" {
			reruns++
			if orig, ok := runs[r.RerunOf]; !ok || orig.Status != "failed" || r.Status != "succeeded" {
				t.Errorf("rerun %s of %s: %s; want the failed run's automatic rerun, succeeded", r.ID, r.RerunOf, r.Status)
			}
			continue
		}
		if r.Status == "failed" {
			failed++
			if !r.Trigger.Time.After(end) || r.Trigger.Time.After(reauthorized) {
				t.Errorf("run of the enrollment at %v failed; want only one after the end and before the reauthorization to", r.Trigger.Time)
			}
		} else if r.Status != "succeeded" {
			t.Errorf("run of the enrollment at %v: %s; want succeeded", r.Trigger.Time, r.Status)
		}
	}
	if n := len(runs) - reruns; n != 16 {
		t.Errorf("%d runs for 16 enrollments; want one each", n)
	}
	if reruns != failed {
		t.Errorf("%d automatic reruns of %d failed runs; want one each, once the connection was reauthorized", reruns, failed)
	}
	if failed > 1 {
		t.Errorf("%d failed runs; want at most the one that found out that the connection needs reauthorization, the others waiting for it", failed)
	}
	got := map[string]int{}
	for _, n := range sent {
		got[n.Type]++
		if n.Type == "flow_run.failed" {
			var m struct{ Message string }
			if err := json.Unmarshal(n.Body, &m); err != nil || !strings.Contains(m.Message, "reauthoriz") {
				t.Errorf("flow_run.failed %s; want it to say the connection needs reauthorizing", n.Body)
			}
		}
	}
	want := map[string]int{"connection.expiring": 1, "connection.needs_reauthorization": 1, "flow_run.failed": failed, "flow_run.recovered": failed}
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%d %s notifications; want %d", got[typ], typ, n)
		}
	}
	for typ, n := range got {
		if want[typ] == 0 {
			t.Errorf("%d %s notifications; want none", n, typ)
		}
	}
}

// countEnrollments counts the enrollments among evs.
func countEnrollments(evs []*store.Event) int {
	n := 0
	for _, e := range evs {
		if e.EventType == "device.enrollment.create" {
			n++
		}
	}
	return n
}

// connStatus is the stored status of the connection id.
func (h *harness) connStatus(id string) string {
	h.t.Helper()
	c, err := h.app.Store.GetConnection(h.t.Context(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return c.Status
}
