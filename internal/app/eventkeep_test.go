package app

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestPurgedRunsEventReadAgainByALaggingPoll: with hook+poll, the hook
// delivers a removal and its flow runs while the System Log polls fail.
// Forty days later the run is past -retain-runs and purged, but the event
// is not (Okta keeps it 90 days): when the polls work again and read it
// from their old cursor, it is a duplicate, not a new event that starts
// the flow a second time.
func TestPurgedRunsEventReadAgainByALaggingPoll(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	dataDir := t.TempDir()
	cfg := func(c *Config) { c.Now, c.EventPollInterval = emu.Now, 100*time.Millisecond }
	h := startServer(t, emu, dataDir, cfg)
	c := h.connect("Prod devices")
	id := storeEnabledFlow(t, h, "hook+poll")
	waitHookVerified(t, emu)
	waitFor(t, "a first System Log poll", func() bool {
		src, err := h.app.Store.GetEventSource(t.Context(), c.ID)
		return err == nil && src.PollNext != ""
	})
	emu.Fault(t, "GET", "/api/v1/logs", http.StatusServiceUnavailable, 1_000_000)
	emu.AdvanceClock(t, time.Second)
	d := enrollDevice(t, emu, "jonas.berg@example.com")
	removeDeviceUser(t, emu, d, "jonas.berg@example.com")
	waitFor(t, "the run of the removal the hook delivered", func() bool {
		runs := h.runsOf(id)
		return len(runs) == 1 && runs[0].Status == "succeeded"
	})
	h.stop()

	emu.AdvanceClock(t, 40*24*time.Hour)
	h2 := startServer(t, emu, dataDir, cfg)
	waitFor(t, "the purge of the run", func() bool { return len(h2.runsOf(id)) == 0 })
	emu.ClearFaults(t)
	waitFor(t, "the poll to read the removal again", func() bool {
		var list struct{ Events []listedEvent }
		h2.call("GET", "/api/v1/events", nil, &list)
		for _, e := range list.Events {
			if e.EventType == "device.user.remove" && slices.Contains(e.ReceivedVia, "poll") {
				return true
			}
		}
		return false
	})
	waitFor(t, "the inbox dispatched", func() bool {
		evs, err := h2.app.Store.UndispatchedEvents(t.Context(), c.ID, nil, 10)
		return err == nil && len(evs) == 0
	})
	if runs := h2.runsOf(id); len(runs) != 0 {
		t.Errorf("the removal started the flow again 40 days later: %+v", runs)
	}
}
