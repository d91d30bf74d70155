package oktaemu_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

func TestAuthorizeErrorPages(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 1})
	base := url.Values{"client_id": {oktaemu.DemoClientID}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"s"}, "redirect_uri": {"http://localhost:1234/oauth/callback"}}
	tests := []struct {
		name   string
		change url.Values
		status int // 400 error page, 302 redirect, 200 form
		errorQ string
	}{
		{"form", nil, 200, ""},
		{"unknown client", url.Values{"client_id": {"0oanope"}}, 400, ""},
		{"unregistered redirect", url.Values{"redirect_uri": {"http://evil.example/oauth/callback"}}, 400, ""},
		{"other path", url.Values{"redirect_uri": {"http://127.0.0.1:99/other"}}, 400, ""},
		{"token response type", url.Values{"response_type": {"token"}}, 302, "unsupported_response_type"},
		{"unknown scope", url.Values{"scope": {"openid okta.nothing.read"}}, 302, "invalid_scope"},
		{"plain PKCE", url.Values{"code_challenge": {"abc"}, "code_challenge_method": {"plain"}}, 302, "invalid_request"},
		{"prompt none", url.Values{"prompt": {"none"}}, 302, "login_required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range base {
				q[k] = v
			}
			for k, v := range tc.change {
				q[k] = v
			}
			r := emuCall(t, s, "GET", "/oauth2/v1/authorize?"+q.Encode(), "", "")
			if r.status != tc.status {
				t.Fatalf("status %d; want %d: %s", r.status, tc.status, r.body)
			}
			switch tc.status {
			case 200, 400:
				if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
			case 302:
				loc, _ := url.Parse(r.header.Get("Location"))
				if loc.Query().Get("error") != tc.errorQ || loc.Query().Get("state") != "s" || !strings.HasPrefix(loc.String(), "http://localhost:1234/oauth/callback?") {
					t.Errorf("Location %s; want error %s", loc, tc.errorQ)
				}
			}
		})
	}
}

func TestSignInWrongPassword(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 1})
	r := emuCall(t, s, "GET", "/oauth2/v1/authorize?"+url.Values{"client_id": {oktaemu.DemoClientID}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}, "redirect_uri": {"http://127.0.0.1:5/oauth/callback"}}.Encode(), "", "")
	i := strings.Index(r.body, `name="txn" value="`)
	if i < 0 {
		t.Fatalf("no transaction in form:\n%s", r.body)
	}
	txn := r.body[i+len(`name="txn" value="`):]
	txn = txn[:strings.IndexByte(txn, '"')]
	req := url.Values{"txn": {txn}, "username": {oktaemu.AdminLogin}, "password": {"wrong"}}
	r = emuFormPlain(t, s, "/login/signin", req)
	if r.status != 200 || !strings.Contains(r.body, `role="alert"`) || !strings.Contains(r.body, `name="password"`) {
		t.Fatalf("wrong password: %d; want the form again with an error:\n%s", r.status, r.body)
	}
	req.Set("password", oktaemu.DemoPassword)
	if r = emuFormPlain(t, s, "/login/signin", req); r.status != 302 || !strings.Contains(r.header.Get("Location"), "code=") {
		t.Errorf("right password: %d %s; want a redirect with a code", r.status, r.header.Get("Location"))
	}
}

