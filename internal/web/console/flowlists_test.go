package console_test

import (
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

const missingDeviceFlow = `name: read-a-gone-device
steps:
  - id: read
    card: okta-devices/read-device
    connection: Prod
    input:
      deviceId: guoGONE0000000000000
`

// rowOf is the text of the table row of body that contains needle, tags
// taken out and spaces folded; "" when no row does.
func rowOf(body, needle string) string {
	for _, row := range regexp.MustCompile(`(?s)<tr[ >].*?</tr>`).FindAllString(body, -1) {
		// A word wrapped in spans and <wbr> (breakable) reads whole.
		text := regexp.MustCompile(`</?span[^>]*>|<wbr>`).ReplaceAllString(row, "")
		text = html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(text, " "))
		text = strings.Join(strings.Fields(text), " ")
		if strings.Contains(text, needle) {
			return text
		}
	}
	return ""
}

// TestFailedFlowRunSaysWhyInLists: a run that failed because a step's
// items failed has no error of its own; the lists of runs (the flows page
// and the flow's page) say which step failed and why, as its page does,
// instead of an empty Error column beside "Failed".
func TestFailedFlowRunSaysWhyInLists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, missingDeviceFlow)
	code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", `{}`)
	var run struct{ ID, Status, Error string }
	if err := json.Unmarshal([]byte(out), &run); code != http.StatusOK || err != nil || run.Status != "failed" {
		t.Fatalf("run the flow: %d %s; want it failed", code, out)
	}
	c, _, _ := signInHTTP(t, e.url, "/flows")
	for _, path := range []string{"/flows", "/flows/" + flowID} {
		_, body := get(t, c, e.url+path)
		row := rowOf(body, "queued")
		if !strings.Contains(row, "Failed") {
			t.Fatalf("%s: no row of the failed run; rows:\n%s", path, body)
		}
		if !strings.Contains(row, "step read: device guoGONE0000000000000 was not found") {
			t.Errorf("%s: the failed run's row reads %q; want the failed step and its error", path, row)
		}
	}
}
