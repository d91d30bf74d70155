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
	scope := emutest.FaultSpec{Method: "GET", Path: "/api/v1/logs", Status: 403, Count: 1, Headers: map[string]string{
		"WWW-Authenticate": `Bearer authorization_uri="http://org/oauth2/v1/authorize", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="/api/v1/logs", scope="okta.logs.read"`}}
	role := emutest.FaultSpec{Method: "GET", Path: "/api/v1/logs", Status: 403, Count: 1}
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
			now := time.Now().UTC()
			c := &store.Connection{ID: connID, Connector: "okta-devices", Nickname: "Prod", Domain: in.srv.URL, Auth: tt.auth,
				Status: store.StatusActive, ScopeMode: "default", RequestedScopes: []string{"okta.logs.read"}, ClientID: "0oaclient",
				CreatedAt: now, UpdatedAt: now}
			if err := in.st.CreateConnection(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			in.srv.Inject(t, tt.fault)
			if _, err := in.poller.Poll(t.Context(), connID, in.srv.Org.Now().Add(-time.Minute)); err == nil {
				t.Fatal("the poll worked; want the org's refusal")
			}
			src, err := in.st.GetEventSource(t.Context(), connID)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(src.Poll.Remedy, w) {
					t.Errorf("remedy %q; want %q in it", src.Poll.Remedy, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(src.Poll.Remedy, w) {
					t.Errorf("remedy %q; want no %q in it", src.Poll.Remedy, w)
				}
			}
		})
	}
}

// TestHookRemedyFollowsConnectionAuth: an event hook the org refuses (the
// scope okta.eventHooks.manage not granted, or no admin role that may
// manage hooks) says what to do for the connection's kind only, as a
// refused poll does: a user connection is reauthorized, a service
// connection's API Services app is granted the scope or a role, and tested.
func TestHookRemedyFollowsConnectionAuth(t *testing.T) {
	scope := emutest.FaultSpec{Method: "POST", Path: "/api/v1/eventHooks", Status: 403, Count: 1, Headers: map[string]string{
		"WWW-Authenticate": `Bearer authorization_uri="http://org/oauth2/v1/authorize", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="/api/v1/eventHooks", scope="okta.eventHooks.manage"`}}
	role := emutest.FaultSpec{Method: "POST", Path: "/api/v1/eventHooks", Status: 403, Count: 1}
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
			now := time.Now().UTC()
			c := &store.Connection{ID: connID, Connector: "okta-devices", Nickname: "Prod", Domain: in.srv.URL, Auth: tt.auth,
				Status: store.StatusActive, ScopeMode: "default", RequestedScopes: []string{"okta.eventHooks.manage"}, ClientID: "0oaclient",
				CreatedAt: now, UpdatedAt: now}
			if err := in.st.CreateConnection(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			in.srv.Inject(t, tt.fault)
			rec := &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: in.hook.URL}
			if _, err := rec.Reconcile(t.Context(), connID, []string{"device.user.remove"}); err == nil {
				t.Fatal("the hook was registered; want the org's refusal")
			}
			src, err := in.st.GetEventSource(t.Context(), connID)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(src.HookRemedy, w) {
					t.Errorf("remedy %q; want %q in it", src.HookRemedy, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(src.HookRemedy, w) {
					t.Errorf("remedy %q; want no %q in it", src.HookRemedy, w)
				}
			}
		})
	}
}
