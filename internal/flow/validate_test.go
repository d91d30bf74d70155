package flow

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/problem"
)

func TestValidate(t *testing.T) {
	const head = "name: f\nsteps:\n"
	search := func(conn string) string {
		return "  - id: find\n    card: okta-devices/search-devices\n    connection: " + conn + "\n"
	}
	suspend := func(conn string) string {
		return "  - id: suspend\n    card: okta-devices/suspend-device\n    connection: " + conn + "\n    for_each: ${{ steps.find.output.devices }}\n    input:\n      deviceId: ${{ item.id }}\n"
	}
	tests := []struct {
		name     string
		src      string
		wantCode problem.Code
		want     []wantIssue
	}{
		{"unknown card", head + "  - id: a\n    card: okta-devices/suspend-devices\n    connection: Demo org\n", problem.InvalidInput,
			[]wantIssue{{4, 11, "a", `unknown card "okta-devices/suspend-devices" (did you mean "okta-devices/suspend-device"?)`}}},
		{"unknown connector", head + "  - id: a\n    card: okta-users/list-users\n    connection: Demo org\n", problem.InvalidInput,
			[]wantIssue{{4, 11, "a", `unknown card "okta-users/list-users"; list the cards with cardflow connectors (or the console's Cards page, or GET /api/v1/connectors)`}}},
		{"unknown card input", head + search("Demo org") + "    input:\n      serch: x\n", problem.InvalidInput,
			[]wantIssue{{7, 14, "find", `card okta-devices/search-devices has no input "serch"; its inputs are status, platform`}}},
		{"misspelt card input in other capitals", head + search("Demo org") + "    input:\n      securehardwarepresnt: true\n", problem.InvalidInput,
			[]wantIssue{{7, 29, "find", `has no input "securehardwarepresnt"; its inputs are status, platform, manufacturer, model, osVersion, registered, secureHardwarePresent, diskEncryptionType, search, expand, resultSet (did you mean "secureHardwarePresent"?)`}}},
		{"missing required input", head + "  - id: a\n    card: okta-devices/suspend-device\n    connection: Demo org\n", problem.InvalidInput,
			[]wantIssue{{3, 5, "a", `card okta-devices/suspend-device needs input "deviceId": add it under input:`}}},
		{"literal of the wrong type", head + "  - id: a\n    card: okta-devices/delete-device\n    connection: Demo org\n    input:\n      deviceId: guo1\n      deactivateFirst: sure\n", problem.InvalidInput,
			[]wantIssue{{8, 24, "a", `input "deactivateFirst" of card okta-devices/delete-device is a string; it must be a bool`}}},
		{"a string input outside the quotes of a filter", "name: f\ninputs:\n  name: {type: string}\n  flag: {type: bool}\n  since: {type: string}\nsteps:\n" + search("Demo org") +
			"    input:\n      search: 'profile.displayName eq ${{ inputs.name }} or profile.displayName eq \"${{ inputs.name }}\" or profile.registered eq ${{ inputs.flag }} or lastUpdated lt ${{ strings.quote(inputs.since) }}'\n", problem.InvalidInput,
			[]wantIssue{{11, 39, "find", `input "search" of card okta-devices/search-devices: ${{ inputs.name }} after eq is outside double quotes, so its value would be read as filter text: Okta refuses text that is not in quotes, and a value such as x" or status eq "ACTIVE would widen the search; write eq "${{ inputs.name }}" (its value is then escaped)`}}},
		{"missing connection", head + search("Prod org"), problem.InvalidInput,
			[]wantIssue{{5, 17, "find", `there is no okta-devices connection "Prod org"; create it`}}},
		{"connection needs reauthorization and another problem", head + search("Old org") + "  - id: x\n    card: okta-devices/nope\n    connection: Demo org\n", problem.InvalidInput,
			[]wantIssue{
				{5, 17, "find", `connection "Old org" needs reauthorization`},
				{7, 11, "x", `unknown card "okta-devices/nope"`},
			}},
		{"missing scope", head + search("Read only") + suspend("Read only"), problem.InsufficientScope,
			[]wantIssue{{6, 5, "suspend", `card okta-devices/suspend-device needs scope okta.devices.manage, which connection "Read only" was not granted (granted: openid okta.devices.read)`}}},
		{"missing scope and another problem", head + search("Read only") + suspend("Read only") + "  - id: x\n    card: okta-devices/nope\n    connection: Demo org\n", problem.InvalidInput,
			[]wantIssue{
				{6, 5, "suspend", "needs scope okta.devices.manage"},
				{13, 11, "x", `unknown card "okta-devices/nope"`},
			}},
		{"for_each and if of a kind the card's output shape tells", head + search("Demo org") +
			"  - id: all\n    card: okta-devices/read-device\n    connection: Demo org\n    for_each: ${{ steps.find.output }}\n    input: {deviceId: x}\n" +
			"  - id: count\n    card: okta-devices/read-device\n    connection: Demo org\n    for_each: ${{ steps.find.output.count }}\n    input: {deviceId: x}\n" +
			"  - id: first\n    card: okta-devices/suspend-device\n    connection: Demo org\n    for_each: ${{ steps.find.output.devices[0] }}\n    input: {deviceId: x}\n" +
			"  - id: s\n    card: okta-devices/suspend-device\n    connection: Demo org\n    for_each: ${{ steps.find.output.devices }}\n    if: ${{ item.status }}\n    input: {deviceId: '${{ item.id }}'}\n" +
			"  - id: t\n    card: okta-devices/read-device\n    connection: Demo org\n    if: ${{ steps.find.output.devices }}\n    input: {deviceId: x}\n", problem.InvalidInput,
			[]wantIssue{
				{9, 15, "all", "for_each: ${{ steps.find.output }} gives an object; it must give a list, e.g. for_each: ${{ steps.find.output.devices }}"},
				{14, 15, "count", "for_each: ${{ steps.find.output.count }} gives a number; it must give a list"},
				{19, 15, "first", "for_each: ${{ steps.find.output.devices[0] }} gives an object; it must give a list"},
				{25, 9, "s", `if: ${{ item.status }} gives a string; it must give true or false, e.g. if: ${{ item.status == "ACTIVE" }}`},
				{30, 9, "t", "if: ${{ steps.find.output.devices }} gives a list; it must give true or false"},
			}},
		{"misspelt output key", head + search("Demo org") + "  - id: count\n    card: okta-devices/read-device\n    connection: Demo org\n    if: ${{ steps.find.output.cont > 0 }}\n    input:\n      deviceId: ${{ steps.find.output.device[0].id }}\n", problem.InvalidInput,
			[]wantIssue{
				{9, 13, "count", `steps.find.output.cont: step "find" (okta-devices/search-devices) has no output "cont" (did you mean "count"?); its output has devices, count`},
				{11, 21, "count", `steps.find.output.device: step "find" (okta-devices/search-devices) has no output "device" (did you mean "devices"?); its output has devices, count`},
			}},
		{"output keys by index, in has() and in a comprehension", head + search("Demo org") + "  - id: one\n    card: okta-devices/suspend-device\n    connection: Demo org\n    if: ${{ has(steps.find.output.count) && steps.find.output[\"devices\"].exists(d, d.id != \"\") }}\n    input:\n      deviceId: ${{ steps[\"find\"].output.devices.map(d, d.id)[0] }}\n" +
			"  - id: two\n    card: okta-devices/read-device\n    connection: Demo org\n    if: ${{ steps.one.output.changed && steps.one.output.note == \"\" }}\n    input:\n      deviceId: ${{ steps.one.output.deviceId }}\n", "", nil},
		{"misspelt item fields", head + search("Demo org") + "  - id: s\n    card: okta-devices/suspend-device\n    connection: Demo org\n    for_each: ${{ steps.find.output.devices }}\n    if: ${{ item.profile.platfrom == \"IOS\" }}\n    input:\n      deviceId: ${{ item.Id }}\n      status: ${{ item[\"stauts\"] }}\n", problem.InvalidInput,
			[]wantIssue{
				{10, 13, "s", `item.profile.platfrom: item.profile has no field "platfrom" (did you mean "platform"?); its fields are displayName, platform, registered`},
				{12, 21, "s", `item.Id: item has no field "Id" (did you mean "id"?); its fields are id, status`},
				{13, 19, "s", `item.stauts: item has no field "stauts" (did you mean "status"?)`},
			}},
		{"misspelt fields in macros and for_each outputs", head + search("Demo org") + "  - id: s\n    card: okta-devices/suspend-device\n    connection: Demo org\n    for_each: ${{ steps.find.output.devices.filter(d, d.profile.modle == \"x\") }}\n    input:\n      deviceId: ${{ item.id }}\n" +
			"  - id: r\n    card: okta-devices/read-device\n    connection: Demo org\n    if: ${{ steps.s.outputs.exists(o, o.chnaged) && steps.s.outputs[0].changed }}\n    input:\n      deviceId: ${{ steps.find.output.devices[0].profile.displayname }}\n", problem.InvalidInput,
			[]wantIssue{
				{9, 55, "s", `d.profile.modle: d.profile has no field "modle" (did you mean "model"?)`},
				{15, 39, "r", `o.chnaged: o has no field "chnaged" (did you mean "changed"?); its fields are deviceId, status, changed, basis, note`},
				{17, 21, "r", `steps.find.output.devices[…].profile.displayname: steps.find.output.devices[…].profile has no field "displayname" (did you mean "displayName"?)`},
			}},
		{"fields that are known, and names that hide item and steps", head + search("Demo org") + "  - id: s\n    card: okta-devices/suspend-device\n    connection: Demo org\n    for_each: ${{ steps.find.output.devices }}\n    if: '${{ has(item.profile.serialNumber) && item._embedded.size() >= 0 && [{\"x\": 1}].all(item, item.x == 1) && [{\"output\": 1}].all(steps, steps.output == 1) }}'\n    input:\n      deviceId: ${{ item[\"id\"] }}\n      status: '${{ item.profile.displayName != \"\" ? item.status : \"\" }}'\n", "", nil},
		{"expression input is not checked", head + "  - id: a\n    card: okta-devices/suspend-device\n    connection: Demo org\n    input: \"${{ {'deviceId': 'guo1'} }}\"\n", "", nil},
		{"connection by id and case-insensitive nickname", head + search("conn_demo") + suspend("demo ORG"), "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustParse(t, tt.src)
			err := doc.Validate(context.Background(), demoEnv())
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if !doc.Validated() {
					t.Error("Validated() = false after success")
				}
				return
			}
			if err == nil {
				t.Fatal("Validate succeeded; want an error")
			}
			if got := problem.CodeOf(err); got != tt.wantCode {
				t.Errorf("code = %s; want %s", got, tt.wantCode)
			}
			checkIssues(t, err, tt.want)
			if doc.Validated() {
				t.Error("Validated() = true after a failure")
			}
		})
	}
}

