package main

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/api"
)

func TestFindCard(t *testing.T) {
	conns := []api.Connector{{ID: "okta-devices", Cards: []api.Card{
		{Ref: "okta-devices/suspend-device", Kind: "action"},
		{Ref: "okta-devices/read-device", Kind: "action"},
		{Ref: "okta-devices/device-suspended", Kind: "event"},
	}}}
	for _, ref := range []string{"suspend-device", "okta-devices/read-device", "device-suspended"} {
		if cd, err := findCard(conns, ref); err != nil || !strings.HasSuffix(cd.Ref, "/"+strings.TrimPrefix(ref, "okta-devices/")) {
			t.Errorf("findCard(%q) = %v, %v; want the card", ref, cd, err)
		}
	}
	// The cards an unknown one is refused with are those that run: an
	// event card offered there is then refused as one that cannot run.
	_, err := findCard(conns, "melt-device")
	want := `unknown card "melt-device"; cards: okta-devices/read-device, okta-devices/suspend-device`
	if err == nil || err.Error() != want {
		t.Errorf("findCard(melt-device) = %v; want %q", err, want)
	}

	for _, tt := range []struct{ ref, want string }{
		{"suspnd-device", `unknown card "suspnd-device"; did you mean suspend-device?`},
		{"okta-devices/raed-device", `unknown card "okta-devices/raed-device"; did you mean okta-devices/read-device?`},
		{"okta-device/read-device", `unknown card "okta-device/read-device"; did you mean okta-devices/read-device?`},
		{"suspend", `unknown card "suspend"; did you mean suspend-device?`},
	} {
		if _, err := findCard(conns, tt.ref); err == nil || err.Error() != tt.want {
			t.Errorf("findCard(%q) = %v; want %q", tt.ref, err, tt.want)
		}
	}
}
