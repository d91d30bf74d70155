package app

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestDemoBannerOfKeptConnections: a restarted demo's banner says each
// kept connection's status in words, and its command that runs a card names
// a connection that can run cards once reauthorized (one that worked
// before the restart), not the first by name, which may never have been
// signed in to or may have a wrong client secret.
func TestDemoBannerOfKeptConnections(t *testing.T) {
	const org = "http://127.0.0.1:9090"
	conns := []*store.Connection{
		{Nickname: "Bad secret", Status: store.StatusError, Domain: org},
		{Nickname: "Demo org", Status: store.StatusNeedsReauthorization, Domain: org},
		{Nickname: "Half done", Status: store.StatusPending, Domain: org},
		{Nickname: "Robot", Status: store.StatusError, Domain: org, Auth: store.AuthService, ClientID: oktaemu.DemoServiceClientID,
			GrantedScopes: []string{"okta.devices.read", "okta.devices.manage", "okta.eventHooks.manage", "okta.logs.read"}},
		{Nickname: "Reader", Status: store.StatusError, Domain: org, Auth: store.AuthService, ClientID: oktaemu.DemoDPoPClientID,
			GrantedScopes: []string{"okta.devices.read", "okta.devices.manage"}},
	}
	var out strings.Builder
	printDemo(DemoConfig{Stdout: &out, Command: "cardflow"}, "http://127.0.0.1:8080", "cf_demo_token", org, "/tmp/demo", false, conns)
	text := out.String()
	for _, want := range []string{
		`#   "Bad secret" is in error; reauthorize it: cardflow connections reauthorize "Bad secret"`,
		`#   "Demo org" needs reauthorization; reauthorize it: cardflow connections reauthorize "Demo org"`,
		`#   "Half done" is pending: finish signing in`,
		`cardflow run okta-devices/search-devices --connection "Demo org" `,
		// The restarted org forgot the key and the event scopes granted to
		// the app since its start: both are given again before the test.
		`#   "Robot" is in error; add its public key to the app again (cardflow connections show "Robot" prints it) and grant it okta.logs.read and okta.eventHooks.manage again, which the org forgot too (POST ` +
			org + `/api/v1/apps/` + oktaemu.DemoServiceAppID + `/grants {"issuer":"` + org + `","scopeId":SCOPE}, as the first start's banner shows), then cardflow connections test "Robot"`,
		`#   "Reader" is in error; add its public key to the app again (cardflow connections show "Reader" prints it), then cardflow connections test "Reader"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the banner lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "is needs_reauthorization") || strings.Contains(text, "is error") {
		t.Errorf("the banner says a status as its code:\n%s", text)
	}
}
