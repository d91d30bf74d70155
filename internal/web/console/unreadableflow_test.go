package console_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestFlowPageOfAnUnreadableFlow: an enabled flow whose stored document
// this version no longer accepts (here a misspelt trigger field, stored
// before such fields were checked) has a page that says so, with the
// problems, and keeps its Disable and Delete buttons; the page failed to
// load, so the flow could not even be disabled from the console.
func TestFlowPageOfAnUnreadableFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	e.connect(t, "Reader", nil)
	flowID := e.storeFlow(t, enrollQuarantineFlow)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/enable", "", ""); code != http.StatusOK {
		t.Fatalf("enable the flow: %d %s", code, out)
	}
	fl, err := e.store.GetFlow(context.Background(), flowID)
	if err != nil {
		t.Fatal(err)
	}
	fl.Source = []byte(strings.Replace(string(fl.Source), "trigger.event.device.id", "trigger.event.device.ident", 1))
	if _, err := e.store.PutFlow(context.Background(), fl); err != nil {
		t.Fatal(err)
	}

	c, _, _ := signInHTTP(t, e.url, "/flows")
	resp, body := get(t, c, e.url+"/flows/"+flowID)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the flow's page: %d; want 200\n%s", resp.StatusCode, body)
	}
	notice := regexp.MustCompile(`(?s)<div class="flash flash-error" role="status" id="flow-unreadable">.*?</div>`).FindString(body)
	if !strings.Contains(notice, "no longer accepts") || !strings.Contains(notice, "ident") || !strings.Contains(notice, "every run its trigger starts fails") {
		t.Errorf("the page's notice %q; want it to say the document is no longer accepted, why, and that every triggered run fails", notice)
	}
	for _, want := range []string{`action="/flows/` + flowID + `/disable"`, `href="/flows/` + flowID + `/delete"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page has no %s", want)
		}
	}
	if strings.Contains(body, `action="/flows/`+flowID+`/runs"`) {
		t.Errorf("the page offers to run a flow whose document is refused")
	}
}