// TestValidateInactiveConnections: a document whose only problems are
// connections that are not active is refused with the code a card run on
// them answers, connection_pending when none was ever authorized (pending,
// or a first sign-in that failed), needs_reauthorization otherwise, saying
// each connection once, with its reason and the steps (or the trigger)
// that use it, and its fix as the remedy; the document has nothing to fix.
// details.errors lists the issues step by step.
func TestValidateInactiveConnections(t *testing.T) {
	env := demoEnv()
	for i := range env.conns {
		if env.conns[i].Nickname == "Old org" {
			env.conns[i].StatusReason = "its refresh token expired"
		}
	}
	env.conns = append(env.conns,
		ConnInfo{ID: "conn_robot", Nickname: "Robot", Status: "error", StatusReason: "the org refused the key", ServiceClientID: "0oarobot"},
		ConnInfo{ID: "conn_new", Nickname: "New org", Status: "pending"},
		ConnInfo{ID: "conn_half", Nickname: "Half done", Status: "pending", StatusReason: "waiting for an administrator to finish signing in to the org"},
		ConnInfo{ID: "conn_failed", Nickname: "Failed", Status: "error", StatusReason: "the account is not assigned to the OAuth app", NeverAuthorized: true})
	const head = "name: f\nsteps:\n"
	step := func(id, conn string) string {
		return "  - id: " + id + "\n    card: okta-devices/search-devices\n    connection: " + conn + "\n"
	}
	tests := []struct {
		name, src, msg, remedy, firstStep string
		code                              problem.Code
	}{
		{"one connection, two steps", head + step("find", "Old org") + step("again", "old org"),
			`connection "Old org" needs reauthorization: its refresh token expired (used by steps find, again)`,
			`reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Old org")`, "find", problem.NeedsReauthorization},
		{"three connections", head + step("a", "Robot") + step("b", "Old org") + step("c", "New org"),
			"connection \"Robot\" is in error: the org refused the key (used by step a)\n" +
				"connection \"Old org\" needs reauthorization: its refresh token expired (used by step b)\n" +
				`connection "New org" is not authorized yet (pending) (used by step c)`,
			`for "Robot", fix what cardflow connections show "Robot" reports and test the connection; ` +
				`for "Old org", reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Old org"); ` +
				`for "New org", reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "New org")`, "a", problem.NeedsReauthorization},
		{"pending, with its reason: as a card run on it says it, and with its code", head + step("find", "Half done"),
			`connection "Half done" is not authorized yet (pending): waiting for an administrator to finish signing in to the org (used by step find)`,
			`reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Half done")`, "find", problem.ConnectionPending},
		{"first sign-in failed: not authorized yet, as a card run on it says it", head + step("find", "Failed") + step("again", "New org"),
			"connection \"Failed\" is not authorized yet (its sign-in failed): the account is not assigned to the OAuth app (used by step find)\n" +
				`connection "New org" is not authorized yet (pending) (used by step again)`,
			`for "Failed", reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Failed"); ` +
				`for "New org", reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "New org")`, "find", problem.ConnectionPending},
		{"one pending and one that needs reauthorization", head + step("find", "Half done") + step("again", "Old org"),
			"connection \"Half done\" is not authorized yet (pending): waiting for an administrator to finish signing in to the org (used by step find)\n" +
				`connection "Old org" needs reauthorization: its refresh token expired (used by step again)`,
			`for "Half done", reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Half done"); ` +
				`for "Old org", reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Old org")`, "find", problem.NeedsReauthorization},
		{"the event trigger's and a step's", "name: f\non:\n  event:\n    card: okta-devices/device-removed-from-user\n    connection: Old org\n    delivery: poll\nsteps:\n" + step("find", "Old org"),
			`connection "Old org" needs reauthorization: its refresh token expired (used by on.event and step find)`,
			`reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Old org")`, "", problem.NeedsReauthorization},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mustParse(t, tt.src).Validate(context.Background(), eventEnv{env})
			p, ok := problem.As(err)
			if !ok || p.Code != tt.code {
				t.Fatalf("Validate error = %v; want %s", err, tt.code)
			}
			if p.Message != tt.msg || p.Remedy != tt.remedy {
				t.Errorf("message:\n%s\nremedy:\n%s\nwant\n%s\nand\n%s", p.Message, p.Remedy, tt.msg, tt.remedy)
			}
			if list, _ := p.Details["errors"].([]Issue); len(list) < 1 || list[0].Step != tt.firstStep {
				t.Errorf("details.errors = %v; want the issues, step by step, from %q", p.Details["errors"], tt.firstStep)
			}
		})
	}
}

