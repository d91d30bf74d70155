package app

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestPlanCardRunsNameWhoPlanned: the card runs of a plan's read steps
// are audited under whoever asked for the plan, for a stored flow, a
// document sent to be planned and the run of a schedule's next tick, as a
// flow run's are under whoever started it; they were audited without an
// actor.
func TestPlanCardRunsNameWhoPlanned(t *testing.T) {
	t.Parallel()
	clock := emutest.NewClock(time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC))
	h := startHarness(t, oktaemu.Config{Devices: 2}, func(c *Config) { c.Now = clock.Now })
	h.connect("Prod")
	var put putAnswer
	if code, data := h.postYAML("/api/v1/flows", scheduledFlow, &put); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	inputs := map[string]any{"inputs": map[string]any{"since": "2025-01-01T00:00:00.000Z"}}
	for _, plan := range []func() (int, []byte){
		func() (int, []byte) { return h.call("POST", "/api/v1/flows/"+put.Flow.ID+"/plan", inputs, nil) },
		func() (int, []byte) {
			return h.call("POST", "/api/v1/flows/"+put.Flow.ID+"/plan", map[string]any{"trigger": map[string]any{"kind": "schedule"}}, nil)
		},
		func() (int, []byte) {
			return h.call("POST", "/api/v1/flows/plan", map[string]any{"source": scheduledFlow, "inputs": inputs["inputs"]}, nil)
		},
	} {
		if code, data := plan(); code != http.StatusOK {
			t.Fatalf("plan: %d %s", code, data)
		}
	}
	events := h.audit("action=card.run")
	if len(events) != 3 {
		t.Fatalf("card.run audit events: %d; want 3 (the search of each plan): %v", len(events), events)
	}
	for i, e := range events {
		if e["card"] != "okta-devices/search-devices" || fmt.Sprint(e["actor"]) != "map[type:bootstrap]" {
			t.Errorf("audit event of plan %d's search: %v; want the search, by the bootstrap admin who planned", i+1, e)
		}
	}
}
