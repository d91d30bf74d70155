package oktaemu_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

type roleAssignmentJSON struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	Label          string `json:"label"`
	Status         string `json:"status"`
	AssignmentType string `json:"assignmentType"`
	Links          struct {
		Assignee struct {
			Href string `json:"href"`
		} `json:"assignee"`
	} `json:"_links"`
}

// roleCalls drives the role assignment API of one holder (a user's or a
// client app's roles URL) through the OpenAPI-validating client.
type roleCalls struct {
	t    *testing.T
	hc   *http.Client
	base string
	path string // /api/v1/users/{id}/roles or /oauth2/v1/clients/{id}/roles
}

func (rc roleCalls) call(method, path, auth string, body any, want int) []byte {
	rc.t.Helper()
	code, _, b := apiCall{method: method, path: path, auth: auth, body: body}.do(rc.t, rc.hc, rc.base)
	if code != want {
		rc.t.Fatalf("%s %s: status %d; want %d: %s", method, path, code, want, b)
	}
	return b
}

func (rc roleCalls) assign(role string, want int) roleAssignmentJSON {
	rc.t.Helper()
	var ra roleAssignmentJSON
	b := rc.call("POST", rc.path, sswsAdmin, map[string]string{"type": role}, want)
	if want/100 == 2 {
		if err := json.Unmarshal(b, &ra); err != nil || ra.Type != role || ra.ID == "" || ra.Status != "ACTIVE" || ra.Label == "" {
			rc.t.Fatalf("assign %s: %+v, %v: %s", role, ra, err, b)
		}
	}
	return ra
}

func (rc roleCalls) list() []roleAssignmentJSON {
	rc.t.Helper()
	var out []roleAssignmentJSON
	if err := json.Unmarshal(rc.call("GET", rc.path, sswsAdmin, nil, 200), &out); err != nil {
		rc.t.Fatal(err)
	}
	return out
}

func (rc roleCalls) types() []string {
	rc.t.Helper()
	var out []string
	for _, ra := range rc.list() {
		out = append(out, ra.Type)
	}
	slices.Sort(out)
	return out
}

