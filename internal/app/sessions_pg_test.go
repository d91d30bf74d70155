package app

// Console sessions live in the database: a person signs in with
// single sign-on through one server, any other server on the database
// accepts the session, and signing out on one ends it on all.

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

func TestMultiServerConsoleSessions(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 2})
	a, b, _ := pgServers(t, emu, func(c *Config) { ssoConfig(c, emu.URL) })

	jar, _ := cookiejar.New(nil) // cookies are per host, not per port: both servers see them
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}

	// Start on server b; its public URL is server a's, so the org sends
	// the browser back to a.
	resp, _ := get(b.url + "/signin/sso")
	callback := emu.SignIn(t, resp.Header.Get("Location"), oktaemu.AdminLogin, oktaemu.DemoPassword)
	if !strings.HasPrefix(callback.String(), a.url+"/auth/callback") {
		t.Fatalf("the org sent the browser to %s; want server a's callback", callback)
	}
	if resp, body := get(callback.String()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback on server a: status %d\n%s", resp.StatusCode, body)
	}

	for _, h := range []*harness{a, b} {
		resp, body := get(h.url + "/connections")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Ada Admin") {
			t.Fatalf("server %s with the session: status %d; want the console of Ada Admin", h.url, resp.StatusCode)
		}
	}

	// Sign out on server b; server a no longer knows the session.
	u, _ := url.Parse(a.url)
	var session *http.Cookie
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "cardflow_session" {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("the browser holds no session cookie")
	}
	_, body := get(b.url + "/connections")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the console page has no CSRF field")
	}
	req, _ := http.NewRequest("POST", b.url+"/signout", strings.NewReader(url.Values{"csrf": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	out, err := browser.Do(req)
	if err != nil || out.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out on server b: %v %v", out, err)
	}
	out.Body.Close()
	// Whoever kept a copy of the cookie: server a refuses it now.
	jar.SetCookies(u, []*http.Cookie{{Name: "cardflow_session", Value: session.Value, Path: "/"}})
	if resp, _ := get(a.url + "/connections"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
		t.Errorf("server a after signing out on b: status %d; want a redirect to sign in", resp.StatusCode)
	}
}

// TestPeopleRevokeOnEveryServer: revoking a person's access on one server
// ends their session and token on the other at once.
func TestPeopleRevokeOnEveryServer(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 2})
	a, b, _ := pgServers(t, emu, func(c *Config) { ssoConfig(c, emu.URL) })
	riley := ssoBrowser(t, a, oktaemu.ReadOnlyLogin)
	tok := cliLogin(t, a, oktaemu.ReadOnlyLogin)
	if !riley.signedIn(a.url+"/connections") || !riley.signedIn(b.url+"/connections") {
		t.Fatal("riley's session does not work on both servers")
	}
	if code, data := b.callWith(testAPIToken, "POST", "/api/v1/people/"+oktaemu.ReadOnlyLogin+"/revoke", nil, nil); code != http.StatusOK {
		t.Fatalf("revoking riley on server b: status %d\n%s", code, data)
	}
	for _, h := range []*harness{a, b} {
		if riley.signedIn(h.url + "/connections") {
			t.Errorf("server %s accepts riley's session after the revocation", h.url)
		}
		if code, _ := h.callWith(tok.Token, "GET", "/api/v1/whoami", nil, nil); code != http.StatusUnauthorized {
			t.Errorf("server %s with riley's token after the revocation: status %d; want 401", h.url, code)
		}
	}
}
