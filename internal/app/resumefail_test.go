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
)

// TestResumeRefusedNamesFailedOnlyRerun: a run whose server died midway
// is claimed by the next server, whose check of the document fails (its
// connection needs reauthorization now). The run fails saying so, and
// that the items the dead server finished are kept and a rerun of the
// failed items runs only the rest: a rerun of the whole would do them
// again.
func TestResumeRefusedNamesFailedOnlyRerun(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 40}, func(c *Config) { c.FlowLeaseTTL = 600 * time.Millisecond })
	h.connect("Prod")
	// The org forgets the connection's tokens (as a restarted demo org
	// does): the next card run finds the connection needs reauthorization.
	h.emu.Reset(t)
	if code, r := h.run("okta-devices/search-devices", "Prod", map[string]any{"resultSet": "first"}); code != http.StatusCreated || r.Error == nil || r.Error.Code != "needs_reauthorization" {
		t.Fatalf("search after the org forgot the tokens: %d %+v; want needs_reauthorization", code, r.Error)
	}
	st, ctx := h.app.Store, t.Context()
	now := time.Now()
	inputs, _ := json.Marshal(map[string]any{"platform": "ANDROID"})
	run := &store.FlowRun{ID: "fr_resume_refused", FlowName: "suspend-active-macs", Source: []byte(suspendActiveFlow), Inputs: inputs,
		Status: flow.StatusRunning, Actor: store.Actor{Type: store.ActorUser, Login: "test"}, Owner: "dead-server", LeaseUntil: now.Add(time.Hour),
		CreatedAt: now, StartedAt: now}
	if err := st.CreateFlowRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	found := json.RawMessage(`{"count":2,"devices":[{"id":"guo1","status":"ACTIVE"},{"id":"guo2","status":"ACTIVE"}]}`)
	for _, fs := range []*store.FlowStep{
		{RunID: run.ID, StepID: "find", Status: flow.StatusSucceeded, Items: 1, Succeeded: 1, StartedAt: now, FinishedAt: now},
		{RunID: run.ID, StepID: "suspend", Status: flow.StatusRunning, Items: 2, StartedAt: now},
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
	if err := st.RenewFlowRunLease(ctx, run.ID, "dead-server", -time.Second, time.Now()); err != nil {
		t.Fatal(err)
	}
	h.app.Flows.Wake()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	got := h.waitFlowRun(wctx, run.ID, "canceled", "succeeded", "failed")
	if got.Status != "failed" || !strings.Contains(got.Error, "needs reauthorization") {
		t.Fatalf("the claimed run ended %s: %q; want failed, naming the connection that needs reauthorization", got.Status, got.Error)
	}
	if !strings.Contains(got.Error, "cardflow flows rerun "+run.ID+" --failed-only") {
		t.Errorf("the run's error %q does not say that a rerun of its failed items runs only the rest", got.Error)
	}
}
