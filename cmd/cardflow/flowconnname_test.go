package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestCLIFlowMisspeltConnection: a flow document naming a connection that
// does not exist, but is close to one that does, is answered with the
// nearest nickname, as --connection is, at the connection's line.
func TestCLIFlowMisspeltConnection(t *testing.T) {
	s := startServerWith(t, oktaemu.Config{Devices: 2})
	s.connect(t, "Demo org")
	file := filepath.Join(t.TempDir(), "misspelt.yaml")
	writeFile(t, file, "name: misspelt\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Demo orgg\n")
	code, out, errOut := runCLI(t, s.vars, "flows", "validate", file)
	// At the line and column of the connection's nickname.
	const want = `misspelt.yaml:5:17: step find: there is no okta-devices connection "Demo orgg" (did you mean "Demo org"?); create it`
	if code != exitFailure || !strings.Contains(out+errOut, want) {
		t.Errorf("flows validate: exit %d; want %d and %q\n%s%s", code, exitFailure, want, out, errOut)
	}
}
