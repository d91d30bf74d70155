package events

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

const quarantineFlow = `name: quarantine-on-user-removal
inputs:
  deviceId: {type: string, required: true}
  login: {type: string}
on:
  event:
    card: okta-devices/device-removed-from-user
    connection: Prod devices
    if: ${{ trigger.event.user.login != "bob.martin@example.com" }}
  inputs:
    deviceId: ${{ trigger.event.device.id }}
    login: ${{ trigger.event.user.login }}
steps:
  - id: read
    card: okta-devices/read-device
    connection: Prod devices
    input:
      deviceId: ${{ inputs.deviceId }}
`

const welcomeFlow = `name: welcome-new-device
inputs:
  deviceId: {type: string, required: true}
on:
  event:
    card: okta-devices/device-enrolled
    connection: Prod devices
  inputs:
    deviceId: ${{ trigger.event.device.id }}
steps:
  - id: read
    card: okta-devices/read-device
    connection: Prod devices
    input:
      deviceId: ${{ inputs.deviceId }}
`

// flowList is a fixed list of enabled flows.
type flowList []EventFlow

// of returns the flows of the connection id.
func (l flowList) of(id string) []EventFlow {
	var out []EventFlow
	for _, f := range l {
		if f.ConnectionID == id {
			out = append(out, f)
		}
	}
	return out
}

func parsedFlow(t *testing.T, id, src, eventType string, enabledAt time.Time) EventFlow {
	t.Helper()
	doc, err := flow.Parse([]byte(src))
	if err != nil {
		t.Fatalf("parse %s: %v", id, err)
	}
	fl := &store.Flow{ID: id, Name: doc.Name, Source: []byte(src), Enabled: true}
	return EventFlow{Flow: fl, Doc: doc, ConnectionID: connID, EventType: eventType, EnabledAt: enabledAt}
}

