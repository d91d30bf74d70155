package events

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestHoldOfSaysWhyDispatchWaits: HoldOf tells why Dispatch would hold an
// event back: a flow of its type whose enabling the org's clock has not
// told, before anything else; else the flows it would start whose
// connection cannot run cards, leaving out those whose if turns it down
// and those enabled after it was published; else nothing.
func TestHoldOfSaysWhyDispatchWaits(t *testing.T) {
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	event := func(typ, login string, at time.Time) *store.Event {
		raw := fmt.Sprintf(`{"uuid":"u1","eventType":%q,"published":%q,"target":[{"id":"guo1","type":"UDDevice"},{"id":"00u1","type":"User","alternateId":%q}]}`,
			typ, at.Format(time.RFC3339Nano), login)
		return &store.Event{UUID: "u1", ConnectionID: connID, EventType: typ, Published: at, Raw: json.RawMessage(raw)}
	}
	waiting := parsedFlow(t, "f-waiting", quarantineFlow, "device.user.remove", base)
	waiting.Waiting = "connection Prod devices is needs_reauthorization"
	unclocked := parsedFlow(t, "f-welcome", welcomeFlow, "device.enrollment.create", time.Time{})
	flows := []EventFlow{parsedFlow(t, "f-other", quarantineFlow, "device.user.remove", base), waiting, unclocked}
	ids := func(fs []EventFlow) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Flow.ID)
		}
		return fmt.Sprint(out)
	}
	for _, tc := range []struct {
		name                string
		e                   *store.Event
		unclocked, waitsFor string
	}{
		{"a removal", event("device.user.remove", "alice.nguyen@example.com", base.Add(time.Second)), "[]", "[f-waiting]"},
		{"a removal the if turns down", event("device.user.remove", "bob.martin@example.com", base.Add(time.Second)), "[]", "[]"},
		{"a removal before the enabling", event("device.user.remove", "alice.nguyen@example.com", base.Add(-time.Second)), "[]", "[]"},
		{"an enrollment", event("device.enrollment.create", "alice.nguyen@example.com", base.Add(time.Second)), "[f-welcome]", "[]"},
		{"another type", event("device.lifecycle.suspend", "alice.nguyen@example.com", base.Add(time.Second)), "[]", "[]"},
	} {
		h := HoldOf(t.Context(), tc.e, flows)
		if got := ids(h.Unclocked); got != tc.unclocked {
			t.Errorf("%s: Unclocked %s; want %s", tc.name, got, tc.unclocked)
		}
		if got := ids(h.Waiting); got != tc.waitsFor {
			t.Errorf("%s: Waiting %s; want %s", tc.name, got, tc.waitsFor)
		}
	}
}
