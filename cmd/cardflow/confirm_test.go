package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
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
