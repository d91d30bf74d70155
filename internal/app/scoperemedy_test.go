package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestScopeRemedyFollowsConnection: a connection with custom scopes that
// did not tick okta.devices.manage is told to reauthorize with it ticked,
// both by a card run and by a flow's preflight.
func TestScopeRemedyFollowsConnection(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 5}, nil)
	c, authURL := h.create("ReadOnly", oktaemu.DemoClientSecret, []string{"okta.devices.read"})
	if code, page := h.signIn(authURL, oktaemu.AdminLogin); code != http.StatusOK {
		t.Fatalf("authorize: %d\n%s", code, page)
	}
	// The command it names asks for the scopes asked for before, and the
	// one missing (--scope replaces the selection).
	want := `reauthorize connection "ReadOnly" with okta.devices.manage ticked (Customize scopes), or with the default scopes, and make sure the OAuth app grants it (cardflow connections reauthorize "ReadOnly" --scope okta.devices.read,okta.devices.manage, or --default-scopes)`
	id := h.deviceWithStatus(c.ID, "ACTIVE")
	code, r := h.run("okta-devices/suspend-device", "ReadOnly", map[string]any{"deviceId": id})
	if code != http.StatusCreated || r.Error == nil || r.Error.Code != "insufficient_scope" {
		t.Fatalf("suspend with read-only scopes: %d %+v; want a failed run with insufficient_scope", code, r)
	}
	if !strings.Contains(r.Error.Message, want) {
		t.Errorf("run error %q does not contain %q", r.Error.Message, want)
	}
	var v struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	h.postYAML("/api/v1/flows/validate", strings.ReplaceAll(suspendActiveFlow, "Prod", "ReadOnly"), &v)
	if v.Code != "insufficient_scope" || !strings.Contains(v.Message, want) {
		t.Errorf("validate = %+v; want insufficient_scope with %q", v, want)
	}
}

// TestScopeRemedyOfServiceConnection: an event flow on a service
// connection whose API Services app was not granted okta.logs.read is told
// to grant it to that app and test the connection (a service connection
// cannot be reauthorized).
func TestScopeRemedyOfServiceConnection(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now = emu.Now })
	c, jwk := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, nil); code != http.StatusOK {
		t.Fatalf("test the connection: %d %s", code, data)
	}
	var v struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Remedy  string `json:"remedy"`
	}
	h.postYAML("/api/v1/flows/validate", strings.ReplaceAll(strings.Replace(quarantineYAML, "DELIVERY", "poll", 1), "Prod devices", "Robot"), &v)
	want := `grant okta.logs.read to the API Services app ` + oktaemu.DemoServiceClientID + ` in Okta (Okta API Scopes tab), then test connection "Robot"`
	if v.Code != "insufficient_scope" || !strings.Contains(v.Remedy, want) || strings.Contains(v.Remedy, "reauthorize") {
		t.Errorf("validate = %+v; want insufficient_scope with the remedy %q", v, want)
	}
}
