package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserFailedItemErrorsReadInLines: at 1280 px a failed item's
// error gets the width of a line of words beside its device and its
// input (which is clipped, and whole on its card run's page), where the
// Input column kept 24 rem and the error stood a word or two a line in
// what was left, each row a dozen lines high.
func TestBrowserFailedItemErrorsReadInLines(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, strings.Replace(testFlow, "deviceId: ${{ item.id }}", "deviceId: ${{ item.id }}\n      status: ${{ item.status }}", 1))
	e.emu.Fault(t, http.MethodPost, "/api/v1/devices/{deviceId}/lifecycle/suspend", http.StatusForbidden, 1000)
	code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", `{}`)
	var run struct{ ID, Status string }
	if err := json.Unmarshal([]byte(out), &run); code != http.StatusOK || err != nil || run.Status != "failed" {
		t.Fatalf("run the flow: %d %s; want it failed", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	b.open("/flow-runs/" + run.ID)
	b.wantText("Failed")
	w := eval[[]float64](b, "measure a failed item's error", `(() => {
  const td = document.querySelector('table.items tr.row-bad td[data-label="Error"]');
  const r = document.querySelector('[aria-label="Items of step suspend"]');
  return td ? [td.getBoundingClientRect().width, r.scrollWidth, r.clientWidth] : [0, 0, 0];
})()`)
	if w[0] < 256 {
		t.Errorf("at 1280 px a failed item's error is %.0f px wide; want at least 16 rem (256 px)", w[0])
	}
	if w[1] > w[2] {
		t.Errorf("the items of step suspend are %.0f px wide in a %.0f px region; want them to fit", w[1], w[2])
	}
	b.screenshot("flow-run-item-errors")
	b.setWidth(phoneWidth)
	if fit := eval[[]int](b, "measure the page", `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); fit[0] > fit[1] {
		t.Errorf("at %d px the page is %d px wide; want it to fit", fit[1], fit[0])
	}
	b.screenshot("flow-run-item-errors-phone")
}
