package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestPeoplePageOddLogins: a login is the identity provider's, and may
// hold characters that mean something in a URL path ('/', '#', '?', '%',
// all valid in an email address): the People page's links and forms still
// reach that person, and nobody else.
func TestPeoplePageOddLogins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	const odd = "a/b#c?d%e@example.com"
	now := time.Now()
	for _, login := range []string{odd, "a@example.com"} {
		if err := e.store.CreateSession(ctx, &store.Session{ID: "s-" + login, Actor: store.Actor{Type: store.ActorUser, Login: login}, Role: "viewer", CSRF: "x",
			CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeen: now}); err != nil {
			t.Fatal(err)
		}
	}
	c, _, csrf := signInHTTP(t, e.url, "/people")
	_, page := get(t, c, e.url+"/people")
	if want := `href="/people/` + url.PathEscape(odd) + `/revoke"`; !strings.Contains(page, want) {
		t.Fatalf("the People page has no %s\n%s", want, page)
	}
	// The login is shown escaped, and may wrap before its "@" (on a phone,
	// a@example.com wraps there rather than at any letter).
	for _, want := range []string{`<td role="cell" class="lead">a/b#c?d%e<wbr>@example.com`, `<td role="cell" class="lead">a<wbr>@example.com`} {
		if !strings.Contains(page, want) {
			t.Errorf("the People page has no %s\n%s", want, page)
		}
	}
	want := `action="/people/` + url.PathEscape(odd) + `/revoke"`
	resp, confirm := get(t, c, e.url+"/people/"+url.PathEscape(odd)+"/revoke")
	if resp.StatusCode != http.StatusOK || !strings.Contains(confirm, want) {
		t.Fatalf("confirming the revoke of %s: status %d, want a form with %s\n%s", odd, resp.StatusCode, want, confirm)
	}
	if resp, _ = post(t, c, e.url+"/people/"+url.PathEscape(odd)+"/revoke", url.Values{"csrf": {csrf}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoking %s: status %d; want 303", odd, resp.StatusCode)
	}
	left, err := e.store.ListSessionsOf(ctx, store.Actor{Type: store.ActorUser})
	if err != nil || len(left) != 1 || left[0].Actor.Login != "a@example.com" {
		t.Errorf("sessions left %v, %v; want only a@example.com's", left, err)
	}
}
