package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestRerunFailedOnly: a run whose three suspensions failed is run again
// with failedOnly: only those three run (the search and the suspended
// devices are taken from the first run), and the new run succeeds.
func TestRerunFailedOnly(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 80}, nil)
	h.connect("Prod")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	h.postYAML("/api/v1/flows", suspendActiveFlow, &stored)
	h.emu.Fault(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", http.StatusNotFound, 3)
	var first flowRun
	if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs?wait=true", map[string]any{"inputs": map[string]any{"platform": "WINDOWS"}}, &first); code != http.StatusOK {
		t.Fatalf("run: %d %s", code, data)
	}
	items := first.Steps[1].Items
	if first.Status != "failed" || first.Steps[1].Failed != 3 || items < 6 {
		t.Fatalf("first run: %s, %d of %d items failed; want failed with the 3 faulted", first.Status, first.Steps[1].Failed, items)
	}
	before := h.emu.Stats(t)

	var again flowRun
	if code, data := h.call("POST", "/api/v1/flow-runs/"+first.ID+"/rerun", map[string]any{"failedOnly": true}, &again); code != http.StatusAccepted {
		t.Fatalf("rerun: %d %s", code, data)
	}
	if again.ID == first.ID {
		t.Fatalf("the rerun has the first run's id")
	}
	done := h.waitFlowRun(t.Context(), again.ID, "succeeded", "failed", "canceled")
	if done.Status != "succeeded" || done.Steps[1].Succeeded != items {
		t.Errorf("rerun: %s with %d of %d items succeeded; want all", done.Status, done.Steps[1].Succeeded, items)
	}
	after := h.emu.Stats(t)
	if n := lifecycleCalls(after) - lifecycleCalls(before); n != 3 {
		t.Errorf("the rerun made %d lifecycle calls; want 3 (the failed items only)", n)
	}
	if after["GET /api/v1/devices"] != before["GET /api/v1/devices"] {
		t.Errorf("the rerun searched again; want the first run's search kept")
	}
	var runs struct {
		Runs []struct {
			Card string `json:"card"`
		} `json:"runs"`
	}
	h.call("GET", "/api/v1/runs?flowRun="+again.ID, nil, &runs)
	if len(runs.Runs) != 3 {
		t.Errorf("the rerun made %d card runs; want 3", len(runs.Runs))
	}
	// A run that succeeded has nothing failed to run again: refused, with
	// the rerun of all of it as the remedy, and nothing queued.
	var refused struct {
		Error struct {
			Code    string         `json:"code"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	if code, data := h.call("POST", "/api/v1/flow-runs/"+done.ID+"/rerun", map[string]any{"failedOnly": true}, &refused); code != http.StatusConflict || refused.Error.Code != "conflict" {
		t.Errorf("failed-only rerun of a succeeded run: %d %s; want 409 conflict", code, data)
	} else if remedy, _ := refused.Error.Details["remedy"].(string); !strings.Contains(remedy, "cardflow flows rerun "+done.ID) {
		t.Errorf("remedy %q does not name the rerun of all of it", remedy)
	}
	// An unknown run is not found.
	if code, _ := h.call("POST", "/api/v1/flow-runs/fr_none/rerun", nil, nil); code != http.StatusNotFound {
		t.Errorf("rerun of an unknown run: %d; want 404", code)
	}
	if events := h.audit("action=flow.rerun"); len(events) != 1 {
		t.Errorf("flow.rerun audit events: %d; want 1", len(events))
	}
}
