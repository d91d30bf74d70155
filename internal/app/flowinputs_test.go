package app

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestFlowRunRefusesWrongInputTypes: a run asked for with an input of the
// wrong type is refused (400, as a plan of it is, and as an unknown or a
// missing input is) and queues nothing: it was queued and recorded as a
// failed run.
func TestFlowRunRefusesWrongInputTypes(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 4}, nil)
	h.connect("Prod")
	if code, data := h.postYAML("/api/v1/flows", suspendActiveFlow, nil); code != 201 {
		t.Fatalf("store the flow: %d %s", code, data)
	}
	body := map[string]any{"inputs": map[string]any{"platform": 5}}
	var e apiErr
	if code, data := h.call("POST", "/api/v1/flows/suspend-active-macs/plan", body, &e); code != 400 || e.Error.Code != "invalid_input" {
		t.Fatalf("plan with a number for a string input: %d %s; want 400 invalid_input", code, data)
	}
	for _, path := range []string{"/api/v1/flows/suspend-active-macs/runs", "/api/v1/flows/suspend-active-macs/runs?wait=true"} {
		e = apiErr{}
		if code, data := h.call("POST", path, body, &e); code != 400 || e.Error.Code != "invalid_input" {
			t.Errorf("POST %s with a number for a string input: %d %s; want 400 invalid_input", path, code, data)
		}
	}
	var runs struct {
		Runs []flowRun `json:"runs"`
	}
	if code, data := h.call("GET", "/api/v1/flow-runs?flow=suspend-active-macs", nil, &runs); code != 200 || len(runs.Runs) != 0 {
		t.Errorf("flow runs after refused starts: %d %s; want none", code, data)
	}
}

// TestFlowRunRefusesBlankRequiredInput: a required string input given
// empty or as spaces is refused as a card refuses one ("is empty"), by a
// plan and a start alike, before any run is stored; the refusal of a
// run's inputs says so in details.field, as a missing input's does.
func TestFlowRunRefusesBlankRequiredInput(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 4}, nil)
	h.connect("Prod")
	if code, data := h.postYAML("/api/v1/flows", suspendActiveFlow, nil); code != 201 {
		t.Fatalf("store the flow: %d %s", code, data)
	}
	const want = `input "platform" of flow suspend-active-macs is empty: the flow needs it`
	for _, v := range []string{"", "   "} {
		body := map[string]any{"inputs": map[string]any{"platform": v}}
		for _, path := range []string{"/api/v1/flows/suspend-active-macs/plan", "/api/v1/flows/suspend-active-macs/runs", "/api/v1/flows/suspend-active-macs/runs?wait=true"} {
			var e apiErr
			if code, data := h.call("POST", path, body, &e); code != 400 || e.Error.Code != "invalid_input" || !strings.Contains(e.Error.Message, want) || e.Error.Details["field"] != "inputs" {
				t.Errorf("POST %s with platform %q: %d %s; want 400 invalid_input %q, field inputs", path, v, code, data, want)
			}
		}
	}
	var e apiErr
	if code, data := h.call("POST", "/api/v1/flows/suspend-active-macs/runs", map[string]any{}, &e); code != 400 || e.Error.Details["field"] != "inputs" {
		t.Errorf("POST runs without platform: %d %s; want 400, field inputs", code, data)
	}
	var runs struct {
		Runs []flowRun `json:"runs"`
	}
	if code, data := h.call("GET", "/api/v1/flow-runs?flow=suspend-active-macs", nil, &runs); code != 200 || len(runs.Runs) != 0 {
		t.Errorf("flow runs after refused starts: %d %s; want none", code, data)
	}
}
