package app

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestEventOfAConnectionWithoutFlows: an event that reached the inbox by
// the hook of a connection whose flows were all just disabled (the hook
// is still being deleted at Okta) starts the run of a flow of another
// connection to the same org, whose System Log poll reads the event only
// after it was stored; and is marked dispatched, so that the retention
// purge can remove it.
func TestEventOfAConnectionWithoutFlows(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now, c.EventPollInterval = emu.Now, 100*time.Millisecond })
	h.connect("Prod devices")
	second := h.connect("Second")
	hooked := storeEnabledFlow(t, h, "hook")
	waitHookVerified(t, emu)
	polled := storeEnabledDoc(t, h, strings.ReplaceAll(strings.Replace(strings.Replace(quarantineYAML, "DELIVERY", "poll", 1),
		"name: quarantine-on-user-removal", "name: quarantine-second", 1), "Prod devices", "Second"))
	waitFor(t, "a first System Log poll of the second connection", func() bool {
		src, err := h.app.Store.GetEventSource(t.Context(), second.ID)
		return err == nil && src.PollNext != ""
	})

	// The second connection's next poll waits at Okta until the hook has
	// delivered (every 100 ms, it would otherwise race the delivery).
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	polls := emu.Hold(t, "GET", "/api/v1/logs", 0)
	if err := polls.Await(ctx, 1); err != nil {
		t.Fatalf("no System Log poll of the second connection came: %v", err)
	}
	// The intake's round that deletes the hook waits at Okta; meanwhile
	// the hook delivers a removal.
	hold := emu.Hold(t, "POST", "/api/v1/eventHooks/{eventHookId}/lifecycle/deactivate", 0)
	if code, body := h.call("POST", "/api/v1/flows/"+hooked+"/disable", nil, nil); code != http.StatusOK {
		t.Fatalf("disable: %d %s", code, body)
	}
	if err := hold.Await(ctx, 1); err != nil {
		t.Fatalf("the hook's deactivation never came: %v", err)
	}
	emu.AdvanceClock(t, time.Second)
	d := enrollDevice(t, emu, "jonas.berg@example.com")
	removeDeviceUser(t, emu, d, "jonas.berg@example.com")
	if err := emu.Org.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := h.app.Store.ListEvents(t.Context(), store.EventFilter{Limit: 100})
	if err != nil || len(evs) != 1 || evs[0].ConnectionID == second.ID {
		t.Fatalf("inbox before the hook is gone: %v, %+v; want the removal, received by the first connection's hook", err, evs)
	}
	hold.Release()
	polls.Release()

	waitFor(t, "the run of the second connection's flow for the removal", func() bool { return len(h.runsOf(polled)) == 1 })
	waitFor(t, "the removal dispatched", func() bool {
		evs, err := h.app.Store.UndispatchedEvents(t.Context(), evs[0].ConnectionID, nil, 10)
		return err == nil && len(evs) == 0
	})
	if runs := h.runsOf(hooked); len(runs) != 0 {
		t.Errorf("the disabled flow has runs %+v; want none", runs)
	}
}

// TestDeletedConnectionsLastEvents: an event the inbox received for a
// connection after the intake's last round, when the connection is then
// deleted, starts the run of the flow of another connection to the same
// org (whose own poll would find it stored already) and does not stay
// undispatched, which no purge removes, for good.
func TestDeletedConnectionsLastEvents(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	// No round but those a change wakes: the event waits for the deletion.
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now, c.EventPollInterval = emu.Now, time.Hour })
	first := h.connect("Prod devices")
	h.connect("Second")
	storeEnabledFlow(t, h, "poll")
	polled := storeEnabledDoc(t, h, strings.ReplaceAll(strings.Replace(strings.Replace(quarantineYAML, "DELIVERY", "poll", 1),
		"name: quarantine-on-user-removal", "name: quarantine-second", 1), "Prod devices", "Second"))
	emu.AdvanceClock(t, time.Second)
	now := emu.Now()
	raw := `{"uuid":"0f6c2a9e-4f1b-4c8e-9d3a-6b7e5a1c2d3f","eventType":"device.user.remove","published":"` +
		now.UTC().Format("2006-01-02T15:04:05.000Z") + `","target":[{"id":"guo1","type":"UDDevice"},{"id":"00u1","type":"User","alternateId":"jonas.berg@example.com"}]}`
	ev := &store.Event{UUID: "0f6c2a9e-4f1b-4c8e-9d3a-6b7e5a1c2d3f", ConnectionID: first.ID, EventType: "device.user.remove",
		Published: now, ReceivedAt: now, Raw: []byte(raw)}
	if _, err := h.app.Store.PutEvents(t.Context(), []*store.Event{ev}, store.ViaHook); err != nil {
		t.Fatal(err)
	}
	if code, body := h.call("DELETE", "/api/v1/connections/"+first.ID, nil, nil); code != http.StatusOK {
		t.Fatalf("delete the connection: %d %s", code, body)
	}
	if evs, err := h.app.Store.UndispatchedEvents(t.Context(), first.ID, nil, 10); err != nil || len(evs) != 0 {
		t.Errorf("undispatched events of the deleted connection: %d, %v; want none", len(evs), err)
	}
	if runs := h.runsOf(polled); len(runs) != 1 {
		t.Errorf("runs of the second connection's flow: %+v; want the one of the event", runs)
	}
}
