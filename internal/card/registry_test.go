package card

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/problem"
)

func TestRegistry(t *testing.T) {
	cs := Connectors()
	if len(cs) != 1 || cs[0].ID != "okta-devices" || cs[0].Name != "Okta Devices" {
		t.Fatalf("Connectors() = %+v; want the Okta Devices connector", cs)
	}
	type row struct{ Ref, Name, Scope, Mode string }
	var got []row
	for _, c := range cs[0].Cards {
		got = append(got, row{c.Ref, c.Name, c.Scope, c.Mode})
		if c.Description == "" || c.run == nil && c.Kind != KindEvent {
			t.Errorf("card %s has no description or no implementation", c.Ref)
		}
		for _, in := range c.Inputs {
			if in.Description == "" || in.Type == "" {
				t.Errorf("input %s of %s has no description or type", in.Name, c.Ref)
			}
		}
	}
	want := []row{
		{"okta-devices/search-devices", "Search Devices", ScopeRead, ModeRead},
		{"okta-devices/read-device", "Read Device", ScopeRead, ModeRead},
		{"okta-devices/list-device-users", "List Device Users", ScopeRead, ModeRead},
		{"okta-devices/activate-device", "Activate Device", ScopeManage, ModeManage},
		{"okta-devices/deactivate-device", "Deactivate Device", ScopeManage, ModeManage},
		{"okta-devices/suspend-device", "Suspend Device", ScopeManage, ModeManage},
		{"okta-devices/unsuspend-device", "Unsuspend Device", ScopeManage, ModeManage},
		{"okta-devices/delete-device", "Delete Device", ScopeManage, ModeManage},
		{"okta-devices/custom-api-action", "Custom API Action", "", ModeManage},
		{"okta-devices/device-activated", "Device Activated", "", ModeEvent},
		{"okta-devices/device-deactivated", "Device Deactivated", "", ModeEvent},
		{"okta-devices/device-suspended", "Device Suspended", "", ModeEvent},
		{"okta-devices/device-unsuspended", "Device Unsuspended", "", ModeEvent},
		{"okta-devices/device-deleted", "Device Deleted", "", ModeEvent},
		{"okta-devices/device-enrolled", "Device Enrolled", "", ModeEvent},
		{"okta-devices/device-added-to-user", "Device Added to User", "", ModeEvent},
		{"okta-devices/device-removed-from-user", "Device Removed from User", "", ModeEvent},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cards (-want +got):\n%s", diff)
	}

	// The default scopes are those every card needs, event cards with
	// every delivery included.
	if ds, ok := DefaultScopes("okta-devices"); !ok || !cmp.Equal(ds, []string{ScopeRead, ScopeManage, ScopeEventHooks, ScopeLogs}) {
		t.Errorf("DefaultScopes = %v, %v; want the device, event hook and System Log scopes", ds, ok)
	}
	if _, ok := DefaultScopes("slack"); ok {
		t.Errorf("DefaultScopes(slack) ok; want unknown")
	}
	if sc := Scopes("okta-devices"); len(sc) != 4 || sc[0].Description == "" || sc[3].Description == "" {
		t.Errorf("Scopes = %v; want four described scopes", sc)
	}
	for _, scope := range []string{ScopeEventHooks, ScopeLogs} {
		if got := CardsNeeding("okta-devices", scope); len(got) != 8 {
			t.Errorf("CardsNeeding(%s) = %v; want the eight event cards", scope, got)
		}
	}
	ev, ok := Lookup("okta-devices/device-removed-from-user")
	if !ok || ev.Kind != KindEvent || ev.EventType != "device.user.remove" ||
		!cmp.Equal(ev.DeliveryScopesOf(DeliveryHookPoll), []string{ScopeEventHooks, ScopeLogs}) || !cmp.Equal(ev.DeliveryScopesOf(DeliveryPoll), []string{ScopeLogs}) {
		t.Errorf("device-removed-from-user = %+v", ev)
	}
	if len(EventCards("okta-devices")) != 8 {
		t.Errorf("EventCards: %d; want 8", len(EventCards("okta-devices")))
	}
	if got := CardsNeeding("okta-devices", ScopeRead); !cmp.Equal(got, []string{"okta-devices/search-devices", "okta-devices/read-device", "okta-devices/list-device-users"}) {
		t.Errorf("CardsNeeding(read) = %v", got)
	}
	if got := CardsNeeding("okta-devices", ScopeManage); len(got) != 5 {
		t.Errorf("CardsNeeding(manage) = %v; want the five manage cards", got)
	}

	// The registry hands out copies.
	cs[0].Cards[0].Inputs[0].Enum[0] = "MUTATED"
	if c, _ := Lookup("okta-devices/search-devices"); c.Inputs[0].Enum[0] == "MUTATED" {
		t.Errorf("a caller changed the registry through Connectors()")
	}
	if c, ok := Lookup("okta-devices/suspend-device"); !ok || c.Ref != "okta-devices/suspend-device" {
		t.Errorf("Lookup(okta-devices/suspend-device) = %+v, %v; want the card with its ref", c, ok)
	}
}

