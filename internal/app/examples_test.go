package app

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestStaleCleanupExampleFindsDemoDevices: the date the stale-device
// example suggests (90 days back) finds devices to deactivate and to delete
// in the demo org, as the example's comment says.
func TestStaleCleanupExampleFindsDemoDevices(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{}, nil) // the demo org's default devices
	h.connect("Demo org")
	src, err := os.ReadFile("../../examples/stale-device-cleanup.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	if code, data := h.postYAML("/api/v1/flows", string(src), &stored); code != 201 {
		t.Fatalf("store: %d %s", code, data)
	}
	// date -u -d '-90 days' +%Y-%m-%dT00:00:00.000Z, on the org's clock.
	since := h.emu.Now().UTC().AddDate(0, 0, -90).Format("2006-01-02") + "T00:00:00.000Z"
	var plan struct {
		Steps []struct {
			ID      string `json:"id"`
			Changes []struct {
				To string `json:"to"`
			} `json:"changes"`
		} `json:"steps"`
	}
	before := h.emu.Stats(t)
	for _, tt := range []struct {
		since    string
		wantSome bool
	}{
		{since, true},
		{"2025-01-01T00:00:00.000Z", false}, // before every demo device's lastUpdated
	} {
		if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/plan", map[string]any{"inputs": map[string]any{"since": tt.since}}, &plan); code != 200 {
			t.Fatalf("plan: %d %s", code, data)
		}
		changes := map[string]int{}
		for _, st := range plan.Steps {
			changes[st.ID] = len(st.Changes)
		}
		some := changes["deactivate"] > 0 && changes["delete"] > 0
		none := changes["deactivate"] == 0 && changes["delete"] == 0
		if (tt.wantSome && !some) || (!tt.wantSome && !none) {
			t.Errorf("plan with since=%s: changes per step %v; want changes %v", tt.since, changes, tt.wantSome)
		}
	}
	// A value that would close the search's string and widen it to every
	// ACTIVE device stays one string (strings.quote): no device found, or
	// the search refused, but never a change.
	hostile := "2025-01-01T00:00:00.000Z\" or status eq \"ACTIVE"
	plan.Steps = nil
	code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/plan", map[string]any{"inputs": map[string]any{"since": hostile}}, &plan)
	for _, st := range plan.Steps {
		if code == 200 && len(st.Changes) > 0 {
			t.Errorf("plan with since=%s: step %s changes %d devices; want none: the input widened the search\n%s", hostile, st.ID, len(st.Changes), data)
		}
	}
	if code != 200 && code != 400 && code != 422 {
		t.Errorf("plan with since=%s: %d %s; want the plan of no change, or the search refused", hostile, code, data)
	}
	// The example passes the search's statuses: the plans read no device.
	calls := diffStats(h.emu.Stats(t), before)
	if n := calls["GET /api/v1/devices/{deviceId}"]; n != 0 {
		t.Errorf("the plans read %d devices; want none (%v)", n, calls)
	}

	// And the run makes one call per change: a POST per deactivated
	// device, a DELETE per deleted one, no read.
	before = h.emu.Stats(t)
	var run flowRun
	if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs?wait=true", map[string]any{"inputs": map[string]any{"since": since}}, &run); code != 200 || run.Status != "succeeded" {
		t.Fatalf("run: %d %s", code, data)
	}
	calls = diffStats(h.emu.Stats(t), before)
	items := map[string]int{}
	for _, st := range run.Steps {
		items[st.ID] = st.Succeeded
	}
	want := map[string]int{
		"GET /api/v1/devices/{deviceId}":                       0,
		"POST /api/v1/devices/{deviceId}/lifecycle/deactivate": items["deactivate"],
		"DELETE /api/v1/devices/{deviceId}":                    items["delete"],
	}
	for route, n := range want {
		if calls[route] != n {
			t.Errorf("%s: %d calls; want %d (%v)", route, calls[route], n, calls)
		}
	}
	if items["deactivate"] == 0 || items["delete"] == 0 {
		t.Errorf("the run changed %v devices; want some deactivated and some deleted", items)
	}
}

// TestUserRemovalExample: the event example, stored and enabled as its
// comment says, suspends a device whose only user is removed (the
// emulated org's event hook starting the run) and leaves alone a device
// that keeps a user: one run per event, both succeeded.
func TestUserRemovalExample(t *testing.T) {
	t.Parallel()
	// The System Log polls bring what the hook did not (a hook not
	// registered yet): soon, on a loaded machine too.
	h := startHarness(t, oktaemu.Config{Devices: 5}, func(c *Config) { c.EventPollInterval = 200 * time.Millisecond })
	h.connect("Demo org")
	src, err := os.ReadFile("../../examples/suspend-devices-left-without-users.yaml")
	if err != nil {
		t.Fatal(err)
	}
	id := storeEnabledDoc(t, h, string(src))
	waitFor(t, "the intake to see the flow enabled", func() bool {
		_, err := h.app.Store.GetSetting(t.Context(), "events/enabled-at/"+id+"/"+flowTrigger(t, h, id))
		return err == nil
	})
	h.emu.AdvanceClock(t, time.Second)
	control := func(method, path, body string, want int) string {
		t.Helper()
		req, err := http.NewRequest(method, h.emu.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := h.emu.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d struct{ ID string }
		_ = json.NewDecoder(resp.Body).Decode(&d)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d; want %d", method, path, resp.StatusCode, want)
		}
		return d.ID
	}
	lone := control("POST", "/_emulator/devices", `{"user":"user@example.com"}`, http.StatusCreated)
	shared := control("POST", "/_emulator/devices", `{"user":"user@example.com"}`, http.StatusCreated)
	control("POST", "/_emulator/devices/"+shared+"/users", `{"user":"readonly@example.com"}`, http.StatusNoContent)
	control("DELETE", "/_emulator/devices/"+lone+"/users/user@example.com", "", http.StatusNoContent)
	control("DELETE", "/_emulator/devices/"+shared+"/users/user@example.com", "", http.StatusNoContent)

	var runs struct {
		Runs []struct{ Status string } `json:"runs"`
	}
	waitFor(t, "two ended runs", func() bool {
		h.call("GET", "/api/v1/flows/"+id+"/runs", nil, &runs)
		ended := 0
		for _, r := range runs.Runs {
			if r.Status != "queued" && r.Status != "running" {
				ended++
			}
		}
		return ended >= 2
	})
	for _, r := range runs.Runs {
		if r.Status != "succeeded" {
			t.Errorf("runs %+v; want two succeeded, one per removal", runs.Runs)
			break
		}
	}
	for dev, want := range map[string]string{lone: "SUSPENDED", shared: "ACTIVE"} {
		var got struct{ Status string }
		req, _ := http.NewRequest("GET", h.emu.URL+"/api/v1/devices/"+dev, nil)
		req.Header.Set("Authorization", "SSWS "+oktaemu.DemoAPIToken)
		resp, err := h.emu.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if got.Status != want {
			t.Errorf("device %s is %s; want %s", dev, got.Status, want)
		}
	}
}
