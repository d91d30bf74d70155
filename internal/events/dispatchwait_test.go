package events

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestDispatchWaitsForAFlowsConnection: the events of a flow whose
// trigger's connection cannot run cards now (EventFlow.Waiting) stay
// undispatched, without a run of it, while the runs of the other flows,
// of the same events and of later ones, start; once the connection is
// active again, each waiting event starts its run of that flow once, in
// order of publication.
func TestDispatchWaitsForAFlowsConnection(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var evs []*store.Event
	event := func(i int, typ, target string) {
		uuid := fmt.Sprintf("u%d", i)
		at := base.Add(time.Duration(i) * time.Second)
		raw := `{"uuid":"` + uuid + `","eventType":"` + typ + `","published":"` + at.Format(time.RFC3339Nano) +
			`","target":[{"id":"guo` + uuid + `","type":"UDDevice"}` + target + `]}`
		evs = append(evs, &store.Event{UUID: uuid, ConnectionID: connID, EventType: typ, Published: at, Raw: json.RawMessage(raw), ReceivedAt: base})
	}
	user := `,{"id":"00u1","type":"User","alternateId":"alice.nguyen@example.com"}`
	event(1, "device.user.remove", user)
	event(2, "device.enrollment.create", user)
	event(3, "device.user.remove", user)
	event(4, "device.enrollment.create", user)
	if _, err := in.st.PutEvents(t.Context(), evs, store.ViaHook); err != nil {
		t.Fatal(err)
	}
	// Two flows on removals, one of another connection to the org whose
	// connection needs reauthorization; one on enrollments.
	waiting := parsedFlow(t, "f-waiting", quarantineFlow, "device.user.remove", base)
	waiting.ConnectionID, waiting.Waiting = "conn-other", "connection Other is needs_reauthorization"
	flows := []EventFlow{
		parsedFlow(t, "f-quarantine", quarantineFlow, "device.user.remove", base),
		waiting,
		parsedFlow(t, "f-welcome", welcomeFlow, "device.enrollment.create", base),
	}
	var order []string
	counted := &startCounter{Store: in.st}
	d := &Dispatcher{Store: counted, Runs: flowrun.New(flowrun.Config{Store: in.st}), Started: func(r *store.FlowRun) {
		order = append(order, r.FlowID+" "+r.TriggerKey)
	}}
	res, err := d.Dispatch(t.Context(), connID, flows, time.Time{})
	if err != nil || res.Started != 4 || res.Events != 2 || res.Waiting != 2 || !res.Deferred {
		t.Fatalf("dispatch while a flow's connection needs reauthorization: %+v, %v; want 4 runs started, 2 events dispatched, 2 waiting", res, err)
	}
	if want := fmt.Sprint([]string{"f-quarantine event:u1", "f-welcome event:u2", "f-quarantine event:u3", "f-welcome event:u4"}); fmt.Sprint(order) != want {
		t.Errorf("runs started %v; want %s", order, want)
	}
	tries := counted.starts
	if res, err := d.Dispatch(t.Context(), connID, flows, time.Time{}); err != nil || res.Started != 0 || res.Waiting != 2 {
		t.Fatalf("dispatch again: %+v, %v; want nothing started, the 2 removals still waiting", res, err)
	}
	// The waiting removals' runs of f-quarantine, started at the first
	// round, are not tried again, a transaction each, at every round.
	if n := counted.starts - tries; n != 0 {
		t.Errorf("dispatch again tried %d runs; want none", n)
	}

	// Reauthorized.
	order = nil
	flows[1].Waiting = ""
	res, err = d.Dispatch(t.Context(), connID, flows, time.Time{})
	if err != nil || res.Started != 2 || res.Events != 2 || res.Waiting != 0 || res.Deferred {
		t.Fatalf("dispatch once the connection is active: %+v, %v; want the 2 waiting runs", res, err)
	}
	if want := fmt.Sprint([]string{"f-waiting event:u1", "f-waiting event:u3"}); fmt.Sprint(order) != want {
		t.Errorf("runs started %v; want %s", order, want)
	}
	for _, id := range []string{"f-quarantine", "f-waiting", "f-welcome"} {
		if runs, err := in.st.ListFlowRuns(t.Context(), id, 10); err != nil || len(runs) != 2 {
			t.Errorf("runs of %s: %d, %v; want 2", id, len(runs), err)
		}
	}
	if left, err := in.st.UndispatchedEvents(t.Context(), connID, nil, 10); err != nil || len(left) != 0 {
		t.Errorf("undispatched events: %d, %v; want none", len(left), err)
	}
}

// TestDispatchReadsPastABatchThatWaits: more events than Dispatch reads at
// a time wait for a flow whose connection needs reauthorization; a later
// event of another flow starts its run all the same, where the waiting
// batch held it back until the reauthorization.
func TestDispatchReadsPastABatchThatWaits(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var evs []*store.Event
	event := func(i int, typ string) {
		uuid := fmt.Sprintf("u%04d", i)
		at := base.Add(time.Duration(i) * time.Second)
		raw := `{"uuid":"` + uuid + `","eventType":"` + typ + `","published":"` + at.Format(time.RFC3339Nano) +
			`","target":[{"id":"guo` + uuid + `","type":"UDDevice"},{"id":"00u1","type":"User","alternateId":"alice.nguyen@example.com"}]}`
		evs = append(evs, &store.Event{UUID: uuid, ConnectionID: connID, EventType: typ, Published: at, Raw: json.RawMessage(raw), ReceivedAt: base})
	}
	for i := range dispatchBatch + 1 {
		event(i, "device.user.remove")
	}
	event(dispatchBatch+1, "device.enrollment.create")
	if _, err := in.st.PutEvents(t.Context(), evs, store.ViaHook); err != nil {
		t.Fatal(err)
	}
	waiting := parsedFlow(t, "f-waiting", quarantineFlow, "device.user.remove", base)
	waiting.ConnectionID, waiting.Waiting = "conn-other", "connection Other is needs_reauthorization"
	flows := []EventFlow{waiting, parsedFlow(t, "f-welcome", welcomeFlow, "device.enrollment.create", base)}
	var started []string
	d := &Dispatcher{Store: in.st, Runs: flowrun.New(flowrun.Config{Store: in.st}), Started: func(r *store.FlowRun) {
		started = append(started, r.FlowID+" "+r.TriggerKey)
	}}
	res, err := d.Dispatch(t.Context(), connID, flows, time.Time{})
	if err != nil || res.Started != 1 || res.Events != 1 || res.Waiting != dispatchBatch+1 {
		t.Fatalf("dispatch: %+v, %v; want the enrollment's run started and dispatched, %d removals waiting", res, err, dispatchBatch+1)
	}
	if want := fmt.Sprint([]string{fmt.Sprintf("f-welcome event:u%04d", dispatchBatch+1)}); fmt.Sprint(started) != want {
		t.Errorf("runs started %v; want %s", started, want)
	}
}

// startCounter counts the runs a dispatcher tries to start.
type startCounter struct {
	store.Store
	starts int
}

func (c *startCounter) StartEventRun(ctx context.Context, uuid, flowID string, run *store.FlowRun) error {
	c.starts++
	return c.Store.StartEventRun(ctx, uuid, flowID, run)
}
