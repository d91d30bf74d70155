package main

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/api"
)

// TestPrintFlowsWithoutAccess: people list's last table names each login
// without access whose enabled flows act as them, with the flows and what
// to do about them.
func TestPrintFlowsWithoutAccess(t *testing.T) {
	var b strings.Builder
	printFlowsWithoutAccess(&b, []api.FlowsActingAs{{Login: "gone@example.com", EnabledFlows: []string{"nightly", "offboard"}}})
	out := b.String()
	for _, want := range []string{"Flows that act as people without access", "cardflow flows disable NAME", "LOGIN", "FLOWS ENABLED"} {
		if !strings.Contains(out, want) {
			t.Errorf("output has no %q:\n%s", want, out)
		}
	}
	var row []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "gone@example.com") {
			row = strings.Fields(line)
		}
	}
	if len(row) != 3 || row[1] != "nightly," || row[2] != "offboard" {
		t.Errorf("row %q; want gone@example.com with nightly, offboard:\n%s", row, out)
	}
}
