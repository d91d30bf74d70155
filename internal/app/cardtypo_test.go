package app

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestFlowValidateSuggestsCards: a misspelt card in a flow is answered
// with the nearest card, and a card named without its connector (as
// cardflow run takes it) with its full reference, so that the fix of a
// typo is in the message.
func TestFlowValidateSuggestsCards(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	h.connect("Prod")
	tests := []struct {
		name, from, to, want string
	}{
		{"misspelt", "okta-devices/search-devices", "okta-devices/serch-devices", `did you mean "okta-devices/search-devices"?`},
		{"short name", "okta-devices/suspend-device", "unsuspend-device", "write connector/card, e.g. okta-devices/unsuspend-device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v flowValidation
			doc := strings.Replace(suspendActiveFlow, tt.from, tt.to, 1)
			code, data := h.postYAML("/api/v1/flows/validate", doc, &v)
			if code != 200 || v.Valid || len(v.Issues) == 0 || !strings.Contains(v.Issues[0].Message, tt.want) {
				t.Errorf("validate with card %s: %d %s; want an issue saying %s", tt.to, code, data, tt.want)
			}
		})
	}
}
