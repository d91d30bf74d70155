package main

import (
	"strings"
	"testing"
)

// TestAuditPages: a full page of audit events ends with the command of
// the next (older) page, its filters and --limit kept, and --before gives
// it, so that events beyond the newest 1000 can be read from the command
// line; the last page says that nothing older matches. Before, audit had
// no --before and said nothing of older events.
func TestAuditPages(t *testing.T) {
	s := startServer(t)
	for _, name := range []string{"one", "two", "three"} {
		if code, out, errOut := runCLI(t, s.vars, "tokens", "create", "--name", name, "--role", "viewer"); code != exitOK {
			t.Fatalf("tokens create %s: exit %d\n%s%s", name, code, out, errOut)
		}
	}
	var seen []string
	args := []string{"audit", "--action", "token.create", "--limit", "2"}
	for page := 0; page < 3; page++ {
		code, out, errOut := runCLI(t, s.vars, args...)
		if code != exitOK {
			t.Fatalf("cardflow %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		last := lines[len(lines)-1]
		for _, line := range lines[1:] {
			for _, name := range []string{"one", "two", "three"} {
				if strings.Contains(line, "token "+name+" (viewer)") {
					seen = append(seen, name)
				}
			}
		}
		next, ok := strings.CutPrefix(last, "Next page (older events): cardflow ")
		if !ok {
			if page != 1 || len(lines) != 2 {
				t.Fatalf("page %d of cardflow %s:\n%s\nwant a full page ending with the next page's command, the second with one event", page+1, strings.Join(args, " "), out)
			}
			break
		}
		if !strings.HasPrefix(next, "audit --action token.create --limit 2 --before ") {
			t.Fatalf("next page's command %q; want the filters and --limit kept", next)
		}
		args = strings.Fields(next)
	}
	if strings.Join(seen, " ") != "three two one" {
		t.Errorf("events over the pages: %v; want three two one, each once", seen)
	}
	args = append(args[:len(args)-1], "1")
	if code, out, errOut := runCLI(t, s.vars, args...); code != exitOK || out != "No older audit events match --action token.create --before 1.\n" {
		t.Errorf("cardflow %s: exit %d\n%q%s; want nothing older said", strings.Join(args, " "), code, out, errOut)
	}
	if code, _, errOut := runCLI(t, s.vars, "audit", "--before", "-4"); code != exitUsage || !strings.Contains(errOut, "--before -4: want the id of an audit event") {
		t.Errorf("audit --before -4: exit %d %s; want a usage error", code, errOut)
	}
}
