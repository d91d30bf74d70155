package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// planStoreFlow is a scheduled flow: storing a new version with the same
// trigger keeps it enabled, so that version is what the next tick runs.
const planStoreFlow = `name: nightly-suspend
inputs:
  platform: {type: string, required: true}
on:
  schedule:
    cron: "0 2 * * *"
  inputs:
    platform: IOS
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo org
    input:
      search: 'status eq "ACTIVE" and profile.platform eq "${{ inputs.platform }}"'
      resultSet: all
  - id: act
    card: okta-devices/suspend-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    input:
      deviceId: ${{ item.id }}
      status: ${{ item.status }}
`

// TestCLIPlanStoresNothing: flows plan FILE is a dry run of the document
// as it is, and stores nothing. Planning an edited copy of an enabled,
// scheduled flow (deactivate instead of suspend) neither adds a version nor
// makes the edit what the schedule runs; a document never stored stays
// unknown to the server.
func TestCLIPlanStoresNothing(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	dir := t.TempDir()
	file := filepath.Join(dir, "nightly.yaml")
	if err := os.WriteFile(file, []byte(planStoreFlow), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", file, "--enable"); code != exitOK {
		t.Fatalf("flows store --enable: exit %d\n%s%s", code, out, errOut)
	}
	edited := strings.Replace(planStoreFlow, "suspend-device", "deactivate-device", 1)
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, s.vars, "flows", "plan", file, "--input", "platform=IOS")
	if code != exitOK || !strings.Contains(out, "okta-devices/deactivate-device") || !strings.Contains(out, "ACTIVE → DEACTIVATED") {
		t.Fatalf("flows plan of the edited document: exit %d; want the edit planned\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "versions", "nightly-suspend")
	if code != exitOK || !strings.Contains(out, "has 1 version(s)") {
		t.Errorf("flows versions after a plan: exit %d; want the one stored version\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "show", "nightly-suspend")
	if code != exitOK || !strings.Contains(out, "suspend-device") || strings.Contains(out, "deactivate-device") {
		t.Errorf("flows show after a plan: exit %d; want the stored document, not the planned edit\n%s%s", code, out, errOut)
	}

	other := filepath.Join(dir, "other.yaml")
	if err := os.WriteFile(other, []byte(strings.Replace(edited, "name: nightly-suspend", "name: never-stored", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "plan", other, "--input", "platform=IOS", "--json"); code != exitOK || !strings.Contains(out, `"never-stored"`) {
		t.Fatalf("flows plan of a new document: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := runCLI(t, s.vars, "flows", "list"); code != exitOK || strings.Contains(out, "never-stored") {
		t.Errorf("flows list after planning a new document: exit %d; want it not stored\n%s", code, out)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "plan", other, "--input", "platfrom=IOS")
	if code == exitOK || !strings.Contains(errOut, "platfrom") {
		t.Errorf("flows plan with an unknown input: exit %d; want it refused, naming the input\n%s%s", code, out, errOut)
	}
}
