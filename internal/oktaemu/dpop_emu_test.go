package oktaemu_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/okta/okta-sdk-golang/v5/okta"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// serviceSigner signs client assertions with the test service key.
func serviceSigner(t *testing.T) jose.Signer {
	t.Helper()
	key, err := serviceKey()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: serviceKeyID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// clientAssertion signs a private_key_jwt assertion for clientID.
func clientAssertion(t *testing.T, sig jose.Signer, clientID, aud, jti string) string {
	t.Helper()
	now := time.Now()
	a, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: clientID, Subject: clientID, Audience: jwt.Audience{aud},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: jti}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// ccConfig is x/oauth2's client credentials configuration with a fresh
// JWT client assertion.
func ccConfig(t *testing.T, s *emutest.Server, clientID string, scopes ...string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: clientID, TokenURL: s.URL + "/oauth2/v1/token", Scopes: scopes,
		AuthStyle: oauth2.AuthStyleInParams,
		EndpointParams: url.Values{
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {clientAssertion(t, serviceSigner(t), clientID, s.URL+"/oauth2/v1/token", rand.Text())},
		}}
}

// TestClientCredentialsWithXOAuth2: x/oauth2's clientcredentials with a
// JWT assertion gets a one-hour Bearer token without a refresh token;
// the same assertion cannot be used twice; an ungranted scope fails the
// whole request; the token acts with the app's admin role.
func TestClientCredentialsWithXOAuth2(t *testing.T) {
	_, jwks := serviceJWKS(t)
	s := emutest.Start(t, oktaemu.Config{Devices: 2, ServiceAppJWKS: jwks})
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, s.Client)
	cc := ccConfig(t, s, oktaemu.DemoServiceClientID, "okta.devices.read")
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken != "" || time.Until(tok.Expiry).Round(time.Minute) != time.Hour {
		t.Errorf("token type %q refresh %q expiry in %v; want Bearer, none, 1h", tok.TokenType, tok.RefreshToken, time.Until(tok.Expiry))
	}
	if r := emuCall(t, s, "GET", "/api/v1/devices", "Bearer "+tok.AccessToken, ""); r.status != 200 {
		t.Errorf("service token on the API: %d %s", r.status, r.body)
	}
	_, err = cc.Token(ctx) // the same assertion (same jti) again
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || !strings.Contains(re.ErrorDescription, "already been used") {
		t.Errorf("replayed assertion: %v; want invalid_client, already used", err)
	}
	_, err = ccConfig(t, s, oktaemu.DemoServiceClientID, "okta.devices.read", "okta.users.read").Token(ctx)
	if !errors.As(err, &re) || re.ErrorCode != "invalid_scope" {
		t.Errorf("ungranted scope: %v; want invalid_scope", err)
	}
	_, err = ccConfig(t, s, oktaemu.DemoDPoPClientID, "okta.devices.read").Token(ctx)
	if !errors.As(err, &re) || re.ErrorCode != "invalid_dpop_proof" || re.ErrorDescription != "The DPoP proof JWT header is missing." {
		t.Errorf("DPoP app without a proof: %v; want invalid_dpop_proof, header missing", err)
	}
}

// TestSDKDPoP: Okta's SDK in PrivateKey mode against the app that requires
// DPoP falls back to DPoP, follows use_dpop_nonce and calls the API with
// "Authorization: DPoP" and proofs.
func TestSDKDPoP(t *testing.T) {
	pemKey, jwks := serviceJWKS(t)
	s := emutest.Start(t, oktaemu.Config{Devices: 3, ServiceAppJWKS: jwks})
	c := newSDK(t, s, s.Client, okta.WithAuthorizationMode("PrivateKey"), okta.WithClientId(oktaemu.DemoDPoPClientID),
		okta.WithScopes([]string{"okta.devices.read"}), okta.WithPrivateKey(pemKey), okta.WithPrivateKeyId(serviceKeyID))
	for i := range 2 {
		devs, _, err := c.DeviceAPI.ListDevices(context.Background()).Execute()
		if err != nil {
			t.Fatalf("list devices (call %d): %v", i+1, err)
		}
		if len(devs) != 3 {
			t.Fatalf("%d devices; want 3", len(devs))
		}
	}
	// Plain (invalid_dpop_proof), DPoP without a nonce (use_dpop_nonce),
	// DPoP with the nonce; the second call reuses the token.
	if got := s.Stats(t)["POST /oauth2/v1/token"]; got != 3 {
		t.Errorf("%d token requests; want 3", got)
	}
}

