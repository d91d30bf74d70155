package flow

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// removeDoc deactivates the ACTIVE devices, deletes the same devices with
// the status the search saw (ACTIVE) and reads them afterwards.
const removeDoc = `name: remove
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo org
    input: {status: ACTIVE}
  - id: deactivate
    card: okta-devices/deactivate-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    input: {deviceId: "${{ item.id }}", status: "${{ item.status }}"}
  - id: delete
    card: okta-devices/delete-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    input: {deviceId: "${{ item.id }}", status: "${{ item.status }}"}
  - id: check
    card: okta-devices/read-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    input: {deviceId: "${{ item.id }}"}
`

// TestPlanActsOnDevicesAsItsStepsLeftThem: a plan's delete of a device
// its deactivate step deactivates is planned from DEACTIVATED (the status
// the search gave, ACTIVE, would refuse it), and a read of a device it
// deletes fails as the run's would, where it read the device as it still
// was.
func TestPlanActsOnDevicesAsItsStepsLeftThem(t *testing.T) {
	doc := validated(t, removeDoc)
	cards := newDeviceCards(4) // ACTIVE ACTIVE SUSPENDED DEACTIVATED
	res, err := (&Runner{Cards: cards}).Plan(context.Background(), doc, nil)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	want := []PlanStep{
		{ID: "find", Card: "okta-devices/search-devices", Mode: ModeRead, Items: 1, Changes: []Change{}},
		{ID: "deactivate", Card: "okta-devices/deactivate-device", Mode: ModeManage, Items: 2, Changes: []Change{
			{DeviceID: "guo0000", DeviceName: "device 0", From: "ACTIVE", To: "DEACTIVATED"},
			{DeviceID: "guo0001", DeviceName: "device 1", From: "ACTIVE", To: "DEACTIVATED"},
		}},
		{ID: "delete", Card: "okta-devices/delete-device", Mode: ModeManage, Items: 2, Changes: []Change{
			{DeviceID: "guo0000", DeviceName: "device 0", From: "DEACTIVATED", To: "DELETED"},
			{DeviceID: "guo0001", DeviceName: "device 1", From: "DEACTIVATED", To: "DELETED"},
		}},
		{ID: "check", Card: "okta-devices/read-device", Mode: ModeRead, Items: 2, Changes: []Change{}, Errors: []PlanError{
			{Index: 0, Message: "device guo0000 was deleted by step delete of this run; leave the devices that step deletes out of step check's for_each", DeviceID: "guo0000", DeviceName: "device 0"},
			{Index: 1, Message: "device guo0001 was deleted by step delete of this run; leave the devices that step deletes out of step check's for_each", DeviceID: "guo0001", DeviceName: "device 1"},
		}},
	}
	if diff := cmp.Diff(want, res.Steps); diff != "" {
		t.Errorf("plan mismatch (-want +got):\n%s", diff)
	}
}

