package console_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserFlowRunTimesOnOneLine: a flow's page and the Flows page at
// 1280 px show each run's Queued and Finished times on one line, beside a
// failed run's error, where they broke into three lines ("2026-12-06 /
// 16:47:09 / UTC") and the flow's name at its hyphens; the tables fit
// their cards. At 390 px each run is a block whose times read whole, and
// so is each of the flow's versions, whose time broke mid-date.
func TestBrowserFlowRunTimesOnOneLine(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, missingDeviceFlow)
	for range 2 {
		code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", `{}`)
		var run struct{ Status string }
		if err := json.Unmarshal([]byte(out), &run); code != http.StatusOK || err != nil || run.Status != "failed" {
			t.Fatalf("run the flow: %d %s; want it failed", code, out)
		}
	}
	b := newTab(t, e)
	b.signIn()
	for _, w := range []int64{1280, phoneWidth} {
		name := map[int64]string{1280: "desktop", phoneWidth: "phone"}[w]
		b.do("emulate the screen", chromedp.EmulateViewport(w, 860, chromedp.EmulateScale(1)))
		for page, path := range map[string]string{"flow": "/flows/" + flowID, "flows": "/flows"} {
			b.open(path)
			b.screenshot("flow-runs-" + page + "-" + name)
			lines := eval[[]int](b, "count the lines of the times", `[...document.querySelectorAll('[aria-label="Flow runs"] td[data-label="Queued"], [aria-label="Flow runs"] td[data-label="Finished"], [aria-label="Flow runs"] td[data-label="Flow"], [aria-label="Versions"] tbody td:nth-child(2)')].map(td => {
				const r = document.createRange(); r.selectNodeContents(td); return new Set([...r.getClientRects()].map(c => Math.round(c.top))).size })`)
			if len(lines) == 0 {
				b.fatalf("%s lists no run times", path)
			}
			for i, n := range lines {
				if n != 1 {
					t.Errorf("%s at %d px: time %d of its runs and versions takes %d lines; want 1", path, w, i+1, n)
					break
				}
			}
			if w == phoneWidth {
				b.checkWidth(page, phoneWidth)
				b.setWidth(narrowWidth)
				b.checkWidth(page, narrowWidth)
				b.do("emulate the screen", chromedp.EmulateViewport(w, 860, chromedp.EmulateScale(1)))
			}
			if fit := eval[[]int](b, "measure the table", `(() => { const r = document.querySelector('[aria-label="Flow runs"]'); return [r.scrollWidth, r.clientWidth]; })()`); fit[0] > fit[1] {
				t.Errorf("%s at %d px: the Runs table is %d px wide in a region of %d px; want it to fit", path, w, fit[0], fit[1])
			}
		}
	}
}
