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

// TestCallbackPageLinksTheConnection: after the org's sign-in, the page
// that says how the authorization went links the connection's page, where
// its remedies are (Change secret, Reauthorize), not the console's start.
func TestCallbackPageLinksTheConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	secret := oktaemu.DemoClientSecret
	for _, tc := range []struct {
		name   string
		rotate bool // the app's secret is rotated at the org before the sign-in
		want   string
	}{
		{"right secret", false, "Connected"},
		{"secret rotated", true, "Change secret"},
	} {
		v, authURL, err := e.manager.Create(ctx, connection.CreateInput{Connector: "okta-devices", Nickname: tc.name, Domain: e.emu.URL,
			ClientID: oktaemu.DemoClientID, ClientSecret: keyring.Secret(secret)}, store.Actor{Type: store.ActorUser, Login: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if tc.rotate {
			secret = e.emu.RotateClientSecret(t, oktaemu.DemoAppID)
		}
		cb := e.emu.SignIn(t, authURL, oktaemu.AdminLogin, oktaemu.DemoPassword)
		_, body := get(t, client(t), cb.String())
		if !strings.Contains(body, tc.want) {
			t.Fatalf("%s: the callback page lacks %q:\n%s", tc.name, tc.want, body)
		}
		if link := `<a href="/connections/` + v.ID + `">the connection's page</a>`; !strings.Contains(body, link) {
			t.Errorf("%s: the callback page does not link the connection's page (%s):\n%s", tc.name, link, body)
		}
	}
}
