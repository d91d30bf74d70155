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

// TestHookFailureIsNotified: when a connection's working event hook stops
// working at Okta, the receivers get one events.hook_failing with the
// reason and the remedy; a hook deleted at Okta is registered again at
// the next round, and events.hook_recovered follows. A hook deactivated at
// Okta stays so (until its flows are enabled again): no all-clear.
func TestHookFailureIsNotified(t *testing.T) {
	for _, tt := range []struct {
		name, reason string
		lifecycle    []string // what the org's admin does to the hook
		recovers     bool
	}{
		{"deleted at Okta", "is gone from the org", []string{"POST lifecycle/deactivate", "DELETE "}, true},
		{"deactivated at Okta", "as deactivated", []string{"POST lifecycle/deactivate"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			emu := emutest.Start(t, oktaemu.Config{Devices: 3})
			received := make(chan map[string]any, 16)
			h := startServer(t, emu, t.TempDir(), func(c *Config) {
				c.EventPollInterval = 100 * time.Millisecond
				c.NotifyURLs, c.NotifySecret = []string{notificationReceiver(t, received)}, "a-long-random-notification-secret"
			})
			conn := h.connect("Prod devices")
			storeEnabledFlow(t, h, "hook")
			hookID := ""
			waitFor(t, "the event hook to be active", func() bool {
				src, err := h.app.Store.GetEventSource(t.Context(), conn.ID)
				if err == nil && src.HookStatus == store.HookActive {
					hookID = src.HookID
				}
				return hookID != ""
			})
			// The intake does not look at the hook between the admin's
			// steps: it sees their outcome, not a state in between.
			var looks []*oktaemu.Hold
			for _, path := range []string{"/api/v1/eventHooks", "/api/v1/eventHooks/{eventHookId}"} {
				looks = append(looks, emu.Hold(t, "GET", path, 0))
			}
			for _, step := range tt.lifecycle {
				method, sub, _ := strings.Cut(step, " ")
				req, _ := http.NewRequest(method, strings.TrimSuffix(emu.URL+"/api/v1/eventHooks/"+hookID+"/"+sub, "/"), nil)
				req.Header.Set("Authorization", "SSWS "+oktaemu.DemoAPIToken)
				resp, err := emu.Client.Do(req)
				if err != nil || resp.StatusCode/100 != 2 {
					t.Fatalf("%s the hook at Okta: %v %v", step, err, resp)
				}
				resp.Body.Close()
			}
			for _, l := range looks {
				l.Release()
			}
			m := waitNotification(t, received)
			c, _ := m["connection"].(map[string]any)
			if msg := fmt.Sprint(m["message"]); m["type"] != "events.hook_failing" || c["id"] != conn.ID ||
				!strings.Contains(msg, "Prod devices") || !strings.Contains(msg, tt.reason) || !strings.Contains(msg, "its flows with delivery hook (quarantine-on-user-removal) start no runs meanwhile") {
				t.Errorf("notification %v; want events.hook_failing for Prod devices saying the hook %s", m, tt.reason)
			}
			if tt.recovers {
				m = waitNotification(t, received)
				if m["type"] != "events.hook_recovered" || !strings.Contains(fmt.Sprint(m["message"]), "works again") {
					t.Errorf("notification %v; want events.hook_recovered", m)
				}
				src, err := h.app.Store.GetEventSource(t.Context(), conn.ID)
				if err != nil || src.HookStatus != store.HookActive || src.HookID == hookID {
					t.Errorf("after the recovery: %+v %v; want a new active hook", src, err)
				}
				return
			}
			waitFor(t, "the intake's next round", func() bool {
				src, err := h.app.Store.GetEventSource(t.Context(), conn.ID)
				return err == nil && src.HookStatus == store.HookDeactivated
			})
			// Two more rounds look at the hook (each round's notification
			// is queued with what it records): still the one alert.
			const look = "GET /api/v1/eventHooks/{eventHookId}"
			seen := emu.Stats(t)[look]
			waitFor(t, "two more rounds of the intake", func() bool { return emu.Stats(t)[look] >= seen+2 })
			ns, err := h.app.Store.ListNotifications(t.Context(), 100)
			if err != nil {
				t.Fatal(err)
			}
			var hooks []string
			for _, n := range ns {
				if strings.HasPrefix(n.Type, "events.hook_") {
					hooks = append(hooks, n.Type)
				}
			}
			if len(hooks) != 1 {
				t.Errorf("hook notifications %v; want one events.hook_failing for a hook left deactivated", hooks)
			}
		})
	}
}
