package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIRefusedDocumentInFileForm: a flow document that flows store,
// plan or run refuses has its problems said as flows validate says them,
// one a line as FILE:LINE:COLUMN (which editors jump to), each once, and
// the error names the file and counts them; --json keeps the server's
// error with the problems in details.errors.
func TestCLIRefusedDocumentInFileForm(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	file := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, file, `name: bad
inputs:
  login: {type: strng}
steps:
  - id: suspend
    card: okta-devices/suspend-devce
    connection: Demo org
    input: {deviceId: "x"}
`)
	want := []string{
		file + `:3:11: input "login" has type "strng"`,
		file + `:6:11: step suspend: unknown card "okta-devices/suspend-devce" (did you mean "okta-devices/suspend-device"?)`,
		"cardflow: invalid_input: " + file + " is not a valid flow document (2 problems)",
	}
	for _, args := range [][]string{{"flows", "store", file}, {"flows", "plan", file}, {"flows", "run", file}} {
		code, out, errOut := runCLI(t, s.vars, args...)
		if code == exitOK {
			t.Fatalf("%s: exit %d\n%s%s; want it refused", strings.Join(args, " "), code, out, errOut)
		}
		for _, w := range want {
			if strings.Count(errOut, w) != 1 {
				t.Errorf("%s: stderr\n%s\nwant once: %s", strings.Join(args, " "), errOut, w)
			}
		}
		if strings.Contains(errOut, "line 6, column 11") {
			t.Errorf("%s: stderr\n%s\nwant the problems said once, in file form", strings.Join(args, " "), errOut)
		}
	}
	code, _, out := runCLI(t, s.vars, "flows", "store", file, "--json")
	if code == exitOK || !strings.Contains(out, `"code":"invalid_input"`) || !strings.Contains(out, `"errors":[{`) {
		t.Errorf("flows store --json: exit %d\n%s; want the server's error with details.errors", code, out)
	}
}
