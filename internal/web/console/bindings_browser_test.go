package console_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// issuerBreaksScript lists where the identity providers of the People
// page's Bound sign-ins (each in a span titled with its issuer) break
// onto another line, as "before|after" (a few letters each side), but for
// a break after a "." or a "/".
const issuerBreaksScript = `(() => {
  const breaks = [];
  for (const cell of document.querySelectorAll('td[data-label="Identity provider"] > span[title]')) {
    const chars = [];
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      for (let i = 0; i < n.data.length; i++) chars.push([n, i]);
    }
    let text = chars.map(([n, i]) => n.data[i]).join(''), top = null;
    chars.forEach(([n, i], k) => {
      const r = document.createRange();
      r.setStart(n, i); r.setEnd(n, i + 1);
      const t = Math.round(r.getBoundingClientRect().top);
      if (top !== null && t > top && !'./'.includes(text[k - 1])) breaks.push(text.slice(Math.max(0, k - 6), k) + '|' + text.slice(k, k + 6));
      top = t;
    });
  }
  return breaks;
})()`

// TestBrowserForgetBinding: the People page lists, under Bound sign-ins,
// the logins that hold nothing but stay bound to an account at an
// identity provider, with the provider (which wraps only after a "." or
// a "/") and since when, and an admin forgets one with Forget binding
// (audited as a revoke by them, and said, naming the provider); a login
// that signed in again since the page was shown is not forgotten.
func TestBrowserForgetBinding(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	ctx := t.Context()
	riley := oktaemu.ReadOnlyLogin
	endSessions := func(login string) {
		t.Helper()
		if n, err := e.store.DeleteSessionsOf(ctx, store.Actor{Type: store.ActorUser, Login: login}); err != nil || n != 1 {
			t.Fatalf("ending the session of %s: %d, %v", login, n, err)
		}
	}
	// Riley signed in at the org, and his session ended: he holds
	// nothing but his binding.
	rileyTab := newTab(t, e)
	rileyTab.ssoSignIn(riley)
	endSessions(riley)
	// Bo was bound at the identity provider cardflow signed in with
	// before, Cy before cardflow kept identity providers.
	for _, b := range []struct{ login, issuer string }{
		{"bo@example.com", "https://old-idp.example.com/oauth2/default"}, {"cy@example.com", ""},
	} {
		now := time.Now()
		if err := e.store.StartSignIn(ctx, "si-"+b.login, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := e.store.CreateSession(ctx, &store.Session{ID: "s-" + b.login, Actor: store.Actor{Type: store.ActorUser, Login: b.login}, Role: "viewer", CSRF: "c",
			SignIn: "si-" + b.login, Subject: "00u-" + b.login, Issuer: b.issuer, CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeen: now}); err != nil {
			t.Fatal(err)
		}
		endSessions(b.login)
	}

	rileys, err := e.store.PersonBinding(ctx, riley)
	if err != nil {
		t.Fatal(err)
	}

	ada := newTab(t, e)
	ada.ssoSignIn(oktaemu.AdminLogin)
	ada.open("/people")
	const bound = `//section[h2[.="Bound sign-ins"]]`
	org, _ := url.Parse(e.emu.URL)
	row := func(login string) string {
		return ada.text(bound + `//tr[td[contains(., "` + strings.TrimSuffix(login, "@example.com") + `")]]`)
	}
	for login, want := range map[string][]string{
		riley:            {org.Host, rileys.BoundAt.UTC().Format("2006-01-02 15:04:05 utc")},
		"bo@example.com": {"old-idp.example.com/oauth2/default", "not current"},
		"cy@example.com": {"not recorded"},
	} {
		got := strings.ReplaceAll(strings.ToLower(row(login)), "\u00a0", " ") // the tag is shown in capitals, unbroken
		for _, w := range want {
			if !strings.Contains(got, w) {
				ada.fatalf("the Bound sign-ins row of %s reads %q; want %q in it", login, got, w)
			}
		}
	}
	if got := row(riley); strings.Contains(strings.ToLower(got), "not current") {
		ada.fatalf("riley's row reads %q; he is bound at the current identity provider", got)
	}
	if section := ada.text(bound); strings.Contains(section, oktaemu.AdminLogin) {
		ada.fatalf("Bound sign-ins lists ada, who holds a session:\n%s", section)
	}
	for _, w := range []int64{1280, 390} {
		ada.setWidth(w)
		if breaks := eval[[]string](ada, "find where the issuers break", issuerBreaksScript); len(breaks) > 0 {
			ada.fatalf("at %d px the identity providers break at %q; want breaks only after a \".\" or a \"/\"", w, breaks)
		}
		ada.checkWidth("the People page", int(w))
		ada.checkAxe(fmt.Sprintf("the People page at %d px", w))
		ada.screenshot(fmt.Sprintf("people-bound-%d", w))
	}
	ada.setWidth(1280)

	// Riley signs in again after the page was shown: his binding is not
	// forgotten, and his new session lives on.
	rileyTab.ssoSignIn(riley)
	ada.click(`//button[.="Forget binding of ` + riley + `"]`)
	ada.wantText("The binding of "+riley+" was not forgotten", "holds access now")
	if !rileyTab.signedInAt("/connections") {
		rileyTab.fatalf("riley's new session ended with the refused forget")
	}
	if _, err := e.store.PersonBinding(ctx, riley); err != nil {
		t.Errorf("riley's binding after the refused forget: %v", err)
	}

	ada.click(`//button[.="Forget binding of bo@example.com"]`)
	ada.wantText("Forgot the binding of bo@example.com to its account at https://old-idp.example.com/oauth2/default: the next sign-in as bo@example.com binds it anew")
	if section := ada.text(bound); strings.Contains(section, "bo@example.com") || !strings.Contains(section, "cy@example.com") {
		ada.fatalf("Bound sign-ins after forgetting bo's binding:\n%s", section)
	}
	ada.screenshot("people-bound-forgotten")
	if _, err := e.store.PersonBinding(ctx, "bo@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bo's binding after Forget binding: %v; want it gone", err)
	}
	evs, err := e.store.ListAudit(ctx, store.AuditFilter{Action: store.ActionPersonRevoke})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, fmt.Sprintf("%s %s: %s", ev.Actor.Login, ev.Outcome, ev.InputSummary))
	}
	if want := oktaemu.AdminLogin + " success: bo@example.com: 0 console sessions ended, 0 tokens revoked, its binding to https://old-idp.example.com/oauth2/default forgotten"; len(got) != 1 || got[0] != want {
		t.Errorf("person.revoke audit events: %q; want [%s]", got, want)
	}
}

// signedInAt reports whether the tab's session opens the console page at
// path (rather than the sign-in page).
func (b *tab) signedInAt(path string) bool {
	b.t.Helper()
	b.open(path)
	return !strings.Contains(b.location(), "/signin")
}
