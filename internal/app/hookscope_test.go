package app

import (
	"net/http"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestHookBackOnceTheScopeIsTested: the event hook of a connection whose
// okta.eventHooks.manage was taken away at Okta is shown in error; once
// the scope is granted again and the connection tested (what its remedy
// says to do), the hook is active again at once, not at the intake's next
// round (an hour away here; 30 s by default).
func TestHookBackOnceTheScopeIsTested(t *testing.T) {
	clock := emutest.NewClock(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
	emu := emutest.Start(t, oktaemu.Config{Devices: 3, Now: clock.Now})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now, c.EventPollInterval = emu.Now, time.Hour })
	conn := h.connect("Prod devices")
	storeEnabledFlow(t, h, "hook+poll")
	waitHookVerified(t, emu)
	hookStatus := func() string {
		t.Helper()
		var d api.ConnectionDetail
		if code, body := h.call("GET", "/api/v1/connections/"+conn.ID, nil, &d); code != http.StatusOK {
			t.Fatalf("GET the connection: %d %s", code, body)
		}
		if d.EventSource == nil {
			return ""
		}
		return d.EventSource.HookStatus
	}
	waitFor(t, "the hook shown active", func() bool { return hookStatus() == store.HookActive })

	// Taken away at Okta: the test's new token lacks it, and the look at
	// the hook that follows the test is refused.
	emu.RevokeGrant(t, "okta.eventHooks.manage")
	if code, body := h.call("POST", "/api/v1/connections/"+conn.ID+"/test", nil, nil); code != http.StatusOK {
		t.Fatalf("test the connection: %d %s", code, body)
	}
	waitFor(t, "the hook shown in error for its scope", func() bool { return hookStatus() == store.HookError })

	emu.AddGrant(t, "okta.eventHooks.manage")
	if code, body := h.call("POST", "/api/v1/connections/"+conn.ID+"/test", nil, nil); code != http.StatusOK {
		t.Fatalf("test the connection: %d %s", code, body)
	}
	waitFor(t, "the hook active again after the test", func() bool { return hookStatus() == store.HookActive })
	waitHookVerified(t, emu) // the same one hook at the org, verified
}
