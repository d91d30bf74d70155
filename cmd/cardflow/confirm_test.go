package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/oktaemu"
)

// runCLIAnswering is runCLI with standard input a terminal (tty) or not,
// holding answer.
func runCLIAnswering(t *testing.T, vars map[string]string, tty bool, answer string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	own := map[string]string{"XDG_CONFIG_HOME": t.TempDir()}
	for k, v := range vars {
		own[k] = v
	}
	e := &env{stdin: strings.NewReader(answer), stdout: &out, stderr: &errOut, stdinTTY: tty, self: "cardflow",
		getenv: func(k string) string { return own[k] }}
	code := run(context.Background(), args, e)
	return code, out.String(), errOut.String()
}

// TestCLIConnectionsDeleteAsksFirst: connections delete cannot be undone,
// so on a terminal it names the connection and asks, as the console's
// Delete does; any answer but yes keeps it. Without a terminal (a script)
// and without --yes it refuses, exit 2, saying to add --yes, and deletes
// nothing; --yes deletes without asking.
func TestCLIConnectionsDeleteAsksFirst(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Prod devices")
	stillThere := func(when string) {
		t.Helper()
		if code, out, errOut := runCLI(t, s.vars, "connections", "show", "Prod devices"); code != exitOK {
			t.Fatalf("%s: connections show: exit %d; want the connection kept\n%s%s", when, code, out, errOut)
		}
	}
	revokes := s.emu.Stats(t)["POST /oauth2/v1/revoke"]

	code, out, errOut := runCLIAnswering(t, s.vars, false, "yes\n", "connections", "delete", "Prod devices")
	if code != exitUsage || strings.Contains(out, "Deleted") ||
		!strings.Contains(errOut, "connections delete cannot be undone, so it asks first, and standard input is not a terminal") ||
		!strings.Contains(errOut, `add --yes to delete connection "Prod devices" without being asked: cardflow connections delete 'Prod devices' --yes`) {
		t.Errorf("without a terminal and without --yes: exit %d; want %d and the command with --yes\n%s%s", code, exitUsage, out, errOut)
	}
	stillThere("refused without a terminal")

	for _, answer := range []string{"no\n", "\n", "", "yes please\n"} {
		code, out, errOut = runCLIAnswering(t, s.vars, true, answer, "connections", "delete", "Prod devices", "--force")
		if code != exitFailure || strings.Contains(out, "Deleted") ||
			!strings.Contains(errOut, "Delete connection Prod devices (conn_") ||
			!strings.Contains(errOut, "this cannot be undone") ||
			!strings.Contains(errOut, "With --force it is deleted even if enabled flows use it") ||
			!strings.Contains(errOut, `connection "Prod devices" was not deleted`) {
			t.Errorf("answered %q: exit %d; want %d, the question naming the connection and nothing deleted\n%s%s", answer, code, exitFailure, out, errOut)
		}
		stillThere("answered " + answer)
	}
	if n := s.emu.Stats(t)["POST /oauth2/v1/revoke"]; n != revokes {
		t.Errorf("the org saw %d revocations before the deletion was confirmed; want none", n-revokes)
	}

	code, _, errOut = runCLIAnswering(t, s.vars, true, "yes\n", "connections", "delete", "Prod devicez")
	if code != exitFailure || strings.Contains(errOut, "Type yes to delete it") || !strings.Contains(errOut, "Prod devices") {
		t.Errorf("a nickname that names none: exit %d; want it refused with the nearest before anything is asked\n%s", code, errOut)
	}

	code, out, errOut = runCLIAnswering(t, s.vars, true, "Yes\n", "connections", "delete", "Prod devices")
	if code != exitOK || !strings.Contains(out, "Deleted connection Prod devices (conn_") ||
		!strings.Contains(errOut, "If an enabled flow uses it, nothing is deleted, and the flows are named (--force deletes it anyway).") {
		t.Fatalf("answered yes: exit %d; want it deleted\n%s%s", code, out, errOut)
	}

	s.connect(t, "Spare")
	if code, out, errOut := runCLIAnswering(t, s.vars, false, "", "connections", "delete", "Spare", "--yes"); code != exitOK || strings.Contains(errOut, "Type yes to delete it") {
		t.Errorf("--yes without a terminal: exit %d; want it deleted without a question\n%s%s", code, out, errOut)
	}
}

