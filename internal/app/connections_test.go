package app

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

var allAuto = []string{"openid", "profile", "email", "phone", "address", "groups", "offline_access"}

func TestConnectionCreateAuthorizeReauthorize(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 5}, nil)
	c := h.connect("Prod devices")

	wantGranted := append(slices.Clone(allAuto), "okta.devices.read", "okta.devices.manage", "okta.eventHooks.manage", "okta.logs.read")
	if diff := cmp.Diff(sorted(wantGranted), sorted(c.GrantedScopes)); diff != "" {
		t.Errorf("granted scopes (-want +got):\n%s", diff)
	}
	if len(c.MissingScopes) != 0 || c.ScopeMode != "default" {
		t.Errorf("got missing %v, mode %q; want none, default", c.MissingScopes, c.ScopeMode)
	}
	if c.AuthorizedBy == nil || c.AuthorizedBy.Login != oktaemu.AdminLogin || c.AuthorizedBy.UserID != oktaemu.AdminUserID {
		t.Errorf("got authorizedBy %+v; want %s (%s)", c.AuthorizedBy, oktaemu.AdminLogin, oktaemu.AdminUserID)
	}

	// Revoke okta.devices.manage on the app, reauthorize without a scope
	// change: the granted scopes shrink and missingScopes names it.
	h.emu.RevokeGrant(t, "okta.devices.manage")
	var re struct {
		AuthorizeURL string `json:"authorizeUrl"`
	}
	if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/reauthorize", nil, &re); code != http.StatusOK {
		t.Fatalf("reauthorize: status %d\n%s", code, data)
	}
	code, page := h.signIn(re.AuthorizeURL, oktaemu.AdminLogin)
	if code != http.StatusOK || !strings.Contains(page, "okta.devices.manage") || !strings.Contains(page, "suspend-device") {
		t.Errorf("reauthorize landing page: status %d; want 200 naming the missing scope and a card it breaks\n%s", code, page)
	}
	c2 := h.connection(c.ID)
	if c2.Status != "active" || !slices.Equal(c2.MissingScopes, []string{"okta.devices.manage"}) {
		t.Errorf("after revoking manage: status %q missing %v; want active [okta.devices.manage]", c2.Status, c2.MissingScopes)
	}
	if cards := c2.MissingScopeCards["okta.devices.manage"]; !slices.Contains(cards, "okta-devices/suspend-device") {
		t.Errorf("cards broken by the missing scope: %v; want suspend-device among them", cards)
	}
	if slices.Contains(c2.GrantedScopes, "okta.devices.manage") {
		t.Errorf("granted scopes still hold okta.devices.manage: %v", c2.GrantedScopes)
	}
	if c2.ID != c.ID || c2.Nickname != c.Nickname {
		t.Errorf("reauthorization changed id or nickname: %s %q", c2.ID, c2.Nickname)
	}

	// Grant it back, reauthorize: it returns.
	h.emu.AddGrant(t, "okta.devices.manage")
	h.call("POST", "/api/v1/connections/"+c.ID+"/reauthorize", map[string]any{}, &re)
	if code, page := h.signIn(re.AuthorizeURL, oktaemu.AdminLogin); code != http.StatusOK {
		t.Fatalf("second reauthorization: status %d\n%s", code, page)
	}
	c3 := h.connection(c.ID)
	if len(c3.MissingScopes) != 0 || !slices.Contains(c3.GrantedScopes, "okta.devices.manage") {
		t.Errorf("after granting back: missing %v granted %v; want manage granted", c3.MissingScopes, c3.GrantedScopes)
	}

	// Custom scopes with read only.
	h.call("POST", "/api/v1/connections/"+c.ID+"/reauthorize", map[string]any{"scopes": []string{"okta.devices.read"}}, &re)
	h.signIn(re.AuthorizeURL, oktaemu.AdminLogin)
	c4 := h.connection(c.ID)
	if c4.ScopeMode != "custom" || slices.Contains(c4.RequestedScopes, "okta.devices.manage") || !slices.Contains(c4.GrantedScopes, "okta.devices.read") {
		t.Errorf("custom read-only: mode %q requested %v granted %v", c4.ScopeMode, c4.RequestedScopes, c4.GrantedScopes)
	}

	// The health check works.
	var test struct {
		OK     bool   `json:"ok"`
		Status string `json:"status"`
	}
	if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, &test); code != http.StatusOK || !test.OK {
		t.Errorf("test: status %d %s; want ok", code, data)
	}

	var actions []string
	for _, e := range h.audit("connection=" + c.ID) {
		actions = append(actions, e["action"].(string)+":"+e["outcome"].(string))
	}
	for _, want := range []string{"connection.create:success", "connection.authorize:success", "connection.reauthorize:success", "connection.test:success"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit lacks %s; got %v", want, actions)
		}
	}
}

func TestConnectionAuthorizationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		login    string
		revoke   string
		rotate   bool     // the app's client secret is rotated at the org before the sign-in
		wantPage []string // every one must appear on the landing page
	}{
		{name: "unassigned account", login: oktaemu.UnassignedLogin, wantPage: []string{"not assigned"}},
		{name: "account without admin role", login: oktaemu.UserLogin, wantPage: []string{oktaemu.UserLogin, "super admin"}},
		{name: "revoked auto-granted scope", login: oktaemu.AdminLogin, revoke: "groups", wantPage: []string{"groups", "Okta API Scopes"}},
		{name: "client secret rotated", login: oktaemu.AdminLogin, rotate: true, wantPage: []string{"client secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startHarness(t, oktaemu.Config{Devices: 2}, nil)
			if tt.revoke != "" {
				h.emu.RevokeGrant(t, tt.revoke)
			}
			c, authURL := h.create("Failing", oktaemu.DemoClientSecret, nil)
			if tt.rotate {
				h.emu.RotateClientSecret(t, oktaemu.DemoAppID)
			}
			code, page := h.signIn(authURL, tt.login)
			if code == http.StatusOK || !strings.Contains(page, "Authorization failed") {
				t.Errorf("landing page: status %d; want a failure page\n%s", code, page)
			}
			for _, w := range tt.wantPage {
				if !strings.Contains(page, w) {
					t.Errorf("landing page does not mention %q:\n%s", w, page)
				}
			}
			got := h.connection(c.ID)
			if got.Status != "error" || got.StatusReason == "" || got.Remedy == "" {
				t.Errorf("connection: status %q reason %q remedy %q; want error with reason and remedy", got.Status, got.StatusReason, got.Remedy)
			}
			if strings.Contains(page, oktaemu.DemoClientSecret) {
				t.Errorf("the landing page shows the client secret")
			}
		})
	}
}

func TestCallbackStateErrors(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	conn, authURL := h.create("Statewide", oktaemu.DemoClientSecret, nil)
	loc := h.emu.SignIn(t, authURL, oktaemu.AdminLogin, oktaemu.DemoPassword)

	tokenRequests := func() int { return h.emu.Stats(t)["POST /oauth2/v1/token"] }
	before := tokenRequests()
	tests := []struct {
		name     string
		query    string
		wantCode int
		wantText string
	}{
		{name: "missing state", query: "code=abc", wantCode: 400, wantText: "no state"},
		{name: "unknown state", query: "code=abc&state=forged", wantCode: 400, wantText: "unknown or was already used"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, page := h.get(h.url + "/oauth/callback?" + tt.query)
			if code != tt.wantCode || !strings.Contains(page, tt.wantText) {
				t.Errorf("got %d; want %d with %q\n%s", code, tt.wantCode, tt.wantText, page)
			}
		})
	}
	if n := tokenRequests(); n != before {
		t.Errorf("bad states made %d token requests; want none", n-before)
	}
	if code, page := h.get(loc.String()); code != http.StatusOK {
		t.Fatalf("the real callback: status %d\n%s", code, page)
	}
	after := tokenRequests()
	// A reload of the page says the authorization was completed, and
	// nothing about the connection: whoever holds the URL sees it.
	code, page := h.get(loc.String())
	if code != http.StatusOK || !strings.Contains(page, "This authorization was completed already") || !strings.Contains(page, `href="/"`) {
		t.Errorf("reloaded callback: status %d; want 200 saying it was completed already, with the console's link\n%s", code, page)
	}
	for _, secret := range []string{"Statewide", conn.ID, oktaemu.AdminLogin, "okta.devices"} {
		if strings.Contains(page, secret) {
			t.Errorf("reloaded callback shows %q; want nothing about the connection\n%s", secret, page)
		}
	}
	if n := tokenRequests(); n != after {
		t.Errorf("the replayed callback made a token request")
	}
	// Anyone can send these: they name no connection and nobody, and
	// must not add rows to the audit log (kept forever by default).
	var failed []string
	for _, ev := range h.audit("action=connection.authorize") {
		if ev["outcome"] != "success" {
			failed = append(failed, fmt.Sprint(ev["error"]))
		}
	}
	if len(failed) != 0 {
		t.Errorf("callbacks with a missing, forged or used state added audit events: %q", failed)
	}
}

