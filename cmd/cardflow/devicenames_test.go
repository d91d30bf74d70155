package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// namedDeviceFlow suspends the devices its search finds: the plan and the
// run know each device's display name from the search output.
const namedDeviceFlow = `name: suspend-named
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo org
    input:
      search: 'status eq "ACTIVE"'
      resultSet: all
  - id: suspend
    card: okta-devices/suspend-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    input:
      deviceId: ${{ item.id }}
`

// TestCLIShowsDeviceNames plans and runs a flow over a device whose
// display name carries terminal escapes: flows plan, flows show-run
// --items and runs show name it "Name (id)", escaped, with no call to
// Okta beyond the flow's own.
func TestCLIShowsDeviceNames(t *testing.T) {
	fx := oktaemu.DemoFixture(2)
	fx.Devices = []oktaemu.FixtureDevice{{ID: "guonamed1", Status: "ACTIVE",
		Profile: map[string]any{"displayName": "Ada's Chromebook\x1b[2J", "platform": "IOS", "registered": true}}}
	s := startServerWith(t, oktaemu.Config{Fixture: fx})
	s.connect(t, "Demo org")
	file := filepath.Join(t.TempDir(), "flow.yaml")
	if err := os.WriteFile(file, []byte(namedDeviceFlow), 0o600); err != nil {
		t.Fatal(err)
	}
	label := `Ada's Chromebook\x1b[2J (guonamed1)`

	code, out, errOut := runCLI(t, s.vars, "flows", "plan", file)
	if code != exitOK || !strings.Contains(out, label+": ACTIVE → SUSPENDED") {
		t.Errorf("flows plan: exit %d; want the change naming %s\n%s%s", code, label, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "run", file, "--json")
	var run struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &run); code != exitOK || err != nil || run.Status != "succeeded" {
		t.Fatalf("flows run: exit %d %v\n%s%s", code, err, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "show-run", run.ID, "--items")
	if code != exitOK || !strings.Contains(out, "DEVICE") || !strings.Contains(out, label) {
		t.Errorf("flows show-run --items: exit %d; want the item's device as %s\n%s%s", code, label, out, errOut)
	}
	if !regexp.MustCompile(regexp.QuoteMeta(label) + ` +now SUSPENDED  `).MatchString(out) {
		t.Errorf("flows show-run --items: want the item's outcome, now SUSPENDED, beside its device\n%s", out)
	}
	var runs struct {
		Runs []struct {
			ID    string `json:"id"`
			Input struct {
				DeviceID string `json:"deviceId"`
			} `json:"input"`
			DeviceName string `json:"deviceName"`
		} `json:"runs"`
	}
	code, out, errOut = runCLI(t, s.vars, "runs", "list", "--card", "suspend-device", "--json")
	if err := json.Unmarshal([]byte(out), &runs); code != exitOK || err != nil {
		t.Fatalf("runs list: exit %d %v\n%s%s", code, err, out, errOut)
	}
	runID := ""
	for _, r := range runs.Runs {
		if r.Input.DeviceID == "guonamed1" {
			runID = r.ID
			if r.DeviceName != "Ada's Chromebook\x1b[2J" {
				t.Errorf("the card run's deviceName = %q; want the name from the search", r.DeviceName)
			}
		} else if r.DeviceName == "" {
			t.Errorf("the card run of %s has no deviceName", r.Input.DeviceID)
		}
	}
	if runID == "" {
		t.Fatalf("no card run suspended guonamed1:\n%s", out)
	}
	code, out, errOut = runCLI(t, s.vars, "runs", "show", runID)
	if code != exitOK || !regexp.MustCompile(`\nDevice: +`+regexp.QuoteMeta(label)+`\n`).MatchString(out) {
		t.Errorf("runs show: exit %d; want Device: %s\n%s%s", code, label, out, errOut)
	}
	for _, text := range []string{out, errOut} {
		if strings.ContainsAny(text, "\x1b") {
			t.Errorf("raw escape printed:\n%q", text)
		}
	}
}

// idsFlow suspends the devices whose ids it is given: the flow knows no
// device's name, the card learns it by reading the device to decide.
const idsFlow = `name: suspend-ids
inputs:
  ids: {type: list, required: true}
steps:
  - id: suspend
    card: okta-devices/suspend-device
    connection: Demo org
    for_each: ${{ inputs.ids }}
    input:
      deviceId: ${{ item }}
`

// TestCLINamesDevicesTheCardRead runs manage cards that read their device
// to decide (no status input, no search before them): the flow's items and
// the card runs are named from that read, succeeded or refused, as a plan
// names them.
func TestCLINamesDevicesTheCardRead(t *testing.T) {
	fx := oktaemu.DemoFixture(2)
	fx.Devices = []oktaemu.FixtureDevice{
		{ID: "guoread1", Status: "ACTIVE", Profile: map[string]any{"displayName": "Ada's iPhone", "platform": "IOS", "registered": true}},
		{ID: "guoread2", Status: "CREATED", Profile: map[string]any{"displayName": "Bob's Pixel", "platform": "ANDROID", "registered": true}},
	}
	s := startServerWith(t, oktaemu.Config{Fixture: fx})
	s.connect(t, "Demo org")
	file := filepath.Join(t.TempDir(), "flow.yaml")
	if err := os.WriteFile(file, []byte(idsFlow), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, s.vars, "flows", "run", file, "--input", "ids=guoread1,guoread2", "--json")
	var run struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil || run.Status != "failed" {
		t.Fatalf("flows run: exit %d %v; want a failed run (guoread2 is CREATED)\n%s%s", code, err, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "show-run", run.ID, "--items")
	for _, label := range []string{"Ada's iPhone (guoread1)", "Bob's Pixel (guoread2)"} {
		if code != exitOK || !strings.Contains(out, label) {
			t.Errorf("flows show-run --items: exit %d; want the item's device as %s\n%s%s", code, label, out, errOut)
		}
	}

	code, out, errOut = runCLI(t, s.vars, "run", "unsuspend-device", "--connection", "Demo org", "--input", "deviceId=guoread1", "--json")
	var direct struct {
		ID         string `json:"id"`
		Status     string `json:"status"`
		DeviceName string `json:"deviceName"`
	}
	if err := json.Unmarshal([]byte(out), &direct); code != exitOK || err != nil || direct.Status != "succeeded" {
		t.Fatalf("run unsuspend-device: exit %d %v\n%s%s", code, err, out, errOut)
	}
	if direct.DeviceName != "Ada's iPhone" {
		t.Errorf("the card run's deviceName = %q; want the name of the device it read", direct.DeviceName)
	}
	code, out, errOut = runCLI(t, s.vars, "runs", "show", direct.ID)
	if code != exitOK || !regexp.MustCompile(`\nDevice: +Ada's iPhone \(guoread1\)\n`).MatchString(out) {
		t.Errorf("runs show: exit %d; want Device: Ada's iPhone (guoread1)\n%s%s", code, out, errOut)
	}
}
