package app

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/oktaemu"
)

// estFlow is a scheduled flow in timezone EST (UTC-5 all year): valid,
// with a warning at line 5, column 15.
const estFlow = `name: est-nightly
on:
  schedule:
    cron: "0 2 * * *"
    timezone: EST
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod
    input: {search: 'status eq "ACTIVE"'}
`

// checkESTWarning checks that ws are the one warning of estFlow, of its
// timezone EST.
func checkESTWarning(t *testing.T, what string, ws []api.FlowWarning) {
	t.Helper()
	if len(ws) != 1 {
		t.Fatalf("%s: warnings %+v; want the one of EST", what, ws)
	}
	w := ws[0]
	if w.Line != 5 || w.Column != 15 || w.Path != "on.schedule.timezone" ||
		!strings.Contains(w.Message, "timezone EST is a fixed offset, UTC-5 all year, without daylight saving time") ||
		!strings.Contains(w.Remedy, "America/New_York") {
		t.Errorf("%s: warning %+v", what, w)
	}
}

// TestFlowWarnings: POST /api/v1/flows/validate and POST /api/v1/flows
// answer a document's warnings next to what they answer today, with their
// line, column, path and remedy; a document with warnings only is valid
// and stored as any other (its trigger as written), one without has
// warnings: [], and a refused document keeps its warnings beside its
// issues (validate) and in details.warnings (store).
func TestFlowWarnings(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 3}, nil)
	h.connect("Prod")

	var v api.FlowValidation
	if code, data := h.postYAML("/api/v1/flows/validate", estFlow, &v); code != 200 || !v.Valid || len(v.Issues) != 0 {
		t.Fatalf("validate: %d %s; want valid", code, data)
	}
	checkESTWarning(t, "validate", v.Warnings)

	var stored api.FlowStored
	if code, data := h.postYAML("/api/v1/flows", estFlow, &stored); code != 201 {
		t.Fatalf("store: %d %s", code, data)
	}
	checkESTWarning(t, "store", stored.Warnings)
	if tz := stored.Flow.Trigger["timezone"]; tz != "EST" {
		t.Errorf("stored trigger timezone = %v; want EST, as written", tz)
	}
	var again api.FlowStored
	if code, data := h.postYAML("/api/v1/flows", estFlow, &again); code != 201 || !again.Unchanged {
		t.Fatalf("store again: %d %s; want unchanged", code, data)
	}
	checkESTWarning(t, "store unchanged", again.Warnings)

	ny := strings.Replace(estFlow, "EST", "America/New_York", 1)
	if code, data := h.postYAML("/api/v1/flows", ny, nil); code != 201 || !strings.Contains(string(data), `"warnings": []`) {
		t.Errorf("store without warnings: %d %s; want warnings: []", code, data)
	}
	if code, data := h.postYAML("/api/v1/flows/validate", ny, nil); code != 200 || !strings.Contains(string(data), `"warnings": []`) {
		t.Errorf("validate without warnings: %d %s; want warnings: []", code, data)
	}

	bad := strings.Replace(estFlow, "search-devices", "search-device", 1)
	v = api.FlowValidation{}
	if code, data := h.postYAML("/api/v1/flows/validate", bad, &v); code != 200 || v.Valid || len(v.Issues) != 1 {
		t.Fatalf("validate: %d %s; want the unknown card", code, data)
	}
	checkESTWarning(t, "validate, invalid", v.Warnings)
	code, data := h.postYAML("/api/v1/flows", bad, nil)
	var refused struct {
		Error struct {
			Details struct {
				Warnings []api.FlowWarning `json:"warnings"`
			} `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &refused); code != 400 || err != nil {
		t.Fatalf("store invalid: %d %s", code, data)
	}
	checkESTWarning(t, "store, refused", refused.Error.Details.Warnings)
}

// TestStoredFlowWarnings: the plan of a document (POST
// /api/v1/flows/plan) and of a stored flow answer the document's
// warnings (never null), a refused document's in details.warnings; a
// stored flow's answers (GET /api/v1/flows/{id}, the list, enable) carry
// the warnings of its latest version, and leave them out when it has
// none.
func TestStoredFlowWarnings(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 3}, nil)
	h.connect("Prod")

	for _, body := range []map[string]any{{"source": estFlow}, {"source": estFlow, "trigger": map[string]any{"kind": "schedule"}}} {
		var plan api.Plan
		if code, data := h.call("POST", "/api/v1/flows/plan", body, &plan); code != 200 {
			t.Fatalf("plan the document %v: %d %s", body["trigger"], code, data)
		}
		checkESTWarning(t, fmt.Sprintf("plan the document, trigger %v", body["trigger"]), plan.Warnings)
	}
	bad := strings.Replace(estFlow, "search-devices", "search-device", 1)
	code, data := h.call("POST", "/api/v1/flows/plan", map[string]any{"source": bad}, nil)
	var refused struct {
		Error struct {
			Details struct {
				Warnings []api.FlowWarning `json:"warnings"`
			} `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &refused); code != 400 || err != nil {
		t.Fatalf("plan an invalid document: %d %s", code, data)
	}
	checkESTWarning(t, "plan an invalid document", refused.Error.Details.Warnings)

	var stored api.FlowStored
	if code, data := h.postYAML("/api/v1/flows", estFlow, &stored); code != 201 {
		t.Fatalf("store: %d %s", code, data)
	}
	id := stored.Flow.ID
	var plan api.Plan
	if code, data := h.call("POST", "/api/v1/flows/"+id+"/plan", map[string]any{}, &plan); code != 200 {
		t.Fatalf("plan the stored flow: %d %s", code, data)
	}
	checkESTWarning(t, "plan the stored flow", plan.Warnings)
	for _, path := range []string{"/api/v1/flows/" + id, "/api/v1/flows/est-nightly"} {
		var f api.Flow
		if code, data := h.call("GET", path, nil, &f); code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, data)
		}
		checkESTWarning(t, "GET "+path, f.Warnings)
	}
	var enabled api.Flow
	if code, data := h.call("POST", "/api/v1/flows/"+id+"/enable", nil, &enabled); code != 200 || !enabled.Enabled {
		t.Fatalf("enable: %d %s", code, data)
	}
	checkESTWarning(t, "enable", enabled.Warnings)

	ny := strings.NewReplacer("est-nightly", "ny-nightly", "EST", "America/New_York").Replace(estFlow)
	if code, data := h.postYAML("/api/v1/flows", ny, nil); code != 201 {
		t.Fatalf("store without warnings: %d %s", code, data)
	}
	var list api.FlowList
	if code, data := h.call("GET", "/api/v1/flows", nil, &list); code != 200 || len(list.Flows) != 2 {
		t.Fatalf("list: %d %s; want both flows", code, data)
	}
	for _, f := range list.Flows {
		switch f.Name {
		case "est-nightly":
			checkESTWarning(t, "list", f.Warnings)
		case "ny-nightly":
			if f.Warnings != nil {
				t.Errorf("list: ny-nightly has warnings %+v; want none", f.Warnings)
			}
		}
	}
	if code, data := h.call("GET", "/api/v1/flows/ny-nightly", nil, nil); code != 200 || strings.Contains(string(data), `"warnings"`) {
		t.Errorf("GET a flow without warnings: %d %s; want no warnings", code, data)
	}
	if code, data := h.call("POST", "/api/v1/flows/plan", map[string]any{"source": ny}, nil); code != 200 || !strings.Contains(string(data), `"warnings": []`) {
		t.Errorf("plan a document without warnings: %d %s; want warnings: []", code, data)
	}
}
