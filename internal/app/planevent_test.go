package app

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/events"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// planEventFlow suspends the device an enrollment of Emma's makes; the
// event gives the device through on.inputs.
const planEventFlow = `name: on-enrollment
inputs:
  deviceId: {type: string, required: true}
on:
  event:
    card: okta-devices/device-enrolled
    connection: Prod devices
    if: ${{ trigger.event.user.login == "emma.schmidt@example.com" }}
  inputs:
    deviceId: ${{ trigger.event.device.id }}
steps:
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod devices
    input:
      deviceId: ${{ inputs.deviceId }}
`

// TestPlanEventRun: the plan of the run a stored event would start of an
// event flow (stored, not enabled) computes its inputs from the event with
// on.inputs and predicts the change, and changes nothing; an event the
// flow's if refuses, an event of another type, an unknown event and a
// flow without on.event are refused with what to do.
func TestPlanEventRun(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 5}, nil)
	c := h.connect("Prod devices")
	ctx := t.Context()
	rec := &events.Reconciler{Store: h.app.Store, Orgs: eventOrgs{m: h.app.Connections}, Keyring: h.app.Keyring, PublicURL: h.url}
	if src, err := rec.Reconcile(ctx, c.ID, []string{"device.enrollment.create", "device.user.add"}); err != nil || src.HookStatus != events.HookActive {
		t.Fatalf("reconcile: %v %+v", err, src)
	}
	for _, login := range []string{"emma.schmidt@example.com", "kim.larsen@example.com"} {
		resp, err := h.emu.Client.Post(h.emu.URL+"/_emulator/devices", "application/json", stringsReader(`{"user":"`+login+`"}`))
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("enroll a device of %s: %v %v", login, err, resp)
		}
		resp.Body.Close()
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := h.emu.Org.WaitDeliveries(wctx); err != nil {
		t.Fatal(err)
	}
	stored, err := h.app.Store.ListEvents(ctx, store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var emma, kim, added string
	for _, e := range stored {
		switch {
		case e.EventType == "device.user.add":
			added = e.UUID
		case strings.Contains(string(e.Raw), "emma.schmidt@example.com"):
			emma = e.UUID
		default:
			kim = e.UUID
		}
	}
	if emma == "" || kim == "" || added == "" {
		t.Fatalf("events: emma %q, kim %q, device.user.add %q; want all three", emma, kim, added)
	}
	if code, body := h.postYAML("/api/v1/flows", planEventFlow, nil); code/100 != 2 {
		t.Fatalf("store the flow: %d %s", code, body)
	}
	before := h.emu.Stats(t)

	var plan struct {
		Trigger struct {
			Kind      string `json:"kind"`
			EventUUID string `json:"eventUuid"`
		} `json:"trigger"`
		Inputs map[string]any `json:"inputs"`
		Steps  []struct {
			Changes []struct {
				DeviceID string `json:"deviceId"`
				From, To string
			} `json:"changes"`
		} `json:"steps"`
	}
	code, body := h.call("POST", "/api/v1/flows/on-enrollment/plan", map[string]any{"trigger": map[string]any{"kind": "event", "eventUuid": emma}}, &plan)
	device, _ := plan.Inputs["deviceId"].(string)
	if code != http.StatusOK || plan.Trigger.Kind != "event" || plan.Trigger.EventUUID != emma || device == "" ||
		len(plan.Steps) != 1 || len(plan.Steps[0].Changes) != 1 || plan.Steps[0].Changes[0].DeviceID != device || plan.Steps[0].Changes[0].To != "SUSPENDED" {
		t.Fatalf("plan of Emma's enrollment: %d %s; want the event's device to be suspended", code, body)
	}
	for k, n := range h.emu.Stats(t) {
		if strings.HasPrefix(k, "POST /api/v1/devices") && n != before[k] {
			t.Errorf("the plan changed the org: %s went from %d to %d", k, before[k], n)
		}
	}

	for _, tc := range []struct {
		name, flow, uuid string
		code             int
		want             string
	}{
		{"the if refuses it", "on-enrollment", kim, http.StatusBadRequest, "would not run for event"},
		{"another event type", "on-enrollment", added, http.StatusBadRequest, "is a device.user.add"},
		{"an unknown event", "on-enrollment", "no-such-event", http.StatusNotFound, "no stored event"},
	} {
		code, body := h.call("POST", "/api/v1/flows/"+tc.flow+"/plan", map[string]any{"trigger": map[string]any{"kind": "event", "eventUuid": tc.uuid}}, nil)
		if code != tc.code || !strings.Contains(string(body), tc.want) || !strings.Contains(string(body), `"remedy"`) {
			t.Errorf("%s: %d %s; want %d saying %q, with a remedy", tc.name, code, body, tc.code, tc.want)
		}
	}
	doc := strings.Replace(planEventFlow, "name: on-enrollment", "name: manual", 1)
	doc = doc[:strings.Index(doc, "on:")] + doc[strings.Index(doc, "steps:"):]
	code, body = h.call("POST", "/api/v1/flows/plan", map[string]any{"source": doc, "trigger": map[string]any{"kind": "event", "eventUuid": emma}}, nil)
	if code != http.StatusBadRequest || !strings.Contains(string(body), "has no on.event") {
		t.Errorf("plan an event's run of a flow without on.event: %d %s; want it refused", code, body)
	}
}
