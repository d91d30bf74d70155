package main

import (
	"strings"
	"testing"
)

// TestAuditNothingMatched: an audit list with no event says that nothing
// matched and names the filters given, as tokens list says "No tokens.",
// where it printed the table's header alone.
func TestAuditNothingMatched(t *testing.T) {
	s := startServer(t)
	code, out, errOut := runCLI(t, s.vars, "audit", "--action", "flow.disable", "--actor", "Nobody Here", "--plans", "exclude")
	if want := "No audit events match --action flow.disable --actor 'Nobody Here' --plans exclude.\n"; code != exitOK || out != want {
		t.Errorf("audit with filters nothing matches: exit %d\n%q%s; want %q", code, out, errOut, want)
	}
	code, out, errOut = runCLI(t, s.vars, "audit", "--action", "flow.disable", "--json")
	if code != exitOK || !strings.Contains(out, `"events": []`) {
		t.Errorf("audit --json with nothing matched: exit %d\n%s%s; want the empty list", code, out, errOut)
	}
}
