package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestEnableWithoutTriggerSaysRun: Enable sent from a stale page of a flow
// stored again without a trigger is refused with the console's way to
// start it (Run), not the API's request or the command line's.
func TestEnableWithoutTriggerSaysRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	c, _, csrf := signInHTTP(t, e.url, "/flows/"+flowID)
	resp, body := post(t, c, e.url+"/flows/"+flowID+"/enable", url.Values{"csrf": {csrf}}, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "has no trigger") || !strings.Contains(body, "start it with Run below") {
		t.Errorf("status %d; want 400 saying the flow has no trigger and to start it with Run:\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "/api/v1/") || strings.Contains(body, "cardflow flows") {
		t.Errorf("the page gives the API's or command line's advice:\n%s", body)
	}
}
