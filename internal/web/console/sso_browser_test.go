package console_test

// Single sign-on in headless Chromium against the emulated org's cardflow
// app: an admin, a viewer, a person in no group, a forged state,
// and (over HTTP, where the callback URL can be held) a replayed code.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

func newSSOEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, func(c *app.Config, orgURL string) {
		c.OIDCIssuer = orgURL
		c.OIDCClientID = oktaemu.DemoConsoleClientID
		c.OIDCClientSecret = keyring.Secret(oktaemu.DemoConsoleClientSecret)
		c.OIDCRoles = []string{"admin=" + oktaemu.AdminsGroup, "operator=" + oktaemu.OperatorsGroup, "viewer=" + oktaemu.ViewersGroup}
	})
}

// ssoSignIn presses "Sign in with SSO" and signs in at the org as login.
func (b *tab) ssoSignIn(login string) {
	b.t.Helper()
	b.open("/connections")
	if loc := b.location(); !strings.Contains(loc, "/signin") {
		b.fatalf("a fresh browser at /connections is at %s; want the sign-in page", loc)
	}
	b.click(link("Sign in with SSO"))
	if loc := b.location(); !strings.HasPrefix(loc, b.e.emu.URL+"/") {
		b.fatalf("Sign in with SSO went to %s; want the org's sign-in page", loc)
	}
	b.do("type the org credentials",
		typeText(`//input[@name="username"]`, login),
		typeText(`//input[@name="password"]`, oktaemu.DemoPassword))
	b.click(`//form//button[@type="submit"]`)
}

func TestBrowserSSO(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)

	t.Run("admin", func(t *testing.T) {
		t.Parallel()
		b := newTab(t, e)
		b.ssoSignIn(oktaemu.AdminLogin)
		if got := b.text("h1"); got != "Connections" {
			b.fatalf("after single sign-on the heading is %q; want Connections", got)
		}
		if who := strings.ToLower(b.text(".whoami")); !strings.Contains(who, "ada admin") || !strings.Contains(who, "admin") {
			b.fatalf("the header says %q; want Ada Admin, admin", who)
		}
		b.do("see New Connection", chromedp.WaitVisible(link("New Connection")))
		b.screenshot("sso-admin")
		b.click(button("Sign out"))
		b.open("/connections")
		if loc := b.location(); !strings.Contains(loc, "/signin") {
			b.fatalf("after signing out /connections is at %s; want the sign-in page", loc)
		}
	})

	t.Run("viewer", func(t *testing.T) {
		t.Parallel()
		b := newTab(t, e)
		b.ssoSignIn(oktaemu.UserLogin)
		if got := b.text("h1"); got != "Connections" {
			b.fatalf("after single sign-on the heading is %q; want Connections", got)
		}
		if strings.Contains(b.mainText(), "New Connection") {
			b.fatalf("a viewer sees New Connection")
		}
		b.open("/connections/new")
		b.wantText("This needs the admin role; you have the viewer role.")
		b.screenshot("sso-viewer-refused")
	})

	t.Run("person in no group", func(t *testing.T) {
		t.Parallel()
		b := newTab(t, e)
		b.ssoSignIn(oktaemu.UnassignedLogin)
		b.wantText("You are not signed in", oktaemu.UnassignedLogin, "none of the groups", oktaemu.AdminsGroup)
		b.screenshot("sso-no-group")
		b.open("/connections")
		if loc := b.location(); !strings.Contains(loc, "/signin") {
			b.fatalf("a person in no group reached %s; want the sign-in page", loc)
		}
	})

	t.Run("forged state", func(t *testing.T) {
		t.Parallel()
		b := newTab(t, e)
		b.open("/auth/callback?code=forged-code&state=forged-state")
		b.wantText("You are not signed in", "not started by this browser")
		b.open("/connections")
		if loc := b.location(); !strings.Contains(loc, "/signin") {
			b.fatalf("a forged callback reached %s; want the sign-in page", loc)
		}
	})
}