// TestDispatchExactlyOncePerFlow: every stored event starts exactly one run
// of each enabled flow it matches, in order of publication, also when two
// dispatchers run at once; a flow enabled later gets no older events; the
// trigger's if and inputs see trigger.event.
func TestDispatchExactlyOncePerFlow(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	since := in.srv.Org.Now()
	// 20 devices enrolled for alice, 10 for bob; each loses its user.
	var devices []string
	for i := range 30 {
		user := "alice.nguyen@example.com"
		if i%3 == 2 {
			user = "bob.martin@example.com"
		}
		in.control(t, "POST", "/_emulator/devices", `{"user":"`+user+`"}`)
	}
	in.pollUntilQuiet(t, since)
	for _, e := range in.inbox(t) {
		if e.EventType == "device.enrollment.create" {
			var le struct {
				Target []struct{ ID, Type, AlternateID string }
			}
			if err := json.Unmarshal(e.Raw, &le); err != nil {
				t.Fatal(err)
			}
			devices = append(devices, le.Target[0].ID+" "+le.Target[1].AlternateID)
		}
	}
	slices.Sort(devices)
	in.srv.AdvanceClock(t, time.Minute)
	enabledWelcome := in.srv.Org.Now() // enrollments before this are not its
	for _, d := range devices {
		id, login := d[:20], d[21:]
		in.control(t, "DELETE", "/_emulator/devices/"+id+"/users/"+login, "")
		in.srv.AdvanceClock(t, time.Second)
	}
	in.control(t, "POST", "/_emulator/devices", `{"user":"grace.okafor@example.com"}`)
	in.pollUntilQuiet(t, since)

	flows := flowList{
		parsedFlow(t, "f-quarantine", quarantineFlow, "device.user.remove", since),
		parsedFlow(t, "f-welcome", welcomeFlow, "device.enrollment.create", enabledWelcome),
	}
	var mu sync.Mutex
	var started []*store.FlowRun
	newDispatcher := func() *Dispatcher {
		return &Dispatcher{Store: in.st, Runs: flowrun.New(flowrun.Config{Store: in.st}), Started: func(r *store.FlowRun) {
			mu.Lock()
			started = append(started, r)
			mu.Unlock()
		}}
	}
	var wg sync.WaitGroup
	for range 2 {
		d := newDispatcher()
		wg.Go(func() {
			if _, err := d.Dispatch(t.Context(), connID, flows.of(connID), time.Time{}); err != nil {
				t.Errorf("dispatch: %v", err)
			}
		})
	}
	wg.Wait()
	// Dispatching again finds nothing to do.
	if res, err := newDispatcher().Dispatch(t.Context(), connID, flows.of(connID), time.Time{}); err != nil || res.Events != 0 || res.Started != 0 {
		t.Errorf("second dispatch: %+v, %v; want nothing", res, err)
	}

	quarantine, err := in.st.ListFlowRuns(t.Context(), "f-quarantine", 1000)
	if err != nil {
		t.Fatal(err)
	}
	welcome, err := in.st.ListFlowRuns(t.Context(), "f-welcome", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(quarantine) != 20 || len(welcome) != 1 || len(started) != 21 {
		t.Fatalf("%d quarantine runs (want 20: bob's are filtered out), %d welcome runs (want 1: grace's, enrolled after it was enabled), %d started",
			len(quarantine), len(welcome), len(started))
	}
	seen := map[string]bool{}
	for _, r := range quarantine {
		var fir flow.Firing
		if err := json.Unmarshal(r.Trigger, &fir); err != nil || r.Status != "queued" || r.TriggerKey != flowrun.EventKey(fir.EventUUID) || fir.Kind != flow.KindEvent {
			t.Fatalf("run %+v: %v", r, err)
		}
		// on.inputs, evaluated as a worker will, sees trigger.event.
		doc, _ := flow.Parse([]byte(quarantineFlow))
		inputs, err := doc.TriggerInputs(t.Context(), fir)
		if err != nil || inputs["login"] != "alice.nguyen@example.com" || seen[fmt.Sprint(inputs["deviceId"])] {
			t.Errorf("run inputs %v (%v); want each of alice's devices once", inputs, err)
		}
		seen[fmt.Sprint(inputs["deviceId"])] = true
	}
	// Every event is dispatched and lists its runs.
	for _, e := range in.inbox(t) {
		if e.DispatchedAt.IsZero() {
			t.Errorf("event %s not dispatched", e.UUID)
		}
		if len(e.FlowRuns) > 1 {
			t.Errorf("event %s started %d runs", e.UUID, len(e.FlowRuns))
		}
	}
}

// TestDispatchOrder: one dispatcher starts a connection's runs in order of
// the events' publication, whatever order they arrived in.
func TestDispatchOrder(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var evs []*store.Event
	for _, i := range []int{5, 1, 4, 2, 3} {
		raw := `{"uuid":"u` + string(rune('0'+i)) + `","eventType":"device.enrollment.create","published":"` +
			base.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano) + `","target":[{"id":"guo` + string(rune('0'+i)) + `","type":"UDDevice"}]}`
		evs = append(evs, &store.Event{UUID: "u" + string(rune('0'+i)), ConnectionID: connID, EventType: "device.enrollment.create",
			Published: base.Add(time.Duration(i) * time.Second), Raw: json.RawMessage(raw), ReceivedAt: base})
	}
	if _, err := in.st.PutEvents(t.Context(), evs, store.ViaHook); err != nil {
		t.Fatal(err)
	}
	var order []string
	flows := flowList{parsedFlow(t, "f-welcome", welcomeFlow, "device.enrollment.create", base)}
	d := &Dispatcher{Store: in.st,
		Runs: flowrun.New(flowrun.Config{Store: in.st}),
		Started: func(r *store.FlowRun) {
			var fir flow.Firing
			_ = json.Unmarshal(r.Trigger, &fir)
			dev, _ := fir.Event["device"].(map[string]any)
			order = append(order, fmt.Sprint(dev["id"]))
		}}
	if _, err := d.Dispatch(t.Context(), connID, flows.of(connID), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []string{"guo1", "guo2", "guo3", "guo4", "guo5"}) {
		t.Errorf("runs started for %v; want publication order", order)
	}
}

