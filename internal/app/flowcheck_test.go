package app

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestFlowValidateOnePass: POST /api/v1/flows/validate reports an
// expression that does not compile together with an unknown card and a
// missing connection, each at its own line.
func TestFlowValidateOnePass(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 3}, nil)
	h.connect("Prod")
	src := strings.NewReplacer(
		"okta-devices/search-devices", "okta-devices/search-device",
		"connection: Prod\n    for_each", "connection: Staging\n    for_each",
		`"${{ inputs.platform }}"`, `"${{ inputs.platform + }}"`,
	).Replace(suspendActiveFlow)
	var v struct {
		Valid  bool `json:"valid"`
		Issues []struct {
			Line    int    `json:"line"`
			Column  int    `json:"column"`
			Message string `json:"message"`
		} `json:"issues"`
	}
	if code, data := h.postYAML("/api/v1/flows/validate", src, &v); code != 200 || v.Valid {
		t.Fatalf("validate: %d %s; want invalid", code, data)
	}
	want := []struct {
		line     int
		contains string
	}{
		{7, `unknown card "okta-devices/search-device"`},
		{10, "Syntax error"},
		{12, `there is no okta-devices connection "Staging"`},
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
