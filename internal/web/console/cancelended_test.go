package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCancelOfAnEndedRun: Cancel sent from a stale page of a run that has
// ended is refused in the console's terms (Rerun on the run's page, a link
// back to it), not with the API's and the command line's rerun.
func TestCancelOfAnEndedRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", `{}`)
	var run struct{ ID, Status string }
	if err := json.Unmarshal([]byte(out), &run); code/100 != 2 || err != nil || run.ID == "" || (run.Status != "succeeded" && run.Status != "failed") {
		t.Fatalf("run the flow: %d %s; want a run that ended", code, out)
	}
	c, _, csrf := signInHTTP(t, e.url, "/flow-runs/"+run.ID)
	resp, body := post(t, c, e.url+"/flow-runs/"+run.ID+"/cancel", url.Values{"csrf": {csrf}}, nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "already ended") || !strings.Contains(body, "press Rerun on its page") ||
		!strings.Contains(body, `<a href="/flow-runs/`+run.ID+`"`) {
		t.Errorf("status %d; want 409 saying the run ended, to press Rerun, and a link back to the run:\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "/api/v1/") || strings.Contains(body, "cardflow flows") {
		t.Errorf("the page gives the API's or command line's advice:\n%s", body)
	}
}
