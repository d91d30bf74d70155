package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestBrowserFlowVersions: a flow's page lists its stored versions, each
// version has a page with its document and links to its neighbours, a
// run's page links to the version it ran, and a version that does not
// exist gets a page that says which do.
func TestBrowserFlowVersions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	e.storeFlow(t, versionedFlow("first-draft"))
	flowID := e.storeFlow(t, versionedFlow("second-draft"))
	runID := e.runFlow(t, flowID, `{"inputs":{"ids":["guo1"]}}`)

	b := newTab(t, e)
	b.signIn()
	b.open("/flows/" + flowID)
	versions := strings.ToLower(b.text(`//*[@aria-label="Versions"]//table`)) // tags are upper case by CSS
	if !strings.Contains(versions, "version 2 current") || !strings.Contains(versions, "version 1") ||
		strings.Index(versions, "version 2") > strings.Index(versions, "version 1") {
		t.Errorf("the versions table reads %q; want version 2 (current) above version 1", versions)
	}

	b.click(link("Version 1"))
	src := b.text(`//*[@id="flow-version-source"]`)
	if !strings.Contains(src, "first-draft") || strings.Contains(src, "second-draft") {
		t.Errorf("version 1's document reads %q; want the first document", src)
	}
	b.wantText("An earlier version", "The current version is version 2.")
	b.click(`//nav[@aria-label="Other versions"]//a[@rel="next"]`)
	if src := b.text(`//*[@id="flow-version-source"]`); !strings.Contains(src, "second-draft") {
		t.Errorf("version 2's document reads %q; want the second document", src)
	}
	b.wantText("This is the flow's current version")
	if nav := b.text(`//nav[@aria-label="Other versions"]`); nav != "← Version 1" {
		t.Errorf("the current version's page links %q; want only the older version 1", nav)
	}

	b.open("/flow-runs/" + runID)
	b.click(link("Version 2"))
	if loc := b.location(); !strings.HasSuffix(loc, "/flows/"+flowID+"/versions/2") {
		t.Errorf("the run's version link leads to %s; want version 2's page", loc)
	}

	b.open("/flows/" + flowID + "/versions/9")
	b.wantText("Not found", "has no version 9: its versions are 1 to 2", "Back to versioned")
	b.open("/flows/" + flowID + "/versions/latest")
	b.wantText("Not found", "whole number from 1")
}

// storeFlow stores a flow document through the API and returns the
// flow's id.
func (e *env) storeFlow(t *testing.T, doc string) string {
	t.Helper()
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	code, body := e.api(t, http.MethodPost, "/api/v1/flows", "application/yaml", doc)
	if code != http.StatusCreated || json.Unmarshal([]byte(body), &stored) != nil || stored.Flow.ID == "" {
		t.Fatalf("store the flow: %d %s", code, body)
	}
	return stored.Flow.ID
}

// runFlow runs a stored flow through the API with the JSON request body,
// waits for it, and returns the run's id; the run must succeed.
func (e *env) runFlow(t *testing.T, flowID, body string) string {
	t.Helper()
	code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", body)
	var run struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(out), &run) != nil || run.Status != "succeeded" {
		t.Fatalf("run flow %s: %d %s", flowID, code, out)
	}
	return run.ID
}

// versionedFlow is pagedFlow named versioned, with a description that
// tells its versions apart; its one step is skipped, so running it calls
// no card.
func versionedFlow(description string) string {
	return strings.Replace(pagedFlow, "name: many-items\n", "name: versioned\ndescription: "+description+"\n", 1)
}
