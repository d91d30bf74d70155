package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/api"
)

// failingWriter fails every write, as standard output on a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// runCLIFailingStdout is runCLI with a standard output no write reaches.
func runCLIFailingStdout(t *testing.T, vars map[string]string, args ...string) (int, string) {
	t.Helper()
	var errOut strings.Builder
	own := map[string]string{"XDG_CONFIG_HOME": t.TempDir()}
	for k, v := range vars {
		own[k] = v
	}
	e := &env{stdin: strings.NewReader(""), stdout: failingWriter{}, stderr: &errOut, getenv: func(k string) string { return own[k] }}
	return run(context.Background(), args, e), errOut.String()
}

// TestOutputLostFails: a command whose output could not be written exits
// non-zero. `tokens create > token.txt` on a full disk exited 0 with the
// token, shown only once, lost; it now also says which token to revoke.
func TestOutputLostFails(t *testing.T) {
	s := startServer(t)
	var named []string
	for _, args := range [][]string{{"tokens", "create", "--name", "ci"}, {"tokens", "create", "--name", "ci-json", "--json"}} {
		code, stderr := runCLIFailingStdout(t, s.vars, args...)
		_, id, _ := strings.Cut(stderr, "revoke it (cardflow tokens revoke ")
		id, _, _ = strings.Cut(id, ")")
		named = append(named, id)
		if code != exitFailure || !strings.Contains(stderr, "but could not print it (") || id == "" {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming the token to revoke", args, code, stderr, exitFailure)
		}
	}
	code, stderr := runCLIFailingStdout(t, s.vars, "whoami")
	if code != exitFailure || !strings.Contains(stderr, "the command ran, but its output could not be written: no space left on device") {
		t.Errorf("whoami: exit %d, stderr %q; want exit %d saying the output was lost", code, stderr, exitFailure)
	}

	// The tokens named are the ones created.
	code, out, errOut := runCLI(t, s.vars, "tokens", "list", "--json")
	if code != exitOK {
		t.Fatalf("tokens list: exit %d: %s", code, errOut)
	}
	var list api.TokenList
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Tokens) != 2 {
		t.Fatalf("tokens list: %v, %d tokens; want the 2 created", err, len(list.Tokens))
	}
	for i, want := range []string{named[1], named[0]} { // newest first
		if list.Tokens[i].ID != want {
			t.Errorf("token %d is %s; want %s, the one the error named", i, list.Tokens[i].ID, want)
		}
	}
}
