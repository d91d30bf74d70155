package app

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestRerunEndOnAnotherServerWakesTheDispatch: a flow's event waits in
// the inbox for the automatic rerun of an earlier event's run, which
// another server on the same database runs (the test plays it). When that
// rerun ends, this server dispatches the event within moments, as the
// server that ran it does, rather than at its next interval (an hour
// here).
func TestRerunEndOnAnotherServerWakesTheDispatch(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.Now, c.EventPollInterval, c.Owner = emu.Now, time.Hour, "server-1"
	})
	ctx := t.Context()
	conn := h.connect("Prod devices")
	flowID := storeEnabledFlow(t, h, "hook")
	waitHookVerified(t, emu)
	fl, err := h.app.Store.GetFlow(ctx, flowID)
	if err != nil {
		t.Fatal(err)
	}
	// server-2 runs the automatic rerun of an earlier event's run.
	trigger, _ := json.Marshal(map[string]any{"kind": "event", "time": emu.Now().Add(-time.Minute), "eventUuid": "earlier"})
	rerun := &store.FlowRun{FlowID: fl.ID, FlowName: fl.Name, Source: fl.Source, FlowVersion: fl.Version, RerunOf: "fr_earlier",
		Inputs: json.RawMessage(`{"deviceId":"guo-earlier"}`), Trigger: trigger, TriggerKey: "rerun:earlier",
		Status: "running", Actor: store.ServerActor, Owner: "server-2", LeaseUntil: emu.Now().Add(time.Hour), CreatedAt: emu.Now()}
	if err := h.app.Store.CreateFlowRun(ctx, rerun); err != nil {
		t.Fatal(err)
	}
	device := enrollDevice(t, emu, "jonas.berg@example.com")
	removeDeviceUser(t, emu, device, "jonas.berg@example.com")
	waitFor(t, "the removal in the inbox", func() bool {
		evs, err := h.app.Store.UndispatchedEvents(ctx, conn.ID, nil, 10)
		return err == nil && len(evs) == 1
	})
	h.app.events.DispatchRound(ctx)
	if runs := h.runsOf(flowID); len(runs) != 1 {
		t.Fatalf("%d runs of the flow while the rerun runs on server-2; want its rerun alone, the removal waiting", len(runs))
	}
	if evs, err := h.app.Store.UndispatchedEvents(ctx, conn.ID, nil, 10); err != nil || len(evs) != 1 {
		t.Fatalf("undispatched events while the rerun runs on server-2: %d, %v; want the removal", len(evs), err)
	}

	rerun.Status, rerun.FinishedAt, rerun.Owner, rerun.LeaseUntil = "succeeded", emu.Now(), "", time.Time{}
	if err := h.app.Store.UpdateFlowRun(ctx, rerun); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removal's run, once the rerun ended on server-2", func() bool {
		return len(h.runsOf(flowID)) == 2
	})
}
