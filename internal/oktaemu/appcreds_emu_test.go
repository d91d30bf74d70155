package oktaemu_test

import (
	"encoding/json"
	"testing"

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
