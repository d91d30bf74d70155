package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
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
	if code != exitOK || !strings.Contains(out, "has 1 version;") {
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

// TestCLIPlanAsScheduled: flows plan --as-scheduled plans the run the
// schedule's next tick would start, with the inputs on.inputs computes
// from that tick (the nightly example's cut-off date, 90 days before it),
// stored or not, enabled or not; inputs given with it, and a flow without
// a schedule, are refused with what to do instead.
func TestCLIPlanAsScheduled(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	nightly := "../../examples/nightly-stale-cleanup.yaml"
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// The next 02:00 in Berlin after t, and the since on.inputs makes of it.
	since := func(t time.Time) string {
		b := t.In(berlin)
		tick := time.Date(b.Year(), b.Month(), b.Day(), 2, 0, 0, 0, berlin)
		if !tick.After(t) {
			tick = time.Date(b.Year(), b.Month(), b.Day()+1, 2, 0, 0, 0, berlin)
		}
		return tick.Add(-2160 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	check := func(what string, args ...string) {
		t.Helper()
		before := time.Now()
		code, out, errOut := runCLI(t, s.vars, args...)
		after := time.Now()
		if code != exitOK || !strings.Contains(out, "as the run of its schedule's next tick") ||
			!strings.Contains(out, "step deactivate: okta-devices/deactivate-device (manage)") {
			t.Fatalf("%s: exit %d; want the plan of the next tick's run\n%s%s", what, code, out, errOut)
		}
		if !strings.Contains(out, `input since = "`+since(before)+`" (on.inputs)`) && !strings.Contains(out, `input since = "`+since(after)+`" (on.inputs)`) {
			t.Errorf("%s: the plan's since is not 90 days before the next 02:00 in Berlin (%s)\n%s", what, since(before), out)
		}
	}
	check("plan --as-scheduled of the document", "flows", "plan", nightly, "--as-scheduled")
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", nightly); code != exitOK {
		t.Fatalf("flows store: exit %d\n%s%s", code, out, errOut)
	}
	check("plan --as-scheduled of the stored, disabled flow", "flows", "plan", "nightly-stale-cleanup", "--as-scheduled")

	code, out, errOut := runCLI(t, s.vars, "flows", "plan", "nightly-stale-cleanup", "--as-scheduled", "--json")
	var plan struct {
		Trigger struct{ Kind string } `json:"trigger"`
		Inputs  map[string]any        `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(out), &plan); code != exitOK || err != nil || plan.Trigger.Kind != "schedule" || plan.Inputs["since"] == nil {
		t.Errorf("plan --as-scheduled --json: exit %d, %v\n%s%s; want its trigger and computed inputs", code, err, out, errOut)
	}
	if code, _, errOut := runCLI(t, s.vars, "flows", "plan", "nightly-stale-cleanup", "--as-scheduled", "--input", "since=2026-01-01T00:00:00.000Z"); code != exitUsage ||
		!strings.Contains(errOut, "leave out --input") {
		t.Errorf("plan --as-scheduled with an input: exit %d\n%s; want a usage error saying what to leave out", code, errOut)
	}
	if code, _, errOut := runCLI(t, s.vars, "flows", "plan", "nightly-stale-cleanup", "--as-scheduled", "--event", "e1"); code != exitUsage ||
		!strings.Contains(errOut, "give one of them") {
		t.Errorf("plan --as-scheduled --event: exit %d\n%s; want a usage error", code, errOut)
	}
	notJSON := filepath.Join(t.TempDir(), "event.txt")
	if err := os.WriteFile(notJSON, []byte("device.enrollment.create for emma"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, s.vars, "flows", "plan", "nightly-stale-cleanup", "--event-file", notJSON); code != exitUsage ||
		!strings.Contains(errOut, "is not JSON") || !strings.Contains(errOut, "System Log") {
		t.Errorf("plan --event-file of a file that is not JSON: exit %d\n%s; want a usage error saying what to give", code, errOut)
	}
	// Through the API: only the schedule's trigger, and no inputs with it.
	for body, want := range map[string]string{
		`{"trigger": {"kind": "manual"}}`:                                "must be schedule or event",
		`{"trigger": {"kind": "event"}}`:                                 "needs either a stored event's eventUuid or an event",
		`{"trigger": {"kind": "event", "eventUuid": "e1", "event": {}}}`: "not both",
		`{"trigger": {"kind": "schedule", "eventUuid": "e1"}}`:           "takes no event",
		`{"trigger": {"kind": "schedule", "event": {}}}`:                 "takes no event",
		`{"trigger": {"kind": "schedule"}, "inputs": {"since": "x"}}`:    "a plan of one takes none",
		`{"trigger": {"kind": "event", "eventUuid": "e1"}}`:              "its trigger is on.schedule: plan the run of its next tick (--as-scheduled",
	} {
		code, b := s.api(t, "POST", "/api/v1/flows/nightly-stale-cleanup/plan", body)
		if code != http.StatusBadRequest || !strings.Contains(b, want) || !strings.Contains(b, `"remedy"`) {
			t.Errorf("plan with %s: %d %s; want 400 saying %q, with a remedy", body, code, b, want)
		}
	}
	if code, _, errOut := runCLI(t, s.vars, "flows", "plan", "../../examples/offboard-user-devices.yaml", "--as-scheduled"); code != exitFailure ||
		!strings.Contains(errOut, "has no on.schedule") || !strings.Contains(errOut, "--input") {
		t.Errorf("plan --as-scheduled of a flow without a schedule: exit %d\n%s; want it refused with the remedy", code, errOut)
	}
}

// TestCLIPlanEventFile: `flows plan FILE --event-file EVENT` plans the run
// an Okta event copied from the System Log would start of an event flow
// that nothing has triggered yet.
func TestCLIPlanEventFile(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	resp, err := s.emu.ClientAs("SSWS " + oktaemu.DemoAPIToken).Get(s.emu.URL + `/api/v1/devices?search=status+eq+"ACTIVE"&limit=1`)
	if err != nil {
		t.Fatal(err)
	}
	var devices []struct{ ID string }
	err = json.NewDecoder(resp.Body).Decode(&devices)
	resp.Body.Close()
	if err != nil || len(devices) != 1 {
		t.Fatalf("an ACTIVE device of the org: %v %v", devices, err)
	}
	dir := t.TempDir()
	flowFile, eventFile := filepath.Join(dir, "quarantine.yaml"), filepath.Join(dir, "event.json")
	writeFile(t, flowFile, quarantineFlow)
	writeFile(t, eventFile, `{"uuid":"5b0f0c7e-0000-4000-8000-0000000000e1","published":"2026-11-30T08:00:00.000Z",
"eventType":"device.enrollment.create","target":[{"id":"`+devices[0].ID+`","type":"UDDevice","displayName":"Laptop"}]}`)
	code, out, errOut := runCLI(t, s.vars, "flows", "plan", flowFile, "--event-file", eventFile)
	if code != exitOK || !strings.Contains(out, "as the run of event 5b0f0c7e-0000-4000-8000-0000000000e1") ||
		!strings.Contains(out, `input deviceId = "`+devices[0].ID+`" (on.inputs)`) || !strings.Contains(out, "ACTIVE → SUSPENDED") {
		t.Errorf("plan --event-file: exit %d\n%s%s; want the plan of the event's run, suspending its device", code, out, errOut)
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
