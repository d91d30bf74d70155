package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// twiceWeeklyFlow reads the org's devices on Mondays and Thursdays at 09:00
// UTC through a user connection.
const twiceWeeklyFlow = `name: twice-weekly
on:
  schedule:
    cron: "0 9 * * 1,4"
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Person
    input:
      search: 'status eq "ACTIVE"'
`

// nextMonThu is the first Monday or Thursday 09:00 UTC after t.
func nextMonThu(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), 9, 0, 0, 0, time.UTC)
	for !d.After(t) || (d.Weekday() != time.Monday && d.Weekday() != time.Thursday) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// TestUserConnectionTwoHundredDays: a user connection with a twice-weekly
// flow, left alone for 200 days on the emulator's clock, the server
// checking expiries on its own. The refresh token's end is announced once
// (connection.expiring), the runs after it fail with needs_reauthorization
// and the failure is notified once (with -notify-repeat longer than the
// outage), the connection's end once; an admin reauthorizes on day 100,
// every run after it succeeds and flow_run.recovered goes out once; the
// next 90 days count from the reauthorization, so that the same story
// starts again on day 176 and 190.
func TestUserConnectionTwoHundredDays(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), unattendedUser(t, emu))
	userConnectionStory(t, emu, h)
}

// unattendedUser configures a server for userConnectionStory.
func unattendedUser(t *testing.T, emu *emutest.Server) func(*Config) {
	receiver := notificationReceiver(t, make(chan map[string]any, 256))
	return func(c *Config) {
		c.Now, c.SchedulePoll, c.ExpiryCheckInterval = emu.Now, 20*time.Millisecond, 20*time.Millisecond
		c.NotifyRepeat = 30 * day
		c.NotifyURLs, c.NotifySecret = []string{receiver}, "a-long-random-notification-secret"
	}
}

// userConnectionStory tells the 200 days of TestUserConnectionTwoHundredDays
// through server h, configured by unattendedUser (as any other server on
// its database).
func userConnectionStory(t *testing.T, emu *emutest.Server, h *harness) {
	t.Helper()
	c := h.connect("Person")
	start := emu.Now()
	firstEnd := *h.lifetime(c.ID).RefreshTokenExpiresAt
	flowID := storeEnabledDoc(t, h, twiceWeeklyFlow)

	var reauthorized, secondEnd time.Time
	type outcome struct {
		tick   time.Time
		status string
	}
	var outcomes []outcome
	seen := map[string]bool{}
	for {
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
			v := h.lifetime(c.ID)
			if v.Status != "active" || v.RefreshTokenExpiresAt == nil || v.RefreshTokenExpiresAt.Before(reauthorized.Add(90*day-time.Minute)) {
				t.Fatalf("after reauthorizing on day 100: %+v; want active for 90 days", v)
			}
			secondEnd = *v.RefreshTokenExpiresAt
		}
		tick := nextMonThu(emu.Now())
		if tick.After(start.Add(200 * day)) {
			break
		}
		emu.AdvanceClock(t, tick.Add(time.Minute).Sub(emu.Now()))
		var got outcome
		waitFor(t, "the run of "+tick.Format(time.DateOnly)+" to end", func() bool {
			for _, r := range h.runsOf(flowID) {
				if !seen[r.ID] && (r.Status == "succeeded" || r.Status == "failed") {
					seen[r.ID] = true
					got = outcome{r.Trigger.Time, r.Status}
					return true
				}
			}
			return false
		})
		outcomes = append(outcomes, got)
		// The server's own check, every 20 ms, announces each end.
		for i, end := range []time.Time{firstEnd, secondEnd} {
			if now := emu.Now(); !end.IsZero() && now.After(end.Add(-14*day)) && now.Before(end) {
				waitFor(t, "connection.expiring", func() bool { return countActions(h.audit("connection="+c.ID), "connection.expiring") == i+1 })
			}
		}
	}

	// Every tick ran once; it failed only while the connection had ended.
	for i, o := range outcomes {
		want := "succeeded"
		if (o.tick.After(firstEnd) && o.tick.Before(reauthorized)) || o.tick.After(secondEnd) {
			want = "failed"
		}
		if o.status != want || (i > 0 && !o.tick.After(outcomes[i-1].tick)) {
			t.Errorf("run of tick %v: %s; want %s, once", o.tick, o.status, want)
		}
	}
	for _, r := range h.runsOf(flowID) {
		if r.Status != "succeeded" && r.Status != "failed" {
			t.Errorf("run %s of tick %v is %s; want ended", r.ID, r.Trigger.Time, r.Status)
		}
	}
	if len(outcomes) < 55 {
		t.Errorf("%d ticks in 200 days; want two a week", len(outcomes))
	}

	// The outbox keeps every message (nothing purges it here).
	ns, err := h.app.Store.ListNotifications(t.Context(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	type sent struct {
		at  time.Time
		msg string
	}
	byType := map[string][]sent{}
	for _, n := range ns {
		var m struct {
			Time    time.Time `json:"time"`
			Message string    `json:"message"`
		}
		if err := json.Unmarshal(n.Body, &m); err != nil {
			t.Fatal(err)
		}
		byType[n.Type] = append(byType[n.Type], sent{m.Time, m.Message})
	}
	// Two periods of 90 days end in the 200: each is announced once, ends
	// once, and its failing runs are notified once; the first outage is
	// over once, when the reauthorization has been used.
	want := map[string]int{"connection.expiring": 2, "connection.needs_reauthorization": 2, "flow_run.failed": 2, "flow_run.recovered": 1}
	for typ, n := range want {
		if len(byType[typ]) != n {
			t.Errorf("%d %s notifications: %v; want %d", len(byType[typ]), typ, byType[typ], n)
		}
	}
	for typ := range byType {
		if want[typ] == 0 {
			t.Errorf("%s notifications: %v; want none", typ, byType[typ])
		}
	}
	for _, s := range byType["flow_run.failed"] {
		if !strings.Contains(s.msg, "needs_reauthorization") && !strings.Contains(s.msg, "reauthoriz") {
			t.Errorf("flow_run.failed %q; want it to say the connection needs reauthorizing", s.msg)
		}
	}
	for _, s := range byType["flow_run.recovered"] {
		if s.at.Before(reauthorized) || s.at.After(reauthorized.Add(5*day)) {
			t.Errorf("flow_run.recovered at %v; want at the first run after the reauthorization on %v", s.at, reauthorized)
		}
	}
	for _, s := range byType["connection.expiring"] {
		if !(s.at.After(firstEnd.Add(-15*day)) && s.at.Before(firstEnd)) && !(s.at.After(secondEnd.Add(-15*day)) && s.at.Before(secondEnd)) {
			t.Errorf("connection.expiring at %v; want in the two weeks before %v or %v", s.at, firstEnd, secondEnd)
		}
	}
}