// TestUserRoleAssignment: an admin role assigned to a user through
// /api/v1/users/{userId}/roles, and taken away, decides the user's next
// call with an access token issued before (Okta checks roles at call
// time): no role nothing, MOBILE_ADMIN reads and changes devices,
// READ_ONLY_ADMIN only reads. Only a super admin assigns roles; a role is
// assigned once; the org's last super admin keeps the role.
func TestUserRoleAssignment(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Fixture: fixtureWithTokens(6)})
	st := newSpecTransport(t)
	rc := roleCalls{t: t, hc: st.client(), base: srv.URL, path: "/api/v1/users/" + oktaemu.UserUserID + "/roles"}
	device := emuDevicesByStatus(t, srv)["ACTIVE"][0]
	tok := emuLogin(t, srv, oktaemu.UserLogin, emuScopes("okta.devices.read", "okta.devices.manage")...).AccessToken
	bearer := "Bearer " + tok
	read := func() emuResp { return emuCall(t, srv, "GET", "/api/v1/devices/"+device, bearer, "") }
	suspend := func(op string) emuResp {
		return emuCall(t, srv, "POST", "/api/v1/devices/"+device+"/lifecycle/"+op, bearer, "")
	}
	if r := read(); r.status != 403 || r.errorCode() != "E0000006" {
		t.Fatalf("a device read without an admin role: %d %s; want 403 E0000006", r.status, r.body)
	}

	mobile := rc.assign("MOBILE_ADMIN", 201)
	if mobile.AssignmentType != "USER" || mobile.Links.Assignee.Href != srv.URL+"/api/v1/users/"+oktaemu.UserUserID {
		t.Errorf("assignment %+v; want USER, the user as assignee", mobile)
	}
	if r := read(); r.status != 200 {
		t.Fatalf("a read with MOBILE_ADMIN assigned since the token was issued: %d %s; want 200", r.status, r.body)
	}
	if r := suspend("suspend"); r.status != 204 {
		t.Errorf("a suspend with MOBILE_ADMIN: %d %s; want 204", r.status, r.body)
	}
	var got roleAssignmentJSON
	if err := json.Unmarshal(rc.call("GET", rc.path+"/"+mobile.ID, sswsAdmin, nil, 200), &got); err != nil || got != mobile {
		t.Errorf("the assignment by id: %+v, %v; want %+v", got, err, mobile)
	}
	if r := emuCall(t, srv, "POST", rc.path, sswsAdmin, `{"type":"MOBILE_ADMIN"}`); r.status != 409 || r.errorCode() != "E0000090" {
		t.Errorf("MOBILE_ADMIN again: %d %s; want 409 E0000090", r.status, r.body)
	}

	readOnly := rc.assign("READ_ONLY_ADMIN", 201)
	rc.call("DELETE", rc.path+"/"+mobile.ID, sswsAdmin, nil, 204)
	if got := rc.types(); !slices.Equal(got, []string{"READ_ONLY_ADMIN"}) {
		t.Errorf("roles after MOBILE_ADMIN was taken away: %v; want READ_ONLY_ADMIN", got)
	}
	if r := suspend("unsuspend"); r.status != 403 || r.errorCode() != "E0000006" {
		t.Errorf("a lifecycle change with READ_ONLY_ADMIN left: %d %s; want 403 E0000006", r.status, r.body)
	}
	if r := read(); r.status != 200 {
		t.Errorf("a read with READ_ONLY_ADMIN: %d %s; want 200", r.status, r.body)
	}
	rc.call("DELETE", rc.path+"/"+readOnly.ID, sswsAdmin, nil, 204)
	if r := read(); r.status != 403 || r.errorCode() != "E0000006" {
		t.Errorf("a read once every role was taken away: %d %s; want 403 E0000006", r.status, r.body)
	}
	if got := rc.list(); len(got) != 0 {
		t.Errorf("roles: %+v; want none", got)
	}
	rc.call("GET", rc.path+"/"+readOnly.ID, sswsAdmin, nil, 404)
	rc.call("DELETE", rc.path+"/"+readOnly.ID, sswsAdmin, nil, 404)

	// Who may assign: a super admin's SSWS token; neither a read-only
	// admin nor a user without a role (E0000006), nor a token without
	// okta.roles.manage (insufficient_scope).
	for _, auth := range []string{"SSWS " + readOnlyAPIToken, "SSWS " + noRoleAPIToken} {
		if code := oktaErrorCode(rc.call("POST", rc.path, auth, map[string]string{"type": "SUPER_ADMIN"}, 403)); code != "E0000006" {
			t.Errorf("assign as %s: %s; want E0000006", auth, code)
		}
	}
	if r := emuCall(t, srv, "POST", rc.path, bearer, `{"type":"SUPER_ADMIN"}`); r.status != 403 || !strings.Contains(r.header.Get("WWW-Authenticate"), `scope="okta.roles.manage"`) {
		t.Errorf("assign with a token without okta.roles.manage: %d %q; want 403 insufficient_scope", r.status, r.header.Get("WWW-Authenticate"))
	}
	if got := rc.types(); len(got) != 0 {
		t.Errorf("roles after refused assignments: %v; want none", got)
	}
	for _, body := range []string{`{"type":"CUSTOM"}`, `{"type":"NO_SUCH_ADMIN"}`, `{}`} {
		if r := emuCall(t, srv, "POST", rc.path, sswsAdmin, body); r.status != 400 || r.errorCode() != "E0000001" {
			t.Errorf("assign %s: %d %s; want 400 E0000001", body, r.status, r.body)
		}
	}
	if r := emuCall(t, srv, "POST", rc.path, sswsAdmin, `{"type":`); r.status != 400 || r.errorCode() != "E0000003" {
		t.Errorf("a malformed body: %d %s; want 400 E0000003", r.status, r.body)
	}
	rc.call("POST", "/api/v1/users/00uUNKNOWN/roles", sswsAdmin, map[string]string{"type": "SUPER_ADMIN"}, 404)

	// The org keeps one super admin: the unassigned user's role goes, the
	// demo admin's, the last, stays.
	for _, c := range []struct {
		user string
		want int
	}{{oktaemu.UnassignedUserID, 204}, {oktaemu.AdminUserID, 400}} {
		users := roleCalls{t: t, hc: st.client(), base: srv.URL, path: "/api/v1/users/" + c.user + "/roles"}
		ras := users.list()
		if len(ras) != 1 || ras[0].Type != "SUPER_ADMIN" {
			t.Fatalf("roles of %s: %+v; want SUPER_ADMIN", c.user, ras)
		}
		users.call("DELETE", users.path+"/"+ras[0].ID, sswsAdmin, nil, c.want)
	}
	if r := emuCall(t, srv, "GET", "/api/v1/devices", sswsAdmin, ""); r.status != 200 {
		t.Errorf("the last super admin's token: %d; want 200", r.status)
	}

	seen := st.seen()
	for _, want := range []string{"assignRoleToUser 201", "assignRoleToUser 403", "assignRoleToUser 404",
		"listAssignedRolesForUser 200", "getUserAssignedRole 200", "getUserAssignedRole 404",
		"unassignRoleFromUser 404", "unassignRoleFromUser 400"} {
		if seen[want] == 0 {
			t.Errorf("no validated response for %q; validated: %v", want, seen)
		}
	}
}

