package web

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/problem"
)

// TestCardFilter: the run lists' card filter completes a short name and
// refuses an unknown card with the cards that run, a misspelt one with the
// nearest card first.
func TestCardFilter(t *testing.T) {
	conns := card.Connectors()
	for _, tc := range []struct {
		name, in, ref string
		remedy        []string // what the refusal's remedy says; none for a card found
	}{
		{"full reference", "okta-devices/read-device", "okta-devices/read-device", nil},
		{"short name", "read-device", "okta-devices/read-device", nil},
		{"misspelt", "okta-devices/serch-devices", "", []string{"did you mean okta-devices/search-devices?", "okta-devices/suspend-device"}},
		{"misspelt short name", "suspend-devices", "", []string{"did you mean okta-devices/suspend-device?"}},
		{"unknown", "okta-users/list-users", "", []string{"use one of okta-devices/search-devices, "}},
		{"event card", "device-suspended", "", []string{"use one of "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := CardFilter(conns, tc.in)
			if tc.remedy == nil {
				if err != nil || ref != tc.ref {
					t.Fatalf("CardFilter(%q) = %q, %v; want %q", tc.in, ref, err, tc.ref)
				}
				return
			}
			p, ok := problem.As(err)
			if !ok || p.Code != problem.InvalidInput {
				t.Fatalf("CardFilter(%q) = %q, %v; want an invalid_input problem", tc.in, ref, err)
			}
			for _, w := range tc.remedy {
				if !strings.Contains(p.Remedy, w) {
					t.Errorf("remedy %q; want it to contain %q", p.Remedy, w)
				}
			}
			if strings.Contains(p.Remedy, "device-suspended") {
				t.Errorf("remedy %q offers an event card, which never runs", p.Remedy)
			}
		})
	}
}
