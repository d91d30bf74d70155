package app

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// serviceConnJSON is the API's view of a service connection.
type serviceConnJSON struct {
	ID           string `json:"id"`
	Nickname     string `json:"nickname"`
	Status       string `json:"status"`
	StatusReason string `json:"statusReason"`
	Remedy       string `json:"remedy"`
	// StatusReasonCode is a pointer to tell the field's absence apart.
	StatusReasonCode *string  `json:"statusReasonCode"`
	Auth             string   `json:"auth"`
	DPoP             bool     `json:"dpop"`
	GrantedScopes    []string `json:"grantedScopes"`
	MissingScopes    []string `json:"missingScopes"`
	AuthorizedBy     *struct {
		Type     string `json:"type"`
		ClientID string `json:"clientId"`
	} `json:"authorizedBy"`
	RefreshTokenExpiresAt *time.Time `json:"refreshTokenExpiresAt"`
	UpdatedAt             time.Time  `json:"updatedAt"`
}

// reasonCode is v's statusReasonCode, "(absent)" when the API left it out.
func (v serviceConnJSON) reasonCode() string {
	if v.StatusReasonCode == nil {
		return "(absent)"
	}
	return *v.StatusReasonCode
}

// createService creates a service connection through the API.
func (h *harness) createService(body map[string]any) (serviceConnJSON, json.RawMessage) {
	h.t.Helper()
	body["auth"] = "service"
	body["connector"] = "okta-devices"
	if body["domain"] == nil {
		body["domain"] = h.emu.URL
	}
	var out struct {
		Connection serviceConnJSON `json:"connection"`
		PublicJWK  json.RawMessage `json:"publicJwk"`
	}
	if code, data := h.call("POST", "/api/v1/connections", body, &out); code != http.StatusCreated {
		h.t.Fatalf("create service connection: %d %s", code, data)
	}
	return out.Connection, out.PublicJWK
}

func (h *harness) serviceConn(id string) serviceConnJSON {
	h.t.Helper()
	var v serviceConnJSON
	if code, data := h.call("GET", "/api/v1/connections/"+id, nil, &v); code != http.StatusOK {
		h.t.Fatalf("get connection: %d %s", code, data)
	}
	return v
}

// checkPublicJWK fails unless jwk is a public key with a kid.
func checkPublicJWK(t *testing.T, jwk json.RawMessage) {
	t.Helper()
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(jwk); err != nil || !k.IsPublic() || k.KeyID == "" {
		t.Fatalf("publicJwk %s: want a public JWK with a kid (%v)", jwk, err)
	}
	var m map[string]any
	_ = json.Unmarshal(jwk, &m)
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if _, ok := m[private]; ok {
			t.Fatalf("publicJwk has the private member %q", private)
		}
	}
}

