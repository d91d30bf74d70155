package okta

import (
	"context"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// startOrg serves an emulated org and returns it with a client that calls
// it as the demo super admin (SSWS token).
func startOrg(t testing.TB, cfg oktaemu.Config) (*emutest.Server, *Client) {
	t.Helper()
	srv := emutest.Start(t, cfg)
	return srv, clientFor(t, srv, "SSWS "+oktaemu.DemoAPIToken)
}

// clientFor returns a client of srv sending authorization.
func clientFor(t testing.TB, srv *emutest.Server, authorization string) *Client {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &Client{
		BaseURL:      u,
		HTTP:         srv.ClientAs(authorization),
		RetryBackoff: 1, // retries in tests need no real backoff
	}
}

// accessToken runs the authorization code flow with PKCE as login and
// returns the access token, carrying the granted subset of scopes.
func accessToken(t testing.TB, srv *emutest.Server, login string, scopes ...string) string {
	t.Helper()
	conf := &oauth2.Config{
		ClientID:     oktaemu.DemoClientID,
		ClientSecret: oktaemu.DemoClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:  srv.URL + "/oauth2/v1/authorize",
			TokenURL: srv.URL + "/oauth2/v1/token",
		},
		RedirectURL: "http://127.0.0.1:8080/oauth/callback",
		Scopes:      scopes,
	}
	verifier := oauth2.GenerateVerifier()
	loc := srv.SignIn(t, conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", "nonce-1")), login, oktaemu.DemoPassword)
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("sign-in as %s: redirected to %s; want a code", login, loc.Redacted())
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange as %s: %v", login, err)
	}
	return tok.AccessToken
}

// firstDevice returns the id of the first device with status, as listed.
func firstDevice(t testing.TB, c *Client, status string) string {
	t.Helper()
	for d, err := range c.ListDevices(context.Background(), ListOptions{Search: `status eq "` + status + `"`, Limit: 1}) {
		if err != nil {
			t.Fatalf("ListDevices: %v", err)
		}
		return d.ID
	}
	t.Fatalf("the org has no %s device", status)
	return ""
}
