package console_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestPageAfterTheLastSaysNoOlder: a page of the Runs, Events and Flows
// pages and of a flow's page whose cursor is older than every entry (the
// entries it followed purged since, or a kept address) says that there is
// nothing older and links to the newest, where it said that there were no
// runs or events yet (and the Events page gave no way back) while the
// first page listed some.
func TestPageAfterTheLastSaysNoOlder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, missingDeviceFlow)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", `{}`); code != http.StatusOK {
		t.Fatalf("run the flow: %d %s", code, out)
	}
	c, _, _ := signInHTTP(t, e.url, "/runs")
	const older = "1_0000" // 1970: before every entry
	for _, tc := range []struct{ path, newest, yet, want string }{
		{"/runs?before=" + older, "/runs", "No runs yet", "No older runs."},
		{"/events?before=" + older, "/events", "No events yet", "No older events."},
		{"/flows?runs_before=" + older, "/flows", "No flow runs yet", "No older flow runs."},
		{"/flows/" + flowID + "?before=" + older, "/flows/" + flowID, "No flow runs yet", "No older flow runs."},
	} {
		resp, page := get(t, c, e.url+tc.path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, tc.want) || strings.Contains(page, tc.yet) || !strings.Contains(page, `href="`+tc.newest+`"`) {
			t.Errorf("GET %s: status %d; want 200, %q and a link to %s, not %q\n%s", tc.path, resp.StatusCode, tc.want, tc.newest, tc.yet, page)
		}
	}
}
