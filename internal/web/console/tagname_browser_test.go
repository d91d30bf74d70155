package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/chromedp"
)

// TestBrowserFlowTagName: the "flow" tag of a card run made by a flow run
// is shown in capitals, but its link's name, which a screen reader reads,
// keeps the card's reference as written: the page's capitals are for the
// eye only.
func TestBrowserFlowTagName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", `{}`); code/100 != 2 {
		t.Fatalf("run the flow: %d %s", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	b.open("/runs")
	tree, err := chromedp.Call(b.ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		b.fatalf("read the accessibility tree: %v", err)
	}
	var names []string
	for _, n := range tree.Nodes {
		if n.Role == nil || n.Name == nil || string(n.Role.Value) != `"link"` {
			continue
		}
		if name := string(n.Name.Value); strings.Contains(strings.ToLower(name), "run that made the") {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		b.fatalf("the Runs page has no link to the flow run that made a card run")
	}
	for _, name := range names {
		if !strings.Contains(name, "run that made the okta-devices/") {
			t.Errorf("a flow tag's link is named %s; want the card's reference as written, not in capitals", name)
		}
	}
}
