package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestListsSayWhenEmpty: a list command with nothing to list says so, with
// the filters given, as audit does, where most printed a table's header
// alone; with --json each answers its empty list.
func TestListsSayWhenEmpty(t *testing.T) {
	s := startServer(t)
	for _, tc := range []struct {
		args []string
		want string
		list string // the list's field in the JSON answer
	}{
		{[]string{"connections", "list"}, "No connections.\n", "connections"},
		{[]string{"flows", "list"}, "No stored flows.\n", "flows"},
		{[]string{"events", "list"}, "No Okta events.\n", "events"},
		{[]string{"runs", "list"}, "No card runs.\n", "runs"},
		{[]string{"runs", "list", "--card", "suspend-device", "--plans", "only"}, "No card runs match --card suspend-device --plans only.\n", "runs"},
		{[]string{"audit", "--action", "flow.disable"}, "No audit events match --action flow.disable.\n", "events"},
		{[]string{"tokens", "list"}, "No tokens.\n", "tokens"},
	} {
		name := strings.Join(tc.args, " ")
		code, out, errOut := runCLI(t, s.vars, tc.args...)
		if code != exitOK || out != tc.want {
			t.Errorf("%s: exit %d\n%q%s; want %q", name, code, out, errOut, tc.want)
		}
		code, out, errOut = runCLI(t, s.vars, append(tc.args, "--json")...)
		var answer map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &answer); code != exitOK || err != nil || string(answer[tc.list]) != "[]" {
			t.Errorf("%s --json: exit %d %v\n%s%s; want %q: []", name, code, err, out, errOut, tc.list)
		}
	}

	s.connect(t, "Demo org")
	file := filepath.Join(t.TempDir(), "flow.yaml")
	writeFile(t, file, namedDeviceFlow)
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", file); code != exitOK {
		t.Fatalf("flows store: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "runs", "suspend-named"); code != exitOK || out != "No runs of flow suspend-named.\n" {
		t.Errorf("flows runs of a flow never run: exit %d\n%q%s; want that it has none", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, s.vars, "events", "list", "--connection", "Demo org"); code != exitOK || out != "No Okta events match --connection 'Demo org'.\n" {
		t.Errorf("events list --connection: exit %d\n%q%s; want that none match", code, out, errOut)
	}
}