func emuFormPlain(t *testing.T, s *emutest.Server, path string, form url.Values) emuResp {
	t.Helper()
	req, err := http.NewRequest("POST", s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return emuDo(t, s, req)
}

func TestCodeExchangeRules(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 1})
	conf := emuOAuth(s, emuScopes()...)
	signIn := func(verifier string) string {
		cb := s.SignIn(t, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), oktaemu.AdminLogin, oktaemu.DemoPassword)
		return cb.Query().Get("code")
	}
	verifier := oauth2.GenerateVerifier()
	exchange := func(code, verifier, redirect string) emuResp {
		return emuForm(t, s, "/oauth2/v1/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"code_verifier": {verifier}, "redirect_uri": {redirect}})
	}
	code := signIn(verifier)
	if r := exchange(code, oauth2.GenerateVerifier(), conf.RedirectURL); r.status != 400 || !strings.Contains(r.body, "invalid_grant") {
		t.Errorf("wrong verifier: %d %s", r.status, r.body)
	}
	code = signIn(verifier)
	if r := exchange(code, verifier, "http://127.0.0.1:9999/oauth/callback"); r.status != 400 || !strings.Contains(r.body, "invalid_grant") {
		t.Errorf("other redirect_uri: %d %s", r.status, r.body)
	}
	code = signIn(verifier)
	r := exchange(code, verifier, conf.RedirectURL)
	var tok struct {
		TokenType    string `json:"token_type"`
		ExpiresIn    int    `json:"expires_in"`
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
		Scope        string `json:"scope"`
	}
	if err := json.Unmarshal([]byte(r.body), &tok); err != nil || r.status != 200 || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || tok.RefreshToken == "" || tok.IDToken == "" {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	if r := exchange(code, verifier, conf.RedirectURL); r.status != 400 || !strings.Contains(r.body, "The authorization code is invalid or has expired.") {
		t.Errorf("second use: %d %s", r.status, r.body)
	}
	code = signIn(verifier)
	s.AdvanceClock(t, 301*time.Second)
	if r := exchange(code, verifier, conf.RedirectURL); r.status != 400 || !strings.Contains(r.body, "invalid_grant") {
		t.Errorf("after 301 s: %d %s", r.status, r.body)
	}
	post := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
		"client_id": {oktaemu.DemoClientID}, "client_secret": {"wrong"}}
	if r := emuFormPlain(t, s, "/oauth2/v1/token", post); r.status != 401 || !strings.Contains(r.body, "invalid_client") {
		t.Errorf("client_secret_post with a wrong secret: %d %s", r.status, r.body)
	}
	post.Set("client_secret", oktaemu.DemoClientSecret)
	if r := emuFormPlain(t, s, "/oauth2/v1/token", post); r.status != 200 {
		t.Errorf("client_secret_post: %d %s", r.status, r.body)
	}
}

func TestRefreshRotationLeewayReuse(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 1})
	tok := emuLogin(t, s, oktaemu.AdminLogin, emuScopes("okta.devices.read")...)
	refresh := func(rt string) (emuResp, string, string) {
		r := emuForm(t, s, "/oauth2/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		var v struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		_ = json.Unmarshal([]byte(r.body), &v)
		return r, v.AccessToken, v.RefreshToken
	}
	r, at1, rt1 := refresh(tok.RefreshToken)
	if r.status != 200 || rt1 == "" || rt1 == tok.RefreshToken {
		t.Fatalf("first refresh: %d %s; want a new refresh token", r.status, r.body)
	}
	s.AdvanceClock(t, 29*time.Second)
	if r, _, _ := refresh(tok.RefreshToken); r.status != 200 {
		t.Fatalf("old token within the leeway: %d %s; want 200", r.status, r.body)
	}
	s.AdvanceClock(t, 2*time.Second)
	if r, _, _ := refresh(tok.RefreshToken); r.status != 400 || !strings.Contains(r.body, "The refresh token is invalid or expired.") {
		t.Fatalf("old token after the leeway: %d %s; want invalid_grant", r.status, r.body)
	}
	for name, at := range map[string]string{"first": tok.AccessToken, "refreshed": at1} {
		if r := emuCall(t, s, "GET", "/api/v1/devices", "Bearer "+at, ""); r.status != 401 {
			t.Errorf("%s access token after reuse: %d; want 401", name, r.status)
		}
	}
	if r, _, _ := refresh(rt1); r.status != 400 {
		t.Errorf("newest refresh token after reuse: %d; want 400", r.status)
	}
}

