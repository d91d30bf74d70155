package app

import (
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestFlowItemsReferToCardRuns: every item of a finished flow run that ran
// a card names that card run (RunRef), and the run exists with the item's
// flow run, step and index.
func TestFlowItemsReferToCardRuns(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 40}, nil)
	h.connect("Prod")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	if code, data := h.postYAML("/api/v1/flows", suspendActiveFlow, &stored); code != 201 {
		t.Fatalf("store: %d %s", code, data)
	}
	var run flowRun
	inputs := map[string]any{"inputs": map[string]any{"platform": "MACOS"}}
	if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs?wait=true", inputs, &run); code != 200 || run.Status != "succeeded" {
		t.Fatalf("run: %d %s", code, data)
	}
	st := h.app.Store
	total := 0
	for _, step := range []string{"find", "suspend"} {
		items, err := st.ListFlowItems(t.Context(), run.ID, step)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			total++
			if it.RunRef == "" {
				t.Errorf("item %s/%d has no RunRef", step, it.Index)
				continue
			}
			r, err := st.GetRun(t.Context(), it.RunRef)
			if err != nil {
				t.Errorf("item %s/%d: card run %s: %v", step, it.Index, it.RunRef, err)
				continue
			}
			if r.FlowRunID != run.ID || r.StepID != step || r.ItemIndex != it.Index || r.Status != it.Status {
				t.Errorf("item %s/%d (%s) refers to run of flow run %s, step %s, index %d, status %s; want its own",
					step, it.Index, it.Status, r.FlowRunID, r.StepID, r.ItemIndex, r.Status)
			}
		}
	}
	if total < 2 {
		t.Fatalf("the run has %d items; want the search and at least one suspend", total)
	}
}
