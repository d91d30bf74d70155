package connection

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// withResourceNonce makes the demo DPoP app's API calls need the resource
// server's DPoP nonce.
func withResourceNonce() envOption {
	return func(s *envSetup) {
		f := oktaemu.DemoFixture(s.cfg.Devices)
		for i := range f.Apps {
			if f.Apps[i].ClientID == oktaemu.DemoDPoPClientID {
				f.Apps[i].DPoPResourceNonce = true
			}
		}
		s.cfg.Fixture = f
	}
}

// dpopConnection creates a service connection of the demo DPoP app, its
// key added to the app, and gets its first token.
func (e *env) dpopConnection(t *testing.T) *View {
	t.Helper()
	ctx := context.Background()
	v, jwk, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "Bound", Domain: e.emu.URL,
		ClientID: oktaemu.DemoDPoPClientID}, tester)
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	e.emu.AddAppKey(t, oktaemu.DemoDPoPAppID, jwk)
	tok, err := e.m.Token(ctx, v.ID)
	if err != nil || tok.Type != "DPoP" {
		t.Fatalf("first token: %+v, %v; want a DPoP token", tok, err)
	}
	return v
}

func get(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp
}

// TestHTTPClientFollowsResourceNonce: a resource server that answers 401
// use_dpop_nonce (RFC 9449 §9) gets the call again once, with its nonce in
// the proof, and later calls carry it from the start; the token is fine,
// so none is minted.
func TestHTTPClientFollowsResourceNonce(t *testing.T) {
	e := newEnv(t, withResourceNonce())
	v := e.dpopConnection(t)
	posts := e.tokenPosts(t)
	client := e.m.HTTPClient(v.ID)
	for i := range 2 {
		if resp := get(t, client, e.emu.URL+"/api/v1/devices?limit=1"); resp.StatusCode != http.StatusOK {
			t.Fatalf("call %d: %d %q; want 200", i+1, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	if n := e.tokenPosts(t) - posts; n != 0 {
		t.Errorf("%d token requests; want none (the nonce challenge is no token problem)", n)
	}
	if n := e.emu.Stats(t)["GET /api/v1/devices"]; n != 3 {
		t.Errorf("%d device listings; want 3 (one challenged, its repeat, one with the nonce at once)", n)
	}
	// The next token request still carries the authorization server's
	// nonce, not the resource server's: one request gets the token.
	e.emu.AdvanceClock(t, time.Hour)
	posts = e.tokenPosts(t)
	if resp := get(t, client, e.emu.URL+"/api/v1/devices?limit=1"); resp.StatusCode != http.StatusOK {
		t.Fatalf("call after the hour: %d", resp.StatusCode)
	}
	if n := e.tokenPosts(t) - posts; n != 1 {
		t.Errorf("%d token requests for the next token; want 1", n)
	}
}

// TestHTTPClientRefusedProofIsNoTokenProblem: a 401 that refuses the DPoP
// proof (invalid_dpop_proof) is answered as it came: a new token would not
// help, so none is minted and the call is not repeated.
func TestHTTPClientRefusedProofIsNoTokenProblem(t *testing.T) {
	e := newEnv(t)
	v := e.dpopConnection(t)
	e.emu.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/api/v1/devices", Status: http.StatusUnauthorized, Body: "empty", Count: 1,
		Headers: map[string]string{"WWW-Authenticate": `DPoP algs="ES256", error="invalid_dpop_proof", error_description="The DPoP proof JWT is issued more than five minutes in the past."`}})
	posts, calls := e.tokenPosts(t), e.emu.Stats(t)["GET /api/v1/devices"]
	resp := get(t, e.m.HTTPClient(v.ID), e.emu.URL+"/api/v1/devices?limit=1")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_dpop_proof") {
		t.Errorf("answer %d %q; want the 401 invalid_dpop_proof as it came", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if n := e.tokenPosts(t) - posts; n != 0 {
		t.Errorf("%d token requests; want none", n)
	}
	if n := e.emu.Stats(t)["GET /api/v1/devices"] - calls; n != 1 {
		t.Errorf("%d calls; want 1", n)
	}
}

// TestHTTPClientRefreshesAnExpiredToken: an access token the org calls
// expired while this server's clock says it has minutes left (clocks
// apart) is refreshed once on the 401 invalid_token and the call made
// again; the refresh token is rotated once and the rotated one is never
// presented again (Okta would revoke the whole login).
func TestHTTPClientRefreshesAnExpiredToken(t *testing.T) {
	e := newEnv(t)
	v := e.connect(t, "Prod")
	e.m.Now = func() time.Time { return e.emu.Now().Add(-2 * time.Minute) } // this server's clock lags
	e.emu.AdvanceClock(t, time.Hour)
	posts := e.tokenPosts(t)
	client := e.m.HTTPClient(v.ID)
	if resp := get(t, client, e.emu.URL+"/api/v1/devices?limit=1"); resp.StatusCode != http.StatusOK {
		t.Fatalf("call with a token the org calls expired: %d %q; want 200 after one refresh", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if n := e.tokenPosts(t) - posts; n != 1 {
		t.Errorf("%d token requests; want 1", n)
	}
	// The login was not revoked for reuse: the next refresh works.
	e.emu.AdvanceClock(t, time.Hour)
	if resp := get(t, client, e.emu.URL+"/api/v1/devices?limit=1"); resp.StatusCode != http.StatusOK {
		t.Fatalf("call an hour later: %d; want 200", resp.StatusCode)
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusActive {
		t.Errorf("status %s (%s); want active", c.Status, c.StatusReason)
	}
}

// deactivateApp deactivates the app with appID at the org, as an admin
// does in the Admin Console (its tokens are revoked).
func (e *env) deactivateApp(t *testing.T, appID string) {
	t.Helper()
	resp, err := e.emu.ClientAs(emutest.AdminAuthorization).Post(e.emu.URL+"/api/v1/apps/"+appID+"/lifecycle/deactivate", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("deactivate app %s: %d", appID, resp.StatusCode)
	}
}

// TestDeactivatedAppIsNamed: when the org's app is deactivated, its
// connections' next token request is refused (invalid_client) and the
// reason and remedy name a deactivated app besides a changed secret or
// key, with what to do about each.
func TestDeactivatedAppIsNamed(t *testing.T) {
	t.Run("user", func(t *testing.T) {
		e := newEnv(t)
		v := e.connect(t, "Prod")
		e.deactivateApp(t, oktaemu.DemoAppID)
		e.emu.AdvanceClock(t, time.Hour)
		_, err := e.m.Token(context.Background(), v.ID)
		p := wantProblem(t, err, problem.NeedsReauthorization, "deactivated")
		if !strings.Contains(p.Remedy, "activate it again") || !strings.Contains(p.Remedy, "client secret") {
			t.Errorf("remedy %q; want what to do for a deactivated app and for a rotated secret", p.Remedy)
		}
	})
	t.Run("service", func(t *testing.T) {
		e := newEnv(t)
		ctx := context.Background()
		v, jwk, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "Robot", Domain: e.emu.URL,
			ClientID: oktaemu.DemoServiceClientID}, tester)
		if err != nil {
			t.Fatal(err)
		}
		e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
		if _, err := e.m.Token(ctx, v.ID); err != nil {
			t.Fatal(err)
		}
		e.deactivateApp(t, oktaemu.DemoServiceAppID)
		e.emu.AdvanceClock(t, time.Hour)
		_, err = e.m.Token(ctx, v.ID)
		p := wantProblem(t, err, problem.NeedsReauthorization)
		if !strings.Contains(p.Remedy, "activate it again") || !strings.Contains(p.Remedy, "public key") {
			t.Errorf("remedy %q; want what to do for a deactivated app and for a missing key", p.Remedy)
		}
	})
}

// rotateSecret rotates the demo web app's client secret at the org as an
// admin does (emutest.Server.RotateClientSecret) and makes it the secret
// the env's connections are created with. It returns the new secret.
func (e *env) rotateSecret(t *testing.T) string {
	t.Helper()
	e.secret = e.emu.RotateClientSecret(t, oktaemu.DemoAppID)
	return e.secret
}

// TestUpdateRevokesWithTheNewSecret: after the app's client secret was
// rotated at the org (the old one deleted), Update still revokes the
// refresh token it discards, with the new secret of the same client: a
// token left alive would be usable for up to 90 days by whoever holds it.
func TestUpdateRevokesWithTheNewSecret(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	old := e.open(t, e.conn(t, v.ID), "refresh_token")
	secret := e.rotateSecret(t)
	if u, err := e.m.Update(ctx, v.ID, UpdateInput{ClientSecret: keyring.Secret(secret)}, tester); err != nil {
		t.Fatalf("Update: %v", err)
	} else if u.Status != store.StatusNeedsReauthorization || u.StatusReasonCode != store.ReasonCredentialsChanged ||
		!strings.Contains(u.Remedy, `cardflow connections reauthorize "Prod"`) {
		t.Errorf("after Update: %s (code %q; %s); want needs_reauthorization, %s, naming the command that reauthorizes it", u.Status, u.StatusReasonCode, u.Remedy, store.ReasonCredentialsChanged)
	}
	code, body := e.oauthPost(t, "/oauth2/v1/introspect", url.Values{"token": {old}, "token_type_hint": {"refresh_token"}})
	if code != http.StatusOK || !strings.Contains(body, `"active":false`) {
		t.Errorf("the discarded refresh token at the org: %d %s; want it revoked (inactive)", code, body)
	}
	if strings.Contains(e.logs.String(), "could not revoke the discarded refresh token") {
		t.Errorf("logs say the revocation failed:\n%s", e.logs.String())
	}
}
