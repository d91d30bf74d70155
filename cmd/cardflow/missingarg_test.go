package main

import (
	"os"
	"strings"
	"testing"
)

// TestCLIMissingArgumentSaysTheUsage: a command missing its argument says
// what to write, its usage line, where it said only what was missing.
func TestCLIMissingArgumentSaysTheUsage(t *testing.T) {
	vars := map[string]string{"CARDFLOW_API_TOKEN": "x", "CARDFLOW_SERVER": "http://127.0.0.1:1"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"connections", "delete"}, "missing connection id or nickname; usage: cardflow connections delete ID|NICKNAME [--force] [--yes] [--json]"},
		{[]string{"flows", "validate"}, "missing flow document (FILE); usage: cardflow flows validate FILE [--json]"},
		{[]string{"flows", "delete"}, "missing stored flow name or id; usage: cardflow flows delete NAME|ID [--yes] [--json]"},
		{[]string{"keys", "remove"}, "missing key id (see cardflow keys list); usage: cardflow keys remove KEY_ID [-data-dir DIR]"},
	} {
		code, out, errOut := runCLI(t, vars, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d; want %d and %q\n%s%s", tt.args, code, exitUsage, tt.want, out, errOut)
		}
	}
}

// TestCLIFlowFileNotThere: flows validate and flows store of a relative
// path that is not there say where it was looked for and where the
// examples are, as flows plan and flows run do.
func TestCLIFlowFileNotThere(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"CARDFLOW_API_TOKEN": "x", "CARDFLOW_SERVER": "http://127.0.0.1:1"}
	want := "read the flow document: open examples/none.yaml: no such file or directory (a path relative to the current directory, " + wd +
		"; the examples are in the examples/ directory of the cardflow repository)"
	for _, cmd := range []string{"validate", "store", "plan", "run"} {
		code, out, errOut := runCLI(t, vars, "flows", cmd, "examples/none.yaml")
		if code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("flows %s examples/none.yaml: exit %d; want %d and %q\n%s%s", cmd, code, exitUsage, want, out, errOut)
		}
	}
}

// TestCLIExtraArgumentSaysWhy: a name with spaces written without quotes
// (Demo org) is two arguments: the refusal says to quote it, and a
// command that takes no argument says its usage.
func TestCLIExtraArgumentSaysWhy(t *testing.T) {
	vars := map[string]string{"CARDFLOW_API_TOKEN": "x", "CARDFLOW_SERVER": "http://127.0.0.1:1"}
	for _, tt := range []struct {
		args    []string
		want    string
		wantNot string
	}{
		{[]string{"connections", "delete", "Demo", "org"}, `unexpected argument "org" (only one connection id or nickname): a name with spaces goes in quotes, 'Demo org'`, ""},
		{[]string{"flows", "runs", "my", "flow"}, `unexpected argument "flow" (only one stored flow name or id): a name with spaces goes in quotes, 'my flow'`, ""},
		{[]string{"flows", "validate", "a.yaml", "b.yaml"}, `unexpected argument "b.yaml" (only one flow document (FILE))`, "quotes"},
		{[]string{"flows", "list", "extra"}, `unexpected argument "extra": the command takes none; usage: cardflow flows list [--json]`, ""},
	} {
		code, out, errOut := runCLI(t, vars, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) || tt.wantNot != "" && strings.Contains(errOut, tt.wantNot) {
			t.Errorf("%s: exit %d; want %d and %q\n%s%s", tt.args, code, exitUsage, tt.want, out, errOut)
		}
	}
}