// TestDispatchEnabledInTheEventsMillisecond: Okta's published times are
// whole milliseconds, so an event of the millisecond a flow was enabled in
// starts it even when the enabling came later in that millisecond; an
// event of the millisecond before does not.
func TestDispatchEnabledInTheEventsMillisecond(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	enabled := time.Date(2026, 3, 2, 10, 0, 0, 700_400_000, time.UTC) // 10:00:00.7004
	var evs []*store.Event
	for i, published := range []time.Time{enabled.Truncate(time.Millisecond), enabled.Truncate(time.Millisecond).Add(-time.Millisecond)} {
		uuid := fmt.Sprintf("u%d", i)
		raw := `{"uuid":"` + uuid + `","eventType":"device.enrollment.create","published":"` + published.Format("2006-01-02T15:04:05.000Z") +
			`","target":[{"id":"guo` + uuid + `","type":"UDDevice"}]}`
		evs = append(evs, &store.Event{UUID: uuid, ConnectionID: connID, EventType: "device.enrollment.create",
			Published: published, Raw: json.RawMessage(raw), ReceivedAt: enabled})
	}
	if _, err := in.st.PutEvents(t.Context(), evs, store.ViaPoll); err != nil {
		t.Fatal(err)
	}
	var started []string
	flows := flowList{parsedFlow(t, "f-welcome", welcomeFlow, "device.enrollment.create", enabled)}
	d := &Dispatcher{Store: in.st, Runs: flowrun.New(flowrun.Config{Store: in.st}),
		Started: func(r *store.FlowRun) { started = append(started, r.TriggerKey) }}
	res, err := d.Dispatch(t.Context(), connID, flows.of(connID), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(started, []string{EventKey("u0")}) || res.Events != 2 {
		t.Errorf("runs started for %v, %d events dispatched; want one, for u0 (published in the enabling millisecond), and both dispatched", started, res.Events)
	}
}

// TestDispatchFlowChangedSinceRead: a flow changed between the round's
// read of the flows and the start of an event's run (a new version
// stored, or the flow disabled: a server paused in between) starts no
// run of the flow as it was read; the event is left to the next round,
// which starts the run of the flow as it is then, or none.
func TestDispatchFlowChangedSinceRead(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 1})
	ctx := t.Context()
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	putEvent := func(uuid string, published time.Time) {
		t.Helper()
		raw := `{"uuid":"` + uuid + `","eventType":"device.enrollment.create","published":"` + published.Format(time.RFC3339Nano) +
			`","target":[{"id":"guo1","type":"UDDevice"}]}`
		if _, err := in.st.PutEvents(ctx, []*store.Event{{UUID: uuid, ConnectionID: connID, EventType: "device.enrollment.create",
			Published: published, Raw: json.RawMessage(raw), ReceivedAt: published}}, store.ViaHook); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := flow.Parse([]byte(welcomeFlow))
	if err != nil {
		t.Fatal(err)
	}
	trigger := []byte(`{"kind":"event"}`)
	if _, err := in.st.PutFlow(ctx, &store.Flow{ID: "f-welcome", Name: doc.Name, Source: []byte(welcomeFlow), Trigger: trigger}); err != nil {
		t.Fatal(err)
	}
	if err := in.st.SetFlowEnabled(ctx, "f-welcome", trigger, true, time.Time{}, store.Actor{Type: store.ActorUser, Login: "ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	read := func() []EventFlow {
		t.Helper()
		fl, err := in.st.GetFlow(ctx, "f-welcome")
		if err != nil {
			t.Fatal(err)
		}
		return []EventFlow{{Flow: fl, Doc: doc, ConnectionID: connID, EventType: "device.enrollment.create", EnabledAt: base}}
	}
	var started []*store.FlowRun
	d := &Dispatcher{Store: in.st, Runs: flowrun.New(flowrun.Config{Store: in.st}), Started: func(r *store.FlowRun) { started = append(started, r) }}

	putEvent("u1", base.Add(time.Second))
	asRead := read()
	v2 := welcomeFlow + "# version 2\n"
	if _, err := in.st.PutFlow(ctx, &store.Flow{ID: "f-welcome", Name: doc.Name, Source: []byte(v2), Trigger: trigger}); err != nil {
		t.Fatal(err)
	}
	res, err := d.Dispatch(ctx, connID, asRead, time.Time{})
	if err != nil || !res.Deferred || res.Started != 0 || res.Events != 0 || len(started) != 0 {
		t.Fatalf("dispatch with version 1 as read after version 2 was stored: %+v, %v; want the event left to the next round", res, err)
	}
	res, err = d.Dispatch(ctx, connID, read(), time.Time{})
	if err != nil || res.Started != 1 || len(started) != 1 || started[0].FlowVersion != 2 || string(started[0].Source) != v2 {
		t.Fatalf("the next round: %+v, %v, started %+v; want the run of version 2", res, err, started)
	}

	putEvent("u2", base.Add(2*time.Second))
	asRead = read()
	if err := in.st.SetFlowEnabled(ctx, "f-welcome", trigger, false, time.Time{}, store.Actor{Type: store.ActorUser, Login: "ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	if res, err = d.Dispatch(ctx, connID, asRead, time.Time{}); err != nil || !res.Deferred || len(started) != 1 {
		t.Fatalf("dispatch of a flow disabled since it was read: %+v, %v; want no run, the event left to the next round", res, err)
	}
	if res, err = d.Dispatch(ctx, connID, nil, time.Time{}); err != nil || res.Events != 1 || res.Started != 0 || len(started) != 1 {
		t.Fatalf("the next round, which reads no enabled flow: %+v, %v; want the event dispatched with no run", res, err)
	}
}
