package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// jsonErrorOf decodes stderr, which with --json must be one JSON line
// {"error": {...}} and nothing else.
func jsonErrorOf(t *testing.T, stderr string) jsonError {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Fatalf("stderr %q; want one line of JSON", stderr)
	}
	var got struct {
		Error *jsonError `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(stderr))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil || got.Error == nil {
		t.Fatalf("stderr %q is not {\"error\": {...}}: %v", stderr, err)
	}
	return *got.Error
}

// TestJSONErrorsLocal: with --json, a failure the CLI raises itself (a
// wrong command line, a missing file, no server) is one JSON line on
// stderr, with the exit code the text form has.
func TestJSONErrorsLocal(t *testing.T) {
	vars := map[string]string{"CARDFLOW_API_TOKEN": "x", "CARDFLOW_SERVER": "http://127.0.0.1:1"}
	tests := []struct {
		name    string
		args    []string
		want    jsonError
		wantMsg string
	}{
		{name: "a wrong flag before --json", args: []string{"runs", "list", "--conection", "Prod", "--json"},
			want:    jsonError{Code: codeUsage, ExitCode: exitUsage, ExitClass: "usage"},
			wantMsg: "flag provided but not defined: -conection; did you mean --connection?"},
		{name: "an unknown command", args: []string{"flows", "plna", "x.yaml", "-json"},
			want:    jsonError{Code: codeUsage, ExitCode: exitUsage, ExitClass: "usage"},
			wantMsg: `unknown command "flows plna"; did you mean plan?`},
		{name: "a missing argument", args: []string{"connections", "show", "--json=true"},
			want:    jsonError{Code: codeUsage, ExitCode: exitUsage, ExitClass: "usage"},
			wantMsg: "missing connection id or nickname"},
		{name: "a value of the wrong type", args: []string{"runs", "list", "--json", "--limit", "many"},
			want:    jsonError{Code: codeUsage, ExitCode: exitUsage, ExitClass: "usage"},
			wantMsg: `--limit "many": want a whole number, such as 20`},
		{name: "a missing file", args: []string{"flows", "validate", "none.yaml", "--json"},
			want:    jsonError{Code: codeUsage, ExitCode: exitUsage, ExitClass: "usage"},
			wantMsg: "read the flow document: open none.yaml: no such file or directory"},
		{name: "no server", args: []string{"connections", "list", "--json"},
			want:    jsonError{Code: codeUnreachable, ExitCode: exitFailure, ExitClass: "failure"},
			wantMsg: "cannot reach the cardflow server at http://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, vars, tt.args...)
			if code != tt.want.ExitCode || out != "" {
				t.Errorf("exit %d, stdout %q; want %d and nothing", code, out, tt.want.ExitCode)
			}
			got := jsonErrorOf(t, errOut)
			if !strings.Contains(got.Message, tt.wantMsg) {
				t.Errorf("message %q; want it to contain %q", got.Message, tt.wantMsg)
			}
			got.Message = ""
			if got.Code != tt.want.Code || got.ExitCode != tt.want.ExitCode || got.ExitClass != tt.want.ExitClass || got.Status != 0 {
				t.Errorf("got %+v; want %+v", got, tt.want)
			}
		})
	}

	// Without --json (or with --json=false) the same failure is text.
	for _, args := range [][]string{{"runs", "list", "--conection", "Prod"}, {"runs", "list", "--json=false", "--conection", "Prod"}, {"run", "x", "--bogus", "--", "--json"}} {
		code, _, errOut := runCLI(t, vars, args...)
		if code != exitUsage || !strings.HasPrefix(errOut, "Usage: cardflow") || strings.Contains(errOut, `{"error"`) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and the usage as text", args, code, errOut)
		}
	}
	// --help with --json prints the usage and succeeds.
	if code, out, _ := runCLI(t, vars, "runs", "list", "--json", "--help"); code != exitOK || !strings.HasPrefix(out, "Usage: cardflow runs list") {
		t.Errorf("runs list --json --help: exit %d, stdout %q; want 0 and the usage", code, out)
	}
}

// TestJSONErrorsInterrupted: a command stopped by Ctrl-C reports the
// interruption, exit 130.
func TestJSONErrorsInterrupted(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut strings.Builder
	vars := s.vars
	code := run(ctx, []string{"connections", "list", "--json"}, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return vars[k] }})
	if code != exitInterrupted {
		t.Fatalf("exit %d; want %d (stderr %q)", code, exitInterrupted, errOut.String())
	}
	if got := jsonErrorOf(t, errOut.String()); got.Code != codeInterrupted || got.ExitClass != "interrupted" || got.ExitCode != exitInterrupted {
		t.Errorf("got %+v; want code interrupted, exit 130", got)
	}
}

// TestJSONErrorsServer: with --json, the server's error is its code,
// message, details and remedy, with the answer's HTTP status; a failed
// card run prints the run on stdout and its error on stderr.
func TestJSONErrorsServer(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Prod")

	code, out, errOut := runCLI(t, s.vars, "connections", "show", "Nope", "--json")
	if code != exitFailure || out != "" {
		t.Fatalf("connections show Nope: exit %d, stdout %q", code, out)
	}
	got := jsonErrorOf(t, errOut)
	if got.Code != "not_found" || got.Status != 404 || got.ExitCode != exitFailure || got.ExitClass != "failure" ||
		got.Remedy == "" || got.Details["remedy"] != got.Remedy || strings.Contains(got.Message, got.Remedy) || strings.Contains(got.Message, "\n") {
		t.Errorf("got %+v; want not_found, 404, exit 1 and the remedy", got)
	}

	bad := map[string]string{"CARDFLOW_SERVER": s.vars["CARDFLOW_SERVER"], "CARDFLOW_API_TOKEN": "wrong-token-0123456789"}
	code, _, errOut = runCLI(t, bad, "connections", "list", "--json")
	got = jsonErrorOf(t, errOut)
	if code != exitFailure || got.Code != "unauthenticated" || got.Status != 401 || !strings.Contains(got.Remedy, "CARDFLOW_API_TOKEN") {
		t.Errorf("a wrong token: exit %d, %+v; want unauthenticated, 401 and a remedy naming CARDFLOW_API_TOKEN", code, got)
	}

	code, out, errOut = runCLI(t, s.vars, "run", "read-device", "--connection", "Prod", "--input", "deviceId=guo0000nope", "--json")
	if code != exitFailure {
		t.Fatalf("run read-device of no device: exit %d\n%s%s", code, out, errOut)
	}
	var r struct {
		Status string `json:"status"`
		Error  struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Status != "failed" {
		t.Fatalf("stdout %q; want the failed run: %v", out, err)
	}
	got = jsonErrorOf(t, errOut)
	if got.Code != r.Error.Code || got.Code == "" || got.ExitCode != exitFailure || got.Status != 0 {
		t.Errorf("got %+v; want the run's error (%s), exit 1", got, r.Error.Code)
	}

	// What the command adds to the server's error (how to go on) stays in
	// the message; the server's remedy is the remedy.
	code, _, errOut = runCLI(t, s.vars, "connections", "create", "--nickname", "Prod", "--domain", s.emu.URL, "--client-id", oktaemu.DemoClientID, "--json")
	got = jsonErrorOf(t, errOut)
	if code != exitFailure || got.Code != "conflict" || got.Status != 409 || strings.Contains(got.Message, "Remedy:") {
		t.Errorf("a nickname taken: exit %d, %+v; want conflict, 409", code, got)
	}
}

// TestJSONErrorsAuthorizationFailed: connections create --json of a
// sign-in the org refuses prints the connection on stdout and ends stderr
// with why it did not become active and the remedy.
func TestJSONErrorsAuthorizationFailed(t *testing.T) {
	s := startServer(t)
	w := startWaiting(t, s.vars, "", "connections", "create", "--nickname", "Refused", "--domain", s.emu.URL, "--client-id", oktaemu.DemoClientID, "--json")
	s.signIn(t, w.authorizeURL, oktaemu.UserLogin)
	if code := <-w.done; code != exitFailure {
		t.Fatalf("connections create: exit %d; want %d\n%s%s", code, exitFailure, w.stdout, w.stderr)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(w.stderr.String(), "\n"), "\n")
	got := jsonErrorOf(t, lines[len(lines)-1]+"\n")
	if got.Code != codeFailed || !strings.HasPrefix(got.Message, "connection Refused did not become active (status error): ") ||
		!strings.Contains(got.Message, "not an administrator") || !strings.Contains(got.Remedy, "super admin") {
		t.Errorf("got %+v; want why the connection did not become active and the remedy", got)
	}
}
