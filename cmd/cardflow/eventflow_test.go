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
	if code == exitOK || !strings.Contains(out+errOut, `line 9, column 39: on.inputs: trigger.event.device has no field "nme"; its fields are id, displayName`) {
		t.Errorf("flows store of an event flow reading trigger.event.device.nme: exit %d\n%s%s; want it refused naming the field and its line", code, out, errOut)
	}
	if code, out, _ := runCLI(t, s.vars, "flows", "list"); code != exitOK || strings.Contains(out, "quarantine-new-devices") {
		t.Errorf("flows list: exit %d\n%s; want the refused flow not stored", code, out)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "validate", flowFile); code == exitOK || !strings.Contains(out, `trigger.event.device has no field "nme"`) {
		t.Errorf("flows validate: exit %d\n%s%s; want the misspelt field reported", code, out, errOut)
	}
}
