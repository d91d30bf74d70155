package console_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserFlowTagOneBox: on a phone, the runs list's "flow" tag of a
// card run a flow made is one box: its hidden words for screen readers
// broke it over two lines, the second an empty grey pill of its own.
func TestBrowserFlowTagOneBox(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	const flowDoc = `name: find-active
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod
    input:
      status: ACTIVE
      resultSet: first
`
	code, out := e.api(t, "POST", "/api/v1/flows", "application/yaml", flowDoc)
	var created struct {
		Flow struct {
			ID string `json:"id"`
		} `json:"flow"`
	}
	if err := json.Unmarshal([]byte(out), &created); code != http.StatusCreated && code != http.StatusOK || err != nil || created.Flow.ID == "" {
		t.Fatalf("store the flow: %d %v\n%s", code, err, out)
	}
	if code, out := e.api(t, "POST", "/api/v1/flows/"+created.Flow.ID+"/runs?wait=true", "application/json", `{}`); code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("run the flow: %d\n%s", code, out)
	}

	b := newTab(t, e)
	b.signIn()
	b.do("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)))
	b.open("/runs")
	boxes := eval[[]int](b, "count the boxes of the flow tags", `[...document.querySelectorAll('main a.tag')].map(a => a.getClientRects().length)`)
	if len(boxes) == 0 {
		b.fatalf("the runs list has no flow tag\n%s", b.mainText())
	}
	if slices.ContainsFunc(boxes, func(n int) bool { return n != 1 }) {
		t.Errorf("the flow tags take %v boxes each; want one each", boxes)
	}
	b.screenshot("runs-flow-tag-phone")
}
