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
// reason and the remedy. A hook deleted at Okta is registered anew in the
// same round: one events.hook_reregistered says so, where an
// events.hook_failing and an events.hook_recovered came 70 ms apart; one
// whose new hook Okta cannot verify still gets events.hook_failing, naming
// both. A hook deactivated at Okta stays so (until its flows are enabled
// again): no all-clear.
func TestHookFailureIsNotified(t *testing.T) {
	const hookFlows = "its flows with delivery hook (quarantine-on-user-removal) "
	for _, tt := range []struct {
		name      string
		lifecycle []string // what the org's admin does to the hook
		noVerify  bool     // Okta cannot verify a new hook
		want      string   // the one hook notification's type
		says      []string
		status    string // the hook's status after it
	}{
		{"deleted at Okta", []string{"POST lifecycle/deactivate", "DELETE "}, false, "events.hook_reregistered",
			[]string{"was gone from the org", "cardflow registered a new one", hookFlows + "did not get the events published while it was gone"}, store.HookActive},
		{"deleted at Okta, and a new one not verified", []string{"POST lifecycle/deactivate", "DELETE "}, true, "events.hook_failing",
			[]string{"is gone from the org", "and a new one could not be registered: Okta could not verify the event hook", hookFlows + "start no runs meanwhile"}, store.HookError},
		{"deactivated at Okta", []string{"POST lifecycle/deactivate"}, false, "events.hook_failing",
			[]string{"as deactivated", hookFlows + "start no runs meanwhile"}, store.HookDeactivated},
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
			if tt.noVerify {
				emu.Inject(t, emutest.FaultSpec{Method: "POST", Path: "/api/v1/eventHooks/{eventHookId}/lifecycle/verify", Status: http.StatusBadRequest, Count: 1000})
			}
			const verify = "POST /api/v1/eventHooks/{eventHookId}/lifecycle/verify"
			verified := emu.Stats(t)[verify]
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
			msg := fmt.Sprint(m["message"])
			if m["type"] != tt.want || c["id"] != conn.ID || !strings.Contains(msg, "Prod devices") {
				t.Errorf("notification %v; want %s for Prod devices", m, tt.want)
			}
			for _, say := range tt.says {
				if !strings.Contains(msg, say) {
					t.Errorf("%s says:\n%s\nwant it to say %q", tt.want, msg, say)
				}
			}
			src, err := h.app.Store.GetEventSource(t.Context(), conn.ID)
			if err != nil || src.HookStatus != tt.status || tt.status == store.HookActive && src.HookID == hookID {
				t.Errorf("after it: %+v %v; want %s (a new hook when active)", src, err, tt.status)
			}
			if tt.noVerify {
				// One attempt at a new hook in the round, backing off as
				// the round's own: not a second one right after the check's.
				waitFor(t, "the attempt's backoff stored", func() bool {
					src, err := h.app.Store.GetEventSource(t.Context(), conn.ID)
					return err == nil && src.HookRetryKey != ""
				})
				if n := emu.Stats(t)[verify] - verified; n != 1 {
					t.Errorf("Okta was asked to verify a new hook %d times; want once", n)
				}
			}
			// More rounds (each round's notification is queued with what it
			// records): still the one notice.
			const look = "GET /api/v1/eventHooks/{eventHookId}"
			if tt.status != store.HookError {
				seen := emu.Stats(t)[look]
				waitFor(t, "two more rounds of the intake", func() bool { return emu.Stats(t)[look] >= seen+2 })
			}
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
				t.Errorf("hook notifications %v; want the one %s", hooks, tt.want)
			}
		})
	}
}
