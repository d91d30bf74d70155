package card

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDeletedBefore: a delete item whose interrupted attempt deleted the
// device gives the card's outputs, deactivated as the attempt decided it
// from the item's input, and never changed (a delete has no such output).
func TestDeletedBefore(t *testing.T) {
	tests := []struct {
		name  string
		input map[string]any
		want  map[string]any
	}{
		{"no deactivateFirst", map[string]any{"deviceId": "guo1"},
			map[string]any{"deviceId": "guo1", "deleted": true, "deactivated": false, "basis": "read", "note": "already deleted by the interrupted attempt"}},
		{"deactivateFirst of a suspended device", map[string]any{"deviceId": "guo1", "status": "SUSPENDED", "deactivateFirst": true},
			map[string]any{"deviceId": "guo1", "deleted": true, "deactivated": true, "basis": "read", "note": "already deleted by the interrupted attempt"}},
		{"deactivateFirst of a deactivated device", map[string]any{"deviceId": "guo1", "status": "deactivated", "deactivateFirst": true},
			map[string]any{"deviceId": "guo1", "deleted": true, "deactivated": false, "basis": "read", "note": "already deleted by the interrupted attempt"}},
		{"deactivateFirst of a device of unknown status", map[string]any{"deviceId": "guo1", "deactivateFirst": true},
			map[string]any{"deviceId": "guo1", "deleted": true, "basis": "read", "note": "already deleted by the interrupted attempt, which may have deactivated it first"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, deletedBefore(Request{Input: tt.input})); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}
