package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestInputErrorsAreUsageErrors: every --input the command line gets
// wrong exits 2, a wrong command line, whether the CLI finds it (an
// unknown name) or the server does (a missing or blank required input, a
// value of the wrong type or not one of the choices), for a card run and
// a flow's plan and run alike; --json keeps the server's code and status.
// A flow document with problems, and a card run Okta refused, still exit 1.
func TestInputErrorsAreUsageErrors(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	const offboard = "../../examples/offboard-user-devices.yaml"
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", offboard); code != exitOK {
		t.Fatalf("flows store: exit %d\n%s%s", code, out, errOut)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"card: unknown input", []string{"run", "read-device", "--connection", "Demo org", "--input", "colour=x"}, `has no input "colour"`},
		{"card: missing required input", []string{"run", "read-device", "--connection", "Demo org"}, `card okta-devices/read-device needs input "deviceId"`},
		{"card: blank required input", []string{"run", "read-device", "--connection", "Demo org", "--input", "deviceId= "}, `input "deviceId" of card okta-devices/read-device is empty`},
		{"card: not a bool", []string{"run", "delete-device", "--connection", "Demo org", "--input", "deviceId=guo1", "--input", "deactivateFirst=maybe"}, `"maybe" is not true or false`},
		{"card: not one of the choices", []string{"run", "search-devices", "--connection", "Demo org", "--input", "resultSet=lots"}, `must be one of first, first200, all`},
		{"card: wrong JSON type", []string{"run", "read-device", "--connection", "Demo org", "--input", "deviceId:=5"}, `must be a string, not a number`},
		{"flow document plan: unknown input", []string{"flows", "plan", offboard, "--input", "logn=x"}, `the flow has no input "logn"`},
		{"flow document plan: missing required input", []string{"flows", "plan", offboard}, `missing required input login`},
		{"flow document plan: wrong type", []string{"flows", "plan", offboard, "--input", "login:=5"}, `input "login": got a number; want a string`},
		{"stored flow plan: unknown input", []string{"flows", "plan", "offboard-user-devices", "--input", "logn=x"}, `has no input "logn"`},
		{"stored flow plan: missing required input", []string{"flows", "plan", "offboard-user-devices"}, `missing required input login`},
		{"stored flow plan: wrong type", []string{"flows", "plan", "offboard-user-devices", "--input", "login:=5"}, `input "login": got a number; want a string`},
		{"flow run: missing required input", []string{"flows", "run", offboard}, `missing required input login`},
		{"flow run: empty required input", []string{"flows", "run", "offboard-user-devices", "--input", "login="}, `input "login" of flow offboard-user-devices is empty`},
		{"flow document run: blank required input", []string{"flows", "run", offboard, "--input", "login=  "}, `input "login" of flow offboard-user-devices is empty`},
		{"stored flow plan: blank required input", []string{"flows", "plan", "offboard-user-devices", "--input", "login= "}, `input "login" of flow offboard-user-devices is empty`},
		{"flow run: wrong type", []string{"flows", "run", offboard, "--input", "login:=[1]"}, `input "login": got a list; want a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, s.vars, tt.args...)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("cardflow %q: exit %d\n%s%s; want %d and %q", tt.args, code, out, errOut, exitUsage, tt.want)
			}
			code, _, errOut = runCLI(t, s.vars, append(tt.args, "--json")...)
			var je struct{ Error jsonError }
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &je); err != nil {
				t.Fatalf("--json: %v\n%s", err, errOut)
			}
			if code != exitUsage || je.Error.ExitCode != exitUsage || je.Error.ExitClass != "usage" || !strings.Contains(je.Error.Message, tt.want) {
				t.Errorf("cardflow %q --json: exit %d\n%s; want %d, exitClass usage and %q", tt.args, code, errOut, exitUsage, tt.want)
			}
			if je.Error.Status != 0 && (je.Error.Status != 400 || je.Error.Code != "invalid_input") {
				t.Errorf("cardflow %q --json: code %q, status %d; want the server's invalid_input, 400", tt.args, je.Error.Code, je.Error.Status)
			}
		})
	}
	if code, out, _ := runCLI(t, s.vars, "runs", "list", "--card", "read-device"); code != exitOK || out != "No card runs match --card read-device.\n" {
		t.Errorf("runs list: exit %d\n%s; want no card run recorded for a refused input", code, out)
	}

	// Not the command line's fault: the document's problems and Okta's
	// refusal in a recorded run.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, "name: bad\ninputs:\n  login: {type: string}\nsteps:\n  - id: s\n    card: okta-devices/no-such-card\n    connection: Demo org\n")
	if code, out, errOut := runCLI(t, s.vars, "flows", "plan", bad, "--input", "login=x"); code != exitFailure || !strings.Contains(out+errOut, "no-such-card") {
		t.Errorf("flows plan of a document with problems: exit %d\n%s%s; want %d naming the unknown card", code, out, errOut, exitFailure)
	}
	if code, out, errOut := runCLI(t, s.vars, "run", "search-devices", "--connection", "Demo org", "--input", "search=bogus"); code != exitFailure || !strings.Contains(out, "Okta rejected the search filter") {
		t.Errorf("run search-devices with a filter Okta refuses: exit %d\n%s%s; want %d and the failed run", code, out, errOut, exitFailure)
	}
}

// TestListFiltersTheServerRefusesAreUsageErrors: a list's filter the
// server refuses (a card or an audit action that does not exist) is a
// wrong command line, exit 2, as a --limit out of range is; a filter
// naming what is not there (a connection) and an id nothing has are
// failures, exit 1.
func TestListFiltersTheServerRefusesAreUsageErrors(t *testing.T) {
	s := startServerWith(t, oktaemu.Config{Devices: 1})
	for _, tc := range []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"runs", "list", "--card", "suspnd-device"}, exitUsage, `unknown card "suspnd-device"`},
		{[]string{"runs", "list", "--card", "okta-devices/device-enrolled"}, exitUsage, "is an event card"},
		{[]string{"audit", "--action", "card.runs"}, exitUsage, `there is no audit action "card.runs"`},
		{[]string{"audit", "--action", "flow.plan", "--plans", "exclude"}, exitUsage, `every flow.plan event is a flow plan's`},
		{[]string{"runs", "list", "--connection", "Nope"}, exitFailure, `no connection has the id or nickname "Nope"`},
		{[]string{"runs", "show", "nope"}, exitFailure, `no run with id "nope"`},
	} {
		code, out, errOut := runCLI(t, s.vars, tc.args...)
		if code != tc.wantCode || !strings.Contains(errOut, tc.want) {
			t.Errorf("cardflow %q: exit %d\n%s%s; want %d and %q", tc.args, code, out, errOut, tc.wantCode, tc.want)
		}
	}
}

