package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestFailedSignInIsNotPending: a connection whose sign-in at the org was
// finished and then failed (the client secret rejected: rotated at the org
// in between) says so under Authorizing account and points at the fix
// above, where it told the admin to finish signing in, which they had
// done.
func TestFailedSignInIsNotPending(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	actor := store.Actor{Type: store.ActorUser, Login: "test"}
	failed, authURL, secret := e.createRotated(t, "Rotated secret")
	get(t, client(t), e.emu.SignIn(t, authURL, oktaemu.AdminLogin, oktaemu.DemoPassword).String())
	pending, _, err := e.manager.Create(ctx, connection.CreateInput{Connector: "okta-devices", Nickname: "Pending", Domain: e.emu.URL,
		ClientID: oktaemu.DemoClientID, ClientSecret: keyring.Secret(secret)}, actor)
	if err != nil {
		t.Fatal(err)
	}
	c, _, _ := signInHTTP(t, e.url, "/connections")
	for _, tc := range []struct {
		name, id, want, not string
	}{
		{"sign-in failed", failed.ID, "No account authorized this connection: its sign-in failed. The fix is at the top of this page.", "finish signing in"},
		{"sign-in not finished", pending.ID, "Not authorized yet: finish signing in to the org, or reauthorize.", "its sign-in failed"},
	} {
		_, page := get(t, c, e.url+"/connections/"+tc.id)
		if !strings.Contains(page, tc.want) {
			t.Errorf("%s: the connection's page lacks %q", tc.name, tc.want)
		}
		if strings.Contains(page, tc.not) {
			t.Errorf("%s: the connection's page says %q", tc.name, tc.not)
		}
	}
}
