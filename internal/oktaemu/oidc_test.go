package oktaemu_test

// The org authorization server driven by golang.org/x/oauth2 and
// github.com/coreos/go-oidc/v3, as a standard client would: discovery, the
// authorization code flow with PKCE, ID token verification, refresh token
// rotation with leeway and reuse detection (OKTA.md §3).

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// oidcCallbackURL is a loopback redirect URI: the demo app accepts any port.
const oidcCallbackURL = "http://127.0.0.1:38461/oauth/callback"

var oidcScopes = []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess, "okta.devices.read", "okta.devices.manage"}

// oidcClient is a relying party of the emulated org.
type oidcClient struct {
	srv      *emutest.Server
	provider *oidc.Provider
	conf     *oauth2.Config
}

func newOIDCClient(t *testing.T, srv *emutest.Server, scopes ...string) *oidcClient {
	t.Helper()
	if len(scopes) == 0 {
		scopes = oidcScopes
	}
	p, err := oidc.NewProvider(t.Context(), srv.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &oidcClient{srv: srv, provider: p, conf: &oauth2.Config{
		ClientID:     oktaemu.DemoClientID,
		ClientSecret: oktaemu.DemoClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  oidcCallbackURL,
		Scopes:       scopes,
	}}
}

// oidcLogin is the result of one sign-in.
type oidcLogin struct {
	token    *oauth2.Token
	idToken  *oidc.IDToken
	nonce    string
	verifier string
}

// authorize runs /authorize and the sign-in form, returning the callback
// query (code or error) after checking state.
func (c *oidcClient) authorize(t *testing.T, user string, opts ...oauth2.AuthCodeOption) (url.Values, string, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	state, nonce := oauth2.GenerateVerifier()[:22], oauth2.GenerateVerifier()[:22]
	opts = append(opts, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
	u := c.srv.SignIn(t, c.conf.AuthCodeURL(state, opts...), user, oktaemu.DemoPassword)
	if got := u.Scheme + "://" + u.Host + u.Path; got != oidcCallbackURL {
		t.Fatalf("redirected to %s; want %s", got, oidcCallbackURL)
	}
	q := u.Query()
	if q.Get("state") != state {
		t.Fatalf("callback state %q; want %q", q.Get("state"), state)
	}
	return q, verifier, nonce
}

// signIn runs the whole code flow for user and verifies the ID token.
func (c *oidcClient) signIn(t *testing.T, user string) *oidcLogin {
	t.Helper()
	q, verifier, nonce := c.authorize(t, user)
	if q.Get("error") != "" || q.Get("code") == "" {
		t.Fatalf("callback %v; want a code", q)
	}
	tok, err := c.conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	idt := c.verifyIDToken(t, tok, nonce)
	return &oidcLogin{token: tok, idToken: idt, nonce: nonce, verifier: verifier}
}

func (c *oidcClient) verifyIDToken(t *testing.T, tok *oauth2.Token, nonce string) *oidc.IDToken {
	t.Helper()
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		t.Fatalf("token response has no id_token")
	}
	idt, err := c.provider.Verifier(&oidc.Config{ClientID: oktaemu.DemoClientID, Now: c.srv.Now}).Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("ID token does not verify: %v", err)
	}
	if idt.Nonce != nonce {
		t.Fatalf("ID token nonce %q; want %q", idt.Nonce, nonce)
	}
	return idt
}

// refresh redeems a refresh token with the oauth2 package (a token with no
// access token refreshes at once).
func (c *oidcClient) refresh(ctx context.Context, rt string) (*oauth2.Token, error) {
	return c.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
}

