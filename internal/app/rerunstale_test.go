package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestRerunFailedOnlyReadsFirst: the suspensions a failed-only rerun runs
// again read their devices first rather than trust the statuses of the
// search it keeps from the run it reruns, which may no longer be true:
// rerunning the same run a second time finds the devices the first rerun
// suspended, and says they did not change (basis read), with no
// suspension sent again, where the search's ACTIVE made each send one and
// say changed. A rerun of all of it searches again and trusts what it
// finds (no reads).
func TestRerunFailedOnlyReadsFirst(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 80}, nil)
	h.connect("Prod")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	doc := strings.Replace(suspendActiveFlow, "      deviceId: ${{ item.id }}\n", "      deviceId: ${{ item.id }}\n      status: ${{ item.status }}\n", 1)
	h.postYAML("/api/v1/flows", doc, &stored)
	const suspend, read = "POST /api/v1/devices/{deviceId}/lifecycle/suspend", "GET /api/v1/devices/{deviceId}"
	h.emu.Fault(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", http.StatusNotFound, 3)
	var first flowRun
	if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs?wait=true", map[string]any{"inputs": map[string]any{"platform": "WINDOWS"}}, &first); code != http.StatusOK {
		t.Fatalf("run: %d %s", code, data)
	}
	if first.Status != "failed" || first.Steps[1].Failed == 0 {
		t.Fatalf("first run: %s, %d items failed; want some failed", first.Status, first.Steps[1].Failed)
	}
	failed := first.Steps[1].Failed

	rerun := func(failedOnly bool) (suspends, reads int, outputs []map[string]any) {
		t.Helper()
		before := h.emu.Stats(t)
		var again flowRun
		if code, data := h.call("POST", "/api/v1/flow-runs/"+first.ID+"/rerun", map[string]any{"failedOnly": failedOnly}, &again); code != http.StatusAccepted {
			t.Fatalf("rerun: %d %s", code, data)
		}
		done := h.waitFlowRun(t.Context(), again.ID, "succeeded", "failed", "canceled")
		if done.Status != "succeeded" {
			t.Fatalf("rerun (failed only %t): %s; want succeeded", failedOnly, done.Status)
		}
		var runs struct {
			Runs []struct {
				Output map[string]any `json:"output"`
			} `json:"runs"`
		}
		h.call("GET", "/api/v1/runs?flowRun="+again.ID+"&card=okta-devices/suspend-device", nil, &runs)
		for _, r := range runs.Runs {
			outputs = append(outputs, r.Output)
		}
		after := h.emu.Stats(t)
		return after[suspend] - before[suspend], after[read] - before[read], outputs
	}

	suspends, reads, outs := rerun(true)
	if suspends != failed || reads != failed || len(outs) != failed {
		t.Errorf("first failed-only rerun: %d suspensions, %d reads, %d card runs; want %d of each", suspends, reads, len(outs), failed)
	}
	for _, o := range outs {
		if o["changed"] != true || o["basis"] != "read" {
			t.Errorf("first failed-only rerun: output %v; want changed, basis read", o)
		}
	}
	suspends, reads, outs = rerun(true)
	if suspends != 0 || reads != failed || len(outs) != failed {
		t.Errorf("second failed-only rerun of the same run: %d suspensions, %d reads, %d card runs; want no suspension, %d reads and card runs", suspends, reads, len(outs), failed)
	}
	for _, o := range outs {
		if o["changed"] != false || o["basis"] != "read" {
			t.Errorf("second failed-only rerun: output %v; want not changed, basis read", o)
		}
	}
	// All of it again: the search finds no ACTIVE Windows device left, and
	// nothing is read.
	if suspends, reads, _ = rerun(false); suspends != 0 || reads != 0 {
		t.Errorf("rerun of all of it: %d suspensions, %d reads; want none", suspends, reads)
	}
}
