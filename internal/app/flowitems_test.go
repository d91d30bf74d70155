package app

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestFlowRunItemPages: a flow run carries a page of each step's items and
// the address of the next; following the addresses gives every item once,
// in order. ?items=false carries none.
func TestFlowRunItemPages(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 80}, nil)
	h.connect("Prod")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	h.postYAML("/api/v1/flows", suspendActiveFlow, &stored)
	var run flowRun
	if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs?wait=true", map[string]any{"inputs": map[string]any{"platform": "WINDOWS"}}, &run); code != http.StatusOK {
		t.Fatalf("run: %d %s", code, data)
	}
	total := run.Steps[1].Succeeded
	if total < 9 {
		t.Fatalf("the run suspended %d devices; the test needs more than two pages of 4", total)
	}

	type item struct {
		Index  int    `json:"index"`
		RunID  string `json:"runId"`
		Output any    `json:"output"`
	}
	var paged struct {
		Steps []struct {
			ID          string `json:"id"`
			ItemResults []item `json:"itemResults"`
			NextItems   string `json:"nextItems"`
			Output      any    `json:"output"`
		} `json:"steps"`
	}
	if code, data := h.call("GET", "/api/v1/flow-runs/"+run.ID+"?limit=4", nil, &paged); code != http.StatusOK {
		t.Fatalf("get: %d %s", code, data)
	}
	if len(paged.Steps[0].ItemResults) != 1 || paged.Steps[0].NextItems != "" || paged.Steps[0].Output == nil {
		t.Fatalf("search step: %d items, next %q, output %v; want its one item and output, no next page", len(paged.Steps[0].ItemResults), paged.Steps[0].NextItems, paged.Steps[0].Output != nil)
	}
	if paged.Steps[0].ItemResults[0].Output != nil {
		t.Errorf("search step: its item carries the output the step has; want it once in the answer")
	}
	var searchItems struct {
		Items []item `json:"items"`
	}
	if code, data := h.call("GET", "/api/v1/flow-runs/"+run.ID+"/items?step="+paged.Steps[0].ID, nil, &searchItems); code != http.StatusOK {
		t.Fatalf("get the search step's items: %d %s", code, data)
	}
	if len(searchItems.Items) != 1 || !reflect.DeepEqual(searchItems.Items[0].Output, paged.Steps[0].Output) {
		t.Errorf("search step's item page: %+v; want its one item with the step's output", searchItems.Items)
	}
	step := paged.Steps[1]
	if len(step.ItemResults) != 4 || step.NextItems == "" || step.Output != nil {
		t.Fatalf("suspend step: %d items, next %q; want 4 and a next page, and no step output (the items carry it)", len(step.ItemResults), step.NextItems)
	}
	got := step.ItemResults
	next := step.NextItems
	pages := 1
	for next != "" {
		var page struct {
			Items []item `json:"items"`
			Next  string `json:"next"`
		}
		if code, data := h.call("GET", next, nil, &page); code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", next, code, data)
		}
		if len(page.Items) == 0 || len(page.Items) > 4 {
			t.Fatalf("page %d has %d items; want 1 to 4", pages+1, len(page.Items))
		}
		got = append(got, page.Items...)
		next, pages = page.Next, pages+1
	}
	if len(got) != total || pages != (total+3)/4 {
		t.Errorf("%d items in %d pages; want %d in %d", len(got), pages, total, (total+3)/4)
	}
	for i, it := range got {
		if i > 0 && it.Index <= got[i-1].Index {
			t.Errorf("item %d (index %d) follows index %d; want ascending, each once", i, it.Index, got[i-1].Index)
		}
		if it.RunID == "" {
			t.Errorf("item %d names no card run", it.Index)
		}
		if it.Output == nil {
			t.Errorf("item %d has no output; a for_each step's items carry theirs", it.Index)
		}
	}

	var bare flowRun
	h.call("GET", "/api/v1/flow-runs/"+run.ID+"?items=false", nil, &bare)
	if len(bare.Steps[1].ItemResults) != 0 || bare.Steps[1].Succeeded != total {
		t.Errorf("items=false: %d items, %d succeeded; want none and the counts", len(bare.Steps[1].ItemResults), bare.Steps[1].Succeeded)
	}
	for _, tt := range []struct{ path, want string }{
		{"/api/v1/flow-runs/" + run.ID + "/items", "step is required"},
		{"/api/v1/flow-runs/" + run.ID + "/items?step=suspend&after=x", "after must be an item index"},
		{"/api/v1/flow-runs/" + run.ID + "?limit=0", "limit must be a number from 1 to 1000"},
		{"/api/v1/flow-runs/" + run.ID + "/items?step=suspend&cursor=3", "unknown query parameter"},
	} {
		if code, data := h.call("GET", tt.path, nil, nil); code != http.StatusBadRequest || !strings.Contains(string(data), tt.want) {
			t.Errorf("GET %s: %d %s; want 400 %q", tt.path, code, data, tt.want)
		}
	}
	if code, _ := h.call("GET", "/api/v1/flow-runs/fr_none/items?step=suspend", nil, nil); code != http.StatusNotFound {
		t.Errorf("items of an unknown run: %d; want 404", code)
	}
	// A step the run does not have is not found, naming those it has,
	// where its items were an empty page, as of a step not run yet.
	if code, data := h.call("GET", "/api/v1/flow-runs/"+run.ID+"/items?step=suspnd", nil, nil); code != http.StatusNotFound ||
		!strings.Contains(string(data), `has no step \"suspnd\"; its steps are find, suspend`) {
		t.Errorf("items of a step the run does not have: %d %s; want 404 naming its steps", code, data)
	}
}
