package card

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/problem"
)

// TestInsufficientScopeRemedy: the fix depends on what the connection
// asked Okta for. A custom-scope connection that did not ask for the scope
// is told to tick it (or use the default scopes); one that asked but was
// not granted it is told to grant it to the OAuth app. Run and Preflight
// agree.
func TestInsufficientScopeRemedy(t *testing.T) {
	tests := []struct {
		name      string
		mode      string
		requested []string
		want      string
		notWant   string
	}{
		{
			name: "custom scopes without the scope", mode: "custom",
			requested: []string{"openid", "offline_access", ScopeRead},
			want:      `reauthorize connection "Narrow" with okta.devices.manage ticked (Customize scopes), or with the default scopes, and make sure the OAuth app grants it (cardflow connections reauthorize "Narrow" --scope okta.devices.read,okta.devices.manage, or --default-scopes)`,
			notWant:   "Okta API Scopes tab",
		},
		{
			name: "custom scopes that asked for it", mode: "custom",
			requested: []string{"openid", "offline_access", ScopeRead, ScopeManage},
			want:      `grant okta.devices.manage to the OAuth app in Okta (Okta API Scopes tab), then reauthorize connection "Narrow" (cardflow connections reauthorize "Narrow")`,
			notWant:   "tick",
		},
		{
			name: "default scopes the app did not grant", mode: "default",
			requested: []string{"openid", "offline_access", ScopeRead, ScopeManage},
			want:      `grant okta.devices.manage to the OAuth app in Okta (Okta API Scopes tab), then reauthorize connection "Narrow" (cardflow connections reauthorize "Narrow")`,
			notWant:   "tick",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, oktaemu.Config{Devices: 3})
			info := e.addConn("Narrow", "SSWS "+oktaemu.DemoAPIToken, []string{ScopeRead})
			info.ScopeMode, info.RequestedScopes = tt.mode, tt.requested
			e.conns.mu.Lock()
			e.conns.infos[info.ID] = info
			e.conns.mu.Unlock()
			id := e.device(okta.StatusActive)

			res := e.run("okta-devices/suspend-device", "Narrow", map[string]any{"deviceId": id})
			wantProblem(t, res, problem.InsufficientScope, ScopeManage)
			if res.Error.Remedy != tt.want {
				t.Errorf("run remedy = %q; want %q", res.Error.Remedy, tt.want)
			}
			err := e.exec.Preflight(t.Context(), "okta-devices/delete-device", "Narrow")
			p, ok := problem.As(err)
			if !ok || p.Code != problem.InsufficientScope {
				t.Fatalf("preflight = %v; want insufficient_scope", err)
			}
			if p.Remedy != tt.want {
				t.Errorf("preflight remedy = %q; want %q", p.Remedy, tt.want)
			}
			if tt.notWant != "" && strings.Contains(p.Remedy, tt.notWant) {
				t.Errorf("remedy %q mentions %q", p.Remedy, tt.notWant)
			}
		})
	}
}

// TestScopeRemedyOutsideCatalogue: Okta names a scope the connector cannot
// request at all; the fix does not tell the user to tick it.
func TestScopeRemedyOutsideCatalogue(t *testing.T) {
	conn := ConnectionInfo{Nickname: "Prod", ScopeMode: "default", RequestedScopes: allScopes, GrantedScopes: allScopes}
	got := scopeRemedy(conn, "okta.users.read")
	want := "connections of okta-devices cannot request okta.users.read (only okta.devices.read, okta.devices.manage, okta.eventHooks.manage and okta.logs.read); call an API those scopes allow"
	if got != want {
		t.Errorf("remedy = %q; want %q", got, want)
	}
	if got := scopeRemedy(conn, scopeNotNamed); strings.Contains(got, "tick") {
		t.Errorf("remedy for an unnamed scope = %q; want no tick", got)
	}
}

// TestMalformedDeviceIDRemedy: a deviceId no Okta id can be is refused
// before any call, with a remedy saying what to give instead.
func TestMalformedDeviceIDRemedy(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 2})
	res := e.run("okta-devices/suspend-device", "Prod", map[string]any{"deviceId": "not a device id!"})
	wantProblem(t, res, problem.InvalidInput, "deviceId", "never has")
	if r := res.Error.Remedy; !strings.Contains(r, "Okta id") || !strings.Contains(r, "Search Devices") {
		t.Errorf("remedy = %q; want it to say to give the device's Okta id", r)
	}
}
