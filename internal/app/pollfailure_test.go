package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestPollFailureIsReported: while a connection's System Log polls fail,
// the connection says so (error, remedy, since when) and, once they have
// failed for -event-poll-alert-after, the receivers get one
// events.poll_failing; when the org answers again the status clears, they
// get events.poll_recovered, and the event of the outage starts its flow.
// The log says it once, then every few minutes, and the recovery.
func TestPollFailureIsReported(t *testing.T) {
	// The org's clock, which the server uses, moves only when the test
	// moves it: on the wall clock, five minutes of a loaded machine
	// while the polls fail would log a summary ("still failing") the
	// test does not expect.
	clock := emutest.NewClock(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
	emu := emutest.Start(t, oktaemu.Config{Devices: 5, Now: clock.Now})
	received := make(chan map[string]any, 16)
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.Now = emu.Now
		c.EventPollInterval = 100 * time.Millisecond
		c.EventPollAlertAfter = 15 * time.Minute
		c.NotifyURLs, c.NotifySecret = []string{notificationReceiver(t, received)}, "a-long-random-notification-secret"
	})
	conn := h.connect("Prod devices")
	flowID := storeEnabledFlow(t, h, "poll")
	source := func() *api.EventSource {
		t.Helper()
		var d api.ConnectionDetail
		if code, body := h.call("GET", "/api/v1/connections/"+conn.ID, nil, &d); code != http.StatusOK {
			t.Fatalf("GET the connection: %d %s", code, body)
		}
		return d.EventSource
	}
	waitFor(t, "the first System Log poll", func() bool { s := source(); return s != nil && s.PolledAt != nil })
	if s := source(); s.PollFailingSince != nil || s.PollError != "" {
		t.Fatalf("after a poll that worked: %+v; want no poll failure", s)
	}

	// The org's System Log fails from now on: its answers are cut short.
	// Not a 400, which is Okta refusing the poll's cursor: a poll whose
	// cursor is refused as the faults end reads anew from a point in time,
	// with an events.poll_restarted notice of its own. Nor a 5xx, which
	// the client retries, seconds a poll.
	outage := emu.Now()
	emu.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/api/v1/logs", Status: 200, Body: "truncated", Count: 1_000_000})
	waitFor(t, "the connection to report the failing polls", func() bool { return source().PollFailingSince != nil })
	s := source()
	if s.PollError == "" || s.PollFailingSince.Before(outage) {
		t.Errorf("while polls fail: %+v; want the error and a failing-since time from the outage on", s)
	}
	code, out := h.call("GET", "/api/v1/connections/"+conn.ID, nil, nil)
	if code != http.StatusOK || !strings.Contains(string(out), `"pollError"`) || strings.Contains(string(out), "a-long-random") {
		t.Errorf("the connection's JSON: %d %s; want pollError, no secret", code, out)
	}
	select {
	case m := <-received:
		t.Fatalf("a notification before the alert time: %v", m)
	default:
	}
	device := h.deviceWithStatus(conn.ID, "ACTIVE")
	if resp, err := emu.Client.Post(emu.URL+"/_emulator/devices/"+device+"/users", "application/json", stringsReader(`{"user":"jonas.berg@example.com"}`)); err != nil || resp.StatusCode/100 != 2 {
		t.Fatalf("add a user to the device: %v %v", err, resp)
	}
	req, _ := http.NewRequest("DELETE", emu.URL+"/_emulator/devices/"+device+"/users/jonas.berg@example.com", nil)
	if resp, err := emu.Client.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("remove the user from the device: %v %v", err, resp)
	}

	// 15 minutes on: one alert.
	emu.AdvanceClock(t, 16*time.Minute)
	m := waitNotification(t, received)
	c, _ := m["connection"].(map[string]any)
	if m["type"] != "events.poll_failing" || c["id"] != conn.ID || !strings.Contains(fmt.Sprint(m["message"]), "Prod devices") ||
		!strings.Contains(fmt.Sprint(m["message"]), s.PollError) {
		t.Errorf("notification %v; want events.poll_failing for Prod devices with the error", m)
	}
	if runs := h.runsOf(flowID); len(runs) != 0 {
		t.Errorf("%d runs while the System Log fails; want none", len(runs))
	}

	// The org answers again.
	emu.ClearFaults(t)
	m = waitNotification(t, received)
	if m["type"] != "events.poll_recovered" || !strings.Contains(fmt.Sprint(m["message"]), "works again") {
		t.Errorf("notification %v; want events.poll_recovered", m)
	}
	if s := source(); s.PollFailingSince != nil || s.PollError != "" || s.PollRemedy != "" {
		t.Errorf("after a poll that worked again: %+v; want the failure cleared", s)
	}
	waitFor(t, "the outage's event to start its flow", func() bool {
		runs := h.runsOf(flowID)
		return len(runs) == 1 && runs[0].Status == "succeeded"
	})
	select {
	case m := <-received:
		t.Errorf("another notification: %v; want one alert and one all-clear", m)
	default:
	}
	// The log has the first failure, one summary (after the clock moved
	// 16 minutes) and the recovery, not a line per poll.
	waitFor(t, "the log line of the recovery", func() bool { return len(h.logLines("events: polling the System Log: recovered")) == 1 })
	for msg, want := range map[string]int{"events: polling the System Log": 1, "events: polling the System Log: still failing": 1} {
		if got := h.logLines(msg); len(got) != want {
			t.Errorf("%d lines %q: %v; want %d", len(got), msg, got, want)
		}
	}
}

// notificationReceiver serves notifications, decoded, into received, and
// returns its URL.
func notificationReceiver(t *testing.T, received chan<- map[string]any) string {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		received <- m
	}))
	t.Cleanup(receiver.Close)
	return receiver.URL
}

// waitNotification returns the next message the receiver got.
func waitNotification(t *testing.T, received <-chan map[string]any) map[string]any {
	t.Helper()
	select {
	case m := <-received:
		return m
	case <-time.After(60 * time.Second):
		t.Fatal("no notification reached the receiver")
		return nil
	}
}
