package main

import (
	"strings"
	"testing"
)

// TestCLIReasonCodeShown: the text of connections show, list and test
// names the reason code of a connection that is not active beside its
// reason, as --json does.
func TestCLIReasonCodeShown(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Working")
	s.connectRotated(t, "Refused")

	code, out, errOut := runCLI(t, s.vars, "connections", "show", "Refused")
	if code != exitOK || !strings.Contains(out, "Status:           error\n") || !strings.Contains(out, "\nReason code:      client_secret_refused\n") {
		t.Errorf("connections show of a connection whose secret was refused: exit %d; want its status and reason code\n%s%s", code, out, errOut)
	}
	if code, out, _ := runCLI(t, s.vars, "connections", "show", "Working"); code != exitOK || strings.Contains(out, "Reason code:") {
		t.Errorf("connections show of an active connection: exit %d; want no reason code\n%s", code, out)
	}

	code, out, errOut = runCLI(t, s.vars, "connections", "list")
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	if code != exitOK || !strings.Contains(lines["Refused"], "error (client_secret_refused)") {
		t.Errorf("connections list: exit %d; want Refused's status with its reason code\n%s%s", code, out, errOut)
	}
	if l := lines["Working"]; !strings.Contains(l, "active") || strings.Contains(l, "(") {
		t.Errorf("connections list: Working's row %q; want active, unmarked", l)
	}

	code, out, errOut = runCLI(t, s.vars, "connections", "test", "Refused")
	if code != exitFailure || !strings.Contains(out, "FAILED: status error: ") || !strings.Contains(out, "\nReason code: client_secret_refused\n") {
		t.Errorf("connections test of a connection whose secret was refused: exit %d; want FAILED with the reason code\n%s%s", code, out, errOut)
	}
}
