package console_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// ssoSignInHTTP signs a cookie-keeping client in to the console with
// single sign-on as login, at the emulated org.
func ssoSignInHTTP(t *testing.T, e *env, login string) *http.Client {
	t.Helper()
	c := client(t)
	resp, _ := get(t, c, e.url+"/signin/sso?next=/connections")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /signin/sso: status %d; want 303", resp.StatusCode)
	}
	callback := e.emu.SignIn(t, resp.Header.Get("Location"), login, oktaemu.DemoPassword)
	if resp, _ = get(t, c, callback.String()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the SSO callback for %s: status %d; want 303", login, resp.StatusCode)
	}
	return c
}

// TestBrokenConnectionTellsOthersToAskAnAdmin: only an admin may
// reauthorize, test or change a connection; a viewer or operator reading
// a broken connection's remedy (on its page, or on a flow's that uses it)
// is told to ask one, an admin is not.
func TestBrokenConnectionTellsOthersToAskAnAdmin(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	prod := e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	if err := e.store.UpdateConnection(context.Background(), prod.ID, func(c *store.Connection) error {
		c.Status, c.StatusReason, c.Remedy = store.StatusNeedsReauthorization, "Okta refused the refresh token (invalid_grant)", "reauthorize the connection"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const ask = "Connections are fixed by a cardflow admin; you have the "
	for _, tc := range []struct {
		login string
		ask   bool
	}{
		{oktaemu.UserLogin, true},     // viewer
		{oktaemu.ReadOnlyLogin, true}, // operator
		{oktaemu.AdminLogin, false},
	} {
		c := ssoSignInHTTP(t, e, tc.login)
		for _, path := range []string{"/connections/" + prod.ID, "/flows/" + flowID} {
			_, body := get(t, c, e.url+path)
			if !strings.Contains(body, "Reauthorize the connection") {
				t.Fatalf("%s as %s shows no remedy:\n%s", path, tc.login, body)
			}
			if got := strings.Contains(body, ask); got != tc.ask {
				t.Errorf("%s as %s: told to ask an admin = %v; want %v", path, tc.login, got, tc.ask)
			}
		}
	}
}

// TestBrokenConnectionSaysItsFixOnce: the page of a connection that is not
// active gives its fix once, in the banner (where a viewer is also told to
// ask an admin), and each card says why it fails and where the fix is,
// instead of the same fix on every one of the cards.
func TestBrokenConnectionSaysItsFixOnce(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	prod := e.connect(t, "Prod", nil)
	if err := e.store.UpdateConnection(context.Background(), prod.ID, func(c *store.Connection) error {
		c.Status, c.StatusReason, c.Remedy = store.StatusNeedsReauthorization, "Okta refused the refresh token (invalid_grant)", "reauthorize the connection"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c := ssoSignInHTTP(t, e, oktaemu.UserLogin)
	_, body := get(t, c, e.url+"/connections/"+prod.ID)
	if n := strings.Count(strings.ToLower(body), "reauthorize the connection"); n != 1 {
		t.Errorf("the page gives the fix %d times; want once, in the banner:\n%s", n, body)
	}
	cards := regexp.MustCompile(`(?s)<table[^>]*id="cards".*?</table>`).FindString(body)
	if want := "The connection needs reauthorization. The fix is at the top of this page."; strings.Count(cards, want) < 9 {
		t.Errorf("the cards table says %q %d times; want it on every card:\n%s", want, strings.Count(cards, want), cards)
	}
}