// TestCLIUndoableCommandsAskFirst: flows delete, tokens revoke (of an id
// or of a token itself), people revoke and keys remove cannot be undone
// either, so each asks on a terminal, naming what it acts on (people
// revoke: TestPeopleRevokeAsksAboutSomeoneListed; and never
// printing a token given), does nothing on any answer but yes, and
// without a terminal refuses unless --yes is given, as connections
// delete does.
func TestCLIUndoableCommandsAskFirst(t *testing.T) {
	var dir string
	s := startServerWith(t, oktaemu.Config{}, func(c *app.Config) { dir = c.DataDir })
	s.connect(t, "Prod")
	file := filepath.Join(t.TempDir(), "nightly.yaml")
	writeFile(t, file, "name: nightly\non:\n  schedule:\n    cron: \"0 2 * * *\"\nsteps:\n  - id: s\n    card: okta-devices/search-devices\n    connection: Prod\n")
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", file, "--enable"); code != exitOK {
		t.Fatalf("flows store --enable: exit %d\n%s%s", code, out, errOut)
	}
	create := func(name string) (id, secret string) {
		t.Helper()
		code, out, errOut := runCLI(t, s.vars, "tokens", "create", "--name", name, "--role", "viewer", "--json")
		var tok struct {
			ID    string `json:"id"`
			Token string `json:"token"`
		}
		if code != exitOK || json.Unmarshal([]byte(out), &tok) != nil || tok.Token == "" {
			t.Fatalf("tokens create %s: exit %d\n%s%s", name, code, out, errOut)
		}
		return tok.ID, tok.Token
	}
	ciID, ci := create("ci")
	laptopID, laptop := create("laptop")
	accepted := func(secret string) bool {
		_, _, errOut := runCLI(t, map[string]string{"CARDFLOW_SERVER": s.url, "CARDFLOW_API_TOKEN": secret}, "whoami")
		return errOut == ""
	}
	flowThere := func() bool {
		_, out, _ := runCLI(t, s.vars, "flows", "list")
		return strings.Contains(out, "nightly")
	}
	_, keysOut, _ := runCLI(t, nil, "keys", "list", "-data-dir", dir)
	primary := regexp.MustCompile(`\n(\S+)\s+primary`).FindStringSubmatch(keysOut)
	if primary == nil {
		t.Fatalf("keys list names no primary key:\n%s", keysOut)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"flows", "delete", "nightly"}, `add --yes to delete flow "nightly" without being asked: cardflow flows delete nightly --yes`},
		{[]string{"tokens", "revoke", ciID}, "add --yes to revoke the token " + ciID + " without being asked: cardflow tokens revoke " + ciID + " --yes"},
		{[]string{"tokens", "revoke", laptop}, "add --yes to revoke the token given without being asked: cardflow tokens revoke cfp_… --yes"},
		{[]string{"people", "revoke", "riley@example.com"}, "add --yes to revoke the access of riley@example.com without being asked: cardflow people revoke riley@example.com --yes"},
		{[]string{"keys", "remove", primary[1], "-data-dir", dir}, "add --yes to remove key " + primary[1] + " without being asked: cardflow keys remove " + primary[1] + " -data-dir " + dir + " --yes"},
	} {
		code, out, errOut := runCLIAnswering(t, s.vars, false, "yes\n", tt.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "cannot be undone, so it asks first") {
			t.Errorf("%s without a terminal and without --yes: exit %d; want %d and %q\n%s%s", tt.args, code, exitUsage, tt.want, out, errOut)
		}
		if strings.Contains(errOut, strings.TrimPrefix(laptop, "cfp_")) {
			t.Errorf("%s printed the token given:\n%s", tt.args, errOut)
		}
	}
	if !flowThere() || !accepted(ci) || !accepted(laptop) {
		t.Fatalf("refused without a terminal, yet: flow kept %v, tokens accepted %v %v", flowThere(), accepted(ci), accepted(laptop))
	}

	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"flows", "delete", "nightly"}, []string{"Delete flow nightly (", "It deletes the flow and its 1 version; this cannot be undone.",
			"It is enabled: its trigger (cron 0 2 * * * UTC) starts no run once it is deleted.", `flow "nightly" was not deleted: the answer was not yes`}},
		{[]string{"tokens", "revoke", ciID}, []string{"Revoke the token " + ciID + " (token ci of the bootstrap admin, viewer, expires ", "this cannot be undone", "the token " + ciID + " (token ci of"}},
		{[]string{"tokens", "revoke", laptop}, []string{"Revoke the token " + laptopID + " (token laptop of the bootstrap admin)?", "was not revoked"}},
	} {
		code, out, errOut := runCLIAnswering(t, s.vars, true, "no\n", tt.args...)
		if code != exitFailure || out != "" {
			t.Errorf("%s answered no: exit %d; want %d and nothing done\n%s%s", tt.args, code, exitFailure, out, errOut)
		}
		for _, w := range tt.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s answered no: stderr lacks %q:\n%s", tt.args, w, errOut)
			}
		}
		if strings.Contains(errOut, strings.TrimPrefix(laptop, "cfp_")) {
			t.Errorf("%s printed the token given:\n%s", tt.args, errOut)
		}
	}
	if !flowThere() || !accepted(ci) || !accepted(laptop) {
		t.Fatalf("answered no, yet: flow kept %v, tokens accepted %v %v", flowThere(), accepted(ci), accepted(laptop))
	}

	// A key keys remove refuses anyway (here the primary) is refused
	// without a question.
	code, out, errOut := runCLIAnswering(t, nil, true, "", "keys", "remove", primary[1], "-data-dir", dir)
	if code != exitFailure || strings.Contains(errOut, "Type yes") || !strings.Contains(errOut, "primary") {
		t.Errorf("keys remove of the primary key on a terminal: exit %d; want its refusal, without a question\n%s%s", code, out, errOut)
	}

	for _, args := range [][]string{{"flows", "delete", "nightly"}, {"tokens", "revoke", ciID}, {"tokens", "revoke", laptop}} {
		if code, out, errOut := runCLIAnswering(t, s.vars, true, "yes\n", args...); code != exitOK || !strings.Contains(out, "Deleted flow nightly") && !strings.Contains(out, "Revoked the token") {
			t.Errorf("%s answered yes: exit %d; want it done\n%s%s", args, code, out, errOut)
		}
	}
	if flowThere() || accepted(ci) || accepted(laptop) {
		t.Errorf("answered yes, yet: flow kept %v, tokens accepted %v %v", flowThere(), accepted(ci), accepted(laptop))
	}
}