// TestClientRoleAssignment: the API Services app's admin roles, listed,
// taken away and assigned through /oauth2/v1/clients/{clientId}/roles,
// decide the calls of its access token issued before: without a role it
// reads nothing, READ_ONLY_ADMIN reads, MOBILE_ADMIN changes devices too.
func TestClientRoleAssignment(t *testing.T) {
	_, jwks := serviceJWKS(t)
	srv := emutest.Start(t, oktaemu.Config{Devices: 6, ServiceAppJWKS: jwks})
	st := newSpecTransport(t)
	rc := roleCalls{t: t, hc: st.client(), base: srv.URL, path: "/oauth2/v1/clients/" + oktaemu.DemoServiceClientID + "/roles"}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client)
	tok, err := ccConfig(t, srv, oktaemu.DemoServiceClientID, "okta.devices.read", "okta.devices.manage").Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bearer := "Bearer " + tok.AccessToken
	device := emuDevicesByStatus(t, srv)["ACTIVE"][0]
	read := func() emuResp { return emuCall(t, srv, "GET", "/api/v1/devices", bearer, "") }
	change := func(op string) emuResp {
		return emuCall(t, srv, "POST", "/api/v1/devices/"+device+"/lifecycle/"+op, bearer, "")
	}
	if r := read(); r.status != 200 {
		t.Fatalf("a read as the super admin app: %d %s", r.status, r.body)
	}

	ras := rc.list()
	if len(ras) != 1 || ras[0].Type != "SUPER_ADMIN" || ras[0].AssignmentType != "CLIENT" || ras[0].Links.Assignee.Href != srv.URL+rc.path {
		t.Fatalf("the app's roles: %+v; want SUPER_ADMIN assigned to the client", ras)
	}
	rc.call("GET", rc.path+"/"+ras[0].ID, sswsAdmin, nil, 200)
	rc.call("DELETE", rc.path+"/"+ras[0].ID, sswsAdmin, nil, 204)
	if r := read(); r.status != 403 || r.errorCode() != "E0000006" {
		t.Fatalf("a read once the app's role was taken away: %d %s; want 403 E0000006", r.status, r.body)
	}
	rc.call("GET", rc.path+"/"+ras[0].ID, sswsAdmin, nil, 404)

	rc.assign("READ_ONLY_ADMIN", 200)
	if r := read(); r.status != 200 {
		t.Errorf("a read with READ_ONLY_ADMIN: %d %s; want 200", r.status, r.body)
	}
	if r := change("suspend"); r.status != 403 || r.errorCode() != "E0000006" {
		t.Errorf("a suspend with READ_ONLY_ADMIN: %d %s; want 403 E0000006", r.status, r.body)
	}
	mobile := rc.assign("MOBILE_ADMIN", 200)
	if r := change("suspend"); r.status != 204 {
		t.Errorf("a suspend with MOBILE_ADMIN too: %d %s; want 204", r.status, r.body)
	}
	if r := emuCall(t, srv, "POST", rc.path, sswsAdmin, `{"type":"MOBILE_ADMIN"}`); r.status != 409 || r.errorCode() != "E0000090" {
		t.Errorf("MOBILE_ADMIN again: %d %s; want 409 E0000090", r.status, r.body)
	}
	if got := rc.types(); !slices.Equal(got, []string{"MOBILE_ADMIN", "READ_ONLY_ADMIN"}) {
		t.Errorf("the app's roles: %v; want MOBILE_ADMIN and READ_ONLY_ADMIN", got)
	}
	rc.call("DELETE", rc.path+"/"+mobile.ID, sswsAdmin, nil, 204)
	if r := change("unsuspend"); r.status != 403 {
		t.Errorf("an unsuspend with MOBILE_ADMIN taken away: %d %s; want 403", r.status, r.body)
	}

	// The app's own token may not give itself a role (no okta.roles.manage),
	// a web app takes no admin role, and an unknown client is not found.
	if r := emuCall(t, srv, "POST", rc.path, bearer, `{"type":"SUPER_ADMIN"}`); r.status != 403 {
		t.Errorf("the app assigning itself a role: %d %s; want 403", r.status, r.body)
	}
	if r := emuCall(t, srv, "POST", "/oauth2/v1/clients/"+oktaemu.DemoClientID+"/roles", sswsAdmin, `{"type":"SUPER_ADMIN"}`); r.status != 400 || r.errorCode() != "E0000001" {
		t.Errorf("a role for the web app: %d %s; want 400 E0000001", r.status, r.body)
	}
	if r := emuCall(t, srv, "GET", "/oauth2/v1/clients/0oaUNKNOWN/roles", sswsAdmin, ""); r.status != 404 || r.errorCode() != "E0000007" {
		t.Errorf("roles of an unknown client: %d %s; want 404 E0000007", r.status, r.body)
	}
	rc.call("POST", "/oauth2/v1/clients/0oaUNKNOWN/roles", "SSWS "+oktaemu.DemoAPIToken, map[string]string{"type": "SUPER_ADMIN"}, 404)

	seen := st.seen()
	for _, want := range []string{"assignRoleToClient 200", "listRolesForClient 200", "retrieveClientRole 200",
		"retrieveClientRole 404", "assignRoleToClient 404"} {
		if seen[want] == 0 {
			t.Errorf("no validated response for %q; validated: %v", want, seen)
		}
	}
}

