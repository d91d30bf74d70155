package app

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// dailyMissingFlow reads, every day at 09:00 UTC, a device the org does
// not have: every run fails the same way.
const dailyMissingFlow = `name: daily-missing
on:
  schedule:
    cron: "0 9 * * *"
steps:
  - id: read
    card: okta-devices/read-device
    connection: Prod
    input:
      deviceId: guo0000000000000none
`

// TestFailureLongerThanRetention: a daily flow that fails the same way for
// 60 days, longer than the 30 days runs are kept, with the purge run every
// day, is reminded of once per -notify-repeat (a week) all along: the
// purge of the streak's first runs neither makes every run a reminder nor
// ends the reminders.
func TestFailureLongerThanRetention(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 1})
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.Now, c.SchedulePoll, c.NotifyRepeat = emu.Now, 20*time.Millisecond, 7*day
		c.NotifyURLs, c.NotifySecret = []string{notificationReceiver(t, make(chan map[string]any, 256))}, "a-long-random-notification-secret"
	})
	h.connect("Prod")
	flowID := storeEnabledDoc(t, h, dailyMissingFlow)

	sent := map[string]time.Time{} // flow_run.failed ids → time; the purge empties the outbox too
	var first time.Time
	for range 60 {
		d := emu.Now()
		tick := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, time.UTC)
		if !tick.After(d) {
			tick = tick.AddDate(0, 0, 1)
		}
		if first.IsZero() {
			first = tick
		}
		emu.AdvanceClock(t, tick.Add(time.Minute).Sub(emu.Now()))
		waitFor(t, "the run of "+tick.Format(time.DateOnly), func() bool {
			return slices.ContainsFunc(h.runsOf(flowID), func(r triggeredRun) bool { return r.Trigger.Time.Equal(tick) && r.Status == "failed" })
		})
		ns, err := h.app.Store.ListNotifications(t.Context(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			var m struct {
				Time time.Time `json:"time"`
			}
			if err := json.Unmarshal(n.Body, &m); err != nil {
				t.Fatal(err)
			}
			if n.Type != "flow_run.failed" {
				t.Errorf("a %s notification: %s", n.Type, n.Body)
			}
			sent[n.ID] = m.Time
		}
		if _, err := h.app.Retention.Purge(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	var days []int
	for _, at := range sent {
		days = append(days, int(at.Sub(first)/day))
	}
	slices.Sort(days)
	// The first failure, then one reminder in each week counted from it,
	// at its first run (on its first day, or the next when that day's
	// run ended a moment sooner in the minute than the first).
	for i, d := range days {
		if d/7 != i || d%7 > 1 {
			t.Errorf("flow_run.failed sent on days %v of the failure; want day 0 and then one a week", days)
			break
		}
	}
	if len(days) == 0 || days[len(days)-1] < 52 {
		t.Errorf("flow_run.failed sent on days %v of the failure; want reminders to day 52 and beyond", days)
	}
}
