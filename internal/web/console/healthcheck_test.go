package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestHealthCheckSaysWhatItDid: Test on a connection's page says what
// passed: a user connection refreshed its token; a service connection,
// which has no refresh token, got a token for its key.
func TestHealthCheckSaysWhatItDid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	user := e.connect(t, "Prod", nil)
	robot, _, err := e.manager.CreateService(ctx, connection.ServiceInput{Connector: "okta-devices", Nickname: "Robot",
		Domain: e.emu.URL, ClientID: oktaemu.DemoServiceClientID}, store.Actor{Type: store.ActorUser, Login: "test"})
	if err != nil {
		t.Fatalf("create the service connection: %v", err)
	}
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, robot.PublicJWK)
	c, _, csrf := signInHTTP(t, e.url, "/connections")
	for _, tc := range []struct {
		id, want string
	}{
		{user.ID, "Health check passed: the connection refreshed its token and read devices."},
		// The demo's API Services app grants no event scopes: the check
		// passes with a warning (TestHealthCheckWarnsOfMissingScopes).
		{robot.ID, "Health check passed: the org gave the connection a token for its key and read devices"},
	} {
		resp, _ := post(t, c, e.url+"/connections/"+tc.id+"/test", url.Values{"csrf": {csrf}}, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("test %s: status %d; want 303", tc.id, resp.StatusCode)
		}
		_, body := get(t, c, e.url+"/connections/"+tc.id)
		if !strings.Contains(body, tc.want) {
			t.Errorf("after Test the page of %s lacks %q", tc.id, tc.want)
		}
	}
}

// TestHealthCheckWarnsOfMissingScopes: a check that passes while the org
// does not grant a requested scope (revoked since the sign-in, or never
// granted to a service app) says so beside its pass, with the cards that
// fail and the fix, where it read as a plain pass in green.
func TestHealthCheckWarnsOfMissingScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	user := e.connect(t, "Prod", nil)
	e.emu.RevokeGrant(t, "okta.devices.manage")
	robot, _, err := e.manager.CreateService(ctx, connection.ServiceInput{Connector: "okta-devices", Nickname: "Robot",
		Domain: e.emu.URL, ClientID: oktaemu.DemoServiceClientID}, store.Actor{Type: store.ActorUser, Login: "test"})
	if err != nil {
		t.Fatalf("create the service connection: %v", err)
	}
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, robot.PublicJWK)
	c, _, csrf := signInHTTP(t, e.url, "/connections")
	for _, tc := range []struct {
		name, id string
		want     []string
	}{
		{"user connection, grant revoked", user.ID, []string{
			"Health check passed: the connection refreshed its token and read devices, but the org does not grant okta.devices.manage, which the connection asked for: Activate Device, Deactivate Device, Suspend Device, Unsuspend Device, Delete Device will fail.",
			"<strong>How to fix it:</strong> Grant it on the OAuth app&#39;s Okta API Scopes tab, then reauthorize.",
		}},
		{"service connection, event scopes not granted", robot.ID, []string{
			"Health check passed: the org gave the connection a token for its key and read devices, but the org does not grant okta.eventHooks.manage, okta.logs.read, which the connection asked for.",
			"<strong>How to fix it:</strong> Grant them on the API Services app&#39;s Okta API Scopes tab, then test the connection again.",
			// Two scopes are "them" throughout the page's missing scopes line.
			"The API Services app did not grant them; grant them on the app's Okta API Scopes tab, then test the connection.",
		}},
	} {
		resp, _ := post(t, c, e.url+"/connections/"+tc.id+"/test", url.Values{"csrf": {csrf}}, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: test: status %d; want 303", tc.name, resp.StatusCode)
		}
		_, body := get(t, c, e.url+"/connections/"+tc.id)
		for _, want := range append(tc.want, `<div class="flash flash-warning" role="status">`) {
			if !strings.Contains(body, want) {
				t.Errorf("%s: after Test the page lacks %q", tc.name, want)
			}
		}
		if strings.Contains(body, "flash-ok") {
			t.Errorf("%s: after Test the page shows a plain pass; want a warning", tc.name)
		}
	}
}

// TestServiceEventCardsFix: on a service connection whose app grants no
// event scope, the event cards' fix says to grant them on the API Services
// app and test the connection, as the page's missing scopes line does,
// where it said to reauthorize, which a service connection cannot.
func TestServiceEventCardsFix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	robot, _, err := e.manager.CreateService(context.Background(), connection.ServiceInput{Connector: "okta-devices", Nickname: "Robot",
		Domain: e.emu.URL, ClientID: oktaemu.DemoServiceClientID}, store.Actor{Type: store.ActorUser, Login: "test"})
	if err != nil {
		t.Fatalf("create the service connection: %v", err)
	}
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, robot.PublicJWK)
	c, _, csrf := signInHTTP(t, e.url, "/connections")
	if resp, _ := post(t, c, e.url+"/connections/"+robot.ID+"/test", url.Values{"csrf": {csrf}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("test: status %d; want 303", resp.StatusCode)
	}
	_, body := get(t, c, e.url+"/connections/"+robot.ID)
	want := "<strong>Fix:</strong> Grant them on the API Services app&#39;s Okta API Scopes tab, then test the connection."
	if n := strings.Count(body, want); n != 8 {
		t.Errorf("the page shows %q %d times; want once for each of the 8 event cards", want, n)
	}
	if strings.Contains(body, "reauthorize") || strings.Contains(body, "Reauthorize") {
		t.Errorf("the page of a service connection says to reauthorize it:\n%s", body)
	}
}

// TestHealthCheckOfAPendingConnection: Test on a user connection nobody
// has signed in to yet says it is not checked yet and points at the
// sign-in, where it said the health check failed though nothing had.
func TestHealthCheckOfAPendingConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v, _ := e.createPending(t, "Half done", nil)
	c, _, csrf := signInHTTP(t, e.url, "/connections")
	if resp, _ := post(t, c, e.url+"/connections/"+v.ID+"/test", url.Values{"csrf": {csrf}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("test: status %d; want 303", resp.StatusCode)
	}
	_, body := get(t, c, e.url+"/connections/"+v.ID)
	if !strings.Contains(body, "Not checked yet: the connection waits for its sign-in at the org") || strings.Contains(body, "Health check failed") {
		t.Errorf("after Test the pending connection's page lacks the not-checked note, or says the check failed:\n%s", body)
	}
}
