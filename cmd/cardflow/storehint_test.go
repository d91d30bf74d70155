package main

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestCLIStoreSaysHowToRunWithItsInputs: flows store of a flow without a
// trigger names the command that runs it with the inputs it must be given,
// where it named the command alone, which is refused for the missing input.
func TestCLIStoreSaysHowToRunWithItsInputs(t *testing.T) {
	s := startServerWith(t, oktaemu.Config{Devices: 2})
	s.connect(t, "Demo org")
	for file, want := range map[string]string{
		"../../examples/stale-device-cleanup.yaml":  "It has no trigger; run it with: cardflow flows run stale-device-cleanup --input since=VALUE\n",
		"../../examples/offboard-user-devices.yaml": "It has no trigger; run it with: cardflow flows run offboard-user-devices --input login=VALUE\n",
	} {
		code, out, errOut := runCLI(t, s.vars, "flows", "store", file)
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("flows store %s: exit %d; want %q\n%s%s", file, code, want, out, errOut)
		}
		code, out, errOut = runCLI(t, s.vars, "flows", "store", file, "--enable")
		if want := strings.Replace(want, "It has no trigger; run it with", "it has no trigger (on:) to enable; run it with", 1); code != exitUsage || !strings.Contains(errOut, strings.TrimSuffix(want, "\n")) {
			t.Errorf("flows store --enable %s: exit %d; want %q\n%s%s", file, code, want, out, errOut)
		}
	}
}
