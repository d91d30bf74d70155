package app

import (
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestWrongSecretLoggedOnce: two servers share a database; the OAuth
// app's client secret is rotated at the org under a connection whose
// event hook they check every round. The server whose refresh stores
// the connection needs_reauthorization logs it once, with the reason;
// the rounds that then fail for it on either server are counted, not
// logged (or summarised) by each server again.
func TestWrongSecretLoggedOnce(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	edit := func(c *Config) {
		c.Now = emu.Now
		c.EventPollInterval = 100 * time.Millisecond
	}
	h := startServer(t, emu, t.TempDir(), edit)
	h2 := startServer(t, emu, h.dataDir, edit)
	conn := h.connect("Prod devices")
	storeEnabledFlow(t, h, "hook+poll")
	waitHookVerified(t, emu)

	emu.RotateClientSecret(t, oktaemu.DemoAppID)
	emu.AdvanceClock(t, 2*time.Hour) // the access token ends: the next call refreshes
	waitFor(t, "the connection to need reauthorization", func() bool { return h.connection(conn.ID).Status == "needs_reauthorization" })
	failed := func() float64 { return h.failures()["events"] + h2.failures()["events"] }
	before := failed()
	waitFor(t, "rounds failing for the connection", func() bool { return failed() >= before+4 })

	stored := 0
	for i, s := range []*harness{h, h2} {
		for _, l := range strings.Split(s.logs.String(), "\n") {
			switch {
			case strings.Contains(l, `"msg":"connection needs reauthorization"`):
				stored++
				if !strings.Contains(l, "client secret") {
					t.Errorf("server %d: %s; want the reason naming the client secret", i+1, l)
				}
			case strings.Contains(l, `"msg":"events:`) && strings.Contains(l, "needs reauthorization"):
				t.Errorf("server %d logs the connection's status again: %.300s", i+1, l)
			}
		}
	}
	if stored != 1 {
		t.Errorf("%d lines saying the connection needs reauthorization; want 1, of the server that stored it", stored)
	}
}
