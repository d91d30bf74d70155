package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// behindFlow reads the device of an event of CARD, delivered by polls.
const behindFlow = `name: NAME
inputs:
  deviceId: {type: string, required: true}
on:
  event:
    card: okta-devices/CARD
    connection: Prod devices
    delivery: poll
  inputs:
    deviceId: ${{ trigger.event.device.id }}
steps:
  - id: device
    card: okta-devices/read-device
    connection: Prod devices
    input: {deviceId: "${{ inputs.deviceId }}"}
`

// TestEventBehindAnEarlierEvent: a device's user is removed, then another
// added. The removal's flow was just enabled and the org cannot be asked
// its time (which tells the events before the enabling from those after),
// so the removal waits in the inbox for it, and the addition, whose flow
// is ready, waits behind it (behind_earlier_event, naming the removal and
// its flow) instead of overtaking it. Once the org answers, both run, the
// removal's first.
func TestEventBehindAnEarlierEvent(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 2}, func(c *Config) { c.EventPollInterval = 200 * time.Millisecond })
	h.connect("Prod devices")
	emuCall := func(method, path, body string, want int) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, h.emu.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := h.emu.Client.Do(req)
		if err != nil || resp.StatusCode != want {
			t.Fatalf("%s %s: %v %v; want %d", method, path, err, resp, want)
		}
		defer resp.Body.Close()
		var b json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&b)
		return b
	}
	var dev struct{ ID string }
	if err := json.Unmarshal(emuCall("POST", "/_emulator/devices", `{"user":"jonas.berg@example.com"}`, http.StatusCreated), &dev); err != nil {
		t.Fatal(err)
	}
	h.emu.AdvanceClock(t, time.Second)
	clocked := func(id string) bool {
		_, err := h.app.Store.GetSetting(t.Context(), "events/enabled-at-org/"+id+"/"+flowTrigger(t, h, id))
		return err == nil
	}

	added := storeEnabledDoc(t, h, strings.NewReplacer("NAME", "on-user-added", "CARD", "device-added-to-user").Replace(behindFlow))
	waitFor(t, "the org's time of on-user-added's enabling", func() bool { return clocked(added) })
	// The org's answers to GET /api/v1/eventHooks, by whose Date cardflow
	// asks the org its time, have none from now on: the next flow's
	// enabling stays untold in the org's clock.
	h.emu.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/api/v1/eventHooks", Status: http.StatusBadRequest, Count: 1_000_000, Headers: map[string]string{"Date": ""}})
	removed := storeEnabledDoc(t, h, strings.NewReplacer("NAME", "on-user-removed", "CARD", "device-removed-from-user").Replace(behindFlow))
	// No jump of the org's clock from here on: the offset the org tells
	// once it answers again is the one it had at the enabling.
	emuCall("DELETE", "/_emulator/devices/"+dev.ID+"/users/jonas.berg@example.com", "", http.StatusNoContent)

	waiting := func() map[string]api.Event {
		var out api.EventList
		if code, body := h.call("GET", "/api/v1/events?waiting=true", nil, &out); code != http.StatusOK {
			t.Fatalf("GET /api/v1/events?waiting=true: %d %s", code, body)
		}
		m := map[string]api.Event{}
		for _, e := range out.Events {
			m[e.EventType] = e
		}
		return m
	}
	var held map[string]api.Event
	waitFor(t, "the removal in the inbox", func() bool {
		held = waiting()
		return held["device.user.remove"].UUID != ""
	})
	// The addition is published after the removal, to the millisecond
	// Okta's published times have.
	waitFor(t, "the org's clock past the removal", func() bool {
		return h.emu.Now().Truncate(time.Millisecond).After(held["device.user.remove"].Published)
	})
	emuCall("POST", "/_emulator/devices/"+dev.ID+"/users", `{"user":"ines.garcia@example.com"}`, http.StatusNoContent)
	waitFor(t, "the addition in the inbox", func() bool {
		held = waiting()
		return held["device.user.remove"].UUID != "" && held["device.user.add"].UUID != ""
	})
	if e := held["device.user.remove"]; e.WaitingCode != "org_clock_unknown" || !strings.Contains(e.WaitingReason, "flow on-user-removed was enabled") {
		t.Errorf("the removal waits with %q: %s; want org_clock_unknown, naming on-user-removed", e.WaitingCode, e.WaitingReason)
	}
	if e := held["device.user.add"]; e.WaitingCode != "behind_earlier_event" ||
		!strings.Contains(e.WaitingReason, "an earlier device.user.remove event waits for the org's time of the enabling of flow on-user-removed, and the later events wait behind it, in order") {
		t.Errorf("the addition waits with %q: %s; want behind_earlier_event, behind the removal", e.WaitingCode, e.WaitingReason)
	}
	if runs := h.runsOf(added); len(runs) != 0 {
		t.Fatalf("the addition overtook the removal waiting before it: %+v", runs)
	}

	// The org answers again: the removal's flow is told, and both run, in
	// the order of their events.
	h.emu.ClearFaults(t)
	var removal, addition []triggeredRun
	// A run is stored before its event is marked dispatched: both done.
	waitFor(t, "a run of each event, and no event waiting", func() bool {
		removal, addition = h.runsOf(removed), h.runsOf(added)
		return len(removal) == 1 && len(addition) == 1 && len(waiting()) == 0
	})
	var first, second api.FlowRun
	h.call("GET", "/api/v1/flow-runs/"+removal[0].ID, nil, &first)
	h.call("GET", "/api/v1/flow-runs/"+addition[0].ID, nil, &second)
	if first.CreatedAt.IsZero() || !first.CreatedAt.Before(second.CreatedAt) {
		t.Errorf("the removal's run was queued at %v, the addition's at %v; want the removal's first", first.CreatedAt, second.CreatedAt)
	}
	if first.Trigger == nil || second.Trigger == nil || first.Trigger.EventUUID != held["device.user.remove"].UUID || second.Trigger.EventUUID != held["device.user.add"].UUID {
		t.Errorf("runs %+v and %+v; want the removal's and the addition's", first.Trigger, second.Trigger)
	}
}
