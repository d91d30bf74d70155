package app

import (
	"context"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestHookEventRunsWhileAPollWaitsAtOkta: an event the hook delivers
// starts its run at once while a System Log poll of the org is still
// waiting for Okta's answer (the System Log slow, or its rate limit
// exhausted: a poll may wait minutes): the work at Okta does not hold up
// the dispatch of what was already received.
func TestHookEventRunsWhileAPollWaitsAtOkta(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now, c.EventPollInterval = emu.Now, 100*time.Millisecond })
	c := h.connect("Prod devices")
	flowID := storeEnabledFlow(t, h, "hook+poll")
	waitFor(t, "the event hook and a System Log poll", func() bool {
		src, err := h.app.Store.GetEventSource(t.Context(), c.ID)
		return err == nil && src.HookStatus == store.HookActive && !src.PolledAt.IsZero()
	})

	hold := emu.Hold(t, "GET", "/api/v1/logs", 0)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := hold.Await(ctx, 1); err != nil {
		t.Fatalf("no System Log poll came: %v", err)
	}
	emu.AdvanceClock(t, time.Second)
	d := enrollDevice(t, emu, "jonas.berg@example.com")
	removeDeviceUser(t, emu, d, "jonas.berg@example.com")
	waitFor(t, "the run of the removal the hook delivered, while the poll waits", func() bool { return len(h.runsOf(flowID)) == 1 })
	hold.Release()
}
