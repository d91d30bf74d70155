package app

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestEventFlowOrgClockOff: with the server's clock minutes ahead of the
// org's, or behind it, an event flow runs once for each event published
// after it was enabled, from the first moments on, and for none published
// before (delivered late, or read by a later poll), by hook and by poll:
// the enabling is told in the org's clock, which stamps the events, where
// the server's clock made the ahead one leave out the events of its first
// minutes and the behind one run the events of the minutes before.
func TestEventFlowOrgClockOff(t *testing.T) {
	t.Parallel()
	for _, delivery := range []string{"hook", "poll"} {
		for _, ahead := range []time.Duration{3 * time.Minute, -3 * time.Minute} {
			t.Run(fmt.Sprintf("%s/server %s ahead", delivery, ahead), func(t *testing.T) {
				t.Parallel()
				emu := emutest.Start(t, oktaemu.Config{Devices: 5})
				h := startServer(t, emu, t.TempDir(), func(c *Config) {
					c.Now = func() time.Time { return emu.Now().Add(ahead) }
					c.EventPollInterval = 100 * time.Millisecond
				})
				h.connect("Prod devices")
				if delivery == "hook" {
					// The hook, registered for another flow on the same
					// event, delivers from before the enabling on.
					storeEnabledDoc(t, h, strings.Replace(strings.Replace(quarantineYAML, "DELIVERY", "hook", 1),
						"name: quarantine-on-user-removal", "name: other-removal-flow", 1))
					waitHookVerified(t, emu)
				}
				const login = "jonas.berg@example.com"
				before := enrollDevice(t, emu, login)
				if delivery == "hook" {
					// The removal before the enabling is delivered
					// after it, as a delivery Okta is late with.
					resp, err := emu.Client.Post(emu.URL+"/_emulator/faults", "application/json",
						strings.NewReader(`{"hook":"delay","count":1,"delay":"90s"}`))
					if err != nil || resp.StatusCode/100 != 2 {
						t.Fatalf("delay the next delivery: %v %v", err, resp)
					}
					resp.Body.Close()
				}
				removeDeviceUser(t, emu, before, login)
				// Well past the second the org's Date tells its time
				// in, and the latency of its answer on a busy machine.
				emu.AdvanceClock(t, time.Minute)
				id := storeEnabledFlow(t, h, delivery)
				emu.AdvanceClock(t, time.Minute)
				var want []string
				for range 3 {
					d := enrollDevice(t, emu, login)
					removeDeviceUser(t, emu, d, login)
					want = append(want, d)
				}
				waitFor(t, "a succeeded run per removal after the enabling", func() bool {
					done := 0
					for _, r := range h.runsOf(id) {
						switch r.Status {
						case "succeeded":
							done++
						case "failed", "canceled":
						default:
							return false
						}
					}
					return done >= len(want)
				})
				// Events are dispatched oldest first: the one before the
				// enabling, had it started a run, has it by now.
				var got []string
				for _, r := range h.runsOf(id) {
					var in struct{ DeviceID string }
					if err := json.Unmarshal(r.Inputs, &in); err != nil {
						t.Fatalf("run %s inputs %s: %v", r.ID, r.Inputs, err)
					}
					got = append(got, in.DeviceID)
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("runs for devices %v; want %v, one per removal after the enabling (none for %s, removed before)", got, want, before)
				}
			})
		}
	}
}