// TestServiceConnection: a service connection with a generated key is
// pending until the key is added to the API Services app, then a test makes
// it active; cards run with its cached token (one token request for many
// runs over the hour the org's token lasts, a new one after the hour);
// audit and authorizedBy name the app; rotating the key keeps the old one
// until the org accepts the new one.
func TestServiceConnection(t *testing.T) {
	t.Parallel()
	// The org's clock, which the server uses, moves only when the test
	// moves it: on the wall clock, a run slower than two minutes (a
	// loaded machine) would have the server's background test of the
	// pending connection ask the org for a token while the test counts
	// the token requests.
	clock := emutest.NewClock(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
	emu := emutest.Start(t, oktaemu.Config{Devices: 3, Now: clock.Now})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now = emu.Now })
	c, jwk := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	checkPublicJWK(t, jwk)
	if c.Status != "pending" || c.Auth != "service" || !strings.Contains(c.StatusReason, "invalid_client") || !strings.Contains(c.Remedy, "Add key") {
		t.Fatalf("before the key is added: %+v; want pending with the invalid_client reason and the Admin Console steps", c)
	}
	if code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); r.Error == nil || code == http.StatusOK {
		t.Fatalf("a card on the pending connection: %d %+v; want an error", code, r)
	}

	emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	var tr struct {
		OK     bool   `json:"ok"`
		Status string `json:"status"`
	}
	if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, &tr); code != http.StatusOK || !tr.OK {
		t.Fatalf("test after adding the key: %d %s", code, data)
	}
	c = h.serviceConn(c.ID)
	if c.Status != "active" || c.AuthorizedBy == nil || c.AuthorizedBy.Type != "service" || c.AuthorizedBy.ClientID != oktaemu.DemoServiceClientID ||
		c.RefreshTokenExpiresAt != nil || strings.Join(c.GrantedScopes, " ") != "okta.devices.read okta.devices.manage" {
		t.Fatalf("after the test: %+v", c)
	}
	before := emu.Stats(t)["POST /oauth2/v1/token"]
	for range 5 {
		if code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
			t.Fatalf("card run: %d %s %+v", code, r.Status, r.Error)
		}
	}
	if got := emu.Stats(t)["POST /oauth2/v1/token"] - before; got != 0 {
		t.Errorf("5 runs made %d token requests; want 0 (the test's token is cached)", got)
	}
	// The token is kept for the hour the org gives it.
	emu.AdvanceClock(t, 50*time.Minute)
	if code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("card run 50 minutes on: %d %s %+v", code, r.Status, r.Error)
	}
	if got := emu.Stats(t)["POST /oauth2/v1/token"] - before; got != 0 {
		t.Errorf("a run 50 minutes after the test made %d token requests; want 0 (its token lasts an hour)", got)
	}
	emu.AdvanceClock(t, time.Hour)
	if code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("card run after the hour: %d %s %+v", code, r.Status, r.Error)
	}
	if got := emu.Stats(t)["POST /oauth2/v1/token"] - before; got != 1 {
		t.Errorf("%d token requests after the token expired; want 1", got)
	}
	found := false
	for _, e := range h.audit("connection=" + c.ID) {
		if e["action"] == "card.run" && e["actingAs"] == "service app "+oktaemu.DemoServiceClientID {
			found = true
		}
	}
	if !found {
		t.Errorf("no card.run audit event acting as the service app")
	}

	// Rotation: the new key is not on the app yet, so the old one serves.
	var rot struct {
		PublicJWK json.RawMessage `json:"publicJwk"`
	}
	if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/rotate-key", map[string]any{"keyAlgorithm": "RS256"}, &rot); code != http.StatusOK {
		t.Fatalf("rotate-key: %d %s", code, data)
	}
	checkPublicJWK(t, rot.PublicJWK)
	emu.AdvanceClock(t, time.Hour)
	if code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("run with the new key not yet on the app: %d %s %+v", code, r.Status, r.Error)
	}
	row, _ := h.app.Store.GetConnection(t.Context(), c.ID)
	if len(row.SealedNextPrivateKey) == 0 {
		t.Fatal("the new key was dropped although the org does not know it")
	}
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, rot.PublicJWK)
	emu.AdvanceClock(t, time.Hour)
	if code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("run after adding the new key: %d %s %+v", code, r.Status, r.Error)
	}
	row, _ = h.app.Store.GetConnection(t.Context(), c.ID)
	if len(row.SealedNextPrivateKey) != 0 || countActions(h.audit("connection="+c.ID), "connection.key-rotated") != 1 {
		t.Errorf("the new key was not promoted after the org accepted it")
	}
	// No one asked for either: cardflow names itself as their actor.
	checkServerActed(t, h.audit("connection="+c.ID), "connection.key-rotated", "connection.authorize")
	var rk jose.JSONWebKey
	_ = rk.UnmarshalJSON(rot.PublicJWK)
	if pk, err := h.app.Keyring.Open(row.SealedPrivateKey, c.ID+"/private_key"); err != nil || !strings.Contains(string(pk), rk.KeyID) {
		t.Errorf("the stored key is not the new one (%v)", err)
	}
}

