package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestPeopleRevokeCancelsTheirRuns: revoking a person's access, on
// another server than the one running their flow run, cancels the runs
// they started by hand that are queued or running (a run, a rerun of a
// scheduled run): the suspensions in flight at the org finish, no other
// starts, and the run ends canceled. Runs of a schedule or an event of a
// flow they enabled, which act as them, and someone else's run go on.
// Each cancel is audited as by the admin who revoked, saying why; the
// answer counts them.
func TestPeopleRevokeCancelsTheirRuns(t *testing.T) {
	t.Parallel()
	lease := func(c *Config) { c.FlowLeaseTTL = 600 * time.Millisecond }
	emu := emutest.Start(t, oktaemu.Config{Devices: 200})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { ssoConfig(c, emu.URL); lease(c) })
	h.connect("Prod")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	h.postYAML("/api/v1/flows", strings.Replace(suspendActiveFlow, "concurrency: 3", "concurrency: 2", 1), &stored)
	ada := cliLogin(t, h, oktaemu.AdminLogin)

	// Ada's bulk suspension, two suspensions held at the org.
	before := lifecycleCalls(h.emu.Stats(t))
	hold := h.emu.Hold(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 3)
	var run flowRun
	inputs := map[string]any{"inputs": map[string]any{"platform": "ANDROID"}}
	if code, data := h.callWith(ada.Token, "POST", "/api/v1/flows/"+stored.Flow.ID+"/runs", inputs, &run); code != http.StatusAccepted {
		t.Fatalf("start a run with the person's token: %d %s", code, data)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := hold.Await(ctx, 2); err != nil {
		t.Fatalf("two suspensions never waited at the org: %v", err)
	}

	// Runs another server holds: Ada's rerun (of a scheduled run, so it
	// keeps the schedule's trigger), a scheduled and an event run of a
	// flow she enabled (acting as her), and the bootstrap admin's run.
	st := h.app.Store
	now := time.Now()
	schedule, _ := json.Marshal(flow.Firing{Kind: flow.KindSchedule, Time: now})
	event, _ := json.Marshal(flow.Firing{Kind: flow.KindEvent, Time: now, EventUUID: "ev-1"})
	manual, _ := json.Marshal(flow.Firing{Kind: flow.KindManual, Time: now})
	adaToken := store.Actor{Type: store.ActorToken, Login: "Admin@Example.com", TokenName: "cli"}
	adaUser := store.Actor{Type: store.ActorUser, Login: oktaemu.AdminLogin}
	held := map[string]*store.FlowRun{
		"fr_ada_rerun":     {Status: "queued", Actor: adaToken, Trigger: schedule, RerunOf: "fr_scheduled_earlier"},
		"fr_ada_schedule":  {Status: flow.StatusRunning, Actor: adaUser, Trigger: schedule, TriggerKey: "tick"},
		"fr_ada_event":     {Status: flow.StatusRunning, Actor: adaUser, Trigger: event, TriggerKey: "ev-1"},
		"fr_bootstrap_run": {Status: flow.StatusRunning, Actor: store.Actor{Type: store.ActorBootstrap}, Trigger: manual},
	}
	for id, r := range held {
		r.ID, r.FlowID, r.FlowName, r.Source, r.Inputs = id, stored.Flow.ID, "suspend-active-macs", []byte(suspendActiveFlow), json.RawMessage(`{"platform":"IOS"}`)
		r.Owner, r.LeaseUntil, r.CreatedAt = "elsewhere", now.Add(time.Hour), now
		if err := st.CreateFlowRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	// The revoke is made on another server (whose clock runs a minute
	// behind, so that it claims no run: see TestCancelFlowRun).
	h2 := startServer(t, h.emu, h.dataDir, func(c *Config) {
		ssoConfig(c, emu.URL)
		lease(c)
		c.Now = func() time.Time { return time.Now().Add(-time.Minute) }
	})
	var rev struct {
		TokensRevoked    int    `json:"tokensRevoked"`
		FlowRunsCanceled *int   `json:"flowRunsCanceled"`
		Warning          string `json:"warning"`
	}
	revoke := "/api/v1/people/" + url.PathEscape(oktaemu.AdminLogin) + "/revoke"
	if code, data := h2.call("POST", revoke, nil, &rev); code != http.StatusOK || rev.TokensRevoked != 1 || rev.FlowRunsCanceled == nil || *rev.FlowRunsCanceled != 2 || rev.Warning != "" {
		t.Fatalf("revoke: %d %s; want 200, 1 token revoked, 2 flow runs canceled", code, data)
	}
	h2.stop()
	h.waitCanceling(ctx, run.ID)
	hold.Release()
	if got := h.waitFlowRun(ctx, run.ID, "canceled", "succeeded", "failed"); got.Status != "canceled" {
		t.Fatalf("the revoked person's run ended %s; want canceled", got.Status)
	}
	if n := lifecycleCalls(h.emu.Stats(t)) - before; n != 5 {
		t.Errorf("%d suspensions reached the org; want 5 (3 let through, 2 in flight at the revoke)", n)
	}

	for id := range held {
		r, err := st.GetFlowRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if asked, want := !r.CancelRequestedAt.IsZero(), id == "fr_ada_rerun"; asked != want {
			t.Errorf("run %s (%s by %s): asked to stop %v; want %v", id, r.Trigger, r.Actor, asked, want)
		}
	}

	cancels := h.audit("action=flow.cancel")
	if len(cancels) != 2 {
		t.Fatalf("flow.cancel audit events: %v; want 2", cancels)
	}
	for _, ev := range cancels {
		actor, _ := ev["actor"].(map[string]any)
		summary, _ := ev["inputSummary"].(string)
		if actor["type"] != store.ActorBootstrap || !strings.Contains(summary, "its starter "+oktaemu.AdminLogin+"'s access was revoked") {
			t.Errorf("flow.cancel event %v; want it by the bootstrap admin, saying its starter's access was revoked", ev)
		}
	}
	revokes := h.audit("action=person.revoke")
	if len(revokes) != 1 || !strings.Contains(revokes[0]["inputSummary"].(string), "2 flow runs canceled") {
		t.Errorf("person.revoke audit events: %v; want one counting 2 flow runs canceled", revokes)
	}

	// A login that holds nothing any more but has a run going is revoked
	// for that run alone; then nothing is left to revoke (the rerun asked
	// to stop is not canceled again).
	late := &store.FlowRun{ID: "fr_ada_late", FlowID: stored.Flow.ID, FlowName: "suspend-active-macs", Source: []byte(suspendActiveFlow),
		Inputs: json.RawMessage(`{"platform":"IOS"}`), Status: flow.StatusRunning, Actor: adaUser, Trigger: manual,
		Owner: "elsewhere", LeaseUntil: now.Add(time.Hour), CreatedAt: now}
	if err := st.CreateFlowRun(ctx, late); err != nil {
		t.Fatal(err)
	}
	if code, data := h.call("POST", revoke, nil, &rev); code != http.StatusOK || rev.TokensRevoked != 0 || *rev.FlowRunsCanceled != 1 {
		t.Errorf("revoke a login whose only run is going: %d %s; want 200, 1 flow run canceled", code, data)
	}
	if code, data := h.call("POST", revoke, nil, nil); code != http.StatusNotFound {
		t.Errorf("revoke again: %d %s; want 404", code, data)
	}
}

// revokesMeanwhile runs meanwhile before it stores a flow run started with
// a personal token: between the request's sign-in and its run's write.
type revokesMeanwhile struct {
	store.Store
	meanwhile func()
}

func (s *revokesMeanwhile) CreateFlowRun(ctx context.Context, r *store.FlowRun) error {
	if r.TokenID != "" && s.meanwhile != nil {
		s.meanwhile()
	}
	return s.Store.CreateFlowRun(ctx, r)
}

// TestPeopleRevokeRefusesARunBeingStarted: a run that a person's request,
// let in before their access was revoked, stores after the revoke has
// looked for their runs is refused, not left running: it is stored only
// while the token it was started with exists.
func TestPeopleRevokeRefusesARunBeingStarted(t *testing.T) {
	t.Parallel()
	wrapped := &revokesMeanwhile{}
	emu := emutest.Start(t, oktaemu.Config{Devices: 4})
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		ssoConfig(c, emu.URL)
		c.wrapStore = func(st store.Store) store.Store { wrapped.Store = st; return wrapped }
	})
	h.connect("Prod")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	h.postYAML("/api/v1/flows", suspendActiveFlow, &stored)
	ada := cliLogin(t, h, oktaemu.AdminLogin)
	revoked := 0
	wrapped.meanwhile = func() {
		var rev struct {
			FlowRunsCanceled int `json:"flowRunsCanceled"`
		}
		if code, data := h.call("POST", "/api/v1/people/"+url.PathEscape(oktaemu.AdminLogin)+"/revoke", nil, &rev); code != http.StatusOK || rev.FlowRunsCanceled != 0 {
			t.Errorf("revoke while the run is being started: %d %s; want 200, no run to cancel yet", code, data)
		}
		revoked++
	}
	code, data := h.callWith(ada.Token, "POST", "/api/v1/flows/"+stored.Flow.ID+"/runs", map[string]any{"inputs": map[string]any{"platform": "ANDROID"}}, nil)
	if revoked != 1 {
		t.Fatalf("the revoke ran %d times; want once, while the run was being started", revoked)
	}
	if code != http.StatusUnauthorized || !strings.Contains(string(data), "access was revoked while this was being done") {
		t.Errorf("the run started as the access was revoked: %d %s; want 401 saying the access was revoked meanwhile", code, data)
	}
	runs, err := h.app.Store.ListFlowRunsPage(t.Context(), store.FlowRunFilter{FlowID: stored.Flow.ID})
	if err != nil || len(runs) != 0 {
		t.Errorf("runs of the flow after the refused start: %d %v; want none", len(runs), err)
	}
}
