package console_test

import (
	"strings"
	"testing"
)

// TestBrowserNewTokenInMonospace: a new API token, shown once to be
// copied, is set in the monospace face the console's code is in, so that
// I, l and 1 (and O and 0) of it can be told apart by whoever reads or
// types it, where it was in the text face, whose I and l look alike.
func TestBrowserNewTokenInMonospace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()
	b.open("/tokens")
	b.fill("Name", "laptop script")
	b.click(button("Create token"))
	got := eval[[]string](b, "read the faces", `[getComputedStyle(document.getElementById('new-token')).fontFamily, getComputedStyle(document.querySelector('main code')).fontFamily]`)
	if got[0] != got[1] || !strings.HasSuffix(got[0], "monospace") {
		t.Errorf("the new token's field is set in %q; want the face of the page's code, %q", got[0], got[1])
	}
	b.screenshot("token-monospace")
}
