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
