package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// waitNotificationOf returns the next message of type typ the receiver
// got, passing over the others.
func waitNotificationOf(t *testing.T, received <-chan map[string]any, typ string) map[string]any {
	t.Helper()
	for {
		if m := waitNotification(t, received); m["type"] == typ {
			return m
		}
	}
}

// TestEventRunRerunWhenConnectionActive: the run of an Okta event that
// fails because its service connection's app lost its admin role (the
// card's refusal puts the connection in error) is rerun by itself, its
// failed items, once the connection is active again (the role given back
// and the connection tested), exactly once, as the events that came
// meanwhile and waited in the inbox run after it. The failed run says that it
// will run again, and then which run did; its flow_run.failed says so
// too; the rerun acts as cardflow, is audited as flow.rerun by cardflow,
// and its success sends flow_run.recovered.
func TestEventRunRerunWhenConnectionActive(t *testing.T) {
	t.Parallel()
	received := make(chan map[string]any, 64)
	clock := emutest.NewClock(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
	fx := oktaemu.DemoFixture(3)
	for i := range fx.Apps {
		if fx.Apps[i].ID == oktaemu.DemoServiceAppID {
			fx.Apps[i].Grants = append(fx.Apps[i].Grants, "okta.logs.read", "okta.eventHooks.manage")
		}
	}
	emu := emutest.Start(t, oktaemu.Config{Fixture: fx, Now: clock.Now})
	receiver := notificationReceiver(t, received)
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		// An hour between the dispatch rounds of the interval: the hook's
		// deliveries, the connection found active again and the rerun's
		// end wake them.
		c.Now, c.EventPollInterval = emu.Now, time.Hour
		c.NotifyURLs, c.NotifySecret = []string{receiver}, "a-long-random-notification-secret"
	})
	c, jwk := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if _, err := h.app.Connections.Token(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	flowID := storeEnabledDoc(t, h, strings.ReplaceAll(strings.Replace(quarantineYAML, "DELIVERY", "hook+poll", 1), "Prod devices", "Robot"))
	waitHookVerified(t, emu)

	// The app loses its admin role: the next removal's run fails at its
	// first card, which puts the connection in error.
	emu.UnassignClientRole(t, oktaemu.DemoServiceClientID, "SUPER_ADMIN")
	emu.AdvanceClock(t, time.Second)
	first := enrollDevice(t, emu, "jonas.berg@example.com")
	removeDeviceUser(t, emu, first, "jonas.berg@example.com")
	waitFor(t, "the removal's run, failed", func() bool {
		runs := h.runsOf(flowID)
		return len(runs) == 1 && runs[0].Status == "failed"
	})
	failed := h.flowRun(h.runsOf(flowID)[0].ID)
	if failed.Failure != "step device: forbidden" || failed.RerunWhenActive == nil || failed.RerunWhenActive.Connection.ID != c.ID ||
		failed.RerunWhenActive.Connection.Nickname != "Robot" || failed.RerunWhenActive.Rerun != "" {
		t.Fatalf("failed run: failure %q, rerunWhenActive %+v; want step device: forbidden, waiting for Robot", failed.Failure, failed.RerunWhenActive)
	}
	if got, want := failed.RerunWhenActive.Text(failed.ID), "will run again when connection Robot is active again"; got != want {
		t.Errorf("the failed run says %q; want %q", got, want)
	}
	m := waitNotificationOf(t, received, "flow_run.failed")
	if msg := fmt.Sprint(m["message"]); !strings.Contains(msg, failed.ID) || !strings.Contains(msg, "runs again by itself (its failed items) once connection Robot is active again") {
		t.Errorf("flow_run.failed %q; want it to say the run runs again once Robot is active again", msg)
	}

	// A second removal meanwhile waits in the inbox.
	emu.AdvanceClock(t, time.Second)
	second := enrollDevice(t, emu, "ines.garcia@example.com")
	removeDeviceUser(t, emu, second, "ines.garcia@example.com")
	waitFor(t, "the second removal in the inbox, waiting", func() bool {
		evs, err := h.app.Store.UndispatchedEvents(t.Context(), c.ID, nil, 10)
		return err == nil && len(evs) == 1
	})
	if n, err := h.app.Flows.RerunWaiting(t.Context()); err != nil || n != 0 {
		t.Fatalf("RerunWaiting while the connection is in error: %d, %v; want nothing rerun", n, err)
	}

	// The rerun's suspension waits at the org: meanwhile the second
	// removal still waits, the flow's events running in order.
	hold := emu.Hold(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 0)
	emu.AssignClientRole(t, oktaemu.DemoServiceClientID, "SUPER_ADMIN")
	var test struct{ OK bool }
	if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, &test); code != http.StatusOK || !test.OK {
		t.Fatalf("connections test: %d %s", code, data)
	}
	if err := hold.Await(t.Context(), 1); err != nil {
		t.Fatalf("the rerun's suspension never reached the org: %v", err)
	}
	h.app.events.DispatchRound(t.Context())
	if runs := h.runsOf(flowID); len(runs) != 2 {
		t.Errorf("%d runs while the rerun runs; want 2, the second removal waiting for the rerun", len(runs))
	}
	if evs, err := h.app.Store.UndispatchedEvents(t.Context(), c.ID, nil, 10); err != nil || len(evs) != 1 {
		t.Errorf("undispatched events while the rerun runs: %d, %v; want the second removal", len(evs), err)
	}
	var list struct {
		Events []struct {
			EventType     string `json:"eventType"`
			WaitingCode   string `json:"waitingCode"`
			WaitingReason string `json:"waitingReason"`
		} `json:"events"`
	}
	if code, data := h.call("GET", "/api/v1/events?limit=10", nil, &list); code != http.StatusOK {
		t.Fatalf("list events: %d %s", code, data)
	}
	held := 0
	for _, e := range list.Events {
		if e.WaitingCode != "" {
			held++
			if e.EventType != "device.user.remove" || e.WaitingCode != "rerun_first" || !strings.Contains(e.WaitingReason, "to run again first") {
				t.Errorf("GET /api/v1/events while the rerun runs lists %+v; want the second removal waiting for the rerun (rerun_first)", e)
			}
		}
	}
	if held != 1 {
		t.Errorf("GET /api/v1/events while the rerun runs: %d events waiting; want the second removal", held)
	}
	// The second removal's run starts after the rerun, and later on the
	// org's clock: the rerun's success ended the failures it would
	// recover from.
	emu.AdvanceClock(t, time.Second)
	hold.Release()
	waitFor(t, "the rerun and the waiting event's run, succeeded", func() bool {
		runs := h.runsOf(flowID)
		if len(runs) != 3 {
			return false
		}
		for _, r := range runs[:2] {
			if r.Status != "succeeded" {
				return false
			}
		}
		return true
	})
	failed = h.flowRun(failed.ID)
	if failed.Status != "failed" || failed.RerunWhenActive == nil || failed.RerunWhenActive.Rerun == "" {
		t.Fatalf("the failed run after the connection's test: %s, %+v; want it to name its rerun", failed.Status, failed.RerunWhenActive)
	}
	rerun := h.flowRun(failed.RerunWhenActive.Rerun)
	if rerun.RerunOf != failed.ID || rerun.Status != "succeeded" || rerun.Actor == nil || rerun.Actor.Type != store.ActorServer ||
		rerun.Trigger == nil || rerun.Trigger.EventUUID != failed.Trigger.EventUUID || rerun.RerunWhenActive != nil {
		t.Errorf("rerun %+v; want a rerun of %s by cardflow, succeeded, on the same event", rerun, failed.ID)
	}
	if got, want := failed.RerunWhenActive.Text(failed.ID), "ran again as run "+rerun.ID; got != want {
		t.Errorf("the failed run says %q; want %q", got, want)
	}
	audit, err := h.app.Store.ListAudit(t.Context(), store.AuditFilter{Action: store.ActionFlowRerun})
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 1 || audit[0].Actor != store.ServerActor || audit[0].ConnectionID != c.ID ||
		!strings.Contains(audit[0].InputSummary, "run "+rerun.ID+" of run "+failed.ID+", by itself once connection Robot was active again") {
		t.Errorf("flow.rerun audit events %+v; want one, by cardflow, naming the connection and both runs", audit)
	}
	m = waitNotificationOf(t, received, "flow_run.recovered")
	if run, _ := m["flowRun"].(map[string]any); run["id"] != rerun.ID {
		t.Errorf("flow_run.recovered %v; want it of the rerun %s", m, rerun.ID)
	}

	ns, err := h.app.Store.ListNotifications(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	recovered := 0
	for _, n := range ns {
		if n.Type == "flow_run.recovered" {
			recovered++
		}
	}
	if recovered != 1 {
		t.Errorf("%d flow_run.recovered; want one, of the rerun", recovered)
	}

	// Exactly once: a further round, here or on another server, reruns
	// nothing.
	if n, err := h.app.Flows.RerunWaiting(t.Context()); err != nil || n != 0 {
		t.Errorf("RerunWaiting again: %d, %v; want nothing rerun", n, err)
	}
	if runs := h.runsOf(flowID); len(runs) != 3 {
		t.Errorf("%d runs of the flow; want 3: the failed run, its rerun and the waiting event's run", len(runs))
	}
}