// introspect asks /introspect whether a token is active.
func (c *oidcClient) introspect(t *testing.T, token, hint string) bool {
	t.Helper()
	r := emuForm(t, c.srv, "/oauth2/v1/introspect", url.Values{"token": {token}, "token_type_hint": {hint}})
	var body struct {
		Active bool `json:"active"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || r.status != 200 {
		t.Fatalf("introspect: status %d, %v", r.status, err)
	}
	return body.Active
}

// apiStatus calls GET /api/v1/devices?limit=1 with a Bearer token and
// returns the status and Okta error code.
func apiStatus(t *testing.T, base, accessToken string) (int, string) {
	t.Helper()
	code, _, body := apiCall{method: "GET", path: "/api/v1/devices?limit=1", auth: "Bearer " + accessToken}.do(t, http.DefaultClient, base)
	return code, oktaErrorCode(body)
}

// oauthErrorCode returns the OAuth error code of a failed token request.
func oauthErrorCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

func TestOIDCCodeFlowPKCE(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 5})
	c := newOIDCClient(t, srv)
	l := c.signIn(t, oktaemu.AdminLogin)

	if l.idToken.Issuer != srv.URL || l.idToken.Subject != oktaemu.AdminUserID {
		t.Errorf("ID token iss %q sub %q; want %q %q", l.idToken.Issuer, l.idToken.Subject, srv.URL, oktaemu.AdminUserID)
	}
	var claims struct {
		Email             string `json:"email"`
		PreferredUsername string `json:"preferred_username"`
	}
	if err := l.idToken.Claims(&claims); err != nil || claims.PreferredUsername != oktaemu.AdminLogin {
		t.Errorf("ID token claims %+v, %v; want preferred_username %s", claims, err, oktaemu.AdminLogin)
	}
	if l.token.TokenType != "Bearer" || l.token.RefreshToken == "" || l.token.AccessToken == "" {
		t.Errorf("token type %q, refresh %t, access %t; want Bearer with both tokens", l.token.TokenType, l.token.RefreshToken != "", l.token.AccessToken != "")
	}
	if d := time.Until(l.token.Expiry); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("access token expires in %v; want 1h", d)
	}
	scope, _ := l.token.Extra("scope").(string)
	if got := strings.Fields(scope); !sameStrings(got, oidcScopes) {
		t.Errorf("token scope %q; want %q", scope, oidcScopes)
	}

	info, err := c.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(l.token))
	if err != nil || info.Subject != oktaemu.AdminUserID || info.Email != claims.Email {
		t.Errorf("userinfo %+v, %v; want sub %s email %s", info, err, oktaemu.AdminUserID, claims.Email)
	}
	if code, ec := apiStatus(t, srv.URL, l.token.AccessToken); code != 200 {
		t.Errorf("API with the access token: %d %s; want 200", code, ec)
	}
	if !c.introspect(t, l.token.AccessToken, "access_token") {
		t.Errorf("introspect access token: inactive; want active")
	}

	// Access tokens last one hour on the emulator clock.
	srv.AdvanceClock(t, time.Hour+time.Second)
	if code, ec := apiStatus(t, srv.URL, l.token.AccessToken); code != 401 || ec != "E0000011" {
		t.Errorf("API with an expired token: %d %s; want 401 E0000011", code, ec)
	}
	if c.introspect(t, l.token.AccessToken, "access_token") {
		t.Errorf("introspect expired access token: active; want inactive")
	}
	// The refresh token still works and brings a new ID token.
	tok, err := c.refresh(t.Context(), l.token.RefreshToken)
	if err != nil {
		t.Fatalf("refresh after the access token expired: %v", err)
	}
	if code, ec := apiStatus(t, srv.URL, tok.AccessToken); code != 200 {
		t.Errorf("API with the refreshed token: %d %s; want 200", code, ec)
	}
}

func TestOIDCCodeExchangeErrors(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 1})
	c := newOIDCClient(t, srv)
	tests := []struct {
		name     string
		exchange func(code, verifier string) error
		want     string
	}{
		{"no verifier", func(code, _ string) error {
			_, err := c.conf.Exchange(t.Context(), code)
			return err
		}, "invalid_request"},
		{"wrong verifier", func(code, _ string) error {
			_, err := c.conf.Exchange(t.Context(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
			return err
		}, "invalid_grant"},
		{"wrong redirect", func(code, verifier string) error {
			conf := *c.conf
			conf.RedirectURL = "http://127.0.0.1:38462/oauth/callback"
			_, err := conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier))
			return err
		}, "invalid_grant"},
		{"wrong secret", func(code, verifier string) error {
			conf := *c.conf
			conf.ClientSecret = "nope"
			_, err := conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier))
			return err
		}, "invalid_client"},
		{"used twice", func(code, verifier string) error {
			if _, err := c.conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier)); err != nil {
				return err
			}
			_, err := c.conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier))
			return err
		}, "invalid_grant"},
		{"expired", func(code, verifier string) error {
			srv.AdvanceClock(t, 301*time.Second)
			_, err := c.conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier))
			return err
		}, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, verifier, _ := c.authorize(t, oktaemu.AdminLogin)
			err := tt.exchange(q.Get("code"), verifier)
			if got := oauthErrorCode(err); got != tt.want {
				t.Errorf("exchange error %v (code %q); want %q", err, got, tt.want)
			}
		})
	}
}

func TestOIDCAuthorizeErrors(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 1})
	tests := []struct {
		name, user string
		scopes     []string
		wantErr    string
		wantScope  []string // when no error
	}{
		{"unassigned user", oktaemu.UnassignedLogin, oidcScopes, "access_denied", nil},
		{"ungranted API scope dropped", oktaemu.AdminLogin, []string{"openid", "okta.devices.read", "okta.users.read"}, "", []string{"openid", "okta.devices.read"}},
		{"no API scope granted", oktaemu.AdminLogin, []string{"openid", "okta.users.read"}, "consent_required", nil},
		// A user's admin role does not filter the token's scopes.
		{"silent downscoping", oktaemu.UserLogin, []string{"openid", "okta.devices.manage"}, "", []string{"openid", "okta.devices.manage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newOIDCClient(t, srv, tt.scopes...)
			q, verifier, _ := c.authorize(t, tt.user)
			if got := q.Get("error"); got != tt.wantErr {
				t.Fatalf("callback error %q (%s); want %q", got, q.Get("error_description"), tt.wantErr)
			}
			if tt.wantErr != "" {
				if q.Get("error_description") == "" || q.Get("code") != "" {
					t.Errorf("callback %v; want an error_description and no code", q)
				}
				return
			}
			tok, err := c.conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			scope, _ := tok.Extra("scope").(string)
			if !sameStrings(strings.Fields(scope), tt.wantScope) {
				t.Errorf("token scope %q; want %q", scope, tt.wantScope)
			}
		})
	}
}

// TestOIDCRefreshRotation checks ROTATE with a 30 s leeway and reuse
// detection: every refresh returns a new refresh token; the previous one
// stays usable for the leeway; using it afterwards revokes the whole login.
func TestOIDCRefreshRotation(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 1})
	c := newOIDCClient(t, srv)
	l := c.signIn(t, oktaemu.AdminLogin)
	ctx := t.Context()

	rt0 := l.token.RefreshToken
	t1, err := c.refresh(ctx, rt0)
	if err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	if t1.RefreshToken == "" || t1.RefreshToken == rt0 {
		t.Fatalf("refresh returned refresh token %q; want a new one", t1.RefreshToken)
	}
	c.verifyIDToken(t, t1, "")

	// Within the leeway the used token still works.
	srv.AdvanceClock(t, 20*time.Second)
	t2, err := c.refresh(ctx, rt0)
	if err != nil {
		t.Fatalf("reusing the previous refresh token within the leeway: %v", err)
	}
	if t2.RefreshToken == "" || t2.RefreshToken == rt0 || t2.RefreshToken == t1.RefreshToken {
		t.Errorf("refresh within leeway returned %q; want a new refresh token", t2.RefreshToken)
	}
	// Normal rotation continues from the newest token.
	t3, err := c.refresh(ctx, t2.RefreshToken)
	if err != nil {
		t.Fatalf("refresh with the newest token: %v", err)
	}
	if slices.Contains([]string{rt0, t1.RefreshToken, t2.RefreshToken}, t3.RefreshToken) {
		t.Errorf("refresh returned a refresh token seen before")
	}
	for name, tok := range map[string]string{"newest refresh": t3.RefreshToken, "newest access": t3.AccessToken, "first access": l.token.AccessToken} {
		hint := "access_token"
		if strings.Contains(name, "refresh") {
			hint = "refresh_token"
		}
		if !c.introspect(t, tok, hint) {
			t.Errorf("introspect %s token before reuse: inactive; want active", name)
		}
	}

	// 11 s later rt0 was rotated 31 s ago: presenting it is reuse.
	srv.AdvanceClock(t, 11*time.Second)
	_, err = c.refresh(ctx, rt0)
	if got := oauthErrorCode(err); got != "invalid_grant" {
		t.Fatalf("reusing a refresh token after the leeway: %v; want invalid_grant", err)
	}
	// The login is revoked: the newest refresh token and every access token.
	if _, err := c.refresh(ctx, t3.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("newest refresh token after reuse: %v; want invalid_grant", err)
	}
	for name, tok := range map[string]string{"newest refresh": t3.RefreshToken, "newest access": t3.AccessToken, "first access": l.token.AccessToken} {
		hint := "access_token"
		if strings.Contains(name, "refresh") {
			hint = "refresh_token"
		}
		if c.introspect(t, tok, hint) {
			t.Errorf("introspect %s token after reuse: active; want inactive", name)
		}
	}
	for _, tok := range []string{t3.AccessToken, t1.AccessToken} {
		if code, ec := apiStatus(t, srv.URL, tok); code != 401 || ec != "E0000011" {
			t.Errorf("API with a revoked access token: %d %s; want 401 E0000011", code, ec)
		}
	}

	// Another login of the same user is unaffected.
	l2 := c.signIn(t, oktaemu.AdminLogin)
	if code, ec := apiStatus(t, srv.URL, l2.token.AccessToken); code != 200 {
		t.Errorf("API with a new login's token: %d %s; want 200", code, ec)
	}
}

// TestOIDCRevoke revokes a refresh token through /revoke: its login ends.
func TestOIDCRevoke(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 1})
	c := newOIDCClient(t, srv)
	l := c.signIn(t, oktaemu.AdminLogin)
	for _, tok := range []string{l.token.RefreshToken, "unknown-token"} {
		r := emuForm(t, srv, "/oauth2/v1/revoke", url.Values{"token": {tok}, "token_type_hint": {"refresh_token"}})
		if r.status != 200 {
			t.Errorf("revoke: status %d; want 200", r.status)
		}
	}
	if _, err := c.refresh(t.Context(), l.token.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("refresh with a revoked token: %v; want invalid_grant", err)
	}
	if c.introspect(t, l.token.AccessToken, "access_token") {
		t.Errorf("access token of a revoked login: active; want inactive")
	}
}

func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestOIDCRevokedOIDCGrant: an app that no longer grants one of the
// auto-granted OIDC scopes answers a request for it with invalid_scope
// naming the scope.
func TestOIDCRevokedOIDCGrant(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 1})
	srv.RevokeGrant(t, "offline_access")
	c := newOIDCClient(t, srv)
	q, _, _ := c.authorize(t, oktaemu.AdminLogin)
	if q.Get("error") != "invalid_scope" || !strings.Contains(q.Get("error_description"), "offline_access") {
		t.Errorf("callback error %q %q; want invalid_scope naming offline_access", q.Get("error"), q.Get("error_description"))
	}
	// Without offline_access the login works and brings no refresh token.
	c = newOIDCClient(t, srv, "openid", "okta.devices.read")
	l := c.signIn(t, oktaemu.AdminLogin)
	if l.token.RefreshToken != "" {
		t.Errorf("token without offline_access has a refresh token")
	}
}

// TestOIDCRefreshScope: a refresh may narrow the access token's scopes to a
// subset of the login's, never beyond them; the new refresh token keeps the
// login's scopes (RFC 6749 §6).
func TestOIDCRefreshScope(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 1})
	c := newOIDCClient(t, srv)
	l := c.signIn(t, oktaemu.AdminLogin)
	body, code := refreshWithScope(t, c, l.token.RefreshToken, "openid offline_access okta.devices.read")
	if code != 200 || body["scope"] != "openid offline_access okta.devices.read" {
		t.Fatalf("narrowing refresh: %d %v; want 200 with the narrower scope", code, body)
	}
	at, _ := body["access_token"].(string)
	// The narrowed token may read but not manage.
	if code, ec := apiStatus(t, srv.URL, at); code != 200 {
		t.Errorf("read with the narrowed token: %d %s; want 200", code, ec)
	}
	status, hdr, _ := apiCall{method: "POST", path: "/api/v1/devices/guoNOPE/lifecycle/suspend", auth: "Bearer " + at}.do(t, http.DefaultClient, srv.URL)
	if status != 403 || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("manage with the narrowed token: %d %q; want 403 insufficient_scope", status, hdr.Get("WWW-Authenticate"))
	}
	rt, _ := body["refresh_token"].(string)
	body, code = refreshWithScope(t, c, rt, "openid okta.devices.manage")
	if code != 200 || body["scope"] != "openid okta.devices.manage" {
		t.Errorf("refresh back to a scope of the login: %d %v; want 200", code, body)
	}
	for _, tc := range []struct{ name, rt string }{{"login's", l.token.RefreshToken}, {"narrowed refresh's", rt}} {
		body, code = refreshWithScope(t, c, tc.rt, "openid okta.users.read")
		if code != 400 || body["error"] != "invalid_scope" {
			t.Errorf("refresh beyond the login's scopes with the %s refresh token: %d %v; want 400 invalid_scope", tc.name, code, body)
		}
	}
}

// refreshWithScope redeems a refresh token asking for scope.
func refreshWithScope(t *testing.T, c *oidcClient, rt, scope string) (map[string]any, int) {
	t.Helper()
	r := emuForm(t, c.srv, "/oauth2/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {scope}})
	var body map[string]any
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatal(err)
	}
	return body, r.status
}

// TestOIDCRefreshAfterRevokedGrant: an Okta API scope the app no longer
// grants is left out of the access tokens a refresh mints (the answer's
// scope says so), while the tokens issued before keep it and the refresh
// token keeps working; granted again, it comes back with the next refresh.
func TestOIDCRefreshAfterRevokedGrant(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 1})
	c := newOIDCClient(t, srv)
	l := c.signIn(t, oktaemu.AdminLogin)
	srv.RevokeGrant(t, "okta.devices.manage")

	body, code := refreshWithScope(t, c, l.token.RefreshToken, "")
	scope, _ := body["scope"].(string)
	if code != 200 || slices.Contains(strings.Fields(scope), "okta.devices.manage") || !slices.Contains(strings.Fields(scope), "okta.devices.read") {
		t.Fatalf("refresh after revoking the grant: %d scope %q; want 200 without okta.devices.manage, with okta.devices.read", code, scope)
	}
	at, _ := body["access_token"].(string)
	suspend := apiCall{method: "POST", path: "/api/v1/devices/guoNOPE/lifecycle/suspend", auth: "Bearer " + at}
	status, hdr, _ := suspend.do(t, http.DefaultClient, srv.URL)
	if status != 403 || !strings.Contains(hdr.Get("WWW-Authenticate"), `scope="okta.devices.manage"`) {
		t.Errorf("manage with the refreshed token: %d %q; want 403 insufficient_scope", status, hdr.Get("WWW-Authenticate"))
	}
	// The access token issued before the revocation keeps its scopes.
	suspend.auth = "Bearer " + l.token.AccessToken
	if status, _, _ := suspend.do(t, http.DefaultClient, srv.URL); status != 404 {
		t.Errorf("manage with the token issued before: %d; want 404 (allowed, unknown device)", status)
	}

	srv.AddGrant(t, "okta.devices.manage")
	rt, _ := body["refresh_token"].(string)
	body, code = refreshWithScope(t, c, rt, "")
	if scope, _ := body["scope"].(string); code != 200 || !slices.Contains(strings.Fields(scope), "okta.devices.manage") {
		t.Errorf("refresh after granting again: %d scope %q; want okta.devices.manage back", code, scope)
	}
}
