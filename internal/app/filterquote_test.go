package app

import (
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestValueBetweenASearchsQuotesStaysOneString: a flow that writes an
// input between the double quotes of its search (profile.platform eq
// "${{ inputs.platform }}") gets the input's quotes and backslashes
// escaped, as strings.quote would: a value that would close the string
// and widen the search to every ACTIVE device (a typing slip, or a device
// name an end user chose arriving in an event) matches nothing and
// suspends nothing, where it searched for every ACTIVE device; a plain
// value finds what it names, as before.
func TestValueBetweenASearchsQuotesStaysOneString(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 40}, nil)
	h.connect("Prod")
	if code, data := h.postYAML("/api/v1/flows", suspendActiveFlow, nil); code != 201 {
		t.Fatalf("store the flow: %d %s", code, data)
	}
	plan := func(platform string) (found, changes int) {
		t.Helper()
		var p struct {
			Steps []struct {
				Items   int   `json:"items"`
				Changes []any `json:"changes"`
			} `json:"steps"`
		}
		if code, data := h.call("POST", "/api/v1/flows/suspend-active-macs/plan", map[string]any{"inputs": map[string]any{"platform": platform}}, &p); code != 200 || len(p.Steps) != 2 {
			t.Fatalf("plan with platform %s: %d %s", platform, code, data)
		}
		return p.Steps[1].Items, len(p.Steps[1].Changes)
	}
	if found, _ := plan("MACOS"); found == 0 {
		t.Fatal("the plan with platform MACOS finds no device; the test needs some")
	}
	for _, hostile := range []string{`MACOS" or status eq "ACTIVE`, `MACOS\" or status eq \"ACTIVE`} {
		if found, changes := plan(hostile); found != 0 || changes != 0 {
			t.Errorf("the plan with platform %s finds %d devices (%d changes); want none: the value widened the search", hostile, found, changes)
		}
		var run flowRun
		if code, data := h.call("POST", "/api/v1/flows/suspend-active-macs/runs?wait=true", map[string]any{"inputs": map[string]any{"platform": hostile}}, &run); code != 200 ||
			run.Status != "succeeded" || len(run.Steps) != 2 || run.Steps[1].Items != 0 {
			t.Errorf("the run with platform %s: %d %s; want it to succeed suspending nothing", hostile, code, data)
		}
	}
}
