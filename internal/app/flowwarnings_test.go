package app

import (
	"encoding/json"
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

	checkEST := func(what string, ws []api.FlowWarning) {
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

	var v api.FlowValidation
	if code, data := h.postYAML("/api/v1/flows/validate", estFlow, &v); code != 200 || !v.Valid || len(v.Issues) != 0 {
		t.Fatalf("validate: %d %s; want valid", code, data)
	}
	checkEST("validate", v.Warnings)

	var stored api.FlowStored
	if code, data := h.postYAML("/api/v1/flows", estFlow, &stored); code != 201 {
		t.Fatalf("store: %d %s", code, data)
	}
	checkEST("store", stored.Warnings)
	if tz := stored.Flow.Trigger["timezone"]; tz != "EST" {
		t.Errorf("stored trigger timezone = %v; want EST, as written", tz)
	}
	var again api.FlowStored
	if code, data := h.postYAML("/api/v1/flows", estFlow, &again); code != 201 || !again.Unchanged {
		t.Fatalf("store again: %d %s; want unchanged", code, data)
	}
	checkEST("store unchanged", again.Warnings)

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
	checkEST("validate, invalid", v.Warnings)
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
	checkEST("store, refused", refused.Error.Details.Warnings)
}
