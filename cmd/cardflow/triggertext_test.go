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
