package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/timetext"
)

// TestRepeatedFailureNotifiedOnce: a flow that keeps failing the same way
// is notified of its first failure, not of each run, and again once a day
// (-notify-repeat) while it lasts; a failure with another error is
// notified at once; the first run that succeeds sends flow_run.recovered
// naming how many runs failed; and a failure after it starts over.
func TestRepeatedFailureNotifiedOnce(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.Now = emu.Now
		c.NotifyURLs, c.NotifySecret = []string{notificationReceiver(t, make(chan map[string]any, 16))}, "a-long-random-notification-secret"
	})
	h.connect("Prod")
	var put putAnswer
	if code, data := h.postYAML("/api/v1/flows", readOneFlow, &put); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	device := h.devicesWithStatus("Prod", "ACTIVE")[0]
	run := func(deviceID, want string) string {
		t.Helper()
		var r flowRun
		code, data := h.call("POST", "/api/v1/flows/"+put.Flow.ID+"/runs?wait=true", map[string]any{"inputs": map[string]any{"deviceId": deviceID}}, &r)
		if code != http.StatusOK || r.Status != want {
			t.Fatalf("run for %s: %d %s; want %s", deviceID, code, data, want)
		}
		emu.AdvanceClock(t, time.Hour)
		return r.ID
	}
	missing, other := "guo0000000000000none", "../../users/me"
	first := run(missing, "failed")
	run(missing, "failed")
	run(missing, "failed")
	emu.AdvanceClock(t, 22*time.Hour) // the fourth run is 25 h after the first
	reminder := run(missing, "failed")
	run(missing, "failed")
	otherError := run(other, "failed")
	recovered := run(device, "succeeded")
	run(device, "succeeded")
	again := run(missing, "failed")

	firstRun, err := h.app.Store.GetFlowRun(t.Context(), first)
	if err != nil {
		t.Fatal(err)
	}
	since := timetext.Format(firstRun.FinishedAt)
	got := notificationTexts(t, h)
	want := map[string]string{
		"flow_run.failed " + first:        "failed: step device: ",
		"flow_run.failed " + reminder:     "(still failing the same way since " + since + ": at least 4 runs)",
		"flow_run.failed " + otherError:   other,
		"flow_run.recovered " + recovered: "succeeded after 6 failed runs since " + since,
		"flow_run.failed " + again:        missing,
	}
	for id, text := range want {
		if !strings.Contains(got[id], text) {
			t.Errorf("notification %s: %q; want it, saying %q", id, got[id], text)
		}
	}
	if len(got) != len(want) {
		t.Errorf("notifications %v; want only %d: %v", got, len(want), want)
	}
}

// TestRecoveredAfterOneFailedRun: flow_run.recovered after a single failed
// run says "1 failed run", where it said "1 failed runs".
func TestRecoveredAfterOneFailedRun(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.Now = emu.Now
		c.NotifyURLs, c.NotifySecret = []string{notificationReceiver(t, make(chan map[string]any, 16))}, "a-long-random-notification-secret"
	})
	h.connect("Prod")
	var put putAnswer
	if code, data := h.postYAML("/api/v1/flows", readOneFlow, &put); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	var recovered string
	for _, tt := range []struct{ deviceID, want string }{
		{"guo0000000000000none", "failed"},
		{h.devicesWithStatus("Prod", "ACTIVE")[0], "succeeded"},
	} {
		var r flowRun
		code, data := h.call("POST", "/api/v1/flows/"+put.Flow.ID+"/runs?wait=true", map[string]any{"inputs": map[string]any{"deviceId": tt.deviceID}}, &r)
		if code != http.StatusOK || r.Status != tt.want {
			t.Fatalf("run for %s: %d %s; want %s", tt.deviceID, code, data, tt.want)
		}
		emu.AdvanceClock(t, time.Hour)
		recovered = r.ID
	}
	ns, err := h.app.Store.ListNotifications(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		var m struct {
			Message string
			FlowRun struct{ ID string }
		}
		if err := json.Unmarshal(n.Body, &m); err != nil {
			t.Fatalf("notification %s: %v", n.ID, err)
		}
		if n.Type != "flow_run.recovered" || m.FlowRun.ID != recovered {
			continue
		}
		if !strings.Contains(m.Message, "succeeded after 1 failed run since ") {
			t.Errorf("flow_run.recovered after one failed run: %q; want it to say \"after 1 failed run since\"", m.Message)
		}
		return
	}
	t.Errorf("no flow_run.recovered for run %s among %d notifications", recovered, len(ns))
}

// TestFailedRunSaysWhatItChanged: flow_run.failed of a run whose items
// suspended two devices before one failed says that the run changed 2
// devices; one whose steps only read says nothing of changes.
func TestFailedRunSaysWhatItChanged(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 12})
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.NotifyURLs, c.NotifySecret = []string{notificationReceiver(t, make(chan map[string]any, 16))}, "a-long-random-notification-secret"
	})
	h.connect("Prod")
	const suspendSome = `name: suspend-some
inputs:
  ids: {type: list, required: true}
steps:
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod
    for_each: ${{ inputs.ids }}
    input: {deviceId: "${{ item }}"}
`
	for _, doc := range []string{suspendSome, readOneFlow} {
		if code, data := h.postYAML("/api/v1/flows", doc, nil); code != http.StatusCreated {
			t.Fatalf("store: %d %s", code, data)
		}
	}
	active := h.devicesWithStatus("Prod", "ACTIVE")
	if len(active) < 2 {
		t.Fatalf("the org has %d ACTIVE devices; want 2 to suspend", len(active))
	}
	var suspended, read flowRun
	if code, data := h.call("POST", "/api/v1/flows/suspend-some/runs?wait=true", map[string]any{"inputs": map[string]any{"ids": []string{active[0], "guo0000000000000none", active[1]}}}, &suspended); code != http.StatusOK || suspended.Status != "failed" {
		t.Fatalf("run suspend-some: %d %s; want failed", code, data)
	}
	if code, data := h.call("POST", "/api/v1/flows/read-one/runs?wait=true", map[string]any{"inputs": map[string]any{"deviceId": "guo0000000000000none"}}, &read); code != http.StatusOK || read.Status != "failed" {
		t.Fatalf("run read-one: %d %s; want failed", code, data)
	}
	got := notificationTexts(t, h)
	if msg := got["flow_run.failed "+suspended.ID]; !strings.Contains(msg, "; the run changed 2 devices") {
		t.Errorf("flow_run.failed of the suspensions: %q; want it to say the run changed 2 devices", msg)
	}
	if msg := got["flow_run.failed "+read.ID]; msg == "" || strings.Contains(msg, "changed") {
		t.Errorf("flow_run.failed of the read: %q; want it, saying nothing of changes", msg)
	}
}

// notificationTexts are the texts of the stored notifications by type and
// flow run ("flow_run.failed RUN_ID"; a recovered message's id is its
// streak's, so the run names it).
func notificationTexts(t *testing.T, h *harness) map[string]string {
	t.Helper()
	ns, err := h.app.Store.ListNotifications(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range ns {
		var m struct {
			Message string
			FlowRun struct{ ID string }
		}
		if err := json.Unmarshal(n.Body, &m); err != nil {
			t.Fatalf("notification %s: %v", n.ID, err)
		}
		got[n.Type+" "+m.FlowRun.ID] = m.Message
	}
	return got
}
