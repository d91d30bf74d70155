package app

import (
	"context"
	"encoding/json"
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
	if src, err := rec.Reconcile(ctx, c.ID, []string{"device.enrollment.create", "device.user.add"}); err != nil || src.HookStatus != store.HookActive {
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
			Kind      string                           `json:"kind"`
			EventUUID string                           `json:"eventUuid"`
			EventType string                           `json:"eventType"`
			Device    struct{ ID, DisplayName string } `json:"device"`
			User      struct{ ID, Login string }       `json:"user"`
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
	// The trigger names the event as a run's does: its type, device and user.
	if tr := plan.Trigger; tr.EventType != "device.enrollment.create" || tr.Device.ID != device || tr.Device.DisplayName == "" ||
		tr.User.ID == "" || tr.User.Login != "emma.schmidt@example.com" {
		t.Errorf("plan of Emma's enrollment: trigger %+v; want its type, the device %s and Emma", tr, device)
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

// TestPlanGivenEvent: with no event stored (no flow of the connection
// enabled yet), the plan of the run an Okta event would start takes the
// event itself, as the System Log API answers it (one event or a list of
// one) or a hook delivers it; what is not one event of the flow's type is
// refused with what to give; an event cardflow cannot use is named, by
// its place in a list, with what is wrong.
func TestPlanGivenEvent(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 5}, nil)
	h.connect("Prod devices")
	device := h.devicesWithStatus("Prod devices", "ACTIVE")[0]
	if code, body := h.postYAML("/api/v1/flows", planEventFlow, nil); code/100 != 2 {
		t.Fatalf("store the flow: %d %s", code, body)
	}
	event := func(eventType, login string) string {
		return `{"uuid":"9c1f6f0e-0000-4000-8000-00000000e001","published":"2026-11-30T08:00:00.000Z","eventType":"` + eventType +
			`","displayMessage":"Enroll device","actor":{"id":"00u1","type":"User","alternateId":"` + login + `"},"target":[{"id":"` + device +
			`","type":"UDDevice","displayName":"Laptop"},{"id":"00u1","type":"User","alternateId":"` + login + `"}]}`
	}
	emma := event("device.enrollment.create", "emma.schmidt@example.com")
	before := h.emu.Stats(t)
	for name, given := range map[string]string{
		"a LogEvent":        emma,
		"a System Log page": "[" + emma + "]",
		"a hook delivery":   `{"eventType":"com.okta.event_hook","data":{"events":[` + emma + `]}}`,
	} {
		var plan struct {
			Trigger struct {
				EventUUID string    `json:"eventUuid"`
				Time      time.Time `json:"time"`
			} `json:"trigger"`
			Inputs map[string]any `json:"inputs"`
			Steps  []struct {
				Changes []struct {
					DeviceID string `json:"deviceId"`
					To       string `json:"to"`
				} `json:"changes"`
			} `json:"steps"`
		}
		code, body := h.call("POST", "/api/v1/flows/on-enrollment/plan", map[string]any{"trigger": map[string]any{"kind": "event", "event": json.RawMessage(given)}}, &plan)
		if code != http.StatusOK || plan.Trigger.EventUUID != "9c1f6f0e-0000-4000-8000-00000000e001" || plan.Inputs["deviceId"] != device ||
			len(plan.Steps) != 1 || len(plan.Steps[0].Changes) != 1 || plan.Steps[0].Changes[0].To != "SUSPENDED" {
			t.Errorf("plan of %s: %d %s; want the device suspended", name, code, body)
		}
	}
	for k, n := range h.emu.Stats(t) {
		if strings.HasPrefix(k, "POST /api/v1/devices") && n != before[k] {
			t.Errorf("the plan changed the org: %s went from %d to %d", k, before[k], n)
		}
	}
	for _, tc := range []struct{ name, given, want string }{
		{"the if refuses it", event("device.enrollment.create", "kim.larsen@example.com"), "would not run for event"},
		{"another event type", event("device.user.add", "emma.schmidt@example.com"), "is a device.user.add"},
		{"two events", "[" + emma + "," + emma + "]", "holds 2 events"},
		{"no eventType", `{"uuid":"x"}`, "has no eventType"},
		{"no device", `{"eventType":"device.enrollment.create","target":[{"id":"00u1","type":"User"}]}`, "has no device among its targets"},
		{"not an event", `"device.enrollment.create"`, "is not an Okta LogEvent"},
		{"a malformed event", strings.Replace(emma, `"2026-11-30T08:00:00.000Z"`, "12", 1),
			"the given event (uuid 9c1f6f0e-0000-4000-8000-00000000e001, device.enrollment.create) cannot be used: it is not an Okta LogEvent: its published is a JSON number"},
		{"a hook delivery of a malformed event", `{"eventType":"com.okta.event_hook","data":{"events":[` + strings.Replace(emma, `"target":[`, `"target":{"x":[`, 1) + `}]}}`,
			"the given event (uuid 9c1f6f0e-0000-4000-8000-00000000e001, device.enrollment.create) cannot be used: it is not an Okta LogEvent: its target is a JSON object"},
		{"a page with a malformed event", "[" + emma + `,{"uuid":"u-2","eventType":"device.user.add","actor":"x"}]`,
			"holds 2 events; a plan is of one event's run, and cardflow cannot use 1 of them (its intake leaves such an event out): event 2 (uuid u-2, device.user.add): it is not an Okta LogEvent: its actor is a JSON string"},
	} {
		code, body := h.call("POST", "/api/v1/flows/on-enrollment/plan", map[string]any{"trigger": map[string]any{"kind": "event", "event": json.RawMessage(tc.given)}}, nil)
		if code != http.StatusBadRequest || !strings.Contains(string(body), tc.want) || !strings.Contains(string(body), `"remedy"`) {
			t.Errorf("%s: %d %s; want 400 saying %q, with a remedy", tc.name, code, body, tc.want)
		}
	}
}
