package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// quarantineFlow is an event flow of the demo org whose inputs come from
// its event.
const quarantineFlow = `name: quarantine-new-devices
inputs:
  deviceId: {type: string, required: true}
on:
  event:
    card: okta-devices/device-enrolled
    connection: Demo org
  inputs:
    deviceId: ${{ trigger.event.device.id }}
steps:
  - id: quarantine
    card: okta-devices/suspend-device
    connection: Demo org
    input: {deviceId: "${{ inputs.deviceId }}"}
`

// TestCLIStoreEventFlowTypo: an event flow reading a field its events do
// not have is refused when stored, with the line and column and the
// fields there are, not stored to fail on every event.
func TestCLIStoreEventFlowTypo(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	flowFile := filepath.Join(t.TempDir(), "quarantine.yaml")
	writeFile(t, flowFile, strings.Replace(quarantineFlow, "trigger.event.device.id", "trigger.event.device.nme", 1))
	code, out, errOut := runCLI(t, s.vars, "flows", "store", flowFile)
	if code == exitOK || !strings.Contains(out+errOut, flowFile+`:9:39: on.inputs: trigger.event.device has no field "nme"; its fields are id, displayName`) {
		t.Errorf("flows store of an event flow reading trigger.event.device.nme: exit %d\n%s%s; want it refused naming the field and its line", code, out, errOut)
	}
	if code, out, _ := runCLI(t, s.vars, "flows", "list"); code != exitOK || strings.Contains(out, "quarantine-new-devices") {
		t.Errorf("flows list: exit %d\n%s; want the refused flow not stored", code, out)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "validate", flowFile); code == exitOK || !strings.Contains(out, `trigger.event.device has no field "nme"`) {
		t.Errorf("flows validate: exit %d\n%s%s; want the misspelt field reported", code, out, errOut)
	}
}

// TestCLIPlanEventFlowWithoutInputs: the plan of an event flow given
// neither its inputs nor an event names both ways to give them (and a
// schedule flow's the run of its next tick).
func TestCLIPlanEventFlowWithoutInputs(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	flowFile := filepath.Join(t.TempDir(), "quarantine.yaml")
	writeFile(t, flowFile, quarantineFlow)
	if code, _, errOut := runCLI(t, s.vars, "flows", "store", flowFile); code != exitOK {
		t.Fatalf("flows store: exit %d\n%s", code, errOut)
	}
	for _, arg := range []string{flowFile, "quarantine-new-devices"} {
		code, out, errOut := runCLI(t, s.vars, "flows", "plan", arg)
		if code == exitOK || !strings.Contains(errOut, "missing required input deviceId") ||
			!strings.Contains(errOut, "--input name=value") || !strings.Contains(errOut, "--event-file EVENT.json") {
			t.Errorf("flows plan %s without inputs: exit %d\n%s%s; want the remedy to name --input and --event-file", arg, code, out, errOut)
		}
		// The kind of the API's trigger is in brackets, as a schedule's is.
		if !strings.Contains(errOut, "or plan the run an Okta event would start (trigger kind event), with the inputs its on.inputs computes: ") ||
			strings.Contains(errOut, "; trigger kind event") {
			t.Errorf("flows plan %s without inputs: the remedy ends on a stray \"; trigger kind event\"\n%s", arg, errOut)
		}
	}
	// A schedule flow's plan names the run of its next tick.
	code, out, errOut := runCLI(t, s.vars, "flows", "plan", "../../examples/nightly-stale-cleanup.yaml")
	if code == exitOK || !strings.Contains(errOut, "missing required input since") || !strings.Contains(errOut, "--as-scheduled") {
		t.Errorf("flows plan of a schedule flow without inputs: exit %d\n%s%s; want the remedy to name --as-scheduled", code, out, errOut)
	}
}