// TestServiceConnectionDPoP: with a PEM key already on the app that
// requires DPoP, the connection is active at once, switches DPoP on when
// the org asks for proofs, and cards call the API with DPoP.
func TestServiceConnectionDPoP(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now = emu.Now })
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// A private JWK keeps its kid.
	priv, _ := json.Marshal(jose.JSONWebKey{Key: key, KeyID: "test-dpop-key", Algorithm: "ES256", Use: "sig"})
	pub, _ := json.Marshal(jose.JSONWebKey{Key: &key.PublicKey, KeyID: "test-dpop-key", Algorithm: "ES256", Use: "sig"})
	emu.AddAppKey(t, oktaemu.DemoDPoPAppID, pub)
	c, jwk := h.createService(map[string]any{"nickname": "Bound", "clientId": oktaemu.DemoDPoPClientID, "privateKey": string(priv)})
	checkPublicJWK(t, jwk)
	if c.Status != "active" || !c.DPoP {
		t.Fatalf("created: %+v; want active with DPoP switched on", c)
	}
	for range 3 {
		if code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
			t.Fatalf("DPoP card run: %d %s %+v", code, r.Status, r.Error)
		}
	}
	// The org's nonce is cached: the next token, an hour later, takes one
	// request (a proof with the nonce), not the use_dpop_nonce round trip.
	emu.AdvanceClock(t, time.Hour)
	before := emu.Stats(t)["POST /oauth2/v1/token"]
	if code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("DPoP card run after the hour: %d %s %+v", code, r.Status, r.Error)
	}
	if got := emu.Stats(t)["POST /oauth2/v1/token"] - before; got != 1 {
		t.Errorf("%d token requests for the next DPoP token; want 1 (the nonce cached)\n%s", got, h.logs.String())
	}

	// "dpop": true on an app that does not require DPoP: proofs are sent,
	// and the org's Bearer token works.
	key2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	priv2, _ := json.Marshal(jose.JSONWebKey{Key: key2, KeyID: "test-dpop-key-2", Algorithm: "ES256", Use: "sig"})
	pub2, _ := json.Marshal(jose.JSONWebKey{Key: &key2.PublicKey, KeyID: "test-dpop-key-2", Algorithm: "ES256", Use: "sig"})
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, pub2)
	asked, _ := h.createService(map[string]any{"nickname": "Asked", "clientId": oktaemu.DemoServiceClientID, "privateKey": string(priv2), "dpop": true})
	if asked.Status != "active" || !asked.DPoP {
		t.Fatalf("created with dpop: %+v; want active with DPoP on", asked)
	}
	if code, r := h.run("okta-devices/search-devices", asked.ID, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("card run with dpop on a plain app: %d %s %+v", code, r.Status, r.Error)
	}
}

