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

	// A run that failed with a long error, beside the flow's.
	if code, out := e.api(t, "POST", "/api/v1/runs", "application/json",
		`{"card":"okta-devices/read-device","connection":"Prod","input":{"deviceId":"nonexistent-device-id-abcdefghijklmnopqrstuvwxyz-0123456789"}}`); code >= 500 {
		t.Fatalf("run read-device: %d\n%s", code, out)
	}

	b := newTab(t, e)
	b.signIn()
	// At 1280 px each card (okta-devices/search-devices) reads on one
	// line, where the Card column broke it at its "-" and "/" over three
	// while the long error beside it took the width.
	b.open("/runs")
	lines := eval[[]int](b, "count the lines of the cards", `[...document.querySelectorAll('table.runs td[data-label="Card"] > code')].map(c => c.getClientRects().length)`)
	if len(lines) != 2 || slices.ContainsFunc(lines, func(n int) bool { return n != 1 }) {
		b.fatalf("the runs list's cards take %v lines each at 1280 px; want two cards, one line each", lines)
	}
	b.checkWidth("the runs list with a long error", 1280)
	b.screenshot("runs-card-one-line")
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
