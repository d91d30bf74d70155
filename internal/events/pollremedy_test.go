package events

import (
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestPollRemedyFollowsConnectionAuth: a System Log poll the org refuses
// (the scope okta.logs.read not granted, or no admin role that may read
// the log) says what to do for the connection's kind only: a user
// connection is reauthorized, a service connection's API Services app is
// granted the scope or a role, and tested.
func TestPollRemedyFollowsConnectionAuth(t *testing.T) {
	scope, role := forbiddenFaults("GET", "/api/v1/logs", "okta.logs.read")
	tests := []struct {
		name, auth string
		fault      emutest.FaultSpec
		want       []string
		notWant    []string
	}{
		{"user without the scope", store.AuthUser, scope, []string{"reauthorize the connection", "okta.logs.read"}, []string{"API Services", "test the connection"}},
		{"service without the scope", store.AuthService, scope, []string{"okta.logs.read", "API Services app's Okta API Scopes tab", "test the connection"}, []string{"reauthorize"}},
		{"user without a role", store.AuthUser, role, []string{"reauthorize the connection with an administrator"}, []string{"API Services"}},
		{"service without a role", store.AuthService, role, []string{"API Services app a role", "Admin Roles tab"}, []string{"reauthorize"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newIntake(t, oktaemu.Config{Devices: 1})
			createConnectionOf(t, in, tt.auth, "okta.logs.read")
			in.srv.Inject(t, tt.fault)
			if _, err := in.poller.Poll(t.Context(), connID, in.srv.Org.Now().Add(-time.Minute)); err == nil {
				t.Fatal("the poll worked; want the org's refusal")
			}
			src, err := in.st.GetEventSource(t.Context(), connID)
			if err != nil {
				t.Fatal(err)
			}
			wantRemedy(t, src.Poll.Remedy, tt.want, tt.notWant)
		})
	}
}

// TestHookRemedyFollowsConnectionAuth: an event hook the org refuses (the
// scope okta.eventHooks.manage not granted, or no admin role that may
// manage hooks) says what to do for the connection's kind only, as a
// refused poll does: a user connection is reauthorized, a service
// connection's API Services app is granted the scope or a role, and tested.
func TestHookRemedyFollowsConnectionAuth(t *testing.T) {
	scope, role := forbiddenFaults("POST", "/api/v1/eventHooks", "okta.eventHooks.manage")
	tests := []struct {
		name, auth string
		fault      emutest.FaultSpec
		want       []string
		notWant    []string
	}{
		{"user without the scope", store.AuthUser, scope, []string{"reauthorize the connection", "okta.eventHooks.manage"}, []string{"API Services", "test the connection"}},
		{"service without the scope", store.AuthService, scope, []string{"okta.eventHooks.manage", "API Services app's Okta API Scopes tab", "test the connection"}, []string{"reauthorize"}},
		{"user without a role", store.AuthUser, role, []string{"reauthorize the connection with a super administrator"}, []string{"API Services"}},
		{"service without a role", store.AuthService, role, []string{"Super Administrator role", "Admin Roles tab", "test the connection"}, []string{"reauthorize"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newIntake(t, oktaemu.Config{Devices: 1})
			createConnectionOf(t, in, tt.auth, "okta.eventHooks.manage")
			in.srv.Inject(t, tt.fault)
			rec := &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: in.hook.URL}
			if _, err := rec.Reconcile(t.Context(), connID, []string{"device.user.remove"}); err == nil {
				t.Fatal("the hook was registered; want the org's refusal")
			}
			src, err := in.st.GetEventSource(t.Context(), connID)
			if err != nil {
				t.Fatal(err)
			}
			wantRemedy(t, src.HookRemedy, tt.want, tt.notWant)
		})
	}
}

// forbiddenFaults are the org's two 403 answers to method path: for lack of the
// scope (insufficient_scope, naming it), and for lack of an admin role.
func forbiddenFaults(method, path, scope string) (noScope, noRole emutest.FaultSpec) {
	noScope = emutest.FaultSpec{Method: method, Path: path, Status: 403, Count: 1, Headers: map[string]string{
		"WWW-Authenticate": `Bearer authorization_uri="http://org/oauth2/v1/authorize", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="` + path + `", scope="` + scope + `"`}}
	noRole = emutest.FaultSpec{Method: method, Path: path, Status: 403, Count: 1}
	return noScope, noRole
}

// createConnectionOf stores an active connection connID of kind auth
// (store.AuthUser or store.AuthService) to in's org, requesting scope.
func createConnectionOf(t *testing.T, in *intake, auth, scope string) {
	t.Helper()
	now := time.Now().UTC()
	c := &store.Connection{ID: connID, Connector: "okta-devices", Nickname: "Prod", Domain: in.srv.URL, Auth: auth,
		Status: store.StatusActive, ScopeMode: "default", RequestedScopes: []string{scope}, ClientID: "0oaclient",
		CreatedAt: now, UpdatedAt: now}
	if err := in.st.CreateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
}

// wantRemedy checks that remedy says each of want and none of notWant.
func wantRemedy(t *testing.T, remedy string, want, notWant []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(remedy, w) {
			t.Errorf("remedy %q; want %q in it", remedy, w)
		}
	}
	for _, w := range notWant {
		if strings.Contains(remedy, w) {
			t.Errorf("remedy %q; want no %q in it", remedy, w)
		}
	}
}
