package console_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserFlowPageFitsAPhone: on a 390 px phone a flow's Steps and a
// plan's changes show every column, each row as a block (device, then
// from and to), where their tables scrolled sideways and cut the status a
// device would get ("DEACTI") and the steps' connection off at the edge.
func TestBrowserFlowPageFitsAPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows", "application/yaml", testFlow); code != http.StatusCreated {
		t.Fatalf("store the flow: %d %s", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)))
	b.open("/flows/suspend-everything")
	b.click(button("Plan"))
	b.wantText("SUSPENDED")
	for _, region := range []string{`//*[@aria-label="Steps"]`, `//*[@aria-label="Changes of step suspend"]`} {
		scroll, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[float64](region, "scrollWidth"))
		if err != nil {
			b.fatalf("width of %s: %v", region, err)
		}
		if shown := b.width(region); scroll > shown {
			t.Errorf("%s is %.0f px wide in a %.0f px region: on a phone it scrolls sideways and hides its last columns", region, scroll, shown)
		}
	}
	b.screenshot("flow-plan-phone")
}
