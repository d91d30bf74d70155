package app

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestEventUserFilterOfALifecycleEvent: the server refuses a flow on
// device-deactivated whose trigger's if filters on the user, which Okta's
// device.lifecycle.deactivate events never name, at the filter's line and
// column, naming the event cards whose events name a user; the same filter
// on device-removed-from-user is valid.
func TestEventUserFilterOfALifecycleEvent(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	h.connect("Prod devices")
	const doc = `name: deactivated-employee-device
on:
  event:
    card: okta-devices/CARD
    connection: Prod devices
    delivery: poll
    if: ${{ trigger.event.user.login.endsWith("@example.com") }}
steps:
  - id: read
    card: okta-devices/read-device
    connection: Prod devices
    input: {deviceId: "${{ trigger.event.device.id }}"}
`
	var v flowValidation
	if code, body := h.postYAML("/api/v1/flows/validate", strings.Replace(doc, "CARD", "device-deactivated", 1), &v); code != 200 || v.Valid || len(v.Issues) != 1 {
		t.Fatalf("validate: %d %s; want one issue", code, body)
	}
	is := v.Issues[0]
	if is.Line != 7 || is.Column != 13 {
		t.Errorf("issue at %d:%d; want 7:13, where trigger.event.user is read", is.Line, is.Column)
	}
	for _, want := range []string{"device.lifecycle.deactivate events (card okta-devices/device-deactivated) name no user",
		"only the events of okta-devices/device-enrolled (device.enrollment.create), okta-devices/device-added-to-user (device.user.add), okta-devices/device-removed-from-user (device.user.remove) name a user"} {
		if !strings.Contains(is.Message, want) {
			t.Errorf("issue %q; want it to say %q", is.Message, want)
		}
	}
	v = flowValidation{}
	if code, body := h.postYAML("/api/v1/flows/validate", strings.Replace(doc, "CARD", "device-removed-from-user", 1), &v); code != 200 || !v.Valid {
		t.Errorf("validate on device-removed-from-user: %d %s; want valid", code, body)
	}
}
