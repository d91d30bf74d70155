package app

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestPlanReadsNameTheirPlan: the card runs a plan's read steps make, and
// their card.run audit events, name the flow planned (its id when
// stored) beside who planned it, and the run list and the audit log list
// them with the others or filter them out (plans=exclude) or in
// (plans=only); a card run of no plan names none. They read as ordinary
// card runs that nobody ran.
func TestPlanReadsNameTheirPlan(t *testing.T) {
	t.Parallel()
	clock := emutest.NewClock(time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC))
	h := startHarness(t, oktaemu.Config{Devices: 2}, func(c *Config) { c.Now = clock.Now })
	h.connect("Prod")
	var put putAnswer
	if code, data := h.postYAML("/api/v1/flows", scheduledFlow, &put); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	inputs := map[string]any{"since": "2025-01-01T00:00:00.000Z"}
	if code, data := h.call("POST", "/api/v1/flows/"+put.Flow.ID+"/plan", map[string]any{"inputs": inputs}, nil); code != http.StatusOK {
		t.Fatalf("plan the stored flow: %d %s", code, data)
	}
	clock.Advance(time.Second) // the lists' order: by start
	if code, data := h.call("POST", "/api/v1/flows/plan", map[string]any{"source": scheduledFlow, "inputs": inputs}, nil); code != http.StatusOK {
		t.Fatalf("plan the document: %d %s", code, data)
	}
	clock.Advance(time.Second)
	var direct struct{ ID string }
	if code, data := h.call("POST", "/api/v1/runs", map[string]any{"card": "okta-devices/search-devices", "connection": "Prod", "input": map[string]any{}}, &direct); code != http.StatusCreated {
		t.Fatalf("run the card: %d %s", code, data)
	}

	type runJSON struct {
		ID    string
		Card  string
		Actor map[string]any
		Plan  map[string]any
	}
	list := func(query string) []runJSON {
		t.Helper()
		var out struct{ Runs []runJSON }
		if code, data := h.call("GET", "/api/v1/runs"+query, nil, &out); code != http.StatusOK {
			t.Fatalf("runs%s: %d %s", query, code, data)
		}
		return out.Runs
	}
	stored := map[string]any{"flowId": put.Flow.ID, "flowName": "minutely-read"}
	document := map[string]any{"flowName": "minutely-read"}
	all := list("")
	if len(all) != 3 {
		t.Fatalf("runs: %+v; want the direct run and the search of each plan", all)
	}
	for i, want := range []map[string]any{nil, document, stored} {
		if r := all[i]; fmt.Sprint(r.Plan) != fmt.Sprint(want) || fmt.Sprint(r.Actor) != "map[type:bootstrap]" {
			t.Errorf("run %d: plan %v, actor %v; want plan %v, by the bootstrap admin", i, r.Plan, r.Actor, want)
		}
	}
	var one runJSON
	if code, data := h.call("GET", "/api/v1/runs/"+all[2].ID, nil, &one); code != http.StatusOK || fmt.Sprint(one.Plan) != fmt.Sprint(stored) {
		t.Errorf("the stored flow's plan read: %d %s; want its plan %v", code, data, stored)
	}
	if got := list("?plans=exclude"); len(got) != 1 || got[0].ID != direct.ID {
		t.Errorf("runs?plans=exclude: %+v; want only the direct run %s", got, direct.ID)
	}
	if got := list("?plans=only&limit=1"); len(got) != 1 || got[0].ID != all[1].ID {
		t.Errorf("runs?plans=only&limit=1: %+v; want the newest plan read %s", got, all[1].ID)
	}
	var page struct{ Next string }
	h.call("GET", "/api/v1/runs?plans=only&limit=1", nil, &page)
	if got := list(page.Next[len("/api/v1/runs"):]); len(got) != 1 || got[0].ID != all[2].ID {
		t.Errorf("the next page of runs?plans=only&limit=1 (%s): %+v; want the older plan read %s", page.Next, got, all[2].ID)
	}
	if got := list("?plans=include"); len(got) != 3 {
		t.Errorf("runs?plans=include: %d runs; want 3", len(got))
	}
	var bad apiErr
	if code, _ := h.call("GET", "/api/v1/runs?plans=hide", nil, &bad); code != http.StatusBadRequest || bad.Error.Details["field"] != "plans" {
		t.Errorf("runs?plans=hide: %d %+v; want 400 on the field plans", code, bad)
	}

	events := h.audit("action=card.run")
	if len(events) != 3 {
		t.Fatalf("card.run events: %v; want 3", events)
	}
	for i, want := range []map[string]any{stored, document, nil} { // oldest first
		got, ok := events[i]["plan"].(map[string]any)
		if ok != (want != nil) || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("card.run event %d: plan %v; want %v", i, events[i]["plan"], want)
		}
	}
	if got := h.audit("action=card.run&plans=exclude"); len(got) != 1 || got[0]["plan"] != nil {
		t.Errorf("audit?action=card.run&plans=exclude: %v; want the direct run's event alone", got)
	}
	if got := h.audit("plans=only"); len(got) != 4 {
		t.Errorf("audit?plans=only: %v; want the two plans' reads and the two plans (flow.plan)", got)
	}
	if code, _ := h.call("GET", "/api/v1/audit?plans=hide", nil, &bad); code != http.StatusBadRequest {
		t.Errorf("audit?plans=hide: %d; want 400", code)
	}
}