// TestRoleChangesInSystemLog: a role assigned or taken away through the
// role assignment API is recorded in the System Log, as
// user.account.privilege.grant and revoke for a user and
// app.oauth2.client.privilege.grant and revoke for a client app, with the
// caller as actor, the holder and the role as targets, SUCCESS, published
// on the emulator clock; a refused or conflicting call records nothing.
// The events are filtered and paged as any other, and reach the event
// hooks subscribed to their types.
func TestRoleChangesInSystemLog(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Fixture: fixtureWithTokens(1), Now: stoppedClock})
	st := newSpecTransport(t)
	hc := st.client()
	rcv := newHookReceiver(t)
	createVerifiedHook(t, hc, srv, rcv, "device.lifecycle.suspend", "user.account.privilege.grant",
		"user.account.privilege.revoke", "app.oauth2.client.privilege.revoke")
	users := roleCalls{t: t, hc: hc, base: srv.URL, path: "/api/v1/users/" + oktaemu.UserUserID + "/roles"}
	clients := roleCalls{t: t, hc: hc, base: srv.URL, path: "/oauth2/v1/clients/" + oktaemu.DemoServiceClientID + "/roles"}
	start := srv.Now()

	mobile := users.assign("MOBILE_ADMIN", 201)
	users.assign("MOBILE_ADMIN", 409)
	users.call("POST", users.path, "SSWS "+readOnlyAPIToken, map[string]string{"type": "SUPER_ADMIN"}, 403)
	srv.AdvanceClock(t, time.Minute)
	users.call("DELETE", users.path+"/"+mobile.ID, sswsAdmin, nil, 204)
	users.call("DELETE", users.path+"/"+mobile.ID, sswsAdmin, nil, 404)
	admin := roleCalls{t: t, hc: hc, base: srv.URL, path: "/api/v1/users/" + oktaemu.AdminUserID + "/roles"}
	unassigned := roleCalls{t: t, hc: hc, base: srv.URL, path: "/api/v1/users/" + oktaemu.UnassignedUserID + "/roles"}
	unassigned.call("DELETE", unassigned.path+"/"+unassigned.list()[0].ID, sswsAdmin, nil, 204)
	admin.call("DELETE", admin.path+"/"+admin.list()[0].ID, sswsAdmin, nil, 400) // the last super admin's
	svc := clients.list()[0]
	clients.call("DELETE", clients.path+"/"+svc.ID, sswsAdmin, nil, 204)
	back := clients.assign("SUPER_ADMIN", 200)

	privilege := url.Values{"filter": {`eventType co ".privilege."`}}
	evs, _ := listLogs(t, hc, srv, privilege.Encode())
	type want struct {
		eventType, holderType, holder, role, roleType string
		published                                     time.Time
	}
	later := start.Add(time.Minute)
	wants := []want{
		{"user.account.privilege.grant", "User", oktaemu.UserUserID, mobile.ID, "MOBILE_ADMIN", start},
		{"user.account.privilege.revoke", "User", oktaemu.UserUserID, mobile.ID, "MOBILE_ADMIN", later},
		{"user.account.privilege.revoke", "User", oktaemu.UnassignedUserID, "", "SUPER_ADMIN", later},
		{"app.oauth2.client.privilege.revoke", "PublicClientApp", oktaemu.DemoServiceClientID, svc.ID, "SUPER_ADMIN", later},
		{"app.oauth2.client.privilege.grant", "PublicClientApp", oktaemu.DemoServiceClientID, back.ID, "SUPER_ADMIN", later},
	}
	if len(evs) != len(wants) {
		t.Fatalf("privilege events %+v; want %d", evs, len(wants))
	}
	for i, w := range wants {
		e := evs[i]
		published, err := time.Parse(time.RFC3339, e.Published)
		if e.EventType != w.eventType || err != nil || !published.Equal(w.published) || e.Outcome.Result != "SUCCESS" || e.DisplayMessage == "" {
			t.Errorf("event %d: %s published %s (%v), %s, %q; want %s published %s, SUCCESS, a message",
				i, e.EventType, e.Published, err, e.Outcome.Result, e.DisplayMessage, w.eventType, w.published.Format(time.RFC3339))
		}
		if e.Actor.ID != oktaemu.AdminUserID || e.Actor.Type != "User" || e.Actor.AlternateID != oktaemu.AdminLogin {
			t.Errorf("event %d: actor %+v; want the caller, %s", i, e.Actor, oktaemu.AdminLogin)
		}
		if len(e.Target) != 2 || e.target(w.holderType) != w.holder {
			t.Errorf("event %d: targets %+v; want the %s %s and the role", i, e.Target, w.holderType, w.holder)
			continue
		}
		role := e.Target[1]
		if role.Type != "ROLE" || (w.role != "" && role.ID != w.role) || role.AlternateID != w.roleType || role.DisplayName == "" {
			t.Errorf("event %d: role target %+v; want ROLE %s %s with its label", i, role, w.role, w.roleType)
		}
	}

	// Filters and paging: by target (the client's two events), by type,
	// one event a page.
	byClient, _ := listLogs(t, hc, srv, url.Values{"filter": {`target.id eq "` + oktaemu.DemoServiceClientID + `"`}}.Encode())
	if len(byClient) != 2 || byClient[0].UUID != evs[3].UUID || byClient[1].UUID != evs[4].UUID {
		t.Errorf("events targeting the client: %+v; want its revoke and grant", byClient)
	}
	grants, _ := listLogs(t, hc, srv, url.Values{"filter": {`eventType ew ".privilege.grant"`}}.Encode())
	if len(grants) != 2 || grants[0].UUID != evs[0].UUID || grants[1].UUID != evs[4].UUID {
		t.Errorf("grant events: %+v; want the user's and the client's", grants)
	}
	privilege.Set("limit", "1")
	var paged []string
	for q, i := privilege.Encode(), 0; i < 10; i++ {
		page, next := listLogs(t, hc, srv, q)
		if len(page) == 0 {
			break
		}
		if len(page) != 1 {
			t.Fatalf("a page of limit 1 with %d events", len(page))
		}
		paged = append(paged, page[0].UUID)
		q = next
	}
	if len(paged) != len(evs) || paged[0] != evs[0].UUID || paged[len(paged)-1] != evs[len(evs)-1].UUID {
		t.Errorf("paged one by one: %v; want the %d events in order", paged, len(evs))
	}

	// The hook receives the types it subscribes to, and no other.
	waitDeliveries(t, srv)
	var delivered []string
	for _, e := range rcv.events() {
		delivered = append(delivered, e.EventType)
	}
	if want := []string{"user.account.privilege.grant", "user.account.privilege.revoke", "user.account.privilege.revoke",
		"app.oauth2.client.privilege.revoke"}; !slices.Equal(delivered, want) {
		t.Errorf("delivered %v; want %v", delivered, want)
	}
	if st.seen()["listLogEvents 200"] == 0 {
		t.Errorf("no validated System Log response; validated %v", st.seen())
	}
}

