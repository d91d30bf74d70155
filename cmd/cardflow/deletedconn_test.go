package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestCLIDeletedConnectionRunsStayFound: connections delete names the
// deleted connection's id and the runs list that keeps finding its card
// runs: once its nickname is gone, runs list --connection NICKNAME
// answers not found, and the id was nowhere in the command's output.
func TestCLIDeletedConnectionRunsStayFound(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Gone")
	if code, out, errOut := runCLI(t, s.vars, "run", "search-devices", "--connection", "Gone", "--input", "status=ACTIVE"); code != exitOK {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, s.vars, "connections", "delete", "Gone", "--yes")
	m := regexp.MustCompile(`cardflow runs list --connection (conn_\w+)`).FindStringSubmatch(out)
	if code != exitOK || m == nil {
		t.Fatalf("connections delete: exit %d; want the runs list of the deleted connection's id\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "runs", "list", "--connection", m[1])
	if code != exitOK || !strings.Contains(out, "okta-devices/search-devices") {
		t.Errorf("runs list --connection %s: exit %d; want the deleted connection's card run\n%s%s", m[1], code, out, errOut)
	}
}
