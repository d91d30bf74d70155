package console_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/chromedp/chromedp"
)

// startedByOf is the text of the Started by cell of the card run list
// row of body that links to the run id; ok is false when no row does.
func startedByOf(body, id string) (string, bool) {
	for _, row := range regexp.MustCompile(`(?s)<tr[ >].*?</tr>`).FindAllString(body, -1) {
		if !strings.Contains(row, `href="/runs/`+id+`"`) {
			continue
		}
		m := regexp.MustCompile(`(?s)data-label="Started by">(.*?)</td>`).FindStringSubmatch(row)
		if m == nil {
			return "", true
		}
		return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(m[1], "")), true
	}
	return "", false
}

// TestCardRunsStartedBy: the card run lists (Runs, a connection's recent
// runs) say who or what started each run, as the flow run lists do: the
// person who ran the card, and for a card run of a flow run what started
// that: its person, its rerun, its schedule. A run's page says it too.
func TestCardRunsStartedBy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	prod := e.connect(t, "Prod", nil)
	code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json", `{"card":"okta-devices/search-devices","connection":"Prod","input":{}}`)
	var direct struct{ ID string }
	if code/100 != 2 || json.Unmarshal([]byte(out), &direct) != nil || direct.ID == "" {
		t.Fatalf("run a card: %d %s", code, out)
	}
	nightly := e.storeFlow(t, nightlyFlow)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+nightly+"/enable", "", ""); code != http.StatusOK {
		t.Fatalf("enable %s: %d %s", nightly, code, out)
	}
	fl, err := e.store.GetFlow(ctx, nightly)
	if err != nil {
		t.Fatal(err)
	}
	scheduled, _, err := e.app.Flows.StartTriggered(ctx, fl, flow.Firing{Kind: flow.KindSchedule, Time: time.Date(2026, 1, 2, 1, 0, 0, 0, time.UTC)}, "test-tick")
	if err != nil {
		t.Fatalf("start the scheduled run: %v", err)
	}
	ended := func(id string) {
		t.Helper()
		waitUntil(t, "the end of flow run "+id, func() bool {
			r, err := e.store.GetFlowRun(ctx, id)
			return err == nil && (r.Status == "succeeded" || r.Status == "failed")
		})
	}
	ended(scheduled.ID)
	code, out = e.api(t, http.MethodPost, "/api/v1/flow-runs/"+scheduled.ID+"/rerun", "application/json", `{}`)
	var rerun struct{ ID string }
	if code/100 != 2 || json.Unmarshal([]byte(out), &rerun) != nil || rerun.ID == "" {
		t.Fatalf("rerun the scheduled run: %d %s", code, out)
	}
	ended(rerun.ID)
	cardRun := func(flowRunID string) string {
		t.Helper()
		runs, err := e.store.ListRuns(ctx, store.RunFilter{FlowRunID: flowRunID})
		if err != nil || len(runs) != 1 {
			t.Fatalf("card runs of flow run %s: %v, %v; want one", flowRunID, runs, err)
		}
		return runs[0].ID
	}

	c, _, _ := signInHTTP(t, e.url, "/runs")
	_, runsPage := get(t, c, e.url+"/runs")
	_, connPage := get(t, c, e.url+"/connections/"+prod.ID)
	for _, tc := range []struct{ name, id, want string }{
		{"run by hand", direct.ID, "bootstrap admin"},
		{"run of a scheduled flow run", cardRun(scheduled.ID), "schedule (cron 0 2 * * * Europe/Berlin)"},
		{"run of a rerun", cardRun(rerun.ID), "bootstrap admin (rerun)"},
	} {
		for _, page := range []struct{ name, body string }{{"Runs page", runsPage}, {"connection's page", connPage}} {
			got, ok := startedByOf(page.body, tc.id)
			if !ok {
				t.Errorf("%s: the %s lists no run %s:\n%s", tc.name, page.name, tc.id, page.body)
			} else if got != tc.want {
				t.Errorf("%s: the %s says it was started by %q; want %q", tc.name, page.name, got, tc.want)
			}
		}
		_, detail := get(t, c, e.url+"/runs/"+tc.id)
		if w := `<dt>Started by</dt><dd id="run-started-by">` + tc.want + `</dd>`; !strings.Contains(detail, w) {
			t.Errorf("%s: the run's page lacks %s:\n%s", tc.name, w, detail)
		}
	}
}

// TestBrowserRunTimesOnOneLine: at 1280 px the card run lists (Runs, a
// connection's recent runs) show each run's start on one line, as the
// audit log and the flow run lists do, beside the Started by column.
func TestBrowserRunTimesOnOneLine(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", `{}`); code != http.StatusOK {
		t.Fatalf("run the flow: %d %s", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	for name, path := range map[string]string{"runs": "/runs", "connection": "/connections/" + prod.ID} {
		b.open(path)
		lines := eval[[]int](b, "count the lines of the Started cells", `[...document.querySelectorAll('td[data-label="Started"]')].map(td => {
			const r = document.createRange(); r.selectNodeContents(td); return new Set([...r.getClientRects()].map(c => Math.round(c.top))).size })`)
		if len(lines) == 0 {
			b.fatalf("%s lists no runs", path)
		}
		b.screenshot("run-list-desktop-" + name)
		for i, n := range lines {
			if n != 1 {
				b.screenshot("run-times-wrap")
				t.Errorf("%s: the start of run %d takes %d lines; want 1", path, i+1, n)
				break
			}
		}
	}
}
