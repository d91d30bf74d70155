package main

import (
	"os"
	"strings"
	"testing"
)

// TestEmptyRequiredInput: a required card input given empty or as spaces
// is refused before a run is recorded or the org is called, naming the
// input and how to give it, alike from the CLI, the API and a flow's item
// (whose plan shows it); an optional input given empty is left out.
func TestEmptyRequiredInput(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Prod")
	const named, fix = `input "deviceId" of card okta-devices/suspend-device is empty`, "give the device's Okta id"

	for _, v := range []string{"", "  "} {
		code, out, errOut := runCLI(t, s.vars, "run", "suspend-device", "--connection", "Prod", "--input", "deviceId="+v)
		if code != exitUsage || !strings.Contains(errOut, named) || !strings.Contains(errOut, "Remedy: "+fix) || strings.Contains(out, "Run ") {
			t.Errorf("run suspend-device --input deviceId=%q: exit %d\n%s%s; want %d, %q and its remedy, no run", v, code, out, errOut, exitUsage, named)
		}
		status, body := s.api(t, "POST", "/api/v1/runs", `{"card": "okta-devices/suspend-device", "connection": "Prod", "input": {"deviceId": "`+v+`"}}`)
		if status != 400 || !strings.Contains(body, `"code": "invalid_input"`) && !strings.Contains(body, `"code":"invalid_input"`) || !strings.Contains(body, `"field":"deviceId"`) && !strings.Contains(body, `"field": "deviceId"`) {
			t.Errorf("POST /api/v1/runs with deviceId %q: %d %s; want 400 invalid_input on deviceId", v, status, body)
		}
	}
	// An optional filter given empty is no filter.
	if code, out, errOut := runCLI(t, s.vars, "run", "search-devices", "--connection", "Prod", "--input", "platform= ", "--input", "model=", "--input", "resultSet=first"); code != exitOK {
		t.Errorf("run search-devices with empty filters: exit %d\n%s%s", code, out, errOut)
	}

	file := t.TempDir() + "/empty.yaml"
	doc := `name: empty-ids
steps:
  - id: devices
    card: okta-devices/search-devices
    connection: Prod
    input:
      resultSet: first200
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod
    for_each: ${{ steps.devices.output.devices }}
    if: ${{ index < 2 }}
    input:
      deviceId: '${{ index == 0 ? "" : " " }}'
`
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	before := s.emu.Stats(t)
	code, out, errOut := runCLI(t, s.vars, "flows", "plan", file)
	for _, want := range []string{"error, item 0: " + named, "error, item 1: " + named, fix} {
		if code != exitFailure || !strings.Contains(out, want) {
			t.Errorf("flows plan: exit %d; want %d and %q\n%s%s", code, exitFailure, want, out, errOut)
		}
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "run", file)
	if code != exitFailure || !strings.Contains(out, "2 of 12 items failed; first: item 0: "+named) {
		t.Errorf("flows run: exit %d\n%s%s; want the items failed with %q", code, out, errOut, named)
	}
	after := s.emu.Stats(t)
	for route, n := range after {
		if strings.HasPrefix(route, "POST ") && n != before[route] || route == "GET /api/v1/devices/{deviceId}" && n != before[route] {
			t.Errorf("the org saw %s %d times; want %d: an empty deviceId reached Okta", route, n, before[route])
		}
	}
	code, out, _ = runCLI(t, s.vars, "runs", "list", "--card", "okta-devices/suspend-device")
	if code != exitOK || out != "No card runs match --card okta-devices/suspend-device.\n" {
		t.Errorf("runs list --card suspend-device: exit %d\n%s; want no run recorded", code, out)
	}
}
