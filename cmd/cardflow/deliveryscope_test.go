package main

import (
	"strings"
	"testing"
)

// TestCLIMissingDeliveryScopeWording: a connection whose org stopped
// granting okta.logs.read (poll delivery's scope) does not say that its
// event cards fail, since hook delivery still brings their events:
// connections test and show say that flows cannot start from them with
// poll delivery, as the console's sign-in page does, and keep "cards
// that will fail" for the action cards of a scope they need.
func TestCLIMissingDeliveryScopeWording(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Prod")
	s.emu.RevokeGrant(t, "okta.logs.read")
	s.emu.RevokeGrant(t, "okta.devices.manage")

	code, out, errOut := runCLI(t, s.vars, "connections", "test", "Prod")
	if code != exitOK {
		t.Fatalf("connections test: exit %d\n%s%s", code, out, errOut)
	}
	const events = "okta.logs.read (flows cannot start from these event cards with poll delivery: okta-devices/device-"
	check := func(what, out string) {
		t.Helper()
		if !strings.Contains(out, events) || strings.Contains(out, "okta.logs.read (cards that will fail") ||
			!strings.Contains(out, "okta.devices.manage (cards that will fail: ") {
			t.Errorf("%s: want okta.logs.read to stop poll delivery only and okta.devices.manage to fail its cards\n%s", what, out)
		}
	}
	check("connections test", out)
	if code, out, errOut := runCLI(t, s.vars, "connections", "show", "Prod"); code != exitOK {
		t.Errorf("connections show: exit %d\n%s%s", code, out, errOut)
	} else {
		check("connections show", out)
	}
}
