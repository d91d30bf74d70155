package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/chromedp/chromedp"
)

// TestBrowserLongNamesWrapInLists: a connection's nickname and an API
// token's name of 100 characters without a space (as the forms take)
// wrap in the Connections and API tokens lists at 1280 px, where they
// widened the table past its region: the other columns, Revoke among
// them, were out of sight behind a sideways scroll.
func TestBrowserLongNamesWrapInLists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	long := strings.Repeat("N", 100)
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	if err := e.store.CreateConnection(t.Context(), &store.Connection{ID: "conn_long", Connector: "okta-devices", Nickname: long,
		Domain: "long.okta.com", Status: store.StatusActive, ScopeMode: "default", ClientID: "x", CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if code, out := e.api(t, http.MethodPost, "/api/v1/tokens", "application/json", `{"name":"`+long+`","role":"viewer","expiresIn":"24h"}`); code != http.StatusCreated {
		t.Fatalf("create the token: %d %s", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	for _, page := range []struct{ path, region, shot string }{
		{"/connections", "Connections", "long-nickname-list"},
		{"/tokens", "Tokens", "long-token-name-list"},
	} {
		b.open(page.path)
		if !strings.Contains(b.mainText(), long) {
			b.fatalf("%s does not show the long name", page.path)
		}
		r := eval[[]int](b, "measure the "+page.region+" region", `(() => { const r = document.querySelector('.table-scroll[aria-label="`+page.region+`"]'); return [r.scrollWidth, r.clientWidth]; })()`)
		if r[0] > r[1] {
			t.Errorf("%s at 1280 px: the %s table is %d px wide in its %d px region; want the long name to wrap and every column in sight", page.path, page.region, r[0], r[1])
		}
		b.screenshot(page.shot)
	}
}