func TestValidateScopePreflight(t *testing.T) {
	doc := mustParse(t, `name: f
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Read only
  - id: suspend
    card: okta-devices/suspend-device
    connection: Read only
    for_each: ${{ steps.find.output.devices }}
    input: {deviceId: "${{ item.id }}"}
`)
	err := doc.Validate(context.Background(), demoEnv())
	p, ok := problem.As(err)
	if !ok || p.Code != problem.InsufficientScope {
		t.Fatalf("Validate error = %v; want insufficient_scope", err)
	}
	for k, want := range map[string]any{
		"step":          "suspend",
		"card":          "okta-devices/suspend-device",
		"connection":    "Read only",
		"requiredScope": "okta.devices.manage",
		"grantedScopes": []string{"openid", "okta.devices.read"},
	} {
		if diff := cmp.Diff(want, p.Details[k]); diff != "" {
			t.Errorf("details[%s] mismatch (-want +got):\n%s", k, diff)
		}
	}
	for _, want := range []string{"grant okta.devices.manage to the connection's OAuth app", "then reauthorize", "with custom scopes also tick okta.devices.manage"} {
		if !strings.Contains(p.Remedy, want) {
			t.Errorf("remedy %q does not contain %q", p.Remedy, want)
		}
	}
	if !strings.Contains(err.Error(), "line 6, column 5") {
		t.Errorf("Error() = %q; want the step's line", err.Error())
	}
}

