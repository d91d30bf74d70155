package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestAPIErrorsHaveARemedy: every refusal of the API says how to fix it, in
// details.remedy, whatever the endpoint and the mistake.
func TestAPIErrorsHaveARemedy(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 2}, nil)
	h.connect("Prod")
	var put putAnswer
	if code, data := h.postYAML("/api/v1/flows", "name: find\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Prod\n", &put); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	var run struct {
		ID string `json:"id"`
	}
	if code, data := h.call("POST", "/api/v1/flows/find/runs?wait=true", map[string]any{}, &run); code/100 != 2 {
		t.Fatalf("flow run: %d %s", code, data)
	}

	tests := []struct {
		name         string
		method, path string
		body         any
		wantStatus   int
	}{
		{"limit out of range", "GET", "/api/v1/runs?limit=0", nil, 400},
		{"before not a time", "GET", "/api/v1/events?before=yesterday", nil, 400},
		{"beforeId without before", "GET", "/api/v1/flow-runs?beforeId=x", nil, 400},
		{"audit before not an id", "GET", "/api/v1/audit?before=x", nil, 400},
		{"unknown audit action", "GET", "/api/v1/audit?action=conection.create", nil, 400},
		{"unknown card filter", "GET", "/api/v1/runs?card=reboot-device", nil, 400},
		{"no such card run", "GET", "/api/v1/runs/nope", nil, 404},
		{"no such flow run", "GET", "/api/v1/flow-runs/nope", nil, 404},
		{"cancel no such flow run", "POST", "/api/v1/flow-runs/nope/cancel", map[string]any{}, 404},
		{"cancel a finished flow run", "POST", "/api/v1/flow-runs/" + run.ID + "/cancel", map[string]any{}, 409},
		{"items without step", "GET", "/api/v1/flow-runs/" + run.ID + "/items", nil, 400},
		{"items not a bool", "GET", "/api/v1/flow-runs/" + run.ID + "?items=some", nil, 400},
		{"wait not a bool", "POST", "/api/v1/flows/find/runs?wait=yes", map[string]any{}, 400},
		{"all not a bool", "GET", "/api/v1/tokens?all=yes", nil, 400},
		{"token without a name", "POST", "/api/v1/tokens", map[string]any{"name": ""}, 400},
		{"plan without a document", "POST", "/api/v1/flows/plan", map[string]any{"source": " "}, 400},
		{"unknown card", "POST", "/api/v1/runs", map[string]any{"card": "okta-devices/reboot-device", "connection": "Prod"}, 400},
		{"an event card run", "POST", "/api/v1/runs", map[string]any{"card": "okta-devices/device-activated", "connection": "Prod"}, 400},
		{"unknown body field", "POST", "/api/v1/runs", map[string]any{"card": "okta-devices/read-device", "conection": "Prod"}, 400},
		{"unknown query parameter", "GET", "/api/v1/flows?name=find", nil, 400},
		{"no such endpoint", "GET", "/api/v1/devices", nil, 404},
		{"method not allowed", "PUT", "/api/v1/runs", map[string]any{}, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiErr
			code, data := h.call(tt.method, tt.path, tt.body, &e)
			if code != tt.wantStatus || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%s %s: status %d; want %d with an error\n%s", tt.method, tt.path, code, tt.wantStatus, data)
			}
			if r, _ := e.Error.Details["remedy"].(string); r == "" {
				t.Errorf("%s %s: the error has no remedy\n%s", tt.method, tt.path, data)
			}
		})
	}

	// Flow names are unique ignoring case, as nicknames are: a name in
	// other capitals is refused and pointed at.
	var e apiErr
	code, data := h.call("POST", "/api/v1/flows", map[string]any{"source": "name: Find\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Prod\n"}, &e)
	if code != http.StatusConflict || e.Error.Code != "conflict" || e.Error.Details["remedy"] != `name the document "find" to store a new version of that flow, or choose another name` {
		t.Errorf("storing Find next to find: %d; want 409 conflict pointing at find\n%s", code, data)
	}
	code, data = h.call("GET", "/api/v1/flows/FIND/runs", nil, &e)
	if code != http.StatusNotFound || e.Error.Details["remedy"] != `flow names are exact: did you mean "find"?` {
		t.Errorf("GET FIND's runs: %d; want 404 asking whether find was meant\n%s", code, data)
	}
	// A misspelt flow name or nickname is pointed at the nearest one.
	code, data = h.call("GET", "/api/v1/flows/fnd/runs", nil, &e)
	if code != http.StatusNotFound || e.Error.Details["remedy"] != `did you mean "find"?` {
		t.Errorf("GET fnd's runs: %d; want 404 asking whether find was meant\n%s", code, data)
	}
	code, data = h.call("GET", "/api/v1/connections/Prd", nil, &e)
	if code != http.StatusNotFound || e.Error.Details["remedy"] != `did you mean "Prod"?` {
		t.Errorf("GET the connection Prd: %d; want 404 asking whether Prod was meant\n%s", code, data)
	}
	// A misspelt query parameter is pointed at the one meant.
	code, data = h.call("GET", "/api/v1/runs?conection=Prod", nil, &e)
	if code != http.StatusBadRequest || e.Error.Details["remedy"] != "did you mean connection?" {
		t.Errorf("GET runs?conection=: %d; want 400 suggesting connection\n%s", code, data)
	}
	// An audit action misspelt is refused with the actions there are,
	// not answered with an empty list.
	code, data = h.call("GET", "/api/v1/audit?action=card.runs", nil, &e)
	if r, _ := e.Error.Details["remedy"].(string); code != http.StatusBadRequest || !strings.HasPrefix(r, "did you mean card.run? The actions: card.run, connection.authorize,") {
		t.Errorf("GET the audit of card.runs: %d; want 400 suggesting card.run and listing the actions\n%s", code, data)
	}
	code, data = h.call("GET", "/api/v1/audit?action=reboot", nil, &e)
	if r, _ := e.Error.Details["remedy"].(string); code != http.StatusBadRequest || !strings.HasPrefix(r, "use one of card.run, connection.authorize,") {
		t.Errorf("GET the audit of reboot: %d; want 400 listing the actions\n%s", code, data)
	}
	// A card named without its connector is pointed at its full name.
	code, data = h.call("POST", "/api/v1/runs", map[string]any{"card": "read-device", "connection": "Prod", "input": map[string]any{"deviceId": "x"}}, &e)
	if code != http.StatusBadRequest || e.Error.Details["remedy"] != "write it as connector/card: okta-devices/read-device" {
		t.Errorf("POST a run of read-device: %d; want 400 saying okta-devices/read-device\n%s", code, data)
	}
	// A flow whose connection needs reauthorization is refused with that
	// code, as a card run on it is, not as an invalid document.
	if code, data := h.call("PATCH", "/api/v1/connections/Prod", map[string]any{"clientSecret": oktaemu.DemoClientSecret}, nil); code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", code, data)
	}
	code, data = h.call("POST", "/api/v1/flows/find/runs", map[string]any{}, &e)
	if code != http.StatusConflict || e.Error.Code != "needs_reauthorization" || e.Error.Details["remedy"] == nil {
		t.Errorf("running a flow on a connection that needs reauthorization: %d; want 409 needs_reauthorization\n%s", code, data)
	}
	var v struct {
		Valid bool   `json:"valid"`
		Code  string `json:"code"`
	}
	code, data = h.call("POST", "/api/v1/flows/validate", map[string]any{"source": "name: find\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Prod\n"}, &v)
	if code != http.StatusOK || v.Valid || v.Code != "needs_reauthorization" {
		t.Errorf("validating it: %d; want 200, not valid, code needs_reauthorization\n%s", code, data)
	}
	// One whose connection waits for its first sign-in is refused
	// connection_pending, as a card run on it is, where it was
	// needs_reauthorization: when planned, run or validated.
	h.create("Pending", oktaemu.DemoClientSecret, nil)
	pending := "name: p\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Pending\n"
	var cardRun api.Run
	code, data = h.call("POST", "/api/v1/runs", map[string]any{"card": "okta-devices/search-devices", "connection": "Pending", "input": map[string]any{}}, &cardRun)
	if code != http.StatusCreated || cardRun.Error == nil || cardRun.Error.Code != "connection_pending" {
		t.Errorf("a card run on a pending connection: %d; want it failed with connection_pending\n%s", code, data)
	}
	code, data = h.call("POST", "/api/v1/flows/plan", map[string]any{"source": pending}, &e)
	if code != http.StatusConflict || e.Error.Code != "connection_pending" || !strings.Contains(e.Error.Message, `connection "Pending" is not authorized yet (pending)`) {
		t.Errorf("planning a flow on a pending connection: %d; want 409 connection_pending\n%s", code, data)
	}
	if code, data := h.postYAML("/api/v1/flows", pending, nil); code != http.StatusCreated {
		t.Fatalf("store the flow on the pending connection: %d %s", code, data)
	}
	code, data = h.call("POST", "/api/v1/flows/p/runs", map[string]any{}, &e)
	if code != http.StatusConflict || e.Error.Code != "connection_pending" {
		t.Errorf("running a flow on a pending connection: %d; want 409 connection_pending\n%s", code, data)
	}
	code, data = h.call("POST", "/api/v1/flows/validate", map[string]any{"source": pending}, &v)
	if code != http.StatusOK || v.Valid || v.Code != "connection_pending" {
		t.Errorf("validating it: %d; want 200, not valid, code connection_pending\n%s", code, data)
	}
}
