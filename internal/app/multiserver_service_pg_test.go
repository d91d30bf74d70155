package app

import (
	"net/http"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestMultiServerServiceTokenSingleFlight: 1 000 concurrent card runs, half
// on each server, on a service connection whose cached token has expired
// make exactly one token request (client_credentials) to the org, and
// every run succeeds. The token has expired either on the
// org's clock only (every run meets a 401) or on the servers' clocks too.
func TestMultiServerServiceTokenSingleFlight(t *testing.T) {
	t.Parallel()
	const runs = 1000
	for _, serversToo := range []bool{false, true} {
		name := "expired at the org"
		if serversToo {
			name = "expired on every clock"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// As in TestMultiServerRefreshSingleFlight, the org and the
			// servers run on a clock that moves only when the test moves
			// it, so that the token lease cannot lapse however long a
			// loaded machine holds up the token request.
			clock := emutest.NewClock(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
			emu := emutest.Start(t, oktaemu.Config{Devices: 10, Now: clock.Now})
			a, b, _ := pgServers(t, emu, func(c *Config) { c.Now, c.RefreshLeaseTTL = clock.Now, time.Minute })
			c, jwk := a.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
			emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
			if code, data := a.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, nil); code != http.StatusOK {
				t.Fatalf("test: %d %s", code, data)
			}
			if c = a.serviceConn(c.ID); c.Status != "active" {
				t.Fatalf("after the test: %+v; want active", c)
			}
			device := a.deviceWithStatus("Robot", "ACTIVE")

			if serversToo {
				clock.Advance(2 * time.Hour) // the org's clock and the servers'
			} else {
				emu.AdvanceClock(t, 2*time.Hour) // the org's clock only
			}
			before := emu.Stats(t)["POST /oauth2/v1/token"]

			readOnBoth(t, a, b, runs, "Robot", device)
			if got := emu.Stats(t)["POST /oauth2/v1/token"] - before; got != 1 {
				t.Errorf("%d runs made %d token requests; want exactly 1", runs, got)
			}
		})
	}
}