func TestScopeGranted(t *testing.T) {
	tests := []struct {
		required string
		granted  []string
		want     bool
	}{
		{ScopeRead, []string{ScopeRead}, true},
		{ScopeRead, []string{ScopeManage}, true},
		{ScopeManage, []string{ScopeRead}, false},
		{ScopeManage, []string{"openid", ScopeManage}, true},
		{ScopeRead, nil, false},
		{"", nil, true},
		{"okta.users.read", []string{ScopeManage}, false},
	}
	for _, tt := range tests {
		if got := ScopeGranted(tt.required, tt.granted); got != tt.want {
			t.Errorf("ScopeGranted(%q, %v) = %v; want %v", tt.required, tt.granted, got, tt.want)
		}
	}
}

func TestCheckInput(t *testing.T) {
	search, _ := Lookup("okta-devices/search-devices")
	del, _ := Lookup("okta-devices/delete-device")
	custom, _ := Lookup("okta-devices/custom-api-action")
	tests := []struct {
		name  string
		card  Card
		in    map[string]any
		want  map[string]any
		field string // the field of an expected invalid_input
		fix   string // what its remedy says, when it is not empty
		msg   string // what its message says, when it is not empty
	}{
		{name: "defaults", card: search, in: nil, want: map[string]any{"resultSet": "first200"}},
		{name: "enum spelling normalised", card: search, in: map[string]any{"platform": "macos", "expand": "USERSUMMARY", "resultSet": "All"},
			want: map[string]any{"platform": "MACOS", "expand": "userSummary", "resultSet": "all"}},
		{name: "bool as text", card: del, in: map[string]any{"deviceId": " guo1 ", "deactivateFirst": "TRUE"}, want: map[string]any{"deviceId": "guo1", "deactivateFirst": true}},
		{name: "bool as text, the rule flow inputs follow", card: del, in: map[string]any{"deviceId": "guo1", "deactivateFirst": "yes"}, want: map[string]any{"deviceId": "guo1", "deactivateFirst": true}},
		{name: "bool default", card: del, in: map[string]any{"deviceId": "guo1"}, want: map[string]any{"deviceId": "guo1", "deactivateFirst": false}},
		{name: "object as JSON text", card: custom, in: map[string]any{"method": "get", "relativeUrl": "/api/v1/devices", "query": `{"limit":"2"}`},
			want: map[string]any{"method": "GET", "relativeUrl": "/api/v1/devices", "query": map[string]any{"limit": "2"}}},
		{name: "body of any type", card: custom, in: map[string]any{"method": "POST", "relativeUrl": "/api/v1/x", "body": []any{1.0}},
			want: map[string]any{"method": "POST", "relativeUrl": "/api/v1/x", "body": []any{1.0}}},
		{name: "missing required", card: del, in: map[string]any{"deactivateFirst": true}, field: "deviceId", fix: deviceIDRemedy},
		{name: "empty required", card: del, in: map[string]any{"deviceId": ""}, field: "deviceId", fix: deviceIDRemedy, msg: `input "deviceId" of card okta-devices/delete-device is empty`},
		{name: "blank required", card: del, in: map[string]any{"deviceId": " \t"}, field: "deviceId", fix: deviceIDRemedy, msg: `input "deviceId" of card okta-devices/delete-device is empty`},
		{name: "blank required without a remedy of its own", card: custom, in: map[string]any{"method": "GET", "relativeUrl": " "}, field: "relativeUrl", fix: "give relativeUrl a string"},
		{name: "blank optional filter", card: search, in: map[string]any{"model": " ", "platform": " ", "search": ""}, want: map[string]any{"resultSet": "first200"}},
		{name: "blank text body", card: custom, in: map[string]any{"method": "POST", "relativeUrl": "/api/v1/x", "body": " "},
			want: map[string]any{"method": "POST", "relativeUrl": "/api/v1/x", "body": " "}},
		{name: "unknown input", card: del, in: map[string]any{"deviceId": "guo1", "force": true}, field: "force",
			fix: "remove it or fix its spelling; the card's inputs are deviceId, status, deactivateFirst"},
		{name: "wrong type", card: del, in: map[string]any{"deviceId": 42.0}, field: "deviceId"},
		{name: "bad bool", card: del, in: map[string]any{"deviceId": "guo1", "deactivateFirst": "maybe"}, field: "deactivateFirst", fix: "give deactivateFirst true or false"},
		{name: "bad enum", card: search, in: map[string]any{"resultSet": "some"}, field: "resultSet", fix: "give resultSet one of first, first200, all"},
		{name: "bad object", card: custom, in: map[string]any{"method": "GET", "relativeUrl": "/api/v1/x", "headers": "X-A: 1"}, field: "headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.card.CheckInput(tt.in)
			if tt.field != "" {
				p, ok := problem.As(err)
				if !ok || p.Code != problem.InvalidInput || p.Details["field"] != tt.field || !strings.Contains(p.Message, tt.field) || !strings.Contains(p.Message, tt.msg) {
					t.Errorf("CheckInput(%v) error = %v; want invalid_input naming %s", tt.in, err, tt.field)
				}
				// Every refusal says how to fix it.
				if ok && (p.Remedy == "" || tt.fix != "" && p.Remedy != tt.fix) {
					t.Errorf("CheckInput(%v) remedy %q; want %q (or any, when that is empty)", tt.in, p.Remedy, tt.fix)
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckInput(%v): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckInput(%v) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestBuildFilter(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name string
		f    Filters
		want string
	}{
		{"none", Filters{}, ""},
		{"status", Filters{Status: "ACTIVE"}, `status eq "ACTIVE"`},
		{"every filter", Filters{Status: "ACTIVE", Platform: "MACOS", Manufacturer: "Apple", Model: "MacBookPro18,1", OSVersion: "14.4",
			Registered: &yes, SecureHardwarePresent: &no, DiskEncryptionType: "ALL_INTERNAL_VOLUMES"},
			`status eq "ACTIVE" and profile.platform eq "MACOS" and profile.manufacturer eq "Apple" and profile.model eq "MacBookPro18,1" and ` +
				`profile.osVersion eq "14.4" and profile.registered eq true and profile.secureHardwarePresent eq false and profile.diskEncryptionType eq "ALL_INTERNAL_VOLUMES"`},
		{"raw alone stays as is", Filters{Search: ` status eq "ACTIVE" or status eq "SUSPENDED" `}, `status eq "ACTIVE" or status eq "SUSPENDED"`},
		{"raw with filters is parenthesised", Filters{Platform: "IOS", Search: `status eq "ACTIVE" or status eq "SUSPENDED"`},
			`profile.platform eq "IOS" and (status eq "ACTIVE" or status eq "SUSPENDED")`},
		{"escaping", Filters{Model: "a\"b\\c\nd\x7f"}, `profile.model eq "a\"b\\c\u000ad\u007f"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BuildFilter(tt.f)
			if err != nil || got != tt.want {
				t.Errorf("BuildFilter = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	for _, bad := range []Filters{{Model: "\xff"}, {Manufacturer: strings.Repeat("a", 2000)}} {
		if _, err := BuildFilter(bad); err == nil {
			t.Errorf("BuildFilter(%+v) = nil error; want one", bad)
		}
	}
}

// filterTokens splits a filter built from Filters into its tokens, decoding
// string literals as JSON strings (RFC 7644 compValue). It fails on
// anything BuildFilter must never produce.
func filterTokens(t *testing.T, f string) []string {
	t.Helper()
	var toks []string
	for i := 0; i < len(f); {
		switch c := f[i]; {
		case c == ' ':
			i++
		case c == '"':
			j := i + 1
			for j < len(f) && f[j] != '"' {
				if f[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(f) {
				t.Fatalf("unterminated string literal in %q", f)
			}
			var s string
			if err := json.Unmarshal([]byte(f[i:j+1]), &s); err != nil {
				t.Fatalf("literal %s of %q is not a JSON string: %v", f[i:j+1], f, err)
			}
			toks = append(toks, "="+s)
			i = j + 1
		default:
			j := i
			for j < len(f) && f[j] != ' ' && f[j] != '"' {
				j++
			}
			toks = append(toks, f[i:j])
			i = j
		}
	}
	return toks
}

// FuzzBuildFilter checks that whatever the values, the filter is exactly
// "attr eq <literal>" clauses joined by "and", and every literal decodes
// back to its value: no value can break out of its string.
func FuzzBuildFilter(f *testing.F) {
	f.Add("ACTIVE", "Apple", `x" or status eq "ACTIVE`, "14.4\\", true)
	f.Add("", "", "\x00\n\t\"", "\u2028", false)
	f.Add(`\`, `\"`, `"`, `) or (`, true)
	f.Fuzz(func(t *testing.T, status, manufacturer, model, osVersion string, registered bool) {
		filter, err := BuildFilter(Filters{Status: status, Manufacturer: manufacturer, Model: model, OSVersion: osVersion, Registered: &registered})
		for _, v := range []string{status, manufacturer, model, osVersion} {
			if !utf8.ValidString(v) || len(v) > maxFilterValue {
				if err == nil {
					t.Fatalf("BuildFilter accepted %q", v)
				}
				return
			}
		}
		if err != nil {
			t.Fatalf("BuildFilter: %v", err)
		}
		var want []string
		for _, c := range []struct{ attr, v string }{{"status", status}, {"profile.manufacturer", manufacturer}, {"profile.model", model}, {"profile.osVersion", osVersion}} {
			if c.v != "" {
				want = append(want, c.attr, "eq", "="+c.v, "and")
			}
		}
		want = append(want, "profile.registered", "eq", map[bool]string{true: "true", false: "false"}[registered])
		if diff := cmp.Diff(want, filterTokens(t, filter)); diff != "" {
			t.Fatalf("BuildFilter -> %q tokens (-want +got):\n%s", filter, diff)
		}
	})
}
