package app

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestOrgClockMovedPastOktasRetention: the emulated org's clock is moved
// 91 days ahead (POST /_emulator/clock) while a server polls its System
// Log; the server's clock does not follow it. An event of before the move
// is gone at Okta by the next poll, which Okta answers from its cursor
// all the same: the receivers get events.poll_restarted naming the
// stretch that is gone, the audit log has it, and the event after the
// move starts its run, where the poll went on from its cursor without a
// word.
func TestOrgClockMovedPastOktasRetention(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	clock := emutest.NewClock(emu.Now())
	received := make(chan map[string]any, 16)
	receiver := notificationReceiver(t, received)
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.Now, c.EventPollInterval = clock.Now, 100*time.Millisecond
		c.NotifyURLs, c.NotifySecret = []string{receiver}, "a-long-random-notification-secret"
	})
	grantServiceScope(t, emu, "okta.logs.read")
	c, jwk := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, nil); code != http.StatusOK {
		t.Fatalf("test the connection: %d %s", code, data)
	}
	flowID := storeEnabledDoc(t, h, strings.Replace(enrolledFlow, "delivery: hook+poll", "delivery: poll", 1))
	waitFor(t, "a poll that read the System Log to its end", func() bool {
		src, err := h.app.Store.GetEventSource(t.Context(), c.ID)
		return err == nil && !src.Poll.ReadTo.IsZero()
	})

	// The polls wait at Okta while the org's clock moves, so that the
	// enrollment of before is not read before it is gone.
	hold := emu.Hold(t, "GET", "/api/v1/logs", 0)
	if err := hold.Await(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	enrollDevice(t, emu, oktaemu.AdminLogin)
	resp, err := emu.Client.Post(emu.URL+"/_emulator/clock", "application/json", strings.NewReader(`{"advance":"2184h"}`))
	if err != nil || resp.StatusCode/100 != 2 {
		t.Fatalf("move the org's clock: %v %v", err, resp)
	}
	resp.Body.Close()
	kept := enrollDevice(t, emu, oktaemu.AdminLogin)
	hold.Release()

	m := waitNotificationOf(t, received, "events.poll_restarted")
	if msg := fmt.Sprint(m["message"]); !strings.Contains(msg, "longer ago than Okta keeps events") {
		t.Errorf("events.poll_restarted says %q; want it to say events are gone", msg)
	}
	waitFor(t, "the run of the enrollment Okta keeps", func() bool {
		runs := h.runsOf(flowID)
		return len(runs) == 1 && runs[0].Status == "succeeded"
	})
	if got := h.runsOf(flowID)[0]; !strings.Contains(string(got.Inputs), kept) {
		t.Errorf("the run's inputs %s; want the device %s enrolled after the move", got.Inputs, kept)
	}
	if a := h.audit("action=" + store.ActionConnectionEventPoll); len(a) != 1 {
		t.Errorf("audit %v; want one connection.event-poll", a)
	}
}