// TestServiceConnectionGrantsAndRoles: an app granted only
// okta.devices.read gets a connection without okta.devices.manage (Okta
// refuses the whole request, cardflow finds the granted scopes), so a
// manage card fails before calling Okta with insufficient_scope; an app
// without an admin role gets its own error and remedy.
func TestServiceConnectionGrantsAndRoles(t *testing.T) {
	t.Parallel()
	fx := oktaemu.DemoFixture(3)
	for i := range fx.Apps {
		if fx.Apps[i].ID == oktaemu.DemoServiceAppID {
			fx.Apps[i].Grants = []string{"okta.devices.read"}
			fx.Apps[i].Roles = nil
		}
	}
	emu := emutest.Start(t, oktaemu.Config{Fixture: fx})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now = emu.Now })
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(key)
	// A PEM key's kid is its RFC 7638 thumbprint.
	pubKey := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: "ES256", Use: "sig"}
	thumb, _ := pubKey.Thumbprint(crypto.SHA256)
	pubKey.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	pub, _ := json.Marshal(pubKey)
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, pub)
	c, _ := h.createService(map[string]any{"nickname": "Reader", "clientId": oktaemu.DemoServiceClientID,
		"privateKey": string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))})
	if c.Status != "active" || strings.Join(c.GrantedScopes, " ") != "okta.devices.read" || !slices.Contains(c.MissingScopes, "okta.devices.manage") {
		t.Fatalf("created: %+v; want active with okta.devices.read granted and okta.devices.manage missing", c)
	}
	before := emu.Stats(t)
	_, r := h.run("okta-devices/suspend-device", c.ID, map[string]any{"deviceId": "guo00000000000000000"})
	if r.Error == nil || r.Error.Code != "insufficient_scope" || !strings.Contains(fmt.Sprint(r.Error.Details["remedy"]), "API Services app "+oktaemu.DemoServiceClientID) ||
		!strings.Contains(fmt.Sprint(r.Error.Details["remedy"]), "test connection") {
		t.Errorf("manage card: %+v; want insufficient_scope with a remedy to grant the scope to the app and test the connection", r.Error)
	}
	if emu.Stats(t)["POST /api/v1/devices/{deviceId}/lifecycle/suspend"] != before["POST /api/v1/devices/{deviceId}/lifecycle/suspend"] {
		t.Errorf("the manage card called Okta")
	}
	_, r = h.run("okta-devices/search-devices", c.ID, map[string]any{})
	if r.Error == nil || r.Error.Code != "forbidden" || !strings.Contains(r.Error.Message, "no admin role") {
		t.Errorf("read card on an app without a role: %+v; want forbidden naming the missing admin role", r.Error)
	}
	var tr struct {
		OK           bool   `json:"ok"`
		StatusReason string `json:"statusReason"`
		Remedy       string `json:"remedy"`
	}
	h.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, &tr)
	if tr.OK || !strings.Contains(tr.StatusReason, "no admin role") || !strings.Contains(tr.Remedy, "Admin Roles") {
		t.Errorf("test: %+v; want the missing admin role and its remedy", tr)
	}

	// A scope granted to the app later comes with the next token.
	req, _ := http.NewRequest("POST", emu.URL+"/api/v1/apps/"+oktaemu.DemoServiceAppID+"/grants",
		strings.NewReader(`{"issuer":"`+emu.URL+`","scopeId":"okta.devices.manage"}`))
	req.Header.Set("Authorization", "SSWS "+oktaemu.DemoAPIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := emu.Client.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("grant okta.devices.manage to the app: %v %v", resp, err)
	}
	resp.Body.Close()
	h.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, nil)
	if c = h.serviceConn(c.ID); strings.Join(c.GrantedScopes, " ") != "okta.devices.read okta.devices.manage" || slices.Contains(c.MissingScopes, "okta.devices.manage") {
		t.Errorf("after granting okta.devices.manage and testing: %+v; want both scopes granted", c)
	}

	// Nobody signs in to a service connection: reauthorizing is refused.
	var re struct {
		Error struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/reauthorize", map[string]any{}, &re); code != http.StatusBadRequest ||
		!strings.Contains(re.Error.Message, "service connection") || !strings.Contains(fmt.Sprint(re.Error.Details["remedy"]), "test the connection") {
		t.Errorf("reauthorize a service connection: %d %s; want 400 saying to test it instead", code, data)
	}
}

// TestServiceConnectionKeyKinds: every kind of key cardflow accepts for an
// API Services app is one Okta accepts for private_key_jwt (RS256, RS384,
// RS512, ES256, ES384, ES512), so a connection given an EC P-384 or P-521
// key or an RSA key (a JWK keeps its alg) works once its public key is on
// the app.
func TestServiceConnectionKeyKinds(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now = emu.Now })
	ecPEM := func(curve elliptic.Curve) string {
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	rsaJWK, _ := json.Marshal(jose.JSONWebKey{Key: rsaKey, KeyID: "rsa-3072", Algorithm: "RS256", Use: "sig"})
	rs384JWK, _ := json.Marshal(jose.JSONWebKey{Key: rsaKey, KeyID: "rsa-3072-rs384", Algorithm: "RS384", Use: "sig"})
	for _, tc := range []struct{ name, key, alg string }{
		{"P-384", ecPEM(elliptic.P384()), "ES384"},
		{"P-521", ecPEM(elliptic.P521()), "ES512"},
		{"RSA", string(rsaJWK), "RS256"},
		{"RSA for RS384", string(rs384JWK), "RS384"},
	} {
		c, jwk := h.createService(map[string]any{"nickname": "Key " + tc.name, "clientId": oktaemu.DemoServiceClientID, "privateKey": tc.key})
		checkPublicJWK(t, jwk)
		var k struct{ Alg string }
		_ = json.Unmarshal(jwk, &k)
		if k.Alg != tc.alg {
			t.Errorf("%s: the public key's alg is %q; want %s", tc.name, k.Alg, tc.alg)
		}
		emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
		var tr struct {
			OK     bool   `json:"ok"`
			Status string `json:"status"`
		}
		if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, &tr); code != http.StatusOK || !tr.OK || tr.Status != "active" {
			t.Errorf("%s key: test %d %s; want the connection active", tc.name, code, data)
		}
	}
}