// dpopClient is a client of the DPoP app with its own proof key.
type dpopClient struct {
	t     *testing.T
	s     *emutest.Server
	key   *ecdsa.PrivateKey
	nonce string
}

type proofOpts struct {
	htm, htu, ath, nonce, jti, typ string
	iat                            time.Time
}

func (d *dpopClient) proof(o proofOpts) string {
	d.t.Helper()
	if o.typ == "" {
		o.typ = "dpop+jwt"
	}
	if o.jti == "" {
		o.jti = rand.Text()
	}
	if o.iat.IsZero() {
		o.iat = time.Now()
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: d.key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType(jose.ContentType(o.typ)))
	if err != nil {
		d.t.Fatal(err)
	}
	claims := map[string]any{"htm": o.htm, "htu": o.htu, "iat": o.iat.Unix(), "jti": o.jti}
	if o.ath != "" {
		claims["ath"] = o.ath
	}
	if o.nonce != "" {
		claims["nonce"] = o.nonce
	}
	p, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		d.t.Fatal(err)
	}
	return p
}

// token runs the token request with proof, returning the response.
func (d *dpopClient) token(proof string) emuResp {
	d.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"okta.devices.read"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {clientAssertion(d.t, serviceSigner(d.t), oktaemu.DemoDPoPClientID, d.s.URL+"/oauth2/v1/token", rand.Text())}}
	req, err := http.NewRequest("POST", d.s.URL+"/oauth2/v1/token", strings.NewReader(form.Encode()))
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return emuDo(d.t, d.s, req)
}