// TestSSOReplayedCode: a callback URL (code and state) works once; brought
// back, with the browser's state cookie or within a new sign-in, it signs
// nobody in.
func TestSSOReplayedCode(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	c := client(t)
	// Start a sign-in and stop at the callback the org redirects to.
	resp, _ := get(t, c, e.url+"/signin/sso?next=/flows")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /signin/sso: status %d; want 303", resp.StatusCode)
	}
	callback := e.emu.SignIn(t, resp.Header.Get("Location"), oktaemu.AdminLogin, oktaemu.DemoPassword)
	stateCookie := cookieOf(c, e.url, "cardflow_sso")
	if stateCookie == "" || callback.Query().Get("state") != stateCookie {
		t.Fatalf("state cookie %q, callback %s: want the callback to carry the cookie's state", stateCookie, callback)
	}
	resp, _ = get(t, c, callback.String())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/flows" {
		t.Fatalf("the first callback: status %d Location %q; want 303 to /flows", resp.StatusCode, resp.Header.Get("Location"))
	}

	// The same callback again, with the state cookie put back.
	replay := client(t)
	u, _ := url.Parse(e.url)
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: "cardflow_sso", Value: stateCookie, Path: "/"}})
	resp, body := get(t, replay, callback.String())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "already used or has expired") {
		t.Errorf("the replayed callback: status %d; want 400 saying it was already used\n%s", resp.StatusCode, body)
	}
	if cookieOf(replay, e.url, "cardflow_session") != "" {
		t.Errorf("the replayed callback set a session cookie")
	}

	// The old code within a new sign-in of the replaying browser.
	get(t, replay, e.url+"/signin/sso")
	newState := cookieOf(replay, e.url, "cardflow_sso")
	q := url.Values{"code": {callback.Query().Get("code")}, "state": {newState}}
	resp, body = get(t, replay, e.url+"/auth/callback?"+q.Encode())
	if resp.StatusCode == http.StatusSeeOther || !strings.Contains(body, "already used or has expired") {
		t.Errorf("the old code in a new sign-in: status %d; want a refusal saying the code was already used\n%s", resp.StatusCode, body)
	}
	if cookieOf(replay, e.url, "cardflow_session") != "" {
		t.Errorf("the old code signed the replaying browser in")
	}
}

// cookieOf returns the value of the cookie name the client holds for base.
func cookieOf(c *http.Client, base, name string) string {
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// TestSSORefusedByTheProvider: when the provider sends the browser back
// with an error (Okta's access_denied for a person not assigned to the
// sign-in app), the page says what it said and how to get in.
func TestSSORefusedByTheProvider(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	c := client(t)
	resp, _ := get(t, c, e.url+"/signin/sso")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /signin/sso: status %d; want 303", resp.StatusCode)
	}
	q := url.Values{"state": {cookieOf(c, e.url, "cardflow_sso")}, "error": {"access_denied"},
		"error_description": {"User is not assigned to the client application."}}
	resp, body := get(t, c, e.url+"/auth/callback?"+q.Encode())
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "User is not assigned to the client application.") ||
		!strings.Contains(body, "How to fix it") || !strings.Contains(body, oktaemu.DemoConsoleClientID) {
		t.Errorf("the provider's refusal: status %d; want 403 with its reason and how to fix it (assign the person to the app %s)\n%s",
			resp.StatusCode, oktaemu.DemoConsoleClientID, body)
	}
}

// TestSSOStartsAreLimited: each single sign-on started stores a sign-in
// request, so one address may start 30 a minute; the next is refused with
// 429 and what to do, the address's token sign-in still works, and a
// minute later it may start again.
func TestSSOStartsAreLimited(t *testing.T) {
	t.Parallel()
	clock := emutest.NewClock(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	e := newEnvWith(t, func(c *app.Config, orgURL string) {
		c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret = orgURL, oktaemu.DemoConsoleClientID, keyring.Secret(oktaemu.DemoConsoleClientSecret)
		c.OIDCRoles = []string{"admin=" + oktaemu.AdminsGroup}
		c.Now = clock.Now
	})
	c := client(t)
	for i := range 30 {
		if resp, _ := get(t, c, e.url+"/signin/sso"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("start %d: status %d; want 303 to the provider", i+1, resp.StatusCode)
		}
	}
	resp, body := get(t, c, e.url+"/signin/sso")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many sign-ins were started") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("start 31: status %d, Retry-After %q; want 429 saying to wait\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if !strings.Contains(e.logs.String(), "too many single sign-ons started from one address") {
		t.Errorf("the refusal is not logged:\n%s", e.logs.String())
	}
	_, page := get(t, c, e.url+"/signin")
	if resp, _ := post(t, c, e.url+"/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {testToken}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a token sign-in from the same address: status %d; want 303 (only SSO starts are limited)", resp.StatusCode)
	}
	clock.Advance(time.Minute)
	if resp, _ := get(t, c, e.url+"/signin/sso"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a start a minute later: status %d; want 303", resp.StatusCode)
	}
}

