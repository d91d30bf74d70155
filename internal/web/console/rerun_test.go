package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestRerunFlowRun: the page of a finished flow run offers Rerun, and for
// a run that failed Rerun failed items, as the API and cardflow flows
// rerun do: the new run runs only the failed items again, and the page of
// a run that succeeded offers Rerun alone. A viewer is offered neither.
func TestRerunFlowRun(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	ctx := context.Background()
	prod := e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	// Devices that are not active cannot be suspended: their items fail.
	code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", `{}`)
	var orig struct{ ID, Status string }
	if err := json.Unmarshal([]byte(out), &orig); code != http.StatusOK || err != nil || orig.Status != "failed" {
		t.Fatalf("run the flow: %d %s; want it failed", code, out)
	}
	steps, err := e.store.ListFlowSteps(ctx, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, st := range steps {
		failed += st.Failed
	}
	if failed == 0 {
		t.Fatalf("the run %s failed no item", orig.ID)
	}

	c, _, csrf := signInHTTP(t, e.url, "/flows")
	_, page := get(t, c, e.url+"/flow-runs/"+orig.ID)
	for _, w := range []string{`<form method="post" action="/flow-runs/` + orig.ID + `/rerun" id="rerun" class="card-meta">`,
		`<button type="submit" name="failedOnly" value="true">Rerun failed items</button>`, `<button type="submit">Rerun</button>`} {
		if !strings.Contains(page, w) {
			t.Errorf("the failed run's page lacks %s:\n%s", w, page)
		}
	}
	viewer := ssoSignInHTTP(t, e, oktaemu.UserLogin)
	if _, page := get(t, viewer, e.url+"/flow-runs/"+orig.ID); strings.Contains(page, "/rerun") {
		t.Errorf("a viewer's page of the run offers a rerun:\n%s", page)
	}

	resp, _ := post(t, c, e.url+"/flow-runs/"+orig.ID+"/rerun", url.Values{"csrf": {csrf}, "failedOnly": {"true"}}, nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/flow-runs/") || loc == "/flow-runs/"+orig.ID {
		t.Fatalf("Rerun failed items: status %d to %q; want 303 to the new run", resp.StatusCode, loc)
	}
	rerunID := strings.TrimPrefix(loc, "/flow-runs/")
	waitUntil(t, "the rerun's end", func() bool {
		r, err := e.store.GetFlowRun(ctx, rerunID)
		return err == nil && (r.Status == "succeeded" || r.Status == "failed")
	})
	rerun, err := e.store.GetFlowRun(ctx, rerunID)
	if err != nil || rerun.RerunOf != orig.ID || rerun.Actor.Type != store.ActorBootstrap {
		t.Fatalf("the new run %+v, %v; want a rerun of %s by the bootstrap admin", rerun, err, orig.ID)
	}
	if runs, err := e.store.ListRuns(ctx, store.RunFilter{FlowRunID: rerunID}); err != nil || len(runs) != failed {
		t.Errorf("the rerun of the failed items made %d card runs (%v); want %d, one for each failed item", len(runs), err, failed)
	}

	// A run that succeeded has nothing failed to run again.
	readFlow := e.storeFlow(t, "name: read-all\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Prod\n")
	code, out = e.api(t, http.MethodPost, "/api/v1/flows/"+readFlow+"/runs?wait=true", "application/json", `{}`)
	var good struct{ ID, Status string }
	if err := json.Unmarshal([]byte(out), &good); code != http.StatusOK || err != nil || good.Status != "succeeded" {
		t.Fatalf("run read-all: %d %s; want it succeeded", code, out)
	}
	_, page = get(t, c, e.url+"/flow-runs/"+good.ID)
	if !strings.Contains(page, `<button type="submit">Rerun</button>`) || strings.Contains(page, "Rerun failed items") {
		t.Errorf("the succeeded run's page does not offer Rerun alone:\n%s", page)
	}
	resp, body := post(t, c, e.url+"/flow-runs/"+good.ID+"/rerun", url.Values{"csrf": {csrf}, "failedOnly": {"true"}}, nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, `<a href="/flow-runs/`+good.ID+`">Back to the run</a>`) {
		t.Errorf("Rerun failed items of a run that succeeded (a stale page): status %d; want 409 and a way back to the run:\n%s", resp.StatusCode, body)
	}
	resp, _ = post(t, c, e.url+"/flow-runs/"+good.ID+"/rerun", url.Values{"csrf": {csrf}}, nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/flow-runs/") || loc == "/flow-runs/"+good.ID {
		t.Errorf("Rerun of the run that succeeded: status %d to %q; want 303 to the new run", resp.StatusCode, loc)
	}

	// A version that no longer validates (its connection needs
	// reauthorizing) is not run again: the page says why and leads back to
	// the run.
	if err := e.store.UpdateConnection(ctx, prod.ID, func(c *store.Connection) error {
		c.Status, c.StatusReason = store.StatusNeedsReauthorization, "Okta refused the refresh token (invalid_grant)"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	resp, body = post(t, c, e.url+"/flow-runs/"+good.ID+"/rerun", url.Values{"csrf": {csrf}}, nil)
	for _, w := range []string{"<h1>Not run again</h1>", `Connection &#34;Prod&#34; needs reauthorization`, `<a href="/flow-runs/` + good.ID + `">Back to the run</a>`} {
		if !strings.Contains(body, w) {
			t.Errorf("Rerun of a version whose connection needs reauthorizing (status %d) lacks %s:\n%s", resp.StatusCode, w, body)
		}
	}
	if resp.StatusCode/100 != 4 {
		t.Errorf("Rerun of a version whose connection needs reauthorizing: status %d; want 4xx", resp.StatusCode)
	}
}

// TestRerunAsksFirst: Rerun (and Rerun failed items) of a run whose
// version has a step that cannot be undone (Deactivate Device) asks first,
// naming the step, as Run on the flow's page does, where one press ran it
// again at once; the question's own button reruns it (its failed items
// only, when that was asked), and Cancel leads back to the run.
func TestRerunAsksFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, retireFlow)
	code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", `{"inputs":{"deviceId":"guo-none"}}`)
	var orig struct{ ID, Status string }
	if err := json.Unmarshal([]byte(out), &orig); code != http.StatusOK || err != nil || orig.Status != "failed" {
		t.Fatalf("run the flow: %d %s; want it failed", code, out)
	}
	runs := func() int {
		t.Helper()
		rs, err := e.store.ListFlowRuns(t.Context(), flowID, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	c, _, csrf := signInHTTP(t, e.url, "/flows")
	for _, tc := range []struct {
		failedOnly, title, button string
	}{
		{"", "Run retire-device again?", `<button type="submit" class="button-danger">Rerun</button>`},
		{"true", "Run the failed items of retire-device again?", `<button type="submit" class="button-danger">Rerun failed items</button>`},
	} {
		resp, page := post(t, c, e.url+"/flow-runs/"+orig.ID+"/rerun", url.Values{"csrf": {csrf}, "failedOnly": {tc.failedOnly}}, nil)
		if resp.StatusCode != http.StatusOK || runs() != 1 {
			t.Fatalf("Rerun (failedOnly %q): status %d to %q, %d runs; want 200 asking first, the one run", tc.failedOnly, resp.StatusCode, resp.Header.Get("Location"), runs())
		}
		for _, w := range []string{"<h1>" + tc.title + "</h1>", "Step <code>retire</code> (<code>okta-devices/deactivate-device</code>)", tc.button,
			`<input type="hidden" name="confirmed" value="yes">`, `<a href="/flow-runs/` + orig.ID + `" class="button-quiet">Cancel</a>`} {
			if !strings.Contains(page, w) {
				t.Errorf("the question of Rerun (failedOnly %q) lacks %s:\n%s", tc.failedOnly, w, page)
			}
		}
		if has := strings.Contains(page, `<input type="hidden" name="failedOnly" value="true">`); has != (tc.failedOnly == "true") {
			t.Errorf("the question of Rerun (failedOnly %q) keeps failedOnly: %v", tc.failedOnly, has)
		}
	}
	resp, _ := post(t, c, e.url+"/flow-runs/"+orig.ID+"/rerun", url.Values{"csrf": {csrf}, "failedOnly": {"true"}, "confirmed": {"yes"}}, nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/flow-runs/") || loc == "/flow-runs/"+orig.ID || runs() != 2 {
		t.Fatalf("Rerun failed items, confirmed: status %d to %q, %d runs; want 303 to a new run", resp.StatusCode, loc, runs())
	}
}
