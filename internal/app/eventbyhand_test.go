package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// eventOnlyFlow reads its event in a step, not through inputs: only a run
// an Okta event starts can run it.
const eventOnlyFlow = `name: suspend-on-enrollment
on:
  event: {card: okta-devices/device-enrolled, connection: Prod devices, delivery: poll}
steps:
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod devices
    input: {deviceId: "${{ trigger.event.device.id }}"}
`

// TestEventFlowByHand: an event flow whose steps read its event cannot be
// run or planned by hand (there is no event): both are refused before
// anything is stored or called, naming the step and the way that works,
// while a plan against an event works.
func TestEventFlowByHand(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 5}, nil)
	h.connect("Prod devices")
	device := h.devicesWithStatus("Prod devices", "ACTIVE")[0]
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	if code, body := h.postYAML("/api/v1/flows", eventOnlyFlow, &stored); code/100 != 2 {
		t.Fatalf("store the flow: %d %s", code, body)
	}
	before := h.emu.Stats(t)
	for _, tt := range []struct{ what, path, remedy string }{
		{"run", "/api/v1/flows/" + stored.Flow.ID + "/runs", "cardflow flows rerun RUN_ID"},
		{"plan", "/api/v1/flows/" + stored.Flow.ID + "/plan", "cardflow flows plan suspend-on-enrollment --event UUID"},
	} {
		var e struct {
			Error struct {
				Message string
				Details struct{ Remedy string }
			}
		}
		code, body := h.call("POST", tt.path, map[string]any{}, &e)
		if code != http.StatusConflict || !strings.Contains(e.Error.Message, "reads the Okta event that starts its runs (step suspend, line 8, column 35") ||
			!strings.Contains(e.Error.Message, "${{ trigger.event.device.id }}") || !strings.Contains(e.Error.Details.Remedy, tt.remedy) {
			t.Errorf("%s by hand: %d %s; want 409 naming the step and %q", tt.what, code, body, tt.remedy)
		}
	}
	if runs := h.runsOf(stored.Flow.ID); len(runs) != 0 {
		t.Errorf("%d flow runs stored; want none", len(runs))
	}
	for k, n := range h.emu.Stats(t) {
		if strings.Contains(k, "/api/v1/devices") && n != before[k] {
			t.Errorf("%s called %d times; want no call", k, n-before[k])
		}
	}
	event := `{"uuid":"9c1f6f0e-0000-4000-8000-00000000e002","published":"2026-11-30T08:00:00.000Z","eventType":"device.enrollment.create",` +
		`"displayMessage":"Enroll device","actor":{"id":"00u1","type":"User","alternateId":"emma.schmidt@example.com"},"target":[{"id":"` + device +
		`","type":"UDDevice","displayName":"Laptop"},{"id":"00u1","type":"User","alternateId":"emma.schmidt@example.com"}]}`
	var plan struct {
		Steps []struct {
			Changes []struct{ DeviceID, To string }
		}
	}
	code, body := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/plan", map[string]any{"trigger": map[string]any{"kind": "event", "event": json.RawMessage(event)}}, &plan)
	if code != http.StatusOK || len(plan.Steps) != 1 || len(plan.Steps[0].Changes) != 1 || plan.Steps[0].Changes[0].DeviceID != device {
		t.Errorf("plan against an event: %d %s; want the device suspended", code, body)
	}
}