// TestFlagValuesTheServerRefusesAreUsageErrors: a flag's value the
// server refuses (a nickname or a domain it does not take, an unknown
// scope or role, a token lifetime that is none) is a wrong command line,
// exit 2, as a flag value the CLI refuses itself is; a nickname already
// taken (a conflict with what is stored) is a failure, exit 1.
func TestFlagValuesTheServerRefusesAreUsageErrors(t *testing.T) {
	s := startServerWith(t, oktaemu.Config{Devices: 1})
	s.connect(t, "Prod")
	create := []string{"connections", "create", "--client-id", oktaemu.DemoClientID, "--no-wait"}
	for _, tc := range []struct {
		args     []string
		wantCode int
		want     string
	}{
		{append(create, "--nickname", "conn_x", "--domain", s.emu.URL), exitUsage, `nickname "conn_x" may not start with conn_`},
		{append(create, "--nickname", "Other", "--domain", "example.com"), exitUsage, "example.com is not an Okta org domain"},
		{append(create, "--nickname", "prod", "--domain", s.emu.URL), exitFailure, `already has that nickname`},
		{[]string{"connections", "reauthorize", "Prod", "--scope", "okta.nope", "--no-wait"}, exitUsage, `unknown scope "okta.nope"`},
		{[]string{"tokens", "create", "--name", "ci", "--role", "boss"}, exitUsage, `unknown role "boss"`},
		{[]string{"tokens", "create", "--name", "ci", "--expires-in", "5x"}, exitUsage, `expiresIn "5x" is not a duration`},
		{[]string{"tokens", "create", "--name", "ci", "--expires-in", "0"}, exitUsage, `expiresIn "0" is no lifetime`},
	} {
		code, out, errOut := runCLI(t, s.vars, tc.args...)
		if code != tc.wantCode || !strings.Contains(errOut, tc.want) {
			t.Errorf("cardflow %q: exit %d\n%s%s; want %d and %q", tc.args, code, out, errOut, tc.wantCode, tc.want)
		}
	}
	if code, out, _ := runCLI(t, s.vars, "tokens", "list", "--all"); code != exitOK || strings.Contains(out, "ci") {
		t.Errorf("tokens list --all: exit %d\n%s; want no token made by the refused commands", code, out)
	}
}
