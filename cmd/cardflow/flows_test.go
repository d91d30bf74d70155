package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/flow"
)

func TestIssueInFile(t *testing.T) {
	tests := []struct {
		name  string
		issue api.FlowIssue
		want  string
	}{
		{name: "line and column", issue: api.FlowIssue{Line: 3, Column: 7, Step: "s", Message: "bad"}, want: "f.yaml:3:7: step s: bad"},
		{name: "line only", issue: api.FlowIssue{Line: 3, Message: "bad"}, want: "f.yaml:3: bad"},
		{name: "no position", issue: api.FlowIssue{Step: "s", Message: "bad"}, want: "f.yaml: step s: bad"},
		{name: "a message that starts with line is kept", issue: api.FlowIssue{Message: "line breaks are not allowed"}, want: "f.yaml: line breaks are not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := issueInFile(tt.issue, "f.yaml"); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestFlowInputs(t *testing.T) {
	f := &api.Flow{Name: "offboard", Inputs: map[string]api.FlowInput{"login": {Type: "string"}, "dryRun": {Type: "bool"}}}
	got, err := flowInputs(f, []string{"login=a@example.com", "dryRun=true"})
	if err != nil {
		t.Fatal(err)
	}
	if got["login"] != "a@example.com" || got["dryRun"] != "true" {
		t.Errorf("got %v; want login=a@example.com and dryRun=\"true\" (text the server reads by the input's type)", got)
	}
	_, err = flowInputs(f, []string{"bogus=1"})
	if want := `flow offboard has no input "bogus"; its inputs: dryRun, login`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got error %v; want it to contain %q", err, want)
	}
	_, err = flowInputs(&api.Flow{Name: "empty"}, []string{"x=1"})
	if want := "flow empty takes no inputs"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got error %v; want it to contain %q", err, want)
	}
}

// TestFlowFilesRefusedBeforeSending: a file no server could take as a flow
// document is named with what to do, before anything is sent (the server
// here is unreachable). A binary file sent to flows plan was a JSON string
// with its bytes replaced, so the server answered about a document the
// file did not hold; an empty one (or one of blank lines) was "the
// request has no flow document; send it as "source"".
func TestFlowFilesRefusedBeforeSending(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	files := []struct {
		name, path, want string
	}{
		{"a directory", dir, dir + " is a directory: give the path of a flow document"},
		{"an empty file", write("empty.yaml", nil), "empty.yaml is empty: a flow document is YAML with a name and steps"},
		{"a file of blank lines", write("blank.yaml", []byte("\n  \r\n\t\n")), "blank.yaml is empty: a flow document is YAML with a name and steps"},
		{"a binary file", write("bin.yaml", []byte("name: x\n\xff\xfe\x00")), "bin.yaml is not UTF-8 text (at byte 8): a flow document is YAML"},
		{"a binary file that is valid UTF-8", write("nul.yaml", []byte("\x00\x01binary")), "nul.yaml is not a text file (a control character, 0x00, at byte 0): a flow document is YAML"},
		{"a file over the limit", write("huge.yaml", bytes.Repeat([]byte("#\n"), api.MaxFlowDocumentSize/2+1)), "huge.yaml is larger than 1048576 bytes (1 MiB), the limit of a flow document"},
	}
	vars := map[string]string{"CARDFLOW_API_TOKEN": "x", "CARDFLOW_SERVER": "http://127.0.0.1:1"}
	for _, cmd := range [][]string{{"flows", "validate"}, {"flows", "plan"}, {"flows", "store"}, {"flows", "run"}} {
		for _, f := range files {
			t.Run(strings.Join(cmd, " ")+" of "+f.name, func(t *testing.T) {
				code, _, stderr := runCLI(t, vars, append(cmd, f.path)...)
				if code != exitUsage || !strings.Contains(stderr, f.want) {
					t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, exitUsage, f.want)
				}
			})
		}
	}
	if api.MaxFlowDocumentSize != flow.MaxDocumentSize {
		t.Errorf("api.MaxFlowDocumentSize = %d; want flow.MaxDocumentSize, %d", api.MaxFlowDocumentSize, flow.MaxDocumentSize)
	}
}