func TestRevokeAndIntrospect(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 1})
	tok := emuLogin(t, s, oktaemu.AdminLogin, emuScopes("okta.devices.read")...)
	intro := func() string {
		return emuForm(t, s, "/oauth2/v1/introspect", url.Values{"token": {tok.AccessToken}}).body
	}
	if got := intro(); !strings.Contains(got, `"active":true`) {
		t.Errorf("introspect live token: %s", got)
	}
	if r := emuForm(t, s, "/oauth2/v1/revoke", url.Values{"token": {"unknown"}}); r.status != 200 || r.body != "" {
		t.Errorf("revoke unknown: %d %q; want 200 empty", r.status, r.body)
	}
	if r := emuForm(t, s, "/oauth2/v1/revoke", url.Values{"token": {tok.RefreshToken}}); r.status != 200 {
		t.Errorf("revoke: %d", r.status)
	}
	if got := intro(); got != `{"active":false}` {
		t.Errorf("introspect after revoking the refresh token: %s; want inactive", got)
	}
}

func TestClientCredentialsPrivateKeyJWT(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	s := emutest.Start(t, oktaemu.Config{Devices: 3, ServiceAppJWKS: jwks})
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertion := func(aud string, exp time.Duration) string {
		now := time.Now()
		a, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: oktaemu.DemoServiceClientID, Subject: oktaemu.DemoServiceClientID,
			Audience: jwt.Audience{aud}, IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(exp))}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	tokenURL := s.URL + "/oauth2/v1/token"
	tests := []struct {
		name, assertion, scope string
		status                 int
		errCode                string
	}{
		{"ok", assertion(tokenURL, time.Hour), "okta.devices.read", 200, ""},
		{"wrong audience", assertion("http://other/oauth2/v1/token", time.Hour), "okta.devices.read", 401, "invalid_client"},
		{"too long", assertion(tokenURL, 3*time.Hour), "okta.devices.read", 401, "invalid_client"},
		{"ungranted scope", assertion(tokenURL, time.Hour), "okta.users.read", 400, "invalid_scope"},
		{"no scope", assertion(tokenURL, time.Hour), "", 400, "invalid_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}, "scope": {tc.scope},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {tc.assertion}}
			r := emuFormPlain(t, s, "/oauth2/v1/token", form)
			var v struct{ Error, AccessToken string }
			_ = json.Unmarshal([]byte(strings.ReplaceAll(r.body, "access_token", "accesstoken")), &v)
			if r.status != tc.status || v.Error != tc.errCode {
				t.Fatalf("%d %s; want %d %s", r.status, r.body, tc.status, tc.errCode)
			}
			if tc.status == 200 {
				if got := emuCall(t, s, "GET", "/api/v1/devices", "Bearer "+v.AccessToken, ""); got.status != 200 {
					t.Errorf("service token on the API: %d %s", got.status, got.body)
				}
			}
		})
	}

	// At /introspect and /revoke the assertion's audience is that
	// endpoint ("the endpoint invoked for the request"), not the token URL.
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"okta.devices.read"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion(tokenURL, time.Hour)}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if r := emuFormPlain(t, s, "/oauth2/v1/token", form); r.status != 200 || json.Unmarshal([]byte(r.body), &tok) != nil {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		path, aud string
		status    int
	}{
		{"/oauth2/v1/introspect", s.URL + "/oauth2/v1/introspect", 200},
		{"/oauth2/v1/introspect", tokenURL, 401},
		{"/oauth2/v1/revoke", tokenURL, 401},
		{"/oauth2/v1/revoke", s.URL + "/oauth2/v1/revoke", 200},
	} {
		r := emuFormPlain(t, s, tc.path, url.Values{"token": {tok.AccessToken},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion(tc.aud, time.Hour)}})
		if r.status != tc.status || tc.status == 200 && tc.path == "/oauth2/v1/introspect" && !strings.Contains(r.body, `"active":true`) {
			t.Errorf("%s with aud %s: %d %s; want %d", tc.path, tc.aud, r.status, r.body, tc.status)
		}
	}
}
