package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestFlowRunProgressEndsWithTheRun: on a terminal, the progress line of
// flows run is left showing how the run ended, where it kept the count of
// the poll before the end (running, 71/87 items done) above the run's
// summary.
func TestFlowRunProgressEndsWithTheRun(t *testing.T) {
	s := startServerWith(t, oktaemu.Config{Devices: 12})
	s.connect(t, "Demo org")
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, stderrTTY: true,
		getenv: func(k string) string {
			if k == "XDG_CONFIG_HOME" {
				return t.TempDir()
			}
			return s.vars[k]
		}}
	if code := run(context.Background(), []string{"flows", "run", "../../examples/offboard-user-devices.yaml", "--input", "login=user@example.com"}, e); code != exitOK {
		t.Fatalf("flows run: exit %d\n%s%s", code, &out, &errOut)
	}
	drawn := strings.TrimSuffix(errOut.String(), "\n")
	last := drawn[strings.LastIndex(drawn, "\r")+1:]
	if !strings.Contains(last, ": succeeded, ") || !strings.Contains(out.String(), "): succeeded") {
		t.Errorf("progress on a terminal ends with %q (all of it %q); want the run's end, succeeded", last, drawn)
	}
}
