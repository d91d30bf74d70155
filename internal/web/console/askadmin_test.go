package console_test

import (
	"context"
	"net/http"
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
			if !strings.Contains(body, "reauthorize the connection") {
				t.Fatalf("%s as %s shows no remedy:\n%s", path, tc.login, body)
			}
			if got := strings.Contains(body, ask); got != tc.ask {
				t.Errorf("%s as %s: told to ask an admin = %v; want %v", path, tc.login, got, tc.ask)
			}
		}
	}
}
