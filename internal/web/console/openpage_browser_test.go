package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserButtonsThatOpenAPageLeaveACleanAddress: the buttons that
// open another page (New Connection, Reauthorize, Change secret, Delete,
// Revoke) lead to that page's own address. As forms with method get and
// no fields they led to it with a bare "?" (/connections/new?), an
// address that reads as broken when copied or bookmarked.
func TestBrowserButtonsThatOpenAPageLeaveACleanAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, pagedFlow)
	code, out := e.api(t, http.MethodPost, "/api/v1/tokens", "application/json", `{"name":"nightly export","role":"viewer","expiresIn":"24h"}`)
	var tok struct{ ID string }
	if err := json.Unmarshal([]byte(out), &tok); code != http.StatusCreated || err != nil || tok.ID == "" {
		t.Fatalf("create a token: %d %s", code, out)
	}
	now := time.Now()
	if err := e.store.CreateSession(t.Context(), &store.Session{ID: "s-ann", Actor: store.Actor{Type: store.ActorUser, Login: "ann@example.com"}, Role: "viewer", CSRF: "x",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeen: now}); err != nil {
		t.Fatal(err)
	}

	b := newTab(t, e)
	b.signIn()
	for _, tt := range []struct {
		page, press, want string
	}{
		{"/connections", "New Connection", "/connections/new"},
		{"/connections/" + prod.ID, "Reauthorize", "/connections/" + prod.ID + "/reauthorize"},
		{"/connections/" + prod.ID, "Change secret", "/connections/" + prod.ID + "/edit"},
		{"/connections/" + prod.ID, "Delete", "/connections/" + prod.ID + "/delete"},
		{"/flows/" + flowID, "Delete", "/flows/" + flowID + "/delete"},
		{"/tokens", "Revoke", "/tokens/" + tok.ID + "/revoke"},
		{"/people", "Revoke access", "/people/ann@example.com/revoke"},
	} {
		b.open(tt.page)
		// Whatever else it holds, a page has no form that sends nothing
		// by get: such a form is a link that leaves "?" behind.
		if n := eval[int](b, "count the empty get forms", `[...document.querySelectorAll('form')].filter(f => f.method === 'get' && ![...f.elements].some(el => el.name)).length`); n != 0 {
			t.Errorf("%s has %d forms with method get and no fields; want links", tt.page, n)
		}
		b.click(fmt.Sprintf(`//main//*[self::a or self::button][normalize-space(.)=%q]`, tt.press))
		if got := b.location(); got != e.url+tt.want {
			t.Errorf("%s on %s leads to %s; want %s", tt.press, tt.page, got, e.url+tt.want)
		}
	}
}
