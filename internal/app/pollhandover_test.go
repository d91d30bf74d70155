package app

import (
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestCleanStopHandsOverThePoll: a server that stops cleanly gives up the
// System Log poll leases it holds, so that the next server on the store
// polls at once (its first round) rather than once the lease lapses (two
// poll intervals and a minute: two hours here, and the org's clock does
// not move past it).
func TestCleanStopHandsOverThePoll(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	dir := t.TempDir() // one SQLite database, one keyring
	config := func(owner string) func(*Config) {
		return func(c *Config) { c.Now, c.EventPollInterval, c.Owner = emu.Now, time.Hour, owner }
	}
	one := startServer(t, emu, dir, config("server-1"))
	conn := one.connect("Prod devices")
	flowID := storeEnabledFlow(t, one, "poll")
	waitFor(t, "server-1's first System Log poll", func() bool {
		src, err := one.app.Store.GetEventSource(t.Context(), conn.ID)
		return err == nil && !src.PolledAt.IsZero()
	})
	one.stop()

	emu.AdvanceClock(t, time.Second)
	d := enrollDevice(t, emu, "jonas.berg@example.com")
	removeDeviceUser(t, emu, d, "jonas.berg@example.com")
	two := startServer(t, emu, dir, config("server-2"))
	waitFor(t, "server-2 to poll at once and run the flow on the removal", func() bool { return len(two.runsOf(flowID)) == 1 })
}
