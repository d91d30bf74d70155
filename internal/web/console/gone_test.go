package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPagesOfDeletedObjects: the page of a connection, flow, card run or
// flow run that no longer exists, and a form sent from such a page (a
// stale tab's Run), say what is gone and why that happens in the
// console's terms and link the list to pick another; not the API's and
// command line's remedy for a flow never stored.
func TestPagesOfDeletedObjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	for _, path := range []string{"/api/v1/flows/" + flowID, "/api/v1/connections/" + prod.ID} {
		if code, out := e.api(t, http.MethodDelete, path, "", ""); code != http.StatusOK && code != http.StatusNoContent {
			t.Fatalf("DELETE %s: %d %s", path, code, out)
		}
	}
	c, _, csrf := signInHTTP(t, e.url, "/connections")
	for _, tc := range []struct {
		name, method, path string
		want               []string
	}{
		{"flow", http.MethodGet, "/flows/" + flowID, []string{`There is no flow &#34;` + flowID + `&#34;: it was deleted`, `<a href="/flows"`}},
		{"a stale flow page's Run", http.MethodPost, "/flows/" + flowID + "/runs", []string{`There is no flow &#34;` + flowID + `&#34;: it was deleted`, `<a href="/flows"`}},
		{"flow version", http.MethodGet, "/flows/" + flowID + "/versions/1", []string{"it was deleted", `<a href="/flows"`}},
		{"connection", http.MethodGet, "/connections/" + prod.ID, []string{`There is no connection &#34;` + prod.ID + `&#34;: it was deleted`, `<a href="/connections"`}},
		{"card run", http.MethodGet, "/runs/r0123", []string{`There is no card run &#34;r0123&#34;: runs are removed a set time after they end`, `<a href="/runs"`}},
		{"flow run", http.MethodGet, "/flow-runs/fr0123", []string{`There is no flow run &#34;fr0123&#34;: runs are removed a set time after they end`, `<a href="/flows"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			var body string
			if tc.method == http.MethodGet {
				resp, body = get(t, c, e.url+tc.path)
			} else {
				resp, body = post(t, c, e.url+tc.path, url.Values{"csrf": {csrf}, "in.resultSet": {"all"}}, nil)
			}
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("status %d; want 404", resp.StatusCode)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %q:\n%s", w, body)
				}
			}
			if strings.Contains(body, "/api/v1/") || strings.Contains(body, "cardflow flows") {
				t.Errorf("the page gives the API's or command line's advice:\n%s", body)
			}
		})
	}
}
