package app

import (
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// dailyFlow runs every day at 09:00 UTC through the service connection.
const dailyFlow = `name: daily-inventory
on:
  schedule:
    cron: "0 9 * * *"
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Robot
    input:
      search: 'status eq "ACTIVE"'
`

// nextDailyOrSunday is the first tick after t of dailyFlow (09:00 UTC)
// and sundayFlow (Sunday 03:00 UTC), and which it is.
func nextDailyOrSunday(t time.Time) (time.Time, string) {
	d := time.Date(t.Year(), t.Month(), t.Day(), 9, 0, 0, 0, time.UTC)
	if !d.After(t) {
		d = d.AddDate(0, 0, 1)
	}
	if s := nextSunday3(t); s.Before(d) {
		return s, "sunday"
	}
	return d, "daily"
}

// TestPGTwoServersHalfYear: two servers on one PostgreSQL database behind
// one public URL, a daily and a weekly scheduled flow and an event flow
// (hook+poll) on a service connection, 26 weeks on the emulator's clock.
// Server A (in this process) is stopped in week 8 and started again in
// week 10; server B (a process of its own) is killed with SIGKILL in week
// 10 while a run of the daily flow is waiting on the org, with A still
// down, and started again in week 12. Every tick runs exactly once (the
// killed run resumed by A), every enrollment starts exactly one run,
// every run succeeds, none is left queued or running, and nothing is
// notified.
func TestPGTwoServersHalfYear(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 4})
	dsn := pgtest.NewDatabase(t)
	proxy := startProxy(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	receiver := notificationReceiver(t, make(chan map[string]any, 256))
	const secret = "a-long-random-notification-secret"
	startA := func() *harness {
		h := startServer(t, emu, dirA, func(c *Config) {
			c.DB, c.Owner, c.PublicURL = dsn, "server-a", proxy.url
			c.Now, c.SchedulePoll, c.EventPollInterval = emu.Now, 20*time.Millisecond, 100*time.Millisecond
			c.NotifyURLs, c.NotifySecret = []string{receiver}, secret
		})
		return h
	}
	// B's clock is the wall clock plus the offset in this file, which
	// follows the emulator's.
	clock := filepath.Join(t.TempDir(), "clock")
	syncClock := func() { moveClocks(t, clock, time.Until(emu.Now()).String()) }
	syncClock()
	startB := func() *child {
		return startChild(t, emu, dirB, "", "-db", dsn, "-clock-file", clock, "-public-url", proxy.url,
			"-schedule-poll", "20ms", "-event-poll-interval", "100ms", "-notify-url", receiver, "-notify-secret", secret)
	}

	a := startA()
	copyKeyring(t, dirA, dirB)
	b := startB()
	proxy.route(t, a.url, b.url)
	for _, scope := range []string{"okta.logs.read", "okta.eventHooks.manage"} {
		grantServiceScope(t, emu, scope)
	}
	robot, jwk := a.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if code, data := a.call("POST", "/api/v1/connections/"+robot.ID+"/test", nil, nil); code != http.StatusOK {
		t.Fatalf("test the connection: %d %s", code, data)
	}
	flows := map[string]string{
		"daily":  storeEnabledDoc(t, a, dailyFlow),
		"sunday": storeEnabledDoc(t, a, sundayFlow),
	}
	enrolled := storeEnabledDoc(t, a, enrolledFlow)
	waitHookVerified(t, emu)

	// live is a server to ask: A while it runs, else B.
	aUp, bUp := true, true
	live := func() *harness {
		if aUp {
			return a
		}
		if !bUp {
			t.Fatal("no server runs")
		}
		return b.harness(emu, dirB)
	}
	// runs are every run seen of each flow, by id; a server purges runs
	// older than 30 days when it starts.
	runs := map[string]map[string]triggeredRun{"daily": {}, "sunday": {}, "enrolled": {}}
	look := func(name, id string) []triggeredRun {
		rs := live().runsOf(id)
		for _, r := range rs {
			runs[name][r.ID] = r
		}
		return rs
	}
	ended := func(r triggeredRun) bool { return r.Status == "succeeded" || r.Status == "failed" }
	enrollments := map[string]bool{} // event uuid seen → true
	devices := 0
	start := emu.Now()
	var killedTick time.Time
	var killedFlow string
	for week := range 26 {
		switch week {
		case 8:
			a.stop()
			aUp = false
			proxy.route(t, b.url)
		case 10:
			// Kill B while a daily run waits on the org, A still down.
			hold := emu.Hold(t, "GET", "/api/v1/devices", 0)
			tick, name := nextDailyOrSunday(emu.Now())
			emu.AdvanceClock(t, tick.Add(time.Minute).Sub(emu.Now()))
			syncClock()
			waitFor(t, "B to run the "+name+" tick "+tick.Format(time.DateOnly), func() bool {
				return slices.ContainsFunc(look(name, flows[name]), func(r triggeredRun) bool {
					return r.Trigger.Time.Equal(tick) && r.Status == "running"
				})
			})
			_ = b.cmd.Process.Kill()
			b.waitKilled()
			bUp = false
			hold.Release()
			killedTick, killedFlow = tick, name
			// A starts past the dead server's leases (15 s).
			emu.AdvanceClock(t, time.Minute)
			syncClock()
			a = startA()
			aUp = true
			proxy.route(t, a.url)
			// A schedule does not overlap itself: the next tick fires no
			// run while the killed one has not ended, so it ends first (as
			// it does within seconds, well before the next day's tick).
			waitFor(t, "A to resume the killed "+name+" run of "+tick.Format(time.DateOnly), func() bool {
				return slices.ContainsFunc(look(name, flows[name]), func(r triggeredRun) bool { return r.Trigger.Time.Equal(tick) && ended(r) })
			})
		case 12:
			b = startB()
			bUp = true
			proxy.route(t, a.url, b.url)
		}
		enrollDevice(t, emu, oktaemu.AdminLogin)
		devices++
		for end := start.Add(time.Duration(week+1) * 7 * day); ; {
			tick, name := nextDailyOrSunday(emu.Now())
			if tick.After(end) {
				break
			}
			emu.AdvanceClock(t, tick.Add(time.Minute).Sub(emu.Now()))
			syncClock()
			waitFor(t, "the "+name+" run of "+tick.Format(time.DateOnly), func() bool {
				return slices.ContainsFunc(look(name, flows[name]), func(r triggeredRun) bool { return r.Trigger.Time.Equal(tick) && ended(r) })
			})
		}
		waitFor(t, "the enrollments' runs", func() bool {
			rs := look("enrolled", enrolled)
			return len(runs["enrolled"]) >= devices && !slices.ContainsFunc(rs, func(r triggeredRun) bool { return !ended(r) })
		})
		for _, e := range live().events() {
			if e.EventType == "device.enrollment.create" {
				enrollments[e.UUID] = true
			}
		}
	}
	// The killed run was resumed and ended.
	waitFor(t, "every run to end", func() bool {
		done := true
		for name, id := range map[string]string{"daily": flows["daily"], "sunday": flows["sunday"], "enrolled": enrolled} {
			for _, r := range look(name, id) {
				done = done && ended(r)
			}
		}
		return done
	})

	perTick := map[string]map[time.Time]int{"daily": {}, "sunday": {}}
	for name, byID := range runs {
		for _, r := range byID {
			if r.Status != "succeeded" {
				t.Errorf("%s run %s of %v: %s; want succeeded", name, r.ID, r.Trigger.Time, r.Status)
			}
			if name != "enrolled" {
				perTick[name][r.Trigger.Time.UTC()]++
			}
		}
	}
	for name, byTick := range perTick {
		for tick, n := range byTick {
			if n != 1 {
				t.Errorf("%s tick %v ran %d times; want once", name, tick, n)
			}
		}
	}
	if n := len(perTick["daily"]); n != 26*7 {
		t.Errorf("%d daily ticks ran; want %d", n, 26*7)
	}
	if n := len(perTick["sunday"]); n != 26 {
		t.Errorf("%d Sunday ticks ran; want 26", n)
	}
	if perTick[killedFlow][killedTick.UTC()] != 1 {
		t.Errorf("the %s tick %v whose run B was killed in ran %d times; want once", killedFlow, killedTick, perTick[killedFlow][killedTick.UTC()])
	}
	if len(runs["enrolled"]) != devices || len(enrollments) != devices {
		t.Errorf("%d enrollments: %d events seen, %d runs; want one each", devices, len(enrollments), len(runs["enrolled"]))
	}
	for _, e := range live().events() {
		if e.EventType == "device.enrollment.create" && len(e.FlowRuns) != 1 {
			t.Errorf("event %s started runs %v; want one", e.UUID, e.FlowRuns)
		}
	}
	if ns, err := openPG(t, dsn).ListNotifications(t.Context(), 10); err != nil || len(ns) != 0 {
		for _, n := range ns {
			t.Errorf("a notification while everything worked: %s %s", n.Type, n.Body)
		}
		if err != nil {
			t.Error(err)
		}
	}
}

// TestPGUserConnectionTwoHundredDays is TestUserConnectionTwoHundredDays
// with two servers on one PostgreSQL database, each checking expiries and
// firing ticks: every announcement, end, failure and recovery is still
// notified once, not once per server.
func TestPGUserConnectionTwoHundredDays(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	a, _, _ := pgServers(t, emu, unattendedUser(t, emu))
	userConnectionStory(t, emu, a)
}
