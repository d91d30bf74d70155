package console_test

import (
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestRunAgainWithTheInput: a card run's page links to the card's form
// filled with the run's connection and input, so that a run that failed
// on its input (a path Okta does not have) is fixed and run again without
// typing it all anew; a viewer, who may not run cards, gets no link.
func TestRunAgainWithTheInput(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	prod := e.connect(t, "Prod", nil)
	code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json",
		`{"card":"okta-devices/custom-api-action","connection":"Prod","input":{"method":"GET","relativeUrl":"/api/v1/devicez","query":{"limit":"5"}}}`)
	var run struct{ ID string }
	if json.Unmarshal([]byte(out), &run) != nil || run.ID == "" {
		t.Fatalf("run the card: %d %s", code, out)
	}
	c, _, _ := signInHTTP(t, e.url, "/runs")
	_, page := get(t, c, e.url+"/runs/"+run.ID)
	m := regexp.MustCompile(`<a href="([^"]+)" id="run-again">Edit and run again`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the run's page has no Edit and run again link:\n%s", page)
	}
	resp, form := get(t, c, e.url+html.UnescapeString(m[1]))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the link's form: status %d", resp.StatusCode)
	}
	for _, w := range []string{`<option value="` + prod.ID + `" selected>Prod</option>`, `<option value="GET" selected>GET</option>`,
		`value="/api/v1/devicez"`, `{&#34;limit&#34;:&#34;5&#34;}</textarea>`} {
		if !strings.Contains(form, w) {
			t.Errorf("the form lacks %s:\n%s", w, form)
		}
	}
	_, viewer := get(t, ssoSignInHTTP(t, e, oktaemu.UserLogin), e.url+"/runs/"+run.ID)
	if !strings.Contains(viewer, "/api/v1/devicez") || strings.Contains(viewer, `id="run-again"`) {
		t.Errorf("a viewer's page of the run offers Edit and run again")
	}
}
