package app

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

const suspendOneFlow = `name: suspend-one
inputs:
  deviceId: {type: string, required: true}
  status: {type: string}
steps:
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod
    input:
      deviceId: '${{ inputs.deviceId }}'
      status: '${{ has(inputs.status) ? inputs.status : "" }}'
`

// TestPlanIsAudited: every plan leaves a flow.plan audit event of who
// planned which flow with which connection, its outcome and how many
// changes it predicted, also a plan made only of manage steps, which
// records no card run: a manage step whose device's status the flow does
// not know reads the device at Okta with the connection's token to
// predict, and the event counts those reads; one given the status reads
// nothing. The event names the plan (plans=only lists it).
func TestPlanIsAudited(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 3}, nil)
	conn := h.connect("Prod")
	device := h.deviceWithStatus("Prod", "ACTIVE")
	var put putAnswer
	if code, data := h.postYAML("/api/v1/flows", suspendOneFlow, &put); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	plan := func(path string, body map[string]any) {
		t.Helper()
		if code, data := h.call("POST", path, body, nil); code != http.StatusOK {
			t.Fatalf("plan %s: %d %s", path, code, data)
		}
	}
	plan("/api/v1/flows/"+put.Flow.ID+"/plan", map[string]any{"inputs": map[string]any{"deviceId": device}})
	plan("/api/v1/flows/"+put.Flow.ID+"/plan", map[string]any{"inputs": map[string]any{"deviceId": device, "status": "ACTIVE"}})
	plan("/api/v1/flows/plan", map[string]any{"source": suspendOneFlow, "inputs": map[string]any{"deviceId": "no-such-device"}})

	events := h.audit("action=flow.plan")
	if len(events) != 3 {
		t.Fatalf("flow.plan events: %v; want one per plan", events)
	}
	stored := fmt.Sprint(map[string]any{"flowId": put.Flow.ID, "flowName": "suspend-one"})
	for i, want := range []struct{ plan, summary string }{
		{stored, "flow suspend-one (" + put.Flow.ID + "); 1 change predicted; 1 device read at Okta to predict"},
		{stored, "flow suspend-one (" + put.Flow.ID + "); 1 change predicted"},
		{fmt.Sprint(map[string]any{"flowName": "suspend-one"}), "flow suspend-one (a document not stored); 0 changes predicted; 1 item not planned; 1 device read at Okta to predict"},
	} {
		e := events[i]
		if fmt.Sprint(e["plan"]) != want.plan || e["inputSummary"] != want.summary || e["connectionId"] != conn.ID || e["actingAs"] != "admin@example.com" ||
			e["outcome"] != "success" || fmt.Sprint(e["actor"]) != "map[type:bootstrap]" {
			t.Errorf("flow.plan event %d: %v; want plan %s, summary %q, connection %s acting as admin@example.com, success, by the bootstrap admin", i, e, want.plan, want.summary, conn.ID)
		}
	}
	if got := h.audit("connection=" + conn.ID + "&plans=only"); len(got) != 3 || got[0]["action"] != "flow.plan" {
		t.Errorf("audit?connection=%s&plans=only: %v; want the three plans", conn.ID, got)
	}
	if got := h.audit("action=card.run&plans=only"); len(got) != 0 {
		t.Errorf("card.run events of plans: %v; want none (the flow has no read step)", got)
	}
	// A filter no event can match is refused, saying why.
	for q, want := range map[string]string{
		"action=flow.plan&plans=exclude":      "every flow.plan event is a flow plan's: plans=exclude leaves them all out",
		"action=connection.create&plans=only": "no connection.create event is a flow plan's: flow plans make only card.run and flow.plan events",
	} {
		if code, data := h.call("GET", "/api/v1/audit?"+q, nil, nil); code != http.StatusBadRequest || !strings.Contains(string(data), want) || !strings.Contains(string(data), `"field": "plans"`) {
			t.Errorf("audit?%s: %d %s; want 400 saying %q", q, code, data, want)
		}
	}
}
