package oktaemu_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestClientSecretRotationAndAppLifecycle: an admin rotates the web app's
// client secret as Okta allows it (a second secret, then the first
// deactivated and deleted; never the only active one), the old secret
// stops authenticating and the new one works, and refresh tokens live on
// through it; deactivating the app revokes its tokens and refuses its
// client and its sign-ins until it is activated again. Every answer is
// validated against Okta's management API document.
func TestClientSecretRotationAndAppLifecycle(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 1})
	hc := newSpecTransport(t).client()
	c := newOIDCClient(t, srv)
	l := c.signIn(t, oktaemu.AdminLogin)
	secrets := "/api/v1/apps/" + oktaemu.DemoAppID + "/credentials/secrets"
	call := func(method, path string, body any, want int) []byte {
		t.Helper()
		code, _, b := apiCall{method: method, path: path, auth: sswsAdmin, body: body}.do(t, hc, srv.URL)
		if code != want {
			t.Fatalf("%s %s: %d; want %d: %s", method, path, code, want, b)
		}
		return b
	}
	var list []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(call("GET", secrets, nil, 200), &list); err != nil || len(list) != 1 || list[0].Status != "ACTIVE" || list[0].Secret != oktaemu.DemoClientSecret {
		t.Fatalf("secrets: %+v, %v; want the one active demo secret", list, err)
	}
	old := list[0].ID
	call("POST", secrets+"/"+old+"/lifecycle/deactivate", nil, 400) // the only active one
	call("DELETE", secrets+"/"+old, nil, 400)                       // active
	var created struct {
		ID     string `json:"id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(call("POST", secrets, map[string]string{}, 201), &created); err != nil || created.Secret == "" {
		t.Fatalf("new secret: %+v, %v", created, err)
	}
	call("POST", secrets, map[string]string{}, 400) // at most two
	call("POST", secrets+"/"+old+"/lifecycle/deactivate", nil, 200)
	call("DELETE", secrets+"/"+old, nil, 204)

	if _, err := c.refresh(t.Context(), l.token.RefreshToken); oauthErrorCode(err) != "invalid_client" {
		t.Errorf("refresh with the deleted secret: %v; want invalid_client", err)
	}
	c.conf.ClientSecret = created.Secret
	tok, err := c.refresh(t.Context(), l.token.RefreshToken)
	if err != nil {
		t.Fatalf("refresh with the new secret: %v; want the refresh token to live on", err)
	}

	app := "/api/v1/apps/" + oktaemu.DemoAppID
	call("POST", app+"/lifecycle/deactivate", nil, 200)
	var got struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(call("GET", app, nil, 200), &got); err != nil || got.Status != "INACTIVE" {
		t.Errorf("app after deactivation: %+v, %v; want INACTIVE", got, err)
	}
	if code, ec := apiStatus(t, srv.URL, tok.AccessToken); code != 401 || ec != "E0000011" {
		t.Errorf("API with the deactivated app's access token: %d %s; want 401 E0000011", code, ec)
	}
	if _, err := c.refresh(t.Context(), tok.RefreshToken); oauthErrorCode(err) != "invalid_client" {
		t.Errorf("refresh at a deactivated app: %v; want invalid_client", err)
	}
	resp, err := srv.Client.Get(c.conf.AuthCodeURL("state-1"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("sign-in at a deactivated app: %d; want Okta's 400 error page", resp.StatusCode)
	}
	call("POST", app+"/lifecycle/activate", nil, 200)
	if _, err := c.refresh(t.Context(), tok.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("refresh after the app is active again: %v; want invalid_grant (its tokens were revoked)", err)
	}
	c.signIn(t, oktaemu.AdminLogin)
}

// TestServiceAppKeyLifecycle: a service app's public key is deactivated
// and deleted as in Okta (never the only active key, only an inactive key
// deleted); a deactivated key signs no assertion, and activated again it
// does.
func TestServiceAppKeyLifecycle(t *testing.T) {
	_, jwks := serviceJWKS(t)
	srv := emutest.Start(t, oktaemu.Config{Devices: 1, ServiceAppJWKS: jwks})
	hc := newSpecTransport(t).client()
	keys := "/api/v1/apps/" + oktaemu.DemoServiceAppID + "/credentials/jwks"
	call := func(method, path string, body any, want int) []byte {
		t.Helper()
		code, _, b := apiCall{method: method, path: path, auth: sswsAdmin, body: body}.do(t, hc, srv.URL)
		if code != want {
			t.Fatalf("%s %s: %d; want %d: %s", method, path, code, want, b)
		}
		return b
	}
	type key struct {
		ID     string `json:"id"`
		Kid    string `json:"kid"`
		Status string `json:"status"`
	}
	var list []key
	if err := json.Unmarshal(call("GET", keys, nil, 200), &list); err != nil || len(list) != 1 || list[0].Kid != serviceKeyID {
		t.Fatalf("keys: %+v, %v; want the test key", list, err)
	}
	first := list[0].ID
	call("POST", keys+"/"+first+"/lifecycle/deactivate", nil, 400) // the only active key
	call("DELETE", keys+"/"+first, nil, 400)                       // active
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := jose.JSONWebKey{Key: other.Public(), KeyID: "second", Algorithm: "ES256", Use: "sig"}.MarshalJSON()
	call("POST", keys, json.RawMessage(pub), 201)
	call("POST", keys+"/"+first+"/lifecycle/deactivate", nil, 200)

	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client)
	if _, err := ccConfig(t, srv, oktaemu.DemoServiceClientID, "okta.devices.read").Token(ctx); oauthErrorCode(err) != "invalid_client" {
		t.Errorf("assertion signed with the deactivated key: %v; want invalid_client", err)
	}
	var got key
	if err := json.Unmarshal(call("GET", keys+"/"+first, nil, 200), &got); err != nil || got.Status != "INACTIVE" {
		t.Errorf("deactivated key: %+v, %v; want INACTIVE", got, err)
	}
	call("POST", keys+"/"+first+"/lifecycle/activate", nil, 200)
	if _, err := ccConfig(t, srv, oktaemu.DemoServiceClientID, "okta.devices.read").Token(ctx); err != nil {
		t.Errorf("assertion signed with the key activated again: %v", err)
	}
	call("POST", keys+"/"+first+"/lifecycle/deactivate", nil, 200)
	call("DELETE", keys+"/"+first, nil, 204)
	call("GET", keys+"/"+first, nil, 404)
	if err := json.Unmarshal(call("GET", keys, nil, 200), &list); err != nil || len(list) != 1 || list[0].Kid != "second" {
		t.Errorf("keys after the delete: %+v, %v; want only the second", list, err)
	}
}
