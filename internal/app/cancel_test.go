package app

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// waitCanceling waits until this server, executing run id, has seen the
// request to stop it (until ctx ends: the test fails then).
func (h *harness) waitCanceling(ctx context.Context, id string) {
	h.t.Helper()
	for !h.app.Flows.Canceling(id) {
		if ctx.Err() != nil {
			h.t.Fatalf("the server executing run %s never saw the request to stop it", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFlowRun polls a flow run until its status is one of want.
func (h *harness) waitFlowRun(ctx context.Context, id string, want ...string) flowRun {
	h.t.Helper()
	for {
		var r flowRun
		if code, data := h.call("GET", "/api/v1/flow-runs/"+id, nil, &r); code != http.StatusOK {
			h.t.Fatalf("get flow run: %d %s", code, data)
		}
		for _, w := range want {
			if r.Status == w {
				return r
			}
		}
		if ctx.Err() != nil {
			h.t.Fatalf("flow run %s is %s after 30 s; want %v", id, r.Status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCancelFlowRun cancels a running flow run through a second server
// while the org holds two suspensions in flight: the two finish and are
// recorded, no other item starts, and the run ends canceled. Canceling it
// again changes nothing; a finished run cannot be canceled.
func TestCancelFlowRun(t *testing.T) {
	t.Parallel()
	lease := func(c *Config) { c.FlowLeaseTTL = 600 * time.Millisecond }
	h := startHarness(t, oktaemu.Config{Devices: 200}, lease)
	h.connect("Prod")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	h.postYAML("/api/v1/flows", strings.Replace(suspendActiveFlow, "concurrency: 3", "concurrency: 2", 1), &stored)
	inputs := map[string]any{"inputs": map[string]any{"platform": "ANDROID"}}
	before := lifecycleCalls(h.emu.Stats(t))
	hold := h.emu.Hold(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 3)

	var run flowRun
	if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs", inputs, &run); code != http.StatusAccepted {
		t.Fatalf("start: %d %s", code, data)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := hold.Await(ctx, 2); err != nil {
		t.Fatalf("two suspensions never waited at the org: %v", err)
	}

	// Another server takes the request; the one executing the run sees it.
	// The other server's clock runs a minute behind: the lease is short so
	// that the executing server looks for a cancel request often, and a
	// renewal that comes late on a loaded machine must not let the other
	// server take the run over (TestRunNotExecutedTwiceAfterSlowRenewal
	// is about that). Its part done, it stops: it claims none of the runs
	// below, whose leases of its clock would look lapsed to this server.
	h2 := startServer(t, h.emu, h.dataDir, func(c *Config) {
		lease(c)
		c.Now = func() time.Time { return time.Now().Add(-time.Minute) }
	})
	var asked struct {
		Status            string     `json:"status"`
		CancelRequestedAt *time.Time `json:"cancelRequestedAt"`
	}
	if code, data := h2.call("POST", "/api/v1/flow-runs/"+run.ID+"/cancel", nil, &asked); code != http.StatusAccepted || asked.Status != "running" || asked.CancelRequestedAt == nil {
		t.Fatalf("cancel a running run: %d %s; want 202, running, cancelRequestedAt", code, data)
	}
	h2.stop()
	// The executing server stops starting items before the held ones end.
	h.waitCanceling(ctx, run.ID)
	hold.Release()
	got := h.waitFlowRun(ctx, run.ID, "canceled", "succeeded", "failed")
	if got.Status != "canceled" {
		t.Fatalf("run ended %s; want canceled", got.Status)
	}
	if n := lifecycleCalls(h.emu.Stats(t)) - before; n != 5 {
		t.Errorf("%d suspensions reached the org; want 5 (3 let through, 2 in flight when canceled)", n)
	}
	step := got.Steps[1]
	if step.Status != "canceled" || step.Succeeded != 5 || len(step.ItemResults) != 5 || step.Items <= 5 {
		t.Errorf("suspend step = %s, %d of %d items succeeded, %d recorded; want canceled with the 5 done recorded", step.Status, step.Succeeded, step.Items, len(step.ItemResults))
	}

	// Again: nothing changes. A finished run refuses.
	if code, data := h.call("POST", "/api/v1/flow-runs/"+run.ID+"/cancel", nil, &asked); code != http.StatusOK || asked.Status != "canceled" {
		t.Errorf("cancel a canceled run: %d %s; want 200 canceled", code, data)
	}
	var done flowRun
	hold2 := h.emu.Hold(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 1000)
	defer hold2.Release()
	if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs?wait=true", inputs, &done); code != http.StatusOK {
		t.Fatalf("second run: %d %s", code, data)
	}
	code, data := h.call("POST", "/api/v1/flow-runs/"+done.ID+"/cancel", nil, nil)
	if code != http.StatusConflict || !strings.Contains(string(data), "already ended "+done.Status) {
		t.Errorf("cancel a finished run: %d %s; want 409 saying it already ended", code, data)
	}
	if code, _ := h.call("POST", "/api/v1/flow-runs/fr_none/cancel", nil, nil); code != http.StatusNotFound {
		t.Errorf("cancel an unknown run: %d; want 404", code)
	}
	events := h.audit("action=flow.cancel")
	if len(events) != 2 || events[0]["outcome"] != "success" {
		t.Errorf("flow.cancel audit events: %v; want 2", events)
	}
}

// TestCanceledRunNotResumed: a run asked to stop whose server died before
// it did is claimed by the next server, which ends it canceled without
// running anything, marks the card run the dead server left running
// interrupted, and ends the step it left running canceled with the counts
// of its recorded items (not running, with none).
func TestCanceledRunNotResumed(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 40}, func(c *Config) { c.FlowLeaseTTL = 600 * time.Millisecond })
	h.connect("Prod")
	st, ctx := h.app.Store, t.Context()
	now := time.Now()
	inputs, _ := json.Marshal(map[string]any{"platform": "ANDROID"})
	run := &store.FlowRun{ID: "fr_canceled", FlowName: "suspend-active-macs", Source: []byte(suspendActiveFlow), Inputs: inputs,
		Status: flow.StatusRunning, Actor: store.Actor{Type: store.ActorUser, Login: "test"}, Owner: "dead-server", LeaseUntil: now.Add(time.Hour),
		CreatedAt: now, StartedAt: now, CancelRequestedAt: now}
	if err := st.CreateFlowRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	left := &store.Run{Card: "okta-devices/search-devices", ConnectionNickname: "Prod", Actor: store.Actor{Type: store.ActorUser, Login: "test"}, Status: store.RunRunning,
		Input: json.RawMessage(`{}`), FlowRunID: run.ID, StepID: "find", StartedAt: now}
	if err := st.CreateRun(ctx, left); err != nil {
		t.Fatal(err)
	}
	// The dead server had found two devices and suspended the first.
	found := json.RawMessage(`{"count":2,"devices":[{"id":"guo1","status":"ACTIVE"},{"id":"guo2","status":"ACTIVE"}]}`)
	for _, fs := range []*store.FlowStep{
		{RunID: run.ID, StepID: "find", Status: flow.StatusSucceeded, Items: 1, Succeeded: 1, StartedAt: now, FinishedAt: now},
		{RunID: run.ID, StepID: "suspend", Status: flow.StatusRunning, StartedAt: now},
	} {
		if err := st.PutFlowStep(ctx, "", fs); err != nil {
			t.Fatal(err)
		}
	}
	for _, it := range []*store.FlowItem{
		{RunID: run.ID, StepID: "find", Index: 0, Status: flow.StatusSucceeded, Input: json.RawMessage(`{}`), Output: found, StartedAt: now, FinishedAt: now},
		{RunID: run.ID, StepID: "suspend", Index: 0, Status: flow.StatusSucceeded, Input: json.RawMessage(`{"deviceId":"guo1"}`),
			Output: json.RawMessage(`{"changed":true}`), StartedAt: now, FinishedAt: now},
	} {
		if err := st.PutFlowItem(ctx, "", it); err != nil {
			t.Fatal(err)
		}
	}
	// The dead server's lease lapses only now that all it left is
	// recorded: the running server may claim the run from here on.
	if err := st.RenewFlowRunLease(ctx, run.ID, "dead-server", -time.Second, time.Now()); err != nil {
		t.Fatal(err)
	}
	before := h.emu.Stats(t)
	h.app.Flows.Wake()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	got := h.waitFlowRun(wctx, run.ID, "canceled", "succeeded", "failed")
	if got.Status != "canceled" {
		t.Fatalf("the claimed run ended %s; want canceled", got.Status)
	}
	if len(got.Steps) != 2 {
		t.Fatalf("the run has %d steps; want 2", len(got.Steps))
	}
	if s := got.Steps[1]; s.Status != "canceled" || s.Succeeded != 1 || s.Items != 1 || s.Error != flow.StepCanceledError {
		t.Errorf("the suspend step the dead server left running = %s, %d of %d items succeeded, error %q; want canceled, 1 of 1, %q",
			s.Status, s.Succeeded, s.Items, s.Error, flow.StepCanceledError)
	}
	if s := got.Steps[0]; s.Status != "succeeded" || s.Succeeded != 1 {
		t.Errorf("the finished find step = %s, %d succeeded; want it as it was", s.Status, s.Succeeded)
	}
	if after := h.emu.Stats(t); after["GET /api/v1/devices"] != before["GET /api/v1/devices"] || lifecycleCalls(after) != lifecycleCalls(before) {
		t.Errorf("the canceled run called the org: %v then %v", before, after)
	}
	r, err := st.GetRun(ctx, left.ID)
	if err != nil || r.Status != store.RunInterrupted {
		t.Errorf("the dead server's card run: %v %+v; want interrupted", err, r)
	} else if strings.Contains(r.ErrorMessage, "ran the item again") {
		t.Errorf("the canceled run's interrupted card run says %q; nothing ran its item again", r.ErrorMessage)
	}
}

// TestRunNotExecutedTwiceAfterSlowRenewal: when the lease of a run this
// server executes runs out (a renewal came late) and its own worker claims
// the run again, it does not start a second execution of it.
func TestRunNotExecutedTwiceAfterSlowRenewal(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 80}, func(c *Config) { c.FlowLeaseTTL = time.Minute })
	h.connect("Prod")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	h.postYAML("/api/v1/flows", suspendActiveFlow, &stored)
	hold := h.emu.Hold(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 2)
	inputs := map[string]any{"inputs": map[string]any{"platform": "WINDOWS"}}
	var run flowRun
	h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs", inputs, &run)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := hold.Await(ctx, 3); err != nil {
		t.Fatalf("three suspensions never waited at the org: %v", err)
	}
	st := h.app.Store
	rec, err := st.GetFlowRun(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The lease runs out; the worker finds the run claimable and claims it.
	if err := st.RenewFlowRunLease(ctx, run.ID, rec.Owner, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	h.app.Flows.Wake()
	for {
		r, err := st.GetFlowRun(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.LeaseUntil.After(time.Now()) {
			break // claimed again
		}
		if ctx.Err() != nil {
			t.Fatal("the worker never claimed the run again")
		}
		time.Sleep(10 * time.Millisecond)
	}
	hold.Release()
	got := h.waitFlowRun(ctx, run.ID, "succeeded", "failed")
	if got.Status != "succeeded" {
		t.Errorf("run ended %s; want succeeded", got.Status)
	}
	if strings.Contains(h.logs.String(), "resuming an interrupted flow run") {
		t.Errorf("the server started the run a second time while executing it")
	}
	var runs struct {
		Runs []struct {
			Status string `json:"status"`
		} `json:"runs"`
	}
	h.call("GET", "/api/v1/runs?limit=500&flowRun="+run.ID, nil, &runs)
	for _, r := range runs.Runs {
		if r.Status != "succeeded" {
			t.Errorf("a card run of the run ended %s; want every one succeeded", r.Status)
		}
	}
}

// TestCanceledQueuedRunAuditedOnce: a queued run that no server holds,
// canceled on two servers at once, ends canceled at once with one flow.run
// audit event, by its starter, saying who asked and when, as a run its
// server ends canceled has, beside the two flow.cancel events of the
// requests; it had none.
func TestCanceledQueuedRunAuditedOnce(t *testing.T) {
	t.Parallel()
	// Leases of an hour: a worker looks for queued runs only when woken
	// or every 20 minutes, and nothing wakes one for a run written to the
	// store, so that no server claims the run before it is canceled.
	lease := func(c *Config) { c.FlowLeaseTTL = time.Hour }
	h := startHarness(t, oktaemu.Config{Devices: 10}, lease)
	h2 := startServer(t, h.emu, h.dataDir, lease)
	h.connect("Prod")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	h.postYAML("/api/v1/flows", suspendActiveFlow, &stored)
	ctx := t.Context()
	now := time.Now()
	manual, _ := json.Marshal(flow.Firing{Kind: flow.KindManual, Time: now})
	ada := store.Actor{Type: store.ActorToken, Login: oktaemu.AdminLogin, TokenName: "cli"}
	run := &store.FlowRun{ID: "fr_queued", FlowID: stored.Flow.ID, FlowName: "suspend-active-macs", Source: []byte(suspendActiveFlow),
		Inputs: json.RawMessage(`{"platform":"IOS"}`), Status: "queued", Actor: ada, Trigger: manual, CreatedAt: now}
	if err := h.app.Store.CreateFlowRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		code   int
		status string
		data   []byte
	}
	answers := make(chan answer, 2)
	for _, s := range []*harness{h, h2} {
		go func() {
			var got struct {
				Status string `json:"status"`
			}
			code, data := s.call("POST", "/api/v1/flow-runs/"+run.ID+"/cancel", nil, &got)
			answers <- answer{code, got.Status, data}
		}()
	}
	for range 2 {
		if a := <-answers; a.code != http.StatusOK || a.status != "canceled" {
			t.Fatalf("cancel the queued run: %d %s; want 200, canceled at once", a.code, a.data)
		}
	}
	got, err := h.app.Store.GetFlowRun(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	var runs []map[string]any
	for _, ev := range h.audit("action=flow.run") {
		if s, _ := ev["inputSummary"].(string); strings.Contains(s, "run "+run.ID+",") {
			runs = append(runs, ev)
		}
	}
	want := "canceled: asked by bootstrap admin at " + timetext.Format(got.CancelRequestedAt)
	if len(runs) != 1 {
		t.Fatalf("flow.run audit events of the run: %v; want one", runs)
	}
	if actor, _ := runs[0]["actor"].(map[string]any); runs[0]["error"] != want || runs[0]["outcome"] != "failure" ||
		actor["login"] != oktaemu.AdminLogin || runs[0]["inputSummary"] != `flow suspend-active-macs, run fr_queued, inputs {"platform":"IOS"}` {
		t.Errorf("flow.run audit event of the run: %v; want Ada's, a failure with error %q", runs[0], want)
	}
	if cancels := h.audit("action=flow.cancel"); len(cancels) != 2 {
		t.Errorf("flow.cancel audit events: %v; want one per request", cancels)
	}
}
