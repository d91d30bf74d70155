package console_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestEmptyEventsNamesTheFlowsWaiting: the Events page without events
// says to enable an event flow only while none is enabled; once one is,
// it names the flow (with a link) and says that the events Okta publishes
// from now on are listed as they arrive, where it went on telling the
// administrator who had just enabled one to enable a flow.
func TestEmptyEventsNamesTheFlowsWaiting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	e.connect(t, "Reader", nil)
	id := e.storeFlow(t, enrollQuarantineFlow)
	c, _, _ := signInHTTP(t, e.url, "/events")
	const enable = "No events yet. Enable a flow with an event trigger"
	if _, page := get(t, c, e.url+"/events"); !strings.Contains(page, enable) {
		t.Errorf("the Events page without an enabled event flow lacks %q", enable)
	}
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+id+"/enable", "", ""); code != http.StatusOK {
		t.Fatalf("enable the flow: %d %s", code, out)
	}
	want := `No events yet. The enabled event flow <a href="/flows/` + id + `">quarantine-on-enroll</a> waits for device events that Okta publishes from now on`
	for _, path := range []string{"/events", "/events?connection=" + prod.ID} {
		_, page := get(t, c, e.url+path)
		if !strings.Contains(page, want) {
			t.Errorf("%s with the event flow enabled lacks %q; page:\n%s", path, want, page)
		}
		if strings.Contains(page, enable) {
			t.Errorf("%s with the event flow enabled still says %q", path, enable)
		}
	}
}