// TestSSOBackAfterSignIn: a browser signed in with single sign-on that goes
// back to the identity provider's page and through it again comes to a
// callback of the sign-in it already finished (at Okta, whose own session
// answers the authorization request at once, Back alone does it): it stays
// signed in and goes on to the console, where the page said "You are not
// signed in" to a signed-in person.
func TestSSOBackAfterSignIn(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	b := newTab(t, e)
	b.ssoSignIn(oktaemu.AdminLogin)
	if got := b.text("h1"); got != "Connections" {
		b.fatalf("after single sign-on the heading is %q; want Connections", got)
	}
	b.do("go back to the org's sign-in page", chromedp.NavigateBack())
	if loc := b.location(); !strings.HasPrefix(loc, e.emu.URL+"/") {
		b.fatalf("Back went to %s; want the org's sign-in page", loc)
	}
	b.do("type the org credentials again",
		// The browser may have kept what was typed before.
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('input[name=username], input[name=password]').forEach(i => i.value = '')`),
		typeText(`//input[@name="username"]`, oktaemu.AdminLogin),
		typeText(`//input[@name="password"]`, oktaemu.DemoPassword))
	b.click(`//form//button[@type="submit"]`)
	if got := b.text("h1"); got != "Connections" {
		b.fatalf("the finished sign-in's callback again shows %q: %s; want the Connections page of the signed-in browser", got, b.mainText())
	}
	if who := strings.ToLower(b.text(".whoami")); !strings.Contains(who, "ada admin") {
		b.fatalf("the header says %q; want Ada Admin", who)
	}
}

// TestSSOProviderOutageLocksOutNoOne: single sign-ons that fail because
// the identity provider does not redeem the code (an outage there) are no
// wrong guesses: however many people retry, the address's token sign-in
// goes on working, where 20 of them refused every sign-in and API request
// from the address for a minute as "too many wrong API tokens".
func TestSSOProviderOutageLocksOutNoOne(t *testing.T) {
	t.Parallel()
	clock := emutest.NewClock(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	e := newEnvWith(t, func(c *app.Config, orgURL string) {
		c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret = orgURL, oktaemu.DemoConsoleClientID, keyring.Secret(oktaemu.DemoConsoleClientSecret)
		c.OIDCRoles = []string{"admin=" + oktaemu.AdminsGroup}
		c.Now = clock.Now
	})
	// Each redemption may ask twice (golang.org/x/oauth2 tries the other
	// client authentication after an error).
	e.emu.Fault(t, "POST", "/oauth2/v1/token", http.StatusServiceUnavailable, 50)
	for i := range 25 {
		c := client(t)
		resp, _ := get(t, c, e.url+"/signin/sso")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("start %d: status %d; want 303 to the provider", i+1, resp.StatusCode)
		}
		callback := e.emu.SignIn(t, resp.Header.Get("Location"), oktaemu.AdminLogin, oktaemu.DemoPassword)
		resp, body := get(t, c, callback.String())
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "could not redeem the sign-in code now") || !strings.Contains(body, "Try again in a few minutes") {
			t.Fatalf("sign-in %d while the provider fails: status %d; want 502 saying the provider could not redeem the code now, and to try again later\n%s", i+1, resp.StatusCode, body)
		}
	}
	c := client(t)
	_, page := get(t, c, e.url+"/signin")
	if resp, body := post(t, c, e.url+"/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {testToken}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a token sign-in from the same address after 25 sign-ins the provider did not redeem: status %d; want 303\n%s", resp.StatusCode, body)
	}
}
