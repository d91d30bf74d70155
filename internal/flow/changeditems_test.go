package flow

import "testing"

// TestChangedItems: a step counts the succeeded items whose card changed
// their device (changed or deleted true), not those already so, failed
// or skipped; a step whose outputs do not say (a read) has no count.
func TestChangedItems(t *testing.T) {
	ok := func(out map[string]any) *itemOutcome { return &itemOutcome{status: StatusSucceeded, output: out} }
	for _, tt := range []struct {
		name     string
		outcomes []*itemOutcome
		want     int // -1: no count
	}{
		{"suspensions", []*itemOutcome{
			ok(map[string]any{"status": "SUSPENDED", "changed": true}),
			ok(map[string]any{"status": "SUSPENDED", "changed": false}),
			{status: StatusFailed},
			{status: StatusSkipped},
			nil, // not run
			ok(map[string]any{"status": "SUSPENDED", "changed": true}),
		}, 2},
		{"deletes", []*itemOutcome{ok(map[string]any{"deleted": true, "deactivated": true}), ok(map[string]any{"deleted": true})}, 2},
		{"none changed", []*itemOutcome{ok(map[string]any{"status": "ACTIVE", "changed": false})}, 0},
		{"a read", []*itemOutcome{ok(map[string]any{"devices": []any{}, "count": 0})}, -1},
		{"all failed", []*itemOutcome{{status: StatusFailed}}, -1},
	} {
		got := changedItems(tt.outcomes)
		switch {
		case tt.want < 0 && got != nil:
			t.Errorf("%s: changed %d; want no count", tt.name, *got)
		case tt.want >= 0 && (got == nil || *got != tt.want):
			t.Errorf("%s: changed %v; want %d", tt.name, got, tt.want)
		}
	}
}

// changedN is a step's count of changed items, as StepResult holds it.
func changedN(n int) *int { return &n }
