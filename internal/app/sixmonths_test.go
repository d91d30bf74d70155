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

// weeklyFlow runs every Sunday at 02:30 in Berlin, a time the clocks skip
// on the last Sunday of March.
const weeklyFlow = `name: weekly-inventory
on:
  schedule:
    cron: "30 2 * * 0"
    timezone: Europe/Berlin
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Robot
    input:
      search: 'status eq "ACTIVE"'
`

// enrolledFlow reads every device enrolled at the org, by hook and poll.
const enrolledFlow = `name: on-enrollment
inputs:
  deviceId: {type: string, required: true}
on:
  event:
    card: okta-devices/device-enrolled
    connection: Robot
    delivery: hook+poll
  inputs:
    deviceId: ${{ trigger.event.device.id }}
steps:
  - id: device
    card: okta-devices/read-device
    connection: Robot
    input: {deviceId: "${{ inputs.deviceId }}"}
`

// TestSixMonthsUnattended: a service connection with a weekly flow and an
// event flow, left alone for 26 weeks on the emulator's clock, a device
// enrolled at the org each week and the hourly purge run each week. Every
// Sunday runs exactly once, at 02:30 Berlin time and, on the day the
// clocks skip that time, right after the jump (03:00); every enrollment
// starts exactly one run although it arrives by hook and by poll; every
// run succeeds; no notification goes out; the connection stays active,
// asking the org for one token per week rather than per card run; and
// the purge keeps the stored runs to the last 30 days.
func TestSixMonthsUnattended(t *testing.T) {
	t.Parallel()
	// The half year starts on 2027-01-06, so that it has the last Sunday
	// of March in it whatever the day the test runs.
	shift := time.Until(time.Date(2027, 1, 6, 12, 0, 0, 0, time.UTC))
	emu := emutest.Start(t, oktaemu.Config{Devices: 4, Now: func() time.Time { return time.Now().Add(shift) }})
	received := make(chan map[string]any, 64)
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.Now, c.SchedulePoll, c.EventPollInterval = emu.Now, 20*time.Millisecond, 100*time.Millisecond
		c.NotifyURLs, c.NotifySecret = []string{notificationReceiver(t, received)}, "a-long-random-notification-secret"
	})
	for _, scope := range []string{"okta.logs.read", "okta.eventHooks.manage"} {
		grantServiceScope(t, emu, scope)
	}
	c, jwk := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, nil); code != http.StatusOK {
		t.Fatalf("test the connection: %d %s", code, data)
	}
	weekly := storeEnabledDoc(t, h, weeklyFlow)
	enrolled := storeEnabledDoc(t, h, enrolledFlow)
	waitHookVerified(t, emu)

	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// sunday is the first Sunday 02:30 Berlin time after t, or the
	// instant the clocks jump to when they skip it.
	sunday := func(t time.Time) time.Time {
		d := t.In(berlin)
		for {
			d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, berlin)
			if d.Weekday() == time.Sunday {
				break
			}
		}
		at := time.Date(d.Year(), d.Month(), d.Day(), 2, 30, 0, 0, berlin)
		if at.Hour() != 2 { // 02:30 does not exist that day: Go normalises it to 03:30
			at = time.Date(d.Year(), d.Month(), d.Day(), 3, 0, 0, 0, berlin)
		}
		return at
	}
	tokensBefore := emu.Stats(t)["POST /oauth2/v1/token"]
	ticks := map[time.Time]int{} // tick → runs seen for it
	seen := map[string]bool{}    // run ids seen, of both flows
	devices := map[string]bool{} // devices enrolled
	type eventSeen struct {
		via  map[string]bool
		runs map[string]bool
	}
	enrollments := map[string]*eventSeen{} // enrollment events seen, by uuid
	var skipped time.Time                  // the tick of the day 02:30 is skipped
	for week := range 26 {
		tick := sunday(emu.Now())
		if tick.In(berlin).Hour() == 3 {
			skipped = tick
		}
		devices[enrollDevice(t, emu, oktaemu.AdminLogin)] = true
		emu.AdvanceClock(t, tick.Add(time.Minute).Sub(emu.Now()))
		// Both of the week's runs end before the next week starts: a run
		// left for later would be stored a week late, and the purge would
		// count it among a later week's.
		waitFor(t, "week "+tick.Format(time.DateOnly)+": the tick's run and the enrollment's run to succeed", func() bool {
			var done bool
			for _, r := range h.runsOf(weekly) {
				done = done || (r.Trigger.Time.Equal(tick) && r.Status == "succeeded")
			}
			succeeded := map[string]bool{}
			for _, r := range h.runsOf(enrolled) {
				if r.Status != "succeeded" {
					return false
				}
				succeeded[r.ID] = true
			}
			var enrolledRun bool // the week's enrollment, by hook and poll, and its run
			for _, e := range h.events() {
				enrolledRun = enrolledRun || (e.EventType == "device.enrollment.create" && enrollments[e.UUID] == nil &&
					slices.Contains(e.ReceivedVia, "hook") && slices.Contains(e.ReceivedVia, "poll") &&
					len(e.FlowRuns) == 1 && succeeded[e.FlowRuns[0]])
			}
			return done && enrolledRun
		})
		for _, r := range h.runsOf(weekly) {
			if !seen[r.ID] {
				seen[r.ID] = true
				ticks[r.Trigger.Time.UTC()]++
			}
		}
		for _, r := range h.runsOf(enrolled) {
			seen[r.ID] = true
		}
		for _, e := range h.events() {
			if e.EventType != "device.enrollment.create" {
				continue
			}
			es := enrollments[e.UUID]
			if es == nil {
				es = &eventSeen{via: map[string]bool{}, runs: map[string]bool{}}
				enrollments[e.UUID] = es
			}
			for _, v := range e.ReceivedVia {
				es.via[v] = true
			}
			for _, r := range e.FlowRuns {
				es.runs[r] = true
			}
		}
		if _, err := h.app.Retention.Purge(t.Context()); err != nil {
			t.Fatalf("week %d: purge: %v", week, err)
		}
	}

	if skipped.IsZero() || ticks[skipped.UTC()] != 1 {
		t.Errorf("the Sunday whose 02:30 the clocks skip: tick %v ran %d times; want once, at 03:00", skipped, ticks[skipped.UTC()])
	}
	if len(ticks) != 26 {
		t.Errorf("%d distinct ticks ran: %v; want 26", len(ticks), ticks)
	}
	for tick, n := range ticks {
		if at := tick.In(berlin); n != 1 || at.Weekday() != time.Sunday || (at.Format("15:04") != "02:30" && !tick.Equal(skipped.UTC())) {
			t.Errorf("tick %v ran %d times; want once, on a Sunday at 02:30 Berlin time", at, n)
		}
	}
	// Every enrollment's event started one run. The purge keeps events
	// 90 days (as long as Okta's System Log keeps them) and runs 30.
	if len(enrollments) != len(devices) {
		t.Errorf("%d enrollment events seen; want %d", len(enrollments), len(devices))
	}
	for uuid, e := range enrollments {
		if len(e.runs) != 1 || !e.via["hook"] || !e.via["poll"] {
			t.Errorf("event %s: received via %v, runs %v; want by hook and poll, one run", uuid, e.via, e.runs)
		}
	}
	if n := len(h.events()); n > 14*2 {
		t.Errorf("%d events kept; want those of the last 90 days (two a week)", n)
	}
	if n := len(h.runsOf(weekly)); n > 5 {
		t.Errorf("%d weekly runs kept; want those of the last 30 days (at most 5)", n)
	}
	if n := len(h.runsOf(enrolled)); n > 5 {
		t.Errorf("%d enrollment runs kept; want those of the last 30 days (at most 5)", n)
	}
	if got := h.serviceConn(c.ID); got.Status != "active" {
		t.Errorf("after 26 weeks the connection is %s (%s); want active", got.Status, got.StatusReason)
	}
	if n := emu.Stats(t)["POST /oauth2/v1/token"] - tokensBefore; n > 2*26 {
		t.Errorf("%d token requests over 26 weeks of %d card runs; want about one a week", n, len(seen))
	}
	select {
	case m := <-received:
		t.Errorf("a notification while everything worked: %v", m)
	default:
	}
	// The sender delivers in its own time: the outbox says whether any
	// message was meant to go out.
	if ns, err := h.app.Store.ListNotifications(t.Context(), 10); err != nil || len(ns) != 0 {
		for _, n := range ns {
			t.Errorf("a notification in the outbox while everything worked: %s %s", n.Type, n.Body)
		}
		if err != nil {
			t.Error(err)
		}
	}
}

// grantServiceScope grants scope to the demo API Services app at the org.
func grantServiceScope(t *testing.T, emu *emutest.Server, scope string) {
	t.Helper()
	req, _ := http.NewRequest("POST", emu.URL+"/api/v1/apps/"+oktaemu.DemoServiceAppID+"/grants",
		strings.NewReader(`{"issuer":"`+emu.URL+`","scopeId":"`+scope+`"}`))
	req.Header.Set("Authorization", "SSWS "+oktaemu.DemoAPIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := emu.Client.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("grant %s to the service app: %v %v", scope, resp, err)
	}
	resp.Body.Close()
}
