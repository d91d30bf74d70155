package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestSSORefusedOneTooMany: the single sign-on refused as the one that
// uses up its address's limit says so on its page, and until when every
// sign-in from the address is refused, as cardflow login's does, where it
// said only why it was refused and the next sign-in met the lockout
// unwarned.
func TestSSORefusedOneTooMany(t *testing.T) {
	t.Parallel()
	clock := emutest.NewClock(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	e := newEnvWith(t, func(c *app.Config, orgURL string) {
		c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret = orgURL, oktaemu.DemoConsoleClientID, keyring.Secret(oktaemu.DemoConsoleClientSecret)
		c.OIDCRoles = []string{"admin=" + oktaemu.AdminsGroup}
		c.Now = clock.Now
	})
	const oneTooMany, until = "one sign-in refused too many from your address", "(until 09:01:00 UTC)"
	for i := range 20 {
		c := client(t)
		if resp, _ := get(t, c, e.url+"/signin/sso"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("start %d: status %d; want 303 to the provider", i+1, resp.StatusCode)
		}
		q := url.Values{"code": {"guessed-code"}, "state": {cookieOf(c, e.url, "cardflow_sso")}}
		resp, body := get(t, c, e.url+"/auth/callback?"+q.Encode())
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("sign-in %d with a guessed code: status %d; want 401\n%s", i+1, resp.StatusCode, body)
		}
		if got := strings.Contains(body, oneTooMany); got != (i == 19) {
			t.Fatalf("sign-in %d with a guessed code says %q: %v; want %v\n%s", i+1, oneTooMany, got, i == 19, body)
		}
		if i == 19 && (!strings.Contains(body, until) || !strings.Contains(body, "even with the right token")) {
			t.Errorf("the 20th refused sign-in does not say until when every sign-in is refused, %s\n%s", until, body)
		}
	}
}

// TestSSOUnverifiedTokenLocksOutNoOne: single sign-ons whose ID token does
// not verify for the server's clock (over an hour ahead of the provider's)
// are no wrong guesses: each says what is wrong and what to set right, is
// logged at ERROR, and however many people retry, the address's token
// sign-in goes on working, where 20 of them locked the address out.
func TestSSOUnverifiedTokenLocksOutNoOne(t *testing.T) {
	t.Parallel()
	// The emulated org's clock is the host's, not moved.
	clock := func() time.Time { return time.Now().Add(2 * time.Hour) }
	e := newEnvWith(t, func(c *app.Config, orgURL string) {
		c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret = orgURL, oktaemu.DemoConsoleClientID, keyring.Secret(oktaemu.DemoConsoleClientSecret)
		c.OIDCRoles = []string{"admin=" + oktaemu.AdminsGroup}
		c.Now = clock
	})
	for i := range 21 {
		c := client(t)
		resp, _ := get(t, c, e.url+"/signin/sso")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("start %d: status %d; want 303 to the provider", i+1, resp.StatusCode)
		}
		callback := e.emu.SignIn(t, resp.Header.Get("Location"), oktaemu.AdminLogin, oktaemu.DemoPassword)
		resp, body := get(t, c, callback.String())
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "had expired by this server&#39;s clock") || !strings.Contains(body, "set the server&#39;s clock right (NTP)") {
			t.Fatalf("sign-in %d with the server's clock 2 hours ahead: status %d; want 502 saying the clock is off and to set it right\n%s", i+1, resp.StatusCode, body)
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, `level=ERROR msg="console: single sign-on failed"`) {
		t.Errorf("the failed sign-ins are not logged at ERROR:\n%s", logs)
	}
	c := client(t)
	_, page := get(t, c, e.url+"/signin")
	if resp, body := post(t, c, e.url+"/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {testToken}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a token sign-in from the same address after 21 sign-ins whose ID token did not verify: status %d; want 303\n%s", resp.StatusCode, body)
	}
}
