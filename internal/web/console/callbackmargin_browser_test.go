package console_test

import (
	"fmt"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestBrowserCallbackPageHasMargins: the page the org's sign-in comes back
// to keeps its card off the edges of a phone's screen, as the console's
// pages do, where at 375 px its border lay on the screen's edges.
func TestBrowserCallbackPageHasMargins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, authURL := e.createPending(t, "Phone", nil)
	b := newTab(t, e)
	b.open(authURL)
	b.orgSignIn(oktaemu.AdminLogin)
	b.wantText("Connected")
	for _, w := range []int64{375, 1280} {
		b.setWidth(w)
		box := eval[[]float64](b, "measure the card", `(() => { const r = document.querySelector('main').getBoundingClientRect(); return [r.left, document.documentElement.clientWidth - r.right]; })()`)
		if box[0] < 8 || box[1] < 8 {
			t.Errorf("at %d px the card is %.0f px from the left edge and %.0f px from the right; want at least 8 on each side", w, box[0], box[1])
		}
		b.screenshot(fmt.Sprintf("callback-connected-%d", w))
	}
}