// flowRun returns GET /api/v1/flow-runs/{id}.
func (h *harness) flowRun(id string) *api.FlowRun {
	h.t.Helper()
	var r api.FlowRun
	if code, data := h.call("GET", "/api/v1/flow-runs/"+id, nil, &r); code != http.StatusOK {
		h.t.Fatalf("get flow run %s: %d %s", id, code, data)
	}
	return &r
}

// TestEventWaitsForRerunSaysTheFix: an event of a flow whose earlier run
// waits for its steps' connection (not the trigger's, which works) waits
// in the inbox with rerun_first, and its reason says what is wrong with
// that connection and the fix, where it said only that the run runs again
// once the connection is active again.
func TestEventWaitsForRerunSaysTheFix(t *testing.T) {
	t.Parallel()
	clock := emutest.NewClock(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
	emu := emutest.Start(t, oktaemu.Config{Fixture: oktaemu.DemoFixture(3), Now: clock.Now})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now, c.EventPollInterval = emu.Now, time.Hour })
	h.connect("Prod devices")
	c, jwk := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if _, err := h.app.Connections.Token(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(quarantineYAML, "DELIVERY", "hook+poll", 1)
	// The trigger stays on Prod devices; the steps use Robot.
	doc = strings.ReplaceAll(doc, "    connection: Prod devices\n    input", "    connection: Robot\n    input")
	doc = strings.Replace(doc, "    connection: Prod devices\n    if: ${{ steps", "    connection: Robot\n    if: ${{ steps", 1)
	if strings.Count(doc, "connection: Robot") != 2 {
		t.Fatalf("the steps do not use Robot:\n%s", doc)
	}
	flowID := storeEnabledDoc(t, h, doc)
	waitHookVerified(t, emu)

	emu.UnassignClientRole(t, oktaemu.DemoServiceClientID, "SUPER_ADMIN")
	emu.AdvanceClock(t, time.Second)
	first := enrollDevice(t, emu, "jonas.berg@example.com")
	removeDeviceUser(t, emu, first, "jonas.berg@example.com")
	waitFor(t, "the removal's run, failed", func() bool {
		runs := h.runsOf(flowID)
		return len(runs) == 1 && runs[0].Status == "failed"
	})
	robot := h.connection(c.ID)
	if robot.Status != "error" || robot.Remedy == "" {
		t.Fatalf("Robot after the failed run: %s, remedy %q; want in error, with a remedy", robot.Status, robot.Remedy)
	}
	emu.AdvanceClock(t, time.Second)
	second := enrollDevice(t, emu, "ines.garcia@example.com")
	removeDeviceUser(t, emu, second, "ines.garcia@example.com")
	var list struct {
		Events []struct {
			EventType     string `json:"eventType"`
			WaitingCode   string `json:"waitingCode"`
			WaitingReason string `json:"waitingReason"`
		} `json:"events"`
	}
	waitFor(t, "the second removal listed, waiting", func() bool {
		code, _ := h.call("GET", "/api/v1/events?limit=1", nil, &list)
		return code == http.StatusOK && len(list.Events) == 1 && list.Events[0].EventType == "device.user.remove" && list.Events[0].WaitingCode != ""
	})
	want := "once connection Robot, which is in error, is active again: " + strings.TrimSuffix(robot.Remedy, ".")
	if w := list.Events[0]; w.WaitingCode != "rerun_first" || !strings.Contains(w.WaitingReason, want) {
		t.Errorf("the second removal waits: %+v; want rerun_first, saying %q", w, want)
	}
}