func TestValidateManageGrantsRead(t *testing.T) {
	env := &testEnv{conns: []ConnInfo{{ID: "c1", Nickname: "M", Status: "active", GrantedScopes: []string{"okta.devices.manage"}}}}
	doc := mustParse(t, "name: f\nsteps:\n  - id: a\n    card: okta-devices/read-device\n    connection: M\n    input: {deviceId: guo1}\n")
	if err := doc.Validate(context.Background(), env); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if got, want := doc.Steps[0].Mode(), ModeRead; got != want {
		t.Errorf("Mode() = %q; want %q", got, want)
	}
	if got, want := doc.Steps[0].connection(), "c1"; got != want {
		t.Errorf("connection() = %q; want the resolved id %q", got, want)
	}
}

// failingEnv fails connection look-ups with an internal error.
type failingEnv struct{ testEnv }

var errStoreDown = errors.New("store is down")

func (failingEnv) Connection(context.Context, string, string) (ConnInfo, error) {
	return ConnInfo{}, errStoreDown
}

func TestValidateEnvError(t *testing.T) {
	doc := mustParse(t, "name: f\nsteps:\n  - id: a\n    card: okta-devices/read-device\n    connection: M\n    input: {deviceId: guo1}\n")
	err := doc.Validate(context.Background(), &failingEnv{})
	if !errors.Is(err, errStoreDown) {
		t.Errorf("Validate error = %v; want the environment's error", err)
	}
}

