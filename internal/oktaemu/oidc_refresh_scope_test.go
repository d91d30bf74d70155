package oktaemu_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestOIDCRefreshKeepsLoginScopes: a refresh may narrow the access token's scopes to a
// subset of the login's, never beyond them; the new refresh token keeps the
// login's scopes (RFC 6749 §6).
func TestOIDCRefreshKeepsLoginScopes(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 1})
	c := newOIDCClient(t, srv)
	l := c.signIn(t, oktaemu.AdminLogin)
	refresh := func(rt, scope string) (map[string]any, int) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {scope}}
		req, err := http.NewRequestWithContext(t.Context(), "POST", c.conf.Endpoint.TokenURL, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(oktaemu.DemoClientID, oktaemu.DemoClientSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return body, resp.StatusCode
	}
	body, code := refresh(l.token.RefreshToken, "openid offline_access okta.devices.read")
	if code != 200 || body["scope"] != "openid offline_access okta.devices.read" {
		t.Fatalf("narrowing refresh: %d %v; want 200 with the narrower scope", code, body)
	}
	at, _ := body["access_token"].(string)
	// The narrowed token may read but not manage.
	if code, ec := apiStatus(t, srv.URL, at); code != 200 {
		t.Errorf("read with the narrowed token: %d %s; want 200", code, ec)
	}
	status, _, _ := apiCall{method: "POST", path: "/api/v1/devices/guoNOPE/lifecycle/suspend", auth: "Bearer " + at}.do(t, http.DefaultClient, srv.URL)
	if status != 403 {
		t.Errorf("manage with the narrowed token: %d; want 403 insufficient_scope", status)
	}
	rt, _ := body["refresh_token"].(string)
	body, code = refresh(rt, "openid okta.devices.manage")
	if code != 200 || body["scope"] != "openid okta.devices.manage" {
		t.Errorf("refresh back to a scope of the login: %d %v; want 200", code, body)
	}
	body, code = refresh(rt, "openid okta.users.read")
	if code != 400 || body["error"] != "invalid_scope" {
		t.Errorf("refresh beyond the login's scopes: %d %v; want 400 invalid_scope", code, body)
	}
}
