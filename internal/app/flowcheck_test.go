package app

import (
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestFlowValidateOnePass: POST /api/v1/flows/validate reports an
// expression that does not compile together with an unknown card and a
// missing connection, each at its own line (the connection's, not its
// step's).
func TestFlowValidateOnePass(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 3}, nil)
	h.connect("Prod")
	src := strings.NewReplacer(
		"okta-devices/search-devices", "okta-devices/search-device",
		"connection: Prod\n    for_each", "connection: Staging\n    for_each",
		`"${{ inputs.platform }}"`, `"${{ inputs.platform + }}"`,
	).Replace(suspendActiveFlow)
	var v flowValidation
	if code, data := h.postYAML("/api/v1/flows/validate", src, &v); code != 200 || v.Valid {
		t.Fatalf("validate: %d %s; want invalid", code, data)
	}
	want := []struct {
		line     int
		contains string
	}{
		{7, `unknown card "okta-devices/search-device"`},
		{10, "Syntax error"},
		{14, `there is no okta-devices connection "Staging"`},
	}
	for _, w := range want {
		found := false
		for _, is := range v.Issues {
			if is.Line == w.line && strings.Contains(is.Message, w.contains) {
				found = true
			}
		}
		if !found {
			t.Errorf("no issue on line %d containing %q; got %+v", w.line, w.contains, v.Issues)
		}
	}
}

// TestFlowValidateOutputFields: what a step selects from a card's output,
// and from the items of a for_each over one, is checked against the keys
// the card declares, so a misspelt key is refused when the flow is
// validated (and stored or enabled), not when a run reaches it; so are a
// for_each of what the card outputs as a number and an if of a string.
func TestFlowValidateOutputFields(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	h.connect("Prod")
	for _, tt := range []struct {
		old, new string
		line     int
		want     string
	}{
		{"steps.find.output.devices", "steps.find.output.device", 15,
			`steps.find.output.device: step "find" (okta-devices/search-devices) has no output "device" (did you mean "devices"?); its output has devices, count`},
		{"item.id", "item.profile.displayname", 18,
			`item.profile.displayname: item.profile has no field "displayname" (did you mean "displayName"?); its fields are displayName, platform, registered, manufacturer, model, osVersion, serialNumber, imei, meid, udid, sid, tpmPublicKeyHash, diskEncryptionType, secureHardwarePresent, integrityJailbreak, managed`},
		// What the card's output shape says a value is: every run would
		// fail there.
		{"${{ steps.find.output.devices }}", "${{ steps.find.output.count }}", 15,
			`for_each: ${{ steps.find.output.count }} gives a number; it must give a list, e.g. for_each: ${{ steps.find.output.devices }}`},
		{"    concurrency: 3\n", "    concurrency: 3\n    if: ${{ item.profile.platform }}\n", 17,
			`if: ${{ item.profile.platform }} gives a string; it must give true or false, e.g. if: ${{ item.status == "ACTIVE" }}`},
	} {
		var v flowValidation
		src := strings.Replace(suspendActiveFlow, tt.old, tt.new, 1)
		if code, data := h.postYAML("/api/v1/flows/validate", src, &v); code != 200 || v.Valid {
			t.Fatalf("validate with %s: %d %s; want invalid", tt.new, code, data)
		}
		if len(v.Issues) != 1 || v.Issues[0].Line != tt.line || v.Issues[0].Message != tt.want {
			t.Errorf("issues %+v; want one on line %d: %s", v.Issues, tt.line, tt.want)
		}
	}
}

// TestFlowScheduleJudgedOnServerClock: whether a cron schedule ever fires
// is judged on the server's clock (Config.Now), not the wall clock: on
// 1 March 2097, February 29th at midnight does not fire within five years
// (2100 is no leap year).
func TestFlowScheduleJudgedOnServerClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2097, 3, 1, 0, 0, 0, 0, time.UTC)
	h := startHarness(t, oktaemu.Config{Devices: 1}, func(c *Config) { c.Now = func() time.Time { return now } })
	src := "name: leap\ninputs:\n  since: {type: string, required: true}\n" +
		"on:\n  schedule:\n    cron: \"0 0 29 2 *\"\n  inputs: {since: x}\n" +
		"steps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Prod\n"
	var v flowValidation
	if code, data := h.postYAML("/api/v1/flows/validate", src, &v); code != 200 || v.Valid {
		t.Fatalf("validate: %d %s; want invalid", code, data)
	}
	found := false
	for _, is := range v.Issues {
		found = found || strings.Contains(is.Message, "never fires")
	}
	if !found {
		t.Errorf("issues %+v; want the schedule's never firing, on the server's clock", v.Issues)
	}
}
