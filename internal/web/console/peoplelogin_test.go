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

// TestPeoplePageFlowsWithoutAccess: the People page names the logins that
// hold no access but whose enabled flows act as them, each flow a link,
// where such a person vanished from the page while their flows ran on.
func TestPeoplePageFlowsWithoutAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	now := time.Now()
	trigger := []byte(`{"every":"1h0m0s","kind":"schedule","timezone":"UTC"}`)
	f := &store.Flow{Name: "nightly cleanup", Source: []byte("name: nightly cleanup\n"), Trigger: trigger, CreatedAt: now, UpdatedAt: now}
	if _, err := e.store.PutFlow(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetFlowEnabled(ctx, f.ID, trigger, true, now.Add(time.Hour), store.Actor{Type: store.ActorUser, Login: "gone@example.com"}); err != nil {
		t.Fatal(err)
	}
	c, _, _ := signInHTTP(t, e.url, "/people")
	_, page := get(t, c, e.url+"/people")
	for _, want := range []string{`<h2 id="flows-without-access">Flows that act as people without access</h2>`,
		`<td role="cell" class="lead">gone<wbr>@example.com</td>`, `<a href="/flows/nightly%20cleanup">nightly cleanup</a>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the People page has no %s\n%s", want, page)
		}
	}
}
