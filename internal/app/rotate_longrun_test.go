package app

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// sundayFlow runs every Sunday at 03:00 UTC through the service connection.
const sundayFlow = `name: sunday-inventory
on:
  schedule:
    cron: "0 3 * * 0"
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Robot
    input:
      search: 'status eq "ACTIVE"'
`

// nextTick is the first tick after t of the schedules of the flows
// twiceWeeklyFlow (Monday and Thursday 09:00 UTC) and sundayFlow (Sunday
// 03:00 UTC), and which of the two it is.
func nextTick(t time.Time) (time.Time, string) {
	if mt, st := nextMonThu(t), nextSunday3(t); st.Before(mt) {
		return st, "sunday"
	} else {
		return mt, "twice-weekly"
	}
}

func nextSunday3(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), 3, 0, 0, 0, time.UTC)
	for !d.After(t) || d.Weekday() != time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// TestKeyRotationUnattended: twelve weeks of a user connection's flow, a
// service connection's flow and an event flow (hook+poll, whose hook
// secret is sealed too) on one SQLite server, the keyring rotated in week
// 4 while the server runs, the server restarted in week 6, the old key
// removed in week 8 (after a second rotation if the server had sealed
// with it meanwhile) while it runs, and the server restarted without the
// old key in week 10. Every tick runs once and succeeds, every enrollment
// starts one run, nothing is notified, and no stored value is left that
// the last keyring cannot open.
func TestKeyRotationUnattended(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 4})
	dir := t.TempDir()
	// The org's event hook goes to the public URL, the same across the
	// restarts.
	proxy := startProxy(t)
	edit := func(c *Config) {
		c.PublicURL = proxy.url
		c.Now, c.SchedulePoll, c.EventPollInterval = emu.Now, 20*time.Millisecond, 100*time.Millisecond
		c.NotifyURLs, c.NotifySecret = []string{notificationReceiver(t, make(chan map[string]any, 64))}, "a-long-random-notification-secret"
	}
	h := startServer(t, emu, dir, edit)
	proxy.route(t, h.url)
	for _, scope := range []string{"okta.logs.read", "okta.eventHooks.manage"} {
		grantServiceScope(t, emu, scope)
	}
	robot, jwk := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if code, data := h.call("POST", "/api/v1/connections/"+robot.ID+"/test", nil, nil); code != http.StatusOK {
		t.Fatalf("test the connection: %d %s", code, data)
	}
	h.connect("Person")
	flows := map[string]string{
		"sunday":       storeEnabledDoc(t, h, sundayFlow),
		"twice-weekly": storeEnabledDoc(t, h, twiceWeeklyFlow),
	}
	enrolled := storeEnabledDoc(t, h, enrolledFlow)
	waitHookVerified(t, emu)
	firstKey := h.app.Keyring.PrimaryID()

	start := emu.Now()
	ticks := map[string]map[time.Time]int{"sunday": {}, "twice-weekly": {}}
	seen := map[string]bool{}
	enrollments := 0
	enrolledRuns := map[string]string{} // run id → status
	for week := range 12 {
		switch week {
		case 4: // rotate while the server runs
			if _, err := RotateKeys(t.Context(), Config{DataDir: dir, Now: emu.Now}, ""); err != nil {
				t.Fatalf("week 4: keys rotate: %v", err)
			}
		case 6, 10:
			h.stop()
			h = startServer(t, emu, dir, edit)
			proxy.route(t, h.url)
		case 8: // remove the first key while the server runs
			if _, err := RemoveKey(t.Context(), Config{DataDir: dir, Now: emu.Now}, firstKey); err != nil {
				if !strings.Contains(err.Error(), "still seals") {
					t.Fatalf("week 8: keys remove %s: %v", firstKey, err)
				}
				if _, err := ResealKeys(t.Context(), Config{DataDir: dir, Now: emu.Now}); err != nil {
					t.Fatalf("week 8: keys reseal: %v", err)
				}
				if _, err := RemoveKey(t.Context(), Config{DataDir: dir, Now: emu.Now}, firstKey); err != nil {
					t.Fatalf("week 8: keys remove %s after re-sealing: %v", firstKey, err)
				}
			}
		}
		enrollDevice(t, emu, oktaemu.AdminLogin)
		enrollments++
		for end := start.Add(time.Duration(week+1) * 7 * day); ; {
			tick, name := nextTick(emu.Now())
			if tick.After(end) {
				break
			}
			emu.AdvanceClock(t, tick.Add(time.Minute).Sub(emu.Now()))
			waitFor(t, "week "+tick.Format(time.DateOnly)+": the "+name+" run", func() bool {
				for _, r := range h.runsOf(flows[name]) {
					if r.Trigger.Time.Equal(tick) && (r.Status == "succeeded" || r.Status == "failed") {
						return true
					}
				}
				return false
			})
		}
		waitFor(t, "the enrollments' runs", func() bool {
			// A restarted server purges the runs older than 30 days:
			// the runs seen are counted, not those listed.
			runs := h.runsOf(enrolled)
			for _, r := range runs {
				enrolledRuns[r.ID] = r.Status
			}
			return len(enrolledRuns) >= enrollments && !slices.ContainsFunc(runs, func(r triggeredRun) bool { return r.Status != "succeeded" && r.Status != "failed" })
		})
		for name, id := range flows {
			for _, r := range h.runsOf(id) {
				if !seen[r.ID] {
					seen[r.ID] = true
					ticks[name][r.Trigger.Time.UTC()]++
					if r.Status != "succeeded" {
						t.Errorf("week %d: %s run of %v: %s; want succeeded", week, name, r.Trigger.Time, r.Status)
					}
				}
			}
		}
	}
	for name, byTick := range ticks {
		for tick, n := range byTick {
			if n != 1 {
				t.Errorf("%s tick %v ran %d times; want once", name, tick, n)
			}
		}
	}
	if n := len(ticks["sunday"]); n != 12 {
		t.Errorf("%d Sunday ticks ran; want 12", n)
	}
	if n := len(ticks["twice-weekly"]); n != 24 {
		t.Errorf("%d Monday and Thursday ticks ran; want 24", n)
	}
	if len(enrolledRuns) != enrollments {
		t.Errorf("%d enrollment runs; want %d", len(enrolledRuns), enrollments)
	}
	for id, status := range enrolledRuns {
		if status != "succeeded" {
			t.Errorf("enrollment run %s: %s; want succeeded", id, status)
		}
	}
	for _, e := range h.events() {
		if e.EventType == "device.enrollment.create" && len(e.FlowRuns) != 1 {
			t.Errorf("event %s started runs %v; want one", e.UUID, e.FlowRuns)
		}
	}
	keys, err := ListKeys(t.Context(), Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys.Keys {
		if k.ID == firstKey {
			t.Errorf("keys after the removal: %+v; want no %s", keys.Keys, firstKey)
		}
	}
	if ns, err := h.app.Store.ListNotifications(t.Context(), 10); err != nil || len(ns) != 0 {
		for _, n := range ns {
			t.Errorf("a notification while everything worked: %s %s", n.Type, n.Body)
		}
		if err != nil {
			t.Error(err)
		}
	}
}
