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
	"github.com/cardflow/cardflow/internal/timetext"
)

// TestServerBackAfterOktasRetention: every server of a connection with a
// poll flow is down for 100 days. The one that starts again does not
// follow its System Log cursor past the events Okta no longer keeps without
// a word: the receivers get events.poll_restarted naming the stretch from
// where the polls had read to the start of Okta's 90 days, the audit log
// has it as connection.event-poll, and the event Okta still keeps starts
// its run.
func TestServerBackAfterOktasRetention(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	dataDir := t.TempDir()
	received := make(chan map[string]any, 16)
	receiver := notificationReceiver(t, received)
	cfg := func(c *Config) {
		c.Now, c.EventPollInterval = emu.Now, 100*time.Millisecond
		c.NotifyURLs, c.NotifySecret = []string{receiver}, "a-long-random-notification-secret"
	}
	h := startServer(t, emu, dataDir, cfg)
	grantServiceScope(t, emu, "okta.logs.read")
	c, jwk := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, nil); code != http.StatusOK {
		t.Fatalf("test the connection: %d %s", code, data)
	}
	flowID := storeEnabledDoc(t, h, strings.Replace(enrolledFlow, "delivery: hook+poll", "delivery: poll", 1))
	var readTo time.Time
	waitFor(t, "a poll that read the System Log to its end", func() bool {
		src, err := h.app.Store.GetEventSource(t.Context(), c.ID)
		if err == nil {
			readTo = src.Poll.ReadTo
		}
		return !readTo.IsZero()
	})
	h.stop()

	emu.AdvanceClock(t, time.Hour)
	enrollDevice(t, emu, oktaemu.AdminLogin) // gone at Okta by the time a server is back
	emu.AdvanceClock(t, 100*24*time.Hour)
	kept := enrollDevice(t, emu, oktaemu.AdminLogin)
	h2 := startServer(t, emu, dataDir, cfg)

	m := waitNotification(t, received)
	msg := fmt.Sprint(m["message"])
	gone := "any event published from " + timetext.Format(readTo) + " to "
	if m["type"] != "events.poll_restarted" || !strings.Contains(msg, gone) || !strings.Contains(msg, "longer ago than Okta keeps events") {
		t.Errorf("notification %v; want events.poll_restarted saying %q...", m, gone)
	}
	waitFor(t, "the run of the enrollment Okta still keeps", func() bool {
		runs := h2.runsOf(flowID)
		return len(runs) == 1 && runs[0].Status == "succeeded"
	})
	if got := h2.runsOf(flowID)[0]; !strings.Contains(string(got.Inputs), kept) {
		t.Errorf("the run's inputs %s; want the device %s enrolled after the 100 days", got.Inputs, kept)
	}
	if a := h2.audit("action=" + store.ActionConnectionEventPoll); len(a) != 1 || !strings.Contains(fmt.Sprint(a[0]), gone) {
		t.Errorf("audit %v; want one connection.event-poll naming the stretch", a)
	}
}
