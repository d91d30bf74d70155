package oktaemu_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

func TestAPIAuthErrors(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 10})
	admin := emuLogin(t, s, oktaemu.AdminLogin, emuScopes("okta.devices.read")...)
	readonly := emuLogin(t, s, oktaemu.ReadOnlyLogin, emuScopes("okta.devices.read", "okta.devices.manage")...)
	plain := emuLogin(t, s, oktaemu.UserLogin, emuScopes("okta.devices.read")...)
	id := emuDevicesByStatus(t, s)["ACTIVE"][0]
	suspend := "/api/v1/devices/" + id + "/lifecycle/suspend"

	tests := []struct {
		name, method, path, authz string
		status                    int
		code                      string
	}{
		{"no credentials", "GET", "/api/v1/devices", "", 403, "E0000005"},
		{"bad SSWS", "GET", "/api/v1/devices", "SSWS nope", 401, "E0000011"},
		{"bad bearer", "GET", "/api/v1/devices", "Bearer nope", 401, "E0000011"},
		{"read with read scope", "GET", "/api/v1/devices", "Bearer " + admin.AccessToken, 200, ""},
		{"manage without manage scope", "POST", suspend, "Bearer " + admin.AccessToken, 403, ""},
		{"read-only admin reads", "GET", "/api/v1/devices/" + id, "Bearer " + readonly.AccessToken, 200, ""},
		{"read-only admin may not manage", "POST", suspend, "Bearer " + readonly.AccessToken, 403, "E0000006"},
		{"no role may not read", "GET", "/api/v1/devices", "Bearer " + plain.AccessToken, 403, "E0000006"},
		{"manage satisfies read", "GET", "/api/v1/devices/" + id + "/users", "Bearer " + readonly.AccessToken, 200, ""},
		{"unknown SSWS on grants", "POST", "/api/v1/apps/" + oktaemu.DemoAppID + "/grants", "SSWS readonly", 401, "E0000011"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := emuCall(t, s, tc.method, tc.path, tc.authz, "")
			if r.status != tc.status || r.errorCode() != tc.code {
				t.Errorf("%s %s: %d %q; want %d %q: %s", tc.method, tc.path, r.status, r.errorCode(), tc.status, tc.code, r.body)
			}
			if r.header.Get("X-Okta-Request-Id") == "" {
				t.Error("no X-Okta-Request-Id")
			}
		})
	}

	t.Run("insufficient scope header", func(t *testing.T) {
		r := emuCall(t, s, "POST", suspend, "Bearer "+admin.AccessToken, "")
		want := `Bearer authorization_uri="` + s.URL + `/oauth2/v1/authorize", realm="` + s.URL +
			`", scope="okta.devices.manage", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="` + suspend + `"`
		if r.status != 403 || r.body != "" || r.header.Get("WWW-Authenticate") != want {
			t.Errorf("got %d body %q header %q; want 403, empty body, %q", r.status, r.body, r.header.Get("WWW-Authenticate"), want)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		s.AdvanceClock(t, 3601e9)
		if r := emuCall(t, s, "GET", "/api/v1/devices", "Bearer "+admin.AccessToken, ""); r.status != 401 || r.errorCode() != "E0000011" {
			t.Errorf("after an hour: %d %s; want 401 E0000011", r.status, r.body)
		}
	})
}

func TestGrantsRequireSuperAdmin(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 1})
	scopes := emuScopes("okta.devices.read", "okta.appGrants.manage", "okta.appGrants.read")
	s.AddGrant(t, "okta.appGrants.manage")
	ro := emuLogin(t, s, oktaemu.ReadOnlyLogin, scopes...)
	body := `{"issuer":"` + s.URL + `","scopeId":"okta.users.read"}`
	path := "/api/v1/apps/" + oktaemu.DemoAppID + "/grants"
	if r := emuCall(t, s, "POST", path, "Bearer "+ro.AccessToken, body); r.status != 403 || r.errorCode() != "E0000006" {
		t.Errorf("read-only admin grant: %d %s; want 403 E0000006", r.status, r.body)
	}
	if r := emuCall(t, s, "GET", path, "Bearer "+ro.AccessToken, ""); r.status != 200 || !strings.Contains(r.body, `"scopeId":"okta.devices.manage"`) {
		t.Errorf("read-only admin list grants: %d %s", r.status, r.body)
	}
	r := emuCall(t, s, "POST", path, sswsAdmin, body)
	if r.status != 201 || !strings.Contains(r.body, `"source":"ADMIN"`) {
		t.Fatalf("super admin grant: %d %s; want 201", r.status, r.body)
	}
	if r := emuCall(t, s, "POST", path, sswsAdmin, body); r.status != 400 || r.errorCode() != "E0000001" {
		t.Errorf("duplicate grant: %d %s; want 400 E0000001", r.status, r.body)
	}
	s.RevokeGrant(t, "okta.users.read")
	if r := emuCall(t, s, "DELETE", path+"/oagNOPE", sswsAdmin, ""); r.status != 404 || r.errorCode() != "E0000007" {
		t.Errorf("delete unknown grant: %d %s; want 404 E0000007", r.status, r.body)
	}
}

func TestUsersRolesApps(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 1})
	tests := []struct {
		name, path string
		status     int
		contains   string
	}{
		{"user by id", "/api/v1/users/" + oktaemu.AdminUserID, 200, `"login":"admin@example.com"`},
		{"user by login", "/api/v1/users/" + url.PathEscape(oktaemu.ReadOnlyLogin), 200, `"id":"` + oktaemu.ReadOnlyUserID + `"`},
		{"me", "/api/v1/users/me", 200, `"id":"` + oktaemu.AdminUserID + `"`},
		{"unknown user", "/api/v1/users/00unope", 404, `"errorCode":"E0000007"`},
		{"super admin role", "/api/v1/users/" + oktaemu.AdminUserID + "/roles", 200, `"type":"SUPER_ADMIN"`},
		{"no roles", "/api/v1/users/" + oktaemu.UserUserID + "/roles", 200, `[]`},
		{"app", "/api/v1/apps/" + oktaemu.DemoAppID, 200, `"label":"Okta Workflows OAuth"`},
		{"app users", "/api/v1/apps/" + oktaemu.DemoAppID + "/users", 200, `"id":"` + oktaemu.UserUserID + `"`},
		{"unknown route", "/api/v1/nothing", 404, `"errorCode":"E0000007"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := emuCall(t, s, "GET", tc.path, sswsAdmin, "")
			if r.status != tc.status || !strings.Contains(r.body, tc.contains) {
				t.Errorf("GET %s: %d %s; want %d containing %s", tc.path, r.status, r.body, tc.status, tc.contains)
			}
		})
	}
	r := emuCall(t, s, "POST", "/api/v1/apps/"+oktaemu.DemoAppID+"/users", sswsAdmin, `{"id":"`+oktaemu.UnassignedUserID+`"}`)
	if r.status != 200 {
		t.Fatalf("assign: %d %s", r.status, r.body)
	}
	tok := emuLogin(t, s, oktaemu.UnassignedLogin, emuScopes("okta.devices.read")...)
	if tok.AccessToken == "" {
		t.Error("no token for a newly assigned user")
	}
}