// TestValidateScopeRemedy: the preflight's fix depends on what the
// connection asked Okta for, as a card run's does.
func TestValidateScopeRemedy(t *testing.T) {
	defaults := []string{"okta.devices.read", "okta.devices.manage"}
	tests := []struct {
		name string
		conn ConnInfo
		want string
	}{
		{"custom scopes without the scope",
			ConnInfo{ScopeMode: "custom", RequestedScopes: []string{"openid", "okta.devices.read"}},
			`reauthorize connection "Narrow" with okta.devices.manage ticked (Customize scopes), or with the default scopes, and make sure the OAuth app grants it (cardflow connections reauthorize "Narrow" --scope okta.devices.read,okta.devices.manage, or --default-scopes)`},
		{"custom scopes that asked for it",
			ConnInfo{ScopeMode: "custom", RequestedScopes: []string{"openid", "okta.devices.manage"}},
			`grant okta.devices.manage to the OAuth app in Okta (Okta API Scopes tab), then reauthorize connection "Narrow" (cardflow connections reauthorize "Narrow")`},
		{"default scopes the app did not grant",
			ConnInfo{ScopeMode: "default", RequestedScopes: []string{"openid", "okta.devices.read", "okta.devices.manage"}},
			`grant okta.devices.manage to the OAuth app in Okta (Okta API Scopes tab), then reauthorize connection "Narrow" (cardflow connections reauthorize "Narrow")`},
		{"service connection the app did not grant",
			ConnInfo{ScopeMode: "default", RequestedScopes: []string{"okta.devices.read", "okta.devices.manage"}, ServiceClientID: "0oasvc"},
			`grant okta.devices.manage to the API Services app 0oasvc in Okta (Okta API Scopes tab), then test connection "Narrow" so that its next token has it`},
		{"service connection that did not ask for it",
			ConnInfo{ScopeMode: "custom", RequestedScopes: []string{"okta.devices.read"}, ServiceClientID: "0oasvc"},
			`service connection "Narrow" did not request okta.devices.manage, and its scopes are fixed when it is created: create a service connection that requests it (for example with the default scopes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.conn
			c.ID, c.Nickname, c.Status, c.DefaultScopes = "c1", "Narrow", "active", defaults
			c.GrantedScopes = []string{"openid", "okta.devices.read"}
			doc := mustParse(t, "name: f\nsteps:\n  - id: a\n    card: okta-devices/suspend-device\n    connection: Narrow\n    input: {deviceId: guo1}\n")
			err := doc.Validate(context.Background(), &testEnv{conns: []ConnInfo{c}})
			p, ok := problem.As(err)
			if !ok || p.Code != problem.InsufficientScope {
				t.Fatalf("Validate error = %v; want insufficient_scope", err)
			}
			if p.Remedy != tt.want {
				t.Errorf("remedy = %q; want %q", p.Remedy, tt.want)
			}
			scopes, _ := p.Details["scopes"].([]scopeIssue)
			if len(scopes) != 1 || scopes[0].Remedy != tt.want {
				t.Errorf("details.scopes = %+v; want one with remedy %q", scopes, tt.want)
			}
		})
	}
}

// TestCheckReportsEverythingAtOnce: a document whose expressions do not
// compile still has its cards, card inputs and connections checked, and
// every problem comes back in one error.
func TestCheckReportsEverythingAtOnce(t *testing.T) {
	src := `name: f
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod org
  - id: suspend
    card: okta-devices/suspend-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    if: ${{ item.status = "ACTIVE" }}
    input:
      deviceId: ${{ item.id }}
      reason: ${{ inputs.why }}
  - id: x
    card: okta-devices/nope
    connection: Demo org
`
	doc, err := Check(context.Background(), []byte(src), demoEnv())
	if doc != nil || problem.CodeOf(err) != problem.InvalidInput {
		t.Fatalf("Check = %v, %v; want invalid_input", doc, err)
	}
	want := []wantIssue{
		{5, 17, "find", `there is no okta-devices connection "Prod org"`},
		{10, 25, "suspend", "if: Syntax error"},
		{13, 15, "suspend", `card okta-devices/suspend-device has no input "reason"`},
		{13, 19, "suspend", `inputs.why: the flow has no input "why"`},
		{15, 11, "x", `unknown card "okta-devices/nope"`},
	}
	got := issuesOf(t, err)
	var lines []string
	for _, g := range got {
		lines = append(lines, g.String())
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if w.matches(g) {
				found = true
			}
		}
		if !found {
			t.Errorf("no issue on line %d of step %q containing %q; got:\n%s", w.line, w.step, w.contains, strings.Join(lines, "\n"))
		}
	}

	// A sound document comes back validated.
	doc, err = Check(context.Background(), []byte("name: f\nsteps:\n  - id: a\n    card: okta-devices/read-device\n    connection: Demo org\n    input: {deviceId: guo1}\n"), demoEnv())
	if err != nil || !doc.Validated() {
		t.Errorf("Check of a sound document = %v; want it validated", err)
	}
	// Structural problems stop before the world is consulted.
	if _, err := Check(context.Background(), []byte("name: f\nsteps:\n  - id: a\n    card: okta-devices/nope\n"), &failingEnv{}); errors.Is(err, errStoreDown) || problem.CodeOf(err) != problem.InvalidInput {
		t.Errorf("Check of a document without connection = %v; want invalid_input without asking the environment", err)
	}
}
