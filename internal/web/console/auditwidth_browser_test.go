package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAuditFitsItsCard: an audit event whose details hold a long
// word (a pasted id that was far too long, kept as the form sent it) wraps
// inside the Details column on a desktop screen; it widened the table past
// its card, so that every event's details were cut off at the card's edge,
// to be scrolled to.
func TestBrowserAuditFitsItsCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	long := "guo" + strings.Repeat("x", 400)
	if code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json",
		`{"card":"okta-devices/suspend-device","connection":"Prod","input":{"deviceId":"`+long+`"}}`); code/100 != 2 && code != http.StatusBadRequest {
		t.Fatalf("run the card: %d %s", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	b.open("/audit")
	b.wantText("card.run", "deviceId=guoxxx")
	b.screenshot("audit-desktop")
	if w := eval[[]int](b, "measure the table", `(() => { const r = document.querySelector('.table-scroll'); return [r.scrollWidth, r.clientWidth]; })()`); w[0] > w[1] {
		b.screenshot("audit-too-wide")
		t.Errorf("the audit table is %d px wide in a region of %d px; want it to fit", w[0], w[1])
	}
}