func TestConnectionAPIErrors(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		wantStatus int
		wantCode   string
		wantField  string
	}{
		{name: "admin domain", method: "POST", path: "/api/v1/connections",
			body:       map[string]any{"connector": "okta-devices", "nickname": "x", "domain": "example-admin.okta.com", "clientId": "c", "clientSecret": "s"},
			wantStatus: 400, wantCode: "invalid_input"},
		{name: "unknown field", method: "POST", path: "/api/v1/connections",
			body:       map[string]any{"connector": "okta-devices", "nickname": "x", "domian": "example.okta.com"},
			wantStatus: 400, wantCode: "invalid_input", wantField: "domian"},
		{name: "a client secret the org refuses", method: "POST", path: "/api/v1/connections",
			body:       map[string]any{"connector": "okta-devices", "nickname": "x", "domain": h.emu.URL, "clientId": oktaemu.DemoClientID, "clientSecret": "not-the-secret"},
			wantStatus: 400, wantCode: "invalid_input", wantField: "clientSecret"},
		{name: "unknown connection", method: "GET", path: "/api/v1/connections/nope", wantStatus: 404, wantCode: "not_found"},
		{name: "delete unknown", method: "DELETE", path: "/api/v1/connections/nope", wantStatus: 404, wantCode: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiErr
			code, data := h.call(tt.method, tt.path, tt.body, &e)
			if code != tt.wantStatus || e.Error.Code != tt.wantCode {
				t.Errorf("got %d %s; want %d %s\n%s", code, e.Error.Code, tt.wantStatus, tt.wantCode, data)
			}
			if tt.wantField != "" && e.Error.Details["field"] != tt.wantField {
				t.Errorf("got details %v; want field %q", e.Error.Details, tt.wantField)
			}
		})
	}
	if code, _ := h.callWith("wrong", "GET", "/api/v1/connections", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("wrong token: status %d; want 401", code)
	}
	var list struct {
		Connections []connJSON `json:"connections"`
	}
	if code, data := h.call("GET", "/api/v1/connections", nil, &list); code != http.StatusOK || len(list.Connections) != 0 {
		t.Errorf("connections after the refusals: %d %s; want none stored", code, data)
	}
}

func TestConnectionDelete(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	c := h.connect("Doomed")
	before := h.emu.Stats(t)["POST /oauth2/v1/revoke"]
	if code, data := h.call("DELETE", "/api/v1/connections/"+c.ID, nil, nil); code != http.StatusOK {
		t.Fatalf("delete: status %d\n%s", code, data)
	}
	if got := h.emu.Stats(t)["POST /oauth2/v1/revoke"]; got <= before {
		t.Errorf("delete made no revoke request at the org")
	}
	if code, _ := h.call("GET", "/api/v1/connections/"+c.ID, nil, nil); code != http.StatusNotFound {
		t.Errorf("get after delete: status %d; want 404", code)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
