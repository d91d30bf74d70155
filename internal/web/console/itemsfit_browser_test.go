package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserSucceededItemsFitAtDesktopWidth: at 1280 px the items of a
// step whose items all succeeded (each a device's name and id, its input
// clipped) fit their card, the link to each item's card run in sight;
// where the Error column kept the 16 rem it gets beside failed items,
// empty, the table was 15 px wider than its region and cut the links off
// at the card's edge.
func TestBrowserSucceededItemsFitAtDesktopWidth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	doc := strings.Replace(testFlow, "resultSet: ${{ inputs.resultSet }}", "resultSet: ${{ inputs.resultSet }}\n      status: ACTIVE", 1)
	doc = strings.Replace(doc, "deviceId: ${{ item.id }}", "deviceId: ${{ item.id }}\n      status: ${{ item.status }}", 1)
	flowID := e.storeFlow(t, doc)
	code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", `{}`)
	var run struct{ ID, Status string }
	if err := json.Unmarshal([]byte(out), &run); code != http.StatusOK || err != nil || run.Status != "succeeded" {
		t.Fatalf("run the flow: %d %s; want it succeeded", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	b.open("/flow-runs/" + run.ID)
	b.wantText("Succeeded")
	b.screenshot("flow-run-items-succeeded")
	fit := eval[[]float64](b, "measure the items", `(() => {
  const r = document.querySelector('[aria-label="Items of step suspend"]');
  const a = r.querySelector('tbody tr td:last-child a').getBoundingClientRect();
  return [r.scrollWidth, r.clientWidth, a.right, r.getBoundingClientRect().right];
})()`)
	if fit[0] > fit[1] || fit[2] > fit[3] {
		t.Errorf("at 1280 px the items of step suspend are %.0f px wide in a %.0f px region, the card run link ending at %.0f px past its edge at %.0f px; want them to fit", fit[0], fit[1], fit[2], fit[3])
	}
}
