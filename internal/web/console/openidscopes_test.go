package console_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestOpenIDScopesOfAPendingConnection: before the first sign-in nothing
// is known of what the org grants; the connection page says so of the
// Okta API scopes ("not yet known") and must not strike the OpenID scopes
// through in red as refused. Once authorized, they show as granted.
func TestOpenIDScopesOfAPendingConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	v, authURL, err := e.manager.Create(ctx, connection.CreateInput{Connector: "okta-devices", Nickname: "Prod", Domain: e.emu.URL,
		ClientID: oktaemu.DemoClientID, ClientSecret: keyring.Secret(oktaemu.DemoClientSecret)}, store.Actor{Type: store.ActorUser, Login: "test"})
	if err != nil {
		t.Fatal(err)
	}
	c, _, _ := signInHTTP(t, e.url, "/connections")
	para := regexp.MustCompile(`(?s)<p class="help" id="openid-scopes">.*?</p>`)
	_, body := get(t, c, e.url+"/connections/"+v.ID)
	got := para.FindString(body)
	if !strings.Contains(got, "offline_access") {
		t.Fatalf("the pending connection's page has no OpenID scopes paragraph:\n%s", body)
	}
	if strings.Contains(got, `class="no"`) || strings.Contains(got, "not granted") {
		t.Errorf("the OpenID scopes of a pending connection read as refused: %s", got)
	}

	cb := e.emu.SignIn(t, authURL, oktaemu.AdminLogin, oktaemu.DemoPassword)
	if res, err := e.manager.Callback(ctx, cb.Query()); err != nil || !res.OK {
		t.Fatalf("authorize: %v %+v", err, res)
	}
	_, body = get(t, c, e.url+"/connections/"+v.ID)
	got = para.FindString(body)
	if strings.Count(got, `class="yes"`) != len(connection.AutoGrantedScopes()) || strings.Contains(got, "not granted") {
		t.Errorf("the OpenID scopes of the authorized connection read %s; want each granted", got)
	}
}

// TestPendingConnectionRemedyNamesReauthorize: the remedy of a user
// connection waiting for its sign-in said to "open the authorize URL",
// which only the CLI prints; the connection's page (its banner, where the
// cards send the reader for the fix) names Reauthorize instead.
func TestPendingConnectionRemedyNamesReauthorize(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v, _, err := e.manager.Create(context.Background(), connection.CreateInput{Connector: "okta-devices", Nickname: "Staging", Domain: e.emu.URL,
		ClientID: oktaemu.DemoClientID, ClientSecret: keyring.Secret(oktaemu.DemoClientSecret)}, store.Actor{Type: store.ActorUser, Login: "test"})
	if err != nil {
		t.Fatal(err)
	}
	c, _, _ := signInHTTP(t, e.url, "/connections")
	_, body := get(t, c, e.url+"/connections/"+v.ID)
	const want = "Reauthorize on the connection&#39;s page opens the org&#39;s sign-in page again"
	if strings.Contains(body, "authorize URL") || strings.Count(body, want) != 1 || !strings.Contains(body, "The fix is at the top of this page.") {
		t.Errorf("the pending connection's page sends the admin to an authorize URL it does not show, or does not name Reauthorize in its banner, where the cards send the reader:\n%s", body)
	}
	// The connections list's status details give the same fix.
	_, body = get(t, c, e.url+"/connections")
	if row := rowOf(body, "Staging"); strings.Contains(row, "authorize URL") || !strings.Contains(row, "Reauthorize on the connection's page") {
		t.Errorf("the connections list's row of the pending connection reads %q; want its fix to name Reauthorize", row)
	}
}
