package console_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestRefusedRoleSaysWhereRolesComeFrom: a page a signed-in person's role
// may not use says that roles come from the identity provider's groups at
// sign-in, and to ask a cardflow admin to do it, where it said to ask a
// cardflow admin for the role, which no admin can give.
func TestRefusedRoleSaysWhereRolesComeFrom(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	c := ssoSignInHTTP(t, e, oktaemu.UserLogin) // viewer
	resp, body := get(t, c, e.url+"/connections/new")
	body = html.UnescapeString(body)
	const want = "Ask a cardflow admin to do it. To have the admin role yourself, ask your identity provider's administrator to put you in a group that gives it, then sign out and sign in again: roles come from those groups at sign-in."
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, want) {
		t.Errorf("a viewer at /connections/new: status %d; want 403 and %q\n%s", resp.StatusCode, want, body)
	}
}