// TestRunActsOnDevicesAsItsStepsLeftThem: the run's delete step gives
// its card the status the deactivate step left each device in, recorded
// as the item's input, and a read of a device the run deleted fails
// saying which step deleted it.
func TestRunActsOnDevicesAsItsStepsLeftThem(t *testing.T) {
	doc := validated(t, removeDoc)
	cards := newDeviceCards(4)
	state := newMemState()
	res, err := (&Runner{Cards: cards, State: state}).Run(context.Background(), "r", doc, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := res.Steps[2]; got.Succeeded != 2 || got.Failed != 0 {
		t.Errorf("delete: %+v; want both devices deleted", got)
	}
	for i := range 2 {
		it, _ := state.item("r", "delete", i)
		var in map[string]any
		if err := json.Unmarshal(it.Input, &in); err != nil || in["status"] != "DEACTIVATED" {
			t.Errorf("delete item %d: input %s; want the status the deactivate step left, DEACTIVATED", i, it.Input)
		}
		it, _ = state.item("r", "check", i)
		if it.Status != StatusFailed || !strings.Contains(it.Error, "was deleted by step delete of this run") {
			t.Errorf("check item %d: %s %q; want it failed, the device deleted by step delete", i, it.Status, it.Error)
		}
	}
}

// TestRunReadAfterChange: a read of a device after the step that changed
// it tells the run its status from then on (here, someone unsuspended it
// in between), where the status the run's own change left it in would
// have had the next step refuse it.
func TestRunReadAfterChange(t *testing.T) {
	doc := validated(t, `name: suspend-read-suspend
steps:
  - id: suspend
    card: okta-devices/suspend-device
    connection: Demo org
    input: {deviceId: guo0000}
  - id: read
    card: okta-devices/read-device
    connection: Demo org
    input: {deviceId: guo0000}
  - id: again
    card: okta-devices/suspend-device
    connection: Demo org
    input: {deviceId: guo0000}
`)
	cards := newDeviceCards(1)
	state := newMemState()
	r := &Runner{Cards: cards, State: state}
	r.Progress = func(p Progress) {
		if p.StepID == "read" && p.Done == 0 {
			cards.mu.Lock()
			cards.find("guo0000")["status"] = "ACTIVE" // unsuspended at the org
			cards.mu.Unlock()
		}
	}
	res, err := r.Run(context.Background(), "r", doc, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	it, _ := state.item("r", "again", 0)
	if res.Status != StatusSucceeded || !strings.Contains(string(it.Input), `"status":"ACTIVE"`) {
		t.Errorf("run %s; item of again: input %s; want it given the status read after the change, ACTIVE", res.Status, it.Input)
	}
}

// TestResumeActsOnDevicesAsItsStepsLeftThem: a run resumed after its
// deactivate step's items were saved still gives the delete step's card
// the status they left each device in (the saved items are loaded
// without their input; their output names the device).
func TestResumeActsOnDevicesAsItsStepsLeftThem(t *testing.T) {
	doc := validated(t, removeDoc)
	cards := newDeviceCards(4)
	state := newMemState()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cards.afterCalls, cards.cancel = 3, cancel // the search and both deactivations, then the "crash"
	r := &Runner{Cards: cards, State: state}
	if _, err := r.Run(ctx, "r", doc, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Run error = %v; want context.Canceled", err)
	}
	cards.mu.Lock()
	cards.afterCalls = 0
	cards.mu.Unlock()
	res, err := r.Run(context.Background(), "r", doc, nil)
	if err != nil {
		t.Fatalf("resumed Run: %v", err)
	}
	if got := res.Steps[2]; got.Succeeded != 2 || got.Failed != 0 {
		t.Errorf("delete after the resume: %+v; want both devices deleted", got)
	}
	for _, id := range []string{"guo0000", "guo0001"} {
		if got := cards.calls("okta-devices/deactivate-device", id); got != 1 {
			t.Errorf("deactivate calls for %s = %d; want 1", id, got)
		}
	}
}

// TestPlanReadsAfterChange: a plan's read of a device a step before it
// changes gives the status the plan predicts, and a search after a delete
// leaves the deleted device out, as the run's would: the steps that
// decide from them are planned as they run, where the plan read the
// devices as Okta still had them.
func TestPlanReadsAfterChange(t *testing.T) {
	doc := validated(t, `name: suspend-then-check
steps:
  - id: suspend
    card: okta-devices/suspend-device
    connection: Demo org
    input: {deviceId: guo0000}
  - id: read
    card: okta-devices/read-device
    connection: Demo org
    input: {deviceId: guo0000}
  - id: back
    card: okta-devices/unsuspend-device
    connection: Demo org
    if: ${{ steps.read.output.device.status == "SUSPENDED" }}
    input: {deviceId: guo0000}
  - id: remove
    card: okta-devices/delete-device
    connection: Demo org
    input: {deviceId: guo0003}
  - id: find
    card: okta-devices/search-devices
    connection: Demo org
  - id: each
    card: okta-devices/read-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    input: {deviceId: "${{ item.id }}"}
`)
	cards := newDeviceCards(4) // ACTIVE ACTIVE SUSPENDED DEACTIVATED
	res, err := (&Runner{Cards: cards}).Plan(context.Background(), doc, nil)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	got := map[string]PlanStep{}
	for _, s := range res.Steps {
		got[s.ID] = s
	}
	if back := got["back"]; back.Items != 1 || len(back.Changes) != 1 || back.Changes[0].From != "SUSPENDED" || back.Changes[0].To != "ACTIVE" {
		t.Errorf("plan of back: %+v; want it to unsuspend the device the read shows SUSPENDED", back)
	}
	if each := got["each"]; each.Items != 3 || len(each.Errors) != 0 {
		t.Errorf("plan of each: %+v; want the 3 devices the delete leaves, none failing", each)
	}

	// The run then does what the plan said.
	run, err := (&Runner{Cards: cards, State: newMemState()}).Run(context.Background(), "r", doc, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if back, each := run.Steps[2], run.Steps[5]; back.Succeeded != 1 || each.Items != 3 || each.Succeeded != 3 {
		t.Errorf("run: back %+v, each %+v; want what the plan said", back, each)
	}
}
