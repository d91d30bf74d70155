package flow

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/problem"
)

func TestPlan(t *testing.T) {
	doc := validated(t, `name: plan-me
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo org
  - id: suspend
    card: okta-devices/suspend-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    concurrency: 2
    if: ${{ item.status != "DEACTIVATED" }}
    input: {deviceId: "${{ item.id }}"}
  - id: check
    card: okta-devices/read-device
    connection: Demo org
    for_each: ${{ steps.suspend.outputs }}
    if: ${{ item.changed && item.status == "SUSPENDED" }}
    input: {deviceId: "${{ steps.find.output.devices[index].id }}"}
  - id: remove
    card: okta-devices/delete-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices.filter(d, d.status == "DEACTIVATED") }}
    input: {deviceId: "${{ item.id }}"}
`)
	cards := newDeviceCards(6) // ACTIVE ACTIVE SUSPENDED DEACTIVATED ACTIVE ACTIVE
	res, err := (&Runner{Cards: cards}).Plan(context.Background(), doc, nil)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	// Each change names its device as the search output did.
	want := &PlanResult{Flow: "plan-me", Steps: []PlanStep{
		{ID: "find", Card: "okta-devices/search-devices", Mode: "read", Items: 1, Changes: []Change{}},
		{ID: "suspend", Card: "okta-devices/suspend-device", Mode: "manage", Items: 5, Changes: []Change{
			{DeviceID: "guo0000", DeviceName: "device 0", From: "ACTIVE", To: "SUSPENDED"}, {DeviceID: "guo0001", DeviceName: "device 1", From: "ACTIVE", To: "SUSPENDED"},
			{DeviceID: "guo0004", DeviceName: "device 4", From: "ACTIVE", To: "SUSPENDED"}, {DeviceID: "guo0005", DeviceName: "device 5", From: "ACTIVE", To: "SUSPENDED"}}},
		{ID: "check", Card: "okta-devices/read-device", Mode: "read", Items: 4, Changes: []Change{}},
		{ID: "remove", Card: "okta-devices/delete-device", Mode: "manage", Items: 1, Changes: []Change{
			{DeviceID: "guo0003", DeviceName: "device 3", From: "DEACTIVATED", To: "DELETED"}}},
	}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if cards.entered != 0 {
		t.Errorf("Plan called RunCard %d times; want 0", cards.entered)
	}
	for i, want := range []string{"ACTIVE", "ACTIVE", "SUSPENDED", "DEACTIVATED", "ACTIVE", "ACTIVE"} {
		if got := cards.devices[i]["status"]; got != want {
			t.Errorf("device %d status after plan = %v; want %v (unchanged)", i, got, want)
		}
	}
	if cards.search != 1 {
		t.Errorf("read card ran %d times; want 1 (plans run read cards)", cards.search)
	}
}

func TestPlanReportsItemErrors(t *testing.T) {
	doc := validated(t, `name: plan-errors
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo org
  - id: remove
    card: okta-devices/delete-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    input: {deviceId: "${{ item.id }}"}
  - id: one
    card: okta-devices/read-device
    connection: Demo org
    input: {deviceId: nope}
  - id: after-one
    card: okta-devices/read-device
    connection: Demo org
    input: {deviceId: "${{ steps.one.output.device.id }}"}
`)
	res, err := (&Runner{Cards: newDeviceCards(4)}).Plan(context.Background(), doc, nil)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	want := []PlanStep{
		{ID: "find", Card: "okta-devices/search-devices", Mode: ModeRead, Items: 1, Changes: []Change{}},
		{ID: "remove", Card: "okta-devices/delete-device", Mode: ModeManage, Items: 4,
			Changes: []Change{{DeviceID: "guo0003", DeviceName: "device 3", From: "DEACTIVATED", To: "DELETED"}},
			Errors: []PlanError{
				{Index: 0, Message: "device is ACTIVE; cannot move it to DELETED", DeviceID: "guo0000", DeviceName: "device 0"},
				{Index: 1, Message: "device is ACTIVE; cannot move it to DELETED", DeviceID: "guo0001", DeviceName: "device 1"},
				{Index: 2, Message: "device is SUSPENDED; cannot move it to DELETED", DeviceID: "guo0002", DeviceName: "device 2"},
			}},
		{ID: "one", Card: "okta-devices/read-device", Mode: ModeRead, Items: 1, Changes: []Change{},
			Errors: []PlanError{{Index: 0, Message: `device "nope" not found`, DeviceID: "nope"}}},
		{ID: "after-one", Card: "okta-devices/read-device", Mode: ModeRead, Changes: []Change{},
			Errors: []PlanError{{Index: -1, Message: `not run: it uses the output of step "one", which failed`}}},
	}
	if diff := cmp.Diff(want, res.Steps); diff != "" {
		t.Errorf("plan mismatch (-want +got):\n%s", diff)
	}
}

func TestPlanAndRunNeedValidation(t *testing.T) {
	doc := mustParse(t, suspendFlow)
	cards := newDeviceCards(1)
	r := &Runner{Cards: cards, State: newMemState()}
	_, err := r.Plan(context.Background(), doc, nil)
	if problem.CodeOf(err) != problem.InvalidInput || !strings.Contains(err.Error(), "validate") {
		t.Errorf("Plan of an unvalidated document: %v; want invalid_input asking to validate", err)
	}
	_, err = r.Run(context.Background(), "r", doc, nil)
	if problem.CodeOf(err) != problem.InvalidInput || !strings.Contains(err.Error(), "validate") {
		t.Errorf("Run of an unvalidated document: %v; want invalid_input asking to validate", err)
	}
	if cards.entered+cards.planCalls != 0 {
		t.Errorf("cards were called %d times; want 0", cards.entered+cards.planCalls)
	}
}

func TestChangeString(t *testing.T) {
	if got, want := (Change{DeviceID: "guo1", From: "ACTIVE", To: "SUSPENDED"}).String(), "guo1 ACTIVE → SUSPENDED"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
}

// TestPlanCallsNameThePlan: every call of a plan names the flow planned
// and who asked for it, so that a read card's run is recorded as the
// plan's; a run's calls name no plan.
func TestPlanCallsNameThePlan(t *testing.T) {
	doc := validated(t, "name: reads\nsteps:\n  - id: a\n    card: okta-devices/read-device\n    connection: Demo org\n    input: {deviceId: guo1}\n  - id: b\n    card: okta-devices/suspend-device\n    connection: Demo org\n    input: {deviceId: guo1}\n")
	var calls []Call
	r := &Runner{Cards: &captureCards{calls: &calls}, State: newMemState()}
	who := Actor{Type: "user", Login: "ops@example.com"}
	if _, err := r.PlanFiring(context.Background(), doc, "flow_1", nil, Firing{Kind: KindManual, Actor: who}); err != nil {
		t.Fatalf("PlanFiring: %v", err)
	}
	if _, err := r.Plan(context.Background(), doc, nil); err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if _, err := r.RunTriggered(context.Background(), "r", doc, nil, Firing{Kind: KindManual, Actor: who}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	type seen struct {
		Step  string
		Plan  PlanRef
		Actor Actor
	}
	var got []seen
	for _, c := range calls {
		got = append(got, seen{c.StepID, c.Plan, c.Actor})
	}
	want := []seen{
		{"a", PlanRef{FlowID: "flow_1", FlowName: "reads"}, who}, {"b", PlanRef{FlowID: "flow_1", FlowName: "reads"}, who},
		{"a", PlanRef{FlowName: "reads"}, Actor{}}, {"b", PlanRef{FlowName: "reads"}, Actor{}},
		{"a", PlanRef{}, who}, {"b", PlanRef{}, who},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}