func ath(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func oauthErr(body string) (code, desc string) {
	var v struct{ Error, ErrorDescription string }
	_ = json.Unmarshal([]byte(strings.ReplaceAll(body, "error_description", "errordescription")), &v)
	return v.Error, v.ErrorDescription
}

// TestDPoPProofChecks: the nonce dance on the token endpoint and every
// proof check on token and resource requests, with Okta's error codes.
func TestDPoPProofChecks(t *testing.T) {
	_, jwks := serviceJWKS(t)
	s := emutest.Start(t, oktaemu.Config{Devices: 2, ServiceAppJWKS: jwks})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := &dpopClient{t: t, s: s, key: key}
	tokenURL := s.URL + "/oauth2/v1/token"

	r := d.token(d.proof(proofOpts{htm: "POST", htu: tokenURL}))
	if code, _ := oauthErr(r.body); r.status != 400 || code != "use_dpop_nonce" || r.header.Get("DPoP-Nonce") == "" {
		t.Fatalf("proof without nonce: %d %s nonce %q; want 400 use_dpop_nonce with a DPoP-Nonce", r.status, r.body, r.header.Get("DPoP-Nonce"))
	}
	d.nonce = r.header.Get("DPoP-Nonce")
	tokenTests := []struct {
		name  string
		proof proofOpts
		code  string
		desc  string
	}{
		{"wrong htm", proofOpts{htm: "GET", htu: tokenURL}, "invalid_dpop_proof", "'htm' claim"},
		{"wrong htu", proofOpts{htm: "POST", htu: s.URL + "/oauth2/v1/introspect"}, "invalid_dpop_proof", "'htu' claim"},
		{"old iat", proofOpts{htm: "POST", htu: tokenURL, iat: time.Now().Add(-6 * time.Minute)}, "invalid_dpop_proof", "more than five minutes"},
		{"wrong typ", proofOpts{htm: "POST", htu: tokenURL, typ: "JWT"}, "invalid_dpop_proof", "'typ'"},
		{"wrong nonce", proofOpts{htm: "POST", htu: tokenURL, nonce: "stale"}, "use_dpop_nonce", "requires nonce"},
	}
	for _, tc := range tokenTests {
		t.Run("token/"+tc.name, func(t *testing.T) {
			if tc.proof.nonce == "" {
				tc.proof.nonce = d.nonce
			}
			r := d.token(d.proof(tc.proof))
			if code, desc := oauthErr(r.body); r.status != 400 || code != tc.code || !strings.Contains(desc, tc.desc) {
				t.Errorf("%d %s; want 400 %s %q", r.status, r.body, tc.code, tc.desc)
			}
		})
	}
	r = d.token(d.proof(proofOpts{htm: "POST", htu: tokenURL, nonce: d.nonce}))
	var tok struct {
		TokenType   string `json:"token_type"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Refresh     string `json:"refresh_token"`
	}
	if err := json.Unmarshal([]byte(r.body), &tok); err != nil || r.status != 200 || tok.TokenType != "DPoP" || tok.ExpiresIn != 3600 || tok.Refresh != "" {
		t.Fatalf("token with nonce: %d %s; want a one-hour DPoP token", r.status, r.body)
	}

	devices := s.URL + "/api/v1/devices"
	call := func(authz, proof string) emuResp {
		req, _ := http.NewRequest("GET", devices+"?limit=1", nil)
		req.Header.Set("Authorization", authz)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		return emuDo(t, s, req)
	}
	good := d.proof(proofOpts{htm: "GET", htu: devices, ath: ath(tok.AccessToken)})
	if r := call("DPoP "+tok.AccessToken, good); r.status != 200 {
		t.Fatalf("DPoP call: %d %s %s", r.status, r.header.Get("WWW-Authenticate"), r.body)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherClient := &dpopClient{t: t, s: s, key: other}
	resourceTests := []struct {
		name, authz, proof string
		status             int
		code, desc         string
	}{
		{"replayed proof", "DPoP " + tok.AccessToken, good, 400, "invalid_dpop_proof", "already been used"},
		{"wrong ath", "DPoP " + tok.AccessToken, d.proof(proofOpts{htm: "GET", htu: devices, ath: ath("another token")}), 400, "invalid_dpop_proof", "'ath' claim"},
		{"no ath", "DPoP " + tok.AccessToken, d.proof(proofOpts{htm: "GET", htu: devices}), 400, "invalid_dpop_proof", "'ath' claim"},
		{"wrong htu", "DPoP " + tok.AccessToken, d.proof(proofOpts{htm: "GET", htu: devices + "/x", ath: ath(tok.AccessToken)}), 400, "invalid_dpop_proof", "'htu' claim"},
		{"other key", "DPoP " + tok.AccessToken, otherClient.proof(proofOpts{htm: "GET", htu: devices, ath: ath(tok.AccessToken)}), 400, "invalid_dpop_proof", "not bound"},
		{"no proof", "DPoP " + tok.AccessToken, "", 400, "invalid_request", "requires a DPoP proof"},
		{"bearer scheme", "Bearer " + tok.AccessToken, d.proof(proofOpts{htm: "GET", htu: devices, ath: ath(tok.AccessToken)}), 400, "invalid_request", "DPoP authentication scheme"},
	}
	for _, tc := range resourceTests {
		t.Run("resource/"+tc.name, func(t *testing.T) {
			r := call(tc.authz, tc.proof)
			h := r.header.Get("WWW-Authenticate")
			if r.status != tc.status || !strings.HasPrefix(h, "DPoP ") || !strings.Contains(h, `error="`+tc.code+`"`) || !strings.Contains(h, tc.desc) {
				t.Errorf("%d %q; want %d %s %q", r.status, h, tc.status, tc.code, tc.desc)
			}
		})
	}

	// The nonce is good for three days, then the client must fetch anew.
	s.AdvanceClock(t, 4*day)
	r = d.token(d.proof(proofOpts{htm: "POST", htu: tokenURL, nonce: d.nonce, iat: s.Now()}))
	if code, _ := oauthErr(r.body); code != "use_dpop_nonce" || r.header.Get("DPoP-Nonce") == d.nonce {
		t.Errorf("4-day-old nonce: %d %s; want use_dpop_nonce with a new nonce", r.status, r.body)
	}
}

// TestDPoPResourceNonceAndExpiredTokens: an app set to dpopResourceNonce
// has API calls with its DPoP tokens answered 401 use_dpop_nonce with the
// resource server's own DPoP-Nonce until a proof carries that nonce
// (RFC 9449 §9); an expired access token is answered 401 E0000011 with an
// invalid_token challenge of its scheme saying it expired.
func TestDPoPResourceNonceAndExpiredTokens(t *testing.T) {
	_, jwks := serviceJWKS(t)
	f := oktaemu.DemoFixture(2)
	for i := range f.Apps {
		if f.Apps[i].ClientID == oktaemu.DemoDPoPClientID {
			f.Apps[i].DPoPResourceNonce = true
		}
	}
	s := emutest.Start(t, oktaemu.Config{Fixture: f, ServiceAppJWKS: jwks})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := &dpopClient{t: t, s: s, key: key}
	tokenURL := s.URL + "/oauth2/v1/token"
	r := d.token(d.proof(proofOpts{htm: "POST", htu: tokenURL}))
	asNonce := r.header.Get("DPoP-Nonce")
	r = d.token(d.proof(proofOpts{htm: "POST", htu: tokenURL, nonce: asNonce}))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(r.body), &tok); err != nil || r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	devices := s.URL + "/api/v1/devices"
	call := func(authz, nonce string) emuResp {
		req, _ := http.NewRequest("GET", devices, nil)
		req.Header.Set("Authorization", authz)
		if strings.HasPrefix(authz, "DPoP ") {
			req.Header.Set("DPoP", d.proof(proofOpts{htm: "GET", htu: devices, ath: ath(tok.AccessToken), nonce: nonce, iat: s.Now()}))
		}
		return emuDo(t, s, req)
	}
	for _, nonce := range []string{"", asNonce} {
		r = call("DPoP "+tok.AccessToken, nonce)
		h := r.header.Get("WWW-Authenticate")
		if r.status != 401 || !strings.HasPrefix(h, "DPoP ") || !strings.Contains(h, `error="use_dpop_nonce"`) || r.body != "" {
			t.Fatalf("call with nonce %q: %d %q %s; want 401 use_dpop_nonce, empty body", nonce, r.status, h, r.body)
		}
	}
	rsNonce := r.header.Get("DPoP-Nonce")
	if rsNonce == "" || rsNonce == asNonce {
		t.Fatalf("resource server nonce %q; want one of its own (the authorization server's is %q)", rsNonce, asNonce)
	}
	if r = call("DPoP "+tok.AccessToken, rsNonce); r.status != 200 {
		t.Fatalf("call with the resource server's nonce: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}

	bearer, err := ccConfig(t, s, oktaemu.DemoServiceClientID, "okta.devices.read").Token(context.WithValue(context.Background(), oauth2.HTTPClient, s.Client))
	if err != nil {
		t.Fatal(err)
	}
	s.AdvanceClock(t, time.Hour)
	for _, authz := range []string{"DPoP " + tok.AccessToken, "Bearer " + bearer.AccessToken, "Bearer unknown-token"} {
		r = call(authz, rsNonce)
		h := r.header.Get("WWW-Authenticate")
		scheme, _, _ := strings.Cut(authz, " ")
		desc := "The token has expired."
		if strings.Contains(authz, "unknown") {
			desc = "The access token is invalid."
		}
		if r.status != 401 || !strings.Contains(r.body, "E0000011") || !strings.HasPrefix(h, scheme+" ") ||
			!strings.Contains(h, `error="invalid_token"`) || !strings.Contains(h, desc) {
			t.Errorf("%s after an hour: %d %q %s; want 401 E0000011 with a %s invalid_token challenge %q", scheme, r.status, h, r.body, scheme, desc)
		}
	}
}
