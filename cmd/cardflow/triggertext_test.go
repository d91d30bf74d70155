package main

import (
	"testing"

	"github.com/cardflow/cardflow/internal/api"
)

// TestTriggerTextStartingDeadline: flows list and flows store name a
// schedule's startingDeadline beside it.
func TestTriggerTextStartingDeadline(t *testing.T) {
	for _, tt := range []struct {
		trigger map[string]any
		want    string
	}{
		{map[string]any{"kind": "schedule", "cron": "0 2 * * *", "timezone": "Europe/Berlin"}, "cron 0 2 * * * Europe/Berlin"},
		{map[string]any{"kind": "schedule", "cron": "0 2 * * *", "timezone": "Europe/Berlin", "startingDeadline": "2h"}, "cron 0 2 * * * Europe/Berlin, starting deadline 2h"},
		{map[string]any{"kind": "schedule", "every": "15m", "timezone": "UTC", "startingDeadline": "5m"}, "every 15m UTC, starting deadline 5m"},
	} {
		if got := triggerText(&api.Flow{Trigger: tt.trigger}); got != tt.want {
			t.Errorf("triggerText(%v) = %q; want %q", tt.trigger, got, tt.want)
		}
	}
}

// TestDroppedRerunsText: flows disable says which waiting automatic
// reruns it dropped, that enabling does not bring them back, and the
// command that runs one by hand; nothing when it dropped none.
func TestDroppedRerunsText(t *testing.T) {
	if got := droppedRerunsText(&api.Flow{Name: "q"}); got != "" {
		t.Errorf("without dropped reruns: %q; want nothing", got)
	}
	got := droppedRerunsText(&api.Flow{Name: "q", DroppedReruns: []string{"fr_1", "fr_2"}})
	want := "Dropped 2 failed event runs that waited for their connection to run again by themselves (fr_1, fr_2): enabling the flow again does not bring them back. To run the failed items of one anyway: cardflow flows rerun fr_1 --failed-only\n"
	if got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}
