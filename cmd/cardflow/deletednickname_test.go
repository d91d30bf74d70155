package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestCLIDeletedNicknameNamesItsID: audit --connection and runs list
// --connection with the nickname of a deleted connection name the deleted
// connection's id to filter by, read from the audit log's deletion, where
// they answered only that no connection has that nickname, though its
// runs and audit events are all kept; a nickname no connection ever had
// still gets the usual answer.
func TestCLIDeletedNicknameNamesItsID(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Gone")
	code, out, errOut := runCLI(t, s.vars, "connections", "delete", "Gone", "--yes")
	m := regexp.MustCompile(`\((conn_\w+)\)`).FindStringSubmatch(out)
	if code != exitOK || m == nil {
		t.Fatalf("connections delete: exit %d\n%s%s", code, out, errOut)
	}
	id := m[1]
	for _, args := range [][]string{{"audit", "--connection", "gone"}, {"runs", "list", "--connection", "Gone"}} {
		code, out, errOut := runCLI(t, s.vars, args...)
		if code == exitOK || !strings.Contains(errOut, `no connection has the nickname "`+args[len(args)-1]+`" now; a connection of that nickname was deleted: `+id+" (deleted ") ||
			!strings.Contains(errOut, "by bootstrap admin)") || !strings.Contains(errOut, "--connection "+id) {
			t.Errorf("cardflow %s: exit %d\n%s%s; want the deleted connection's id to filter by", strings.Join(args, " "), code, out, errOut)
		}
	}
	if code, out, errOut := runCLI(t, s.vars, "audit", "--connection", id); code != exitOK || !strings.Contains(out, "connection.delete") {
		t.Errorf("audit --connection %s: exit %d\n%s%s; want the deletion", id, code, out, errOut)
	}
	if code, _, errOut := runCLI(t, s.vars, "audit", "--connection", "Never"); code == exitOK || !strings.Contains(errOut, `no connection has the id or nickname "Never"`) {
		t.Errorf("audit --connection Never: exit %d %s; want the usual not found", code, errOut)
	}
}
