package web

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/store"
)

// TestRunTriggerNamesItsEvent: the trigger of a run an event started, as
// the run keeps it, gives the event's type and the device and user it is
// about, also once the inbox no longer holds the event; a lifecycle event
// names no user, and a run kept by an earlier version without trigger.event
// gives its uuid alone.
func TestRunTriggerNamesItsEvent(t *testing.T) {
	at := time.Date(2026, 12, 7, 4, 55, 42, 100e6, time.UTC)
	run := func(f flow.Firing) *store.FlowRun {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		return &store.FlowRun{CreatedAt: at, Trigger: b}
	}
	event := func(typ string, user map[string]any) map[string]any {
		return map[string]any{"uuid": "e-1", "eventType": typ, "published": at.Format(time.RFC3339Nano),
			"device": map[string]any{"id": "guo1", "displayName": "Ann's Mac"}, "user": user,
			"raw": map[string]any{"eventType": typ}}
	}
	tests := []struct {
		name string
		f    flow.Firing
		want *api.FlowRunTrigger
	}{
		{"a user's event", flow.Firing{Kind: flow.KindEvent, Time: at, EventUUID: "e-1",
			Event: event("device.user.remove", map[string]any{"id": "00u1", "login": "ann@example.com"})},
			&api.FlowRunTrigger{Kind: "event", Time: at, EventUUID: "e-1", EventType: "device.user.remove",
				Device: &api.EventDevice{ID: "guo1", DisplayName: "Ann's Mac"}, User: &api.EventUser{ID: "00u1", Login: "ann@example.com"}}},
		{"a lifecycle event", flow.Firing{Kind: flow.KindEvent, Time: at, EventUUID: "e-1",
			Event: event("device.lifecycle.suspend", map[string]any{"id": "", "login": ""})},
			&api.FlowRunTrigger{Kind: "event", Time: at, EventUUID: "e-1", EventType: "device.lifecycle.suspend",
				Device: &api.EventDevice{ID: "guo1", DisplayName: "Ann's Mac"}}},
		{"an earlier version's run", flow.Firing{Kind: flow.KindEvent, Time: at, EventUUID: "e-1"},
			&api.FlowRunTrigger{Kind: "event", Time: at, EventUUID: "e-1"}},
		{"a tick", flow.Firing{Kind: flow.KindSchedule, Time: at}, &api.FlowRunTrigger{Kind: "schedule", Time: at}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, runTrigger(run(tt.f))); diff != "" {
				t.Errorf("runTrigger (-want +got):\n%s", diff)
			}
		})
	}
}
