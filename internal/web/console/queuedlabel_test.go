package console_test

import (
	"net/http"
	"regexp"
	"testing"
)

// TestFlowRunListsSayQueued: the flow runs tables of a flow's page and
// the Flows page head the time a run was queued "Queued", as the run's
// own page and cardflow flows runs (QUEUED) do and as its link reads to a
// screen reader ("queued ..."), where the column said Created.
func TestFlowRunListsSayQueued(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, missingDeviceFlow)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", `{}`); code != http.StatusOK {
		t.Fatalf("run the flow: %d %s", code, out)
	}
	c, _, _ := signInHTTP(t, e.url, "/flows")
	heads := regexp.MustCompile(`<th role="columnheader" scope="col">([^<]*)</th>`)
	for _, path := range []string{"/flows/" + flowID, "/flows"} {
		_, body := get(t, c, e.url+path)
		i := regexp.MustCompile(`aria-label="Flow runs"`).FindStringIndex(body)
		if i == nil {
			t.Fatalf("%s has no flow runs table:\n%s", path, body)
		}
		var got []string
		for _, m := range heads.FindAllStringSubmatch(body[i[1]:], 8) {
			got = append(got, m[1])
		}
		want := map[string]bool{}
		for _, h := range got {
			want[h] = true
		}
		if !want["Queued"] || want["Created"] {
			t.Errorf("%s: the flow runs table's columns are %q; want Queued, not Created", path, got)
		}
	}
}
