package console_test

import (
	"strings"
	"testing"
)

// TestRunFormMarksConnectionsWithoutTheScope: a card's Connection list
// marks an active connection that was not granted the card's scope, as it
// marks one that is not active, where it listed it as any other and the
// choice was found wrong only by the run that failed with Insufficient
// Scope. A card whose scope it has lists it plainly.
func TestRunFormMarksConnectionsWithoutTheScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	reader := e.connect(t, "Reader", &[]string{"okta.devices.read"})
	c, _, _ := signInHTTP(t, e.url, "/cards")
	for _, tc := range []struct {
		card       string
		prod, read string
	}{
		{"suspend-device", "Prod", "Reader (not granted okta.devices.manage)"},
		{"read-device", "Prod", "Reader"},
	} {
		_, page := get(t, c, e.url+"/cards/okta-devices/"+tc.card)
		for id, want := range map[string]string{prod.ID: tc.prod, reader.ID: tc.read} {
			if opt := `<option value="` + id + `">` + want + `</option>`; !strings.Contains(page, opt) {
				t.Errorf("the %s form lacks %s", tc.card, opt)
			}
		}
	}
}