// TestRoleResetAndFaults: a reset brings back the fixture's roles, and a
// fault on the client roles API answers Okta's error body, not OAuth's.
func TestRoleResetAndFaults(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 1})
	path := "/oauth2/v1/clients/" + oktaemu.DemoServiceClientID + "/roles"
	srv.Fault(t, "GET", "/oauth2/v1/clients/{clientId}/roles", 500, 1)
	if r := emuCall(t, srv, "GET", path, sswsAdmin, ""); r.status != 500 || r.errorCode() != "E0000009" {
		t.Errorf("a faulted client roles call: %d %s; want 500 E0000009", r.status, r.body)
	}
	srv.UnassignClientRole(t, oktaemu.DemoServiceClientID, "SUPER_ADMIN")
	srv.UnassignRole(t, oktaemu.UnassignedLogin, "SUPER_ADMIN")
	srv.AssignRole(t, oktaemu.UserLogin, "ORG_ADMIN")
	srv.Reset(t)
	for path, want := range map[string]string{
		path: `"SUPER_ADMIN"`,
		"/api/v1/users/" + oktaemu.UnassignedUserID + "/roles": `"SUPER_ADMIN"`,
		"/api/v1/users/" + oktaemu.UserUserID + "/roles":       `[]`,
	} {
		if r := emuCall(t, srv, "GET", path, sswsAdmin, ""); r.status != 200 || !strings.Contains(r.body, want) {
			t.Errorf("GET %s after a reset: %d %s; want %s", path, r.status, r.body, want)
		}
	}
}
