package console_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserTablesReachTheirCardsRightEdge: a table in a card (the
// Audit page's, the Tokens page's) stands as far from
// the card's right edge as from its left, at 1280 px and on a phone, where
// its region, widened into the card's padding on both sides, was still
// capped at the card's content width and stopped some 18 px short of its
// right side (32 px from the card's edge against 14 px on the left).
func TestBrowserTablesReachTheirCardsRightEdge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	if code, out := e.api(t, "POST", "/api/v1/tokens", "application/json", `{"name":"ci deploy","role":"viewer"}`); code != 201 {
		t.Fatalf("create a token: %d %s", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	type inset struct {
		Left  float64 `json:"left"`
		Right float64 `json:"right"`
	}
	const script = `(() => [...document.querySelectorAll('.card > .table-scroll')].map(r => {
  const c = r.parentElement.getBoundingClientRect(), t = r.querySelector('table').getBoundingClientRect();
  return {left: t.left - c.left, right: c.right - t.right};
}))()`
	for _, w := range []int64{1280, phoneWidth} {
		if w == 1280 {
			b.do("emulate a desktop", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
		} else {
			b.setWidth(w)
		}
		for _, page := range []string{"/audit", "/tokens"} {
			b.open(page)
			got := eval[[]inset](b, "measure the tables' insets", script)
			if len(got) == 0 {
				b.fatalf("%s at %d px has no table in a card", page, w)
			}
			for i, in := range got {
				if d := in.Right - in.Left; d > 1 || d < -1 {
					b.screenshot(fmt.Sprintf("table-inset-%d", w))
					t.Errorf("%s at %d px: table %d stands %.1f px from its card's left edge and %.1f px from its right; want the same", page, w, i+1, in.Left, in.Right)
				}
			}
		}
	}
}
