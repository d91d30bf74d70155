package console_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

// TestPlanReadsLabelled: the Runs page and the Audit page label the card
// run a flow plan's read step made "plan" (of which flow), and its page
// says it was a read of a plan of that flow, linked; a run of no plan has
// no label. Plan reads read as card runs somebody ran.
func TestPlanReadsLabelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/plan", "application/json", `{}`); code != http.StatusOK {
		t.Fatalf("plan: %d %s", code, out)
	}
	if code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json", `{"card":"okta-devices/search-devices","connection":"Prod","input":{}}`); code/100 != 2 {
		t.Fatalf("run a card: %d %s", code, out)
	}
	runs, err := e.store.ListRuns(ctx, store.RunFilter{})
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs: %v %v; want the plan's search and the card run", runs, err)
	}
	var planned, direct string
	for _, r := range runs {
		if r.Plan.IsZero() {
			direct = r.ID
		} else {
			planned = r.ID
		}
	}
	const label = `<span class="tag">plan</span> <span class="muted">of suspend-everything</span>`

	c, _, _ := signInHTTP(t, e.url, "/runs")
	_, runsPage := get(t, c, e.url+"/runs")
	for _, row := range regexp.MustCompile(`(?s)<tr[ >].*?</tr>`).FindAllString(runsPage, -1) {
		switch {
		case strings.Contains(row, `href="/runs/`+planned+`"`) && !strings.Contains(row, label):
			t.Errorf("the Runs page's row of the plan's search lacks %s:\n%s", label, row)
		case strings.Contains(row, `href="/runs/`+direct+`"`) && strings.Contains(row, `class="tag"`):
			t.Errorf("the Runs page's row of the card run has a label:\n%s", row)
		}
	}
	_, detail := get(t, c, e.url+"/runs/"+planned)
	if w := `<dt>Plan</dt><dd id="run-plan">a read of a plan of flow <a href="/flows/` + flowID + `">suspend-everything</a>, which changed nothing</dd>`; !strings.Contains(detail, w) {
		t.Errorf("the plan's search's page lacks %s:\n%s", w, detail)
	}
	if _, detail := get(t, c, e.url+"/runs/"+direct); strings.Contains(detail, `id="run-plan"`) {
		t.Errorf("the card run's page names a plan:\n%s", detail)
	}
	_, audit := get(t, c, e.url+"/audit?action=card.run")
	if n := strings.Count(audit, label); n != 1 {
		t.Errorf("the Audit page labels %d card.run events as a plan's; want 1:\n%s", n, audit)
	}
}
