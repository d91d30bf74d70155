package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestOneOrgsSlowSystemLogDelaysNoOtherOrg: while a System Log poll of one
// org waits for its answer (the org slow, or its System Log rate limit
// exhausted), the System Log of another org is still polled every
// interval and its events start their runs.
func TestOneOrgsSlowSystemLogDelaysNoOtherOrg(t *testing.T) {
	t.Parallel()
	slow := emutest.Start(t, oktaemu.Config{Devices: 3})
	other := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, slow, t.TempDir(), func(c *Config) {
		c.TrustedOrigins = append(c.TrustedOrigins, other.URL)
		c.EventPollInterval = 100 * time.Millisecond
	})
	h.connect("Prod devices")
	storeEnabledFlow(t, h, "poll")
	h.emu = other
	h.connect("Other org")
	h.emu = slow
	hold := slow.Hold(t, "GET", "/api/v1/logs", 0)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := hold.Await(ctx, 1); err != nil {
		t.Fatalf("no System Log poll of the slow org came: %v", err)
	}

	doc := strings.NewReplacer("DELIVERY", "poll", "name: quarantine-on-user-removal", "name: quarantine-other", "Prod devices", "Other org").Replace(quarantineYAML)
	flowID := storeEnabledDoc(t, h, doc)
	other.AdvanceClock(t, time.Second)
	d := enrollDevice(t, other, "jonas.berg@example.com")
	removeDeviceUser(t, other, d, "jonas.berg@example.com")
	waitFor(t, "the run of the other org's removal, while the slow org's poll waits", func() bool { return len(h.runsOf(flowID)) == 1 })
	hold.Release()
}