// TestRequiredInputs: a run lacking a required input is refused with the
// --input flags that give it, not the API's "inputs".
func TestRequiredInputs(t *testing.T) {
	f := &api.Flow{Name: "offboard", Inputs: map[string]api.FlowInput{
		"login": {Type: "string", Required: true}, "since": {Type: "string", Required: true}, "dryRun": {Type: "bool"}}}
	err := requiredInputs(f, map[string]any{"dryRun": "true"})
	want := "missing required inputs login, since of flow offboard: give them with --input login=VALUE --input since=VALUE"
	if err == nil || err.Error() != want {
		t.Errorf("got %v; want %q", err, want)
	}
	if err := requiredInputs(f, map[string]any{"login": "a@example.com", "since": "P30D"}); err != nil {
		t.Errorf("with every required input: %v; want nil", err)
	}
}

// TestCLIEnableFlowWithoutTrigger: enabling or disabling a flow that has
// no trigger is a wrong command line (exit 2), as flows store --enable of
// it is, saying that nothing starts it but a run; a flow whose document no longer
// validates (its connection deleted) fails to enable with exit 1.
func TestCLIEnableFlowWithoutTrigger(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", "../../examples/offboard-user-devices.yaml"); code != exitOK {
		t.Fatalf("flows store: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "enable", "offboard-user-devices"); code != exitUsage || !strings.Contains(errOut, "has no trigger, so there is nothing to enable") {
		t.Errorf("flows enable of a flow without a trigger: exit %d\n%s%s; want %d and the reason", code, out, errOut, exitUsage)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "disable", "offboard-user-devices"); code != exitUsage || !strings.Contains(errOut, "nothing to disable: nothing starts it but a run") || !strings.Contains(errOut, "cardflow flows run offboard-user-devices") {
		t.Errorf("flows disable of a flow without a trigger: exit %d\n%s%s; want %d, that nothing starts it but a run, and the command that runs it", code, out, errOut, exitUsage)
	}
	if code, out, errOut := runCLI(t, s.vars, "audit", "--action", "flow.disable"); code != exitOK || strings.Contains(out, "offboard-user-devices") {
		t.Errorf("audit --action flow.disable: exit %d\n%s%s; want no event of the refused disable", code, out, errOut)
	}

	file := filepath.Join(t.TempDir(), "quarantine.yaml")
	writeFile(t, file, quarantineFlow)
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", file); code != exitOK {
		t.Fatalf("flows store: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, s.vars, "connections", "delete", "Demo org", "--yes"); code != exitOK {
		t.Fatalf("connections delete: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "enable", "quarantine-new-devices"); code != exitFailure || !strings.Contains(errOut, `there is no okta-devices connection "Demo org"`) {
		t.Errorf("flows enable of a flow whose connection is gone: exit %d\n%s%s; want %d and the document's problem", code, out, errOut, exitFailure)
	}
}

// TestEventFileFromTerminal: --event-file - on a terminal says what to
// paste and how to end it, where it waited silently for Ctrl-D; piped,
// it reads the event without a word.
func TestEventFileFromTerminal(t *testing.T) {
	for _, tty := range []bool{true, false} {
		var errOut bytes.Buffer
		e := &env{stdin: strings.NewReader(`{"uuid": "e1"}`), stderr: &errOut, stdinTTY: tty}
		got, err := readEventFile(e, "-")
		if err != nil || string(got) != `{"uuid": "e1"}` {
			t.Errorf("readEventFile (terminal %v) = %s, %v; want the event", tty, got, err)
		}
		if asked := strings.Contains(errOut.String(), "Paste the Okta event (its LogEvent JSON), then press Ctrl-D"); asked != tty {
			t.Errorf("readEventFile (terminal %v) wrote %q to stderr; want the prompt only on a terminal", tty, errOut.String())
		}
	}
}
