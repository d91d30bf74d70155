package flowrun

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// connEnv resolves connections by nickname to their status.
type connEnv map[string]string

func (connEnv) Card(string) (flow.CardInfo, bool) { return flow.CardInfo{}, false }

func (e connEnv) Connection(_ context.Context, _, name string) (flow.ConnInfo, error) {
	status, ok := e[name]
	if !ok {
		return flow.ConnInfo{}, problem.New(problem.NotFound, "no connection %q", name)
	}
	return flow.ConnInfo{ID: "conn_" + name, Nickname: name, Status: status}, nil
}

const rerunDoc = `name: quarantine
on:
  event:
    card: okta-devices/device-removed-from-user
    connection: Trigger
steps:
  - id: device
    card: okta-devices/read-device
    connection: Robot
    input: {deviceId: "guo1"}
`

// TestWaitsFor: a failed run an Okta event started (or its automatic
// rerun) waits for its connection when the connection stopped it: an item
// failed with a code a connection that cannot run cards gives, or the run
// was refused for a connection that is not active, and that connection is
// not active now. Runs a schedule or a person started, device errors, and
// connections active again do not wait.
func TestWaitsFor(t *testing.T) {
	event := []byte(`{"kind":"event","time":"2026-12-01T08:00:00Z","eventUuid":"e1"}`)
	schedule := []byte(`{"kind":"schedule","time":"2026-12-01T08:00:00Z"}`)
	failedWith := func(code string) *flow.RunResult {
		return &flow.RunResult{Status: flow.StatusFailed, Steps: []flow.StepResult{{ID: "device", Status: flow.StatusFailed, Failed: 1, FirstErrorCode: code}}}
	}
	ada := store.Actor{Type: store.ActorUser, Login: "ada@example.com"}
	inactive := problem.New(problem.NeedsReauthorization, "connection \"Trigger\" needs reauthorization")
	for _, c := range []struct {
		name    string
		env     connEnv
		trigger []byte
		rerunOf string
		actor   store.Actor
		res     *flow.RunResult
		err     error
		want    string
	}{
		{"refused by the org", connEnv{"Robot": "error", "Trigger": "active"}, event, "", ada, failedWith("forbidden"), nil, "Robot"},
		{"needs reauthorization", connEnv{"Robot": "needs_reauthorization", "Trigger": "active"}, event, "", ada, failedWith("needs_reauthorization"), nil, "Robot"},
		{"pending: created again, not signed in to yet", connEnv{"Robot": "pending", "Trigger": "active"}, event, "", ada, failedWith("connection_pending"), nil, "Robot"},
		{"forbidden, connection still active", connEnv{"Robot": "active", "Trigger": "active"}, event, "", ada, failedWith("forbidden"), nil, ""},
		{"device error", connEnv{"Robot": "error", "Trigger": "active"}, event, "", ada, failedWith("not_found"), nil, ""},
		{"scheduled run", connEnv{"Robot": "error", "Trigger": "active"}, schedule, "", ada, failedWith("forbidden"), nil, ""},
		{"rerun by hand", connEnv{"Robot": "error", "Trigger": "active"}, event, "fr_0", ada, failedWith("forbidden"), nil, ""},
		{"automatic rerun", connEnv{"Robot": "error", "Trigger": "active"}, event, "fr_0", store.ServerActor, failedWith("forbidden"), nil, "Robot"},
		{"refused before its steps", connEnv{"Robot": "active", "Trigger": "needs_reauthorization"}, event, "", ada, nil, inactive, "Trigger"},
		{"refused before its steps for a connection never authorized", connEnv{"Robot": "active", "Trigger": "pending"}, event, "", ada, nil,
			problem.New(problem.ConnectionPending, "connection \"Trigger\" is not authorized yet (pending)"), "Trigger"},
		{"invalid before its steps", connEnv{"Robot": "error", "Trigger": "error"}, event, "", ada, nil, problem.New(problem.InvalidInput, "bad"), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &Service{env: c.env}
			run := &store.FlowRun{ID: "fr_1", Source: []byte(rerunDoc), Status: flow.StatusFailed, Trigger: c.trigger, RerunOf: c.rerunOf, Actor: c.actor}
			got, ok := s.waitsFor(t.Context(), run, c.res, c.err)
			if ok != (c.want != "") || got.Nickname != c.want {
				t.Errorf("waitsFor = %q, %t; want %q", got.Nickname, ok, c.want)
			}
		})
	}
}

// TestRerunWaitingSkips: a run waiting for its connection is not rerun
// when its flow was disabled or deleted, or its connection deleted,
// meanwhile: it says why and waits no more. One whose connection is not
// active yet goes on waiting; once it is active, it is rerun by cardflow.
func TestRerunWaitingSkips(t *testing.T) {
	ctx := t.Context()
	st := sqlitetest.Open(t)
	now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	s := New(Config{Store: st, Owner: "here", Now: func() time.Time { return now }})
	enabler := store.Actor{Type: store.ActorUser, Login: "ada@example.com"}
	trig := []byte(`{"kind":"event","card":"okta-devices/device-removed-from-user","connection":"Robot"}`)
	for _, name := range []string{"on", "off", "gone", "orphan"} {
		fl := &store.Flow{ID: "f_" + name, Name: name, Source: []byte("name: " + name + "\n"), Trigger: trig, CreatedAt: now, UpdatedAt: now}
		if _, err := st.PutFlow(ctx, fl); err != nil {
			t.Fatal(err)
		}
		if name != "off" {
			if err := st.SetFlowEnabled(ctx, fl.ID, trig, true, now, enabler); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.DeleteFlow(ctx, "f_gone"); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateConnection(ctx, &store.Connection{ID: "c1", Nickname: "Robot", Connector: "okta-devices", Status: store.StatusError, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"on", "off", "gone", "orphan"} {
		conn := "c1"
		if name == "orphan" {
			conn = "c_deleted"
		}
		r := &store.FlowRun{ID: "fr_" + name, FlowID: "f_" + name, FlowName: name, Source: []byte("name: " + name + "\n"), Status: flow.StatusFailed,
			Actor: enabler, CreatedAt: now, FinishedAt: now, Trigger: []byte(`{"kind":"event"}`), RerunWhenActive: conn, RerunConnection: "Robot"}
		if err := st.CreateFlowRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.RerunWaiting(ctx); err != nil || n != 0 {
		t.Fatalf("RerunWaiting with the connection in error: %d, %v; want none rerun", n, err)
	}
	want := map[string]string{"fr_on": "", "fr_off": "flow off was disabled", "fr_gone": "flow gone was deleted", "fr_orphan": "connection Robot was deleted"}
	for id, why := range want {
		r, err := st.GetFlowRun(ctx, id)
		if err != nil || r.RerunSkipped != why || r.RerunBy != "" {
			t.Errorf("%s: %+v, %v; want skipped %q, not rerun", id, r, err, why)
		}
	}

	if err := st.UpdateConnection(ctx, "c1", func(c *store.Connection) error { c.Status = store.StatusActive; return nil }); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RerunWaiting(ctx); err != nil || n != 1 {
		t.Fatalf("RerunWaiting with the connection active: %d, %v; want the one run rerun", n, err)
	}
	r, err := st.GetFlowRun(ctx, "fr_on")
	if err != nil || r.RerunBy == "" {
		t.Fatalf("fr_on after its connection was active: %+v, %v; want it rerun", r, err)
	}
	rerun, err := st.GetFlowRun(ctx, r.RerunBy)
	if err != nil || rerun.RerunOf != "fr_on" || rerun.Actor != store.ServerActor || rerun.Status != "queued" {
		t.Errorf("the rerun: %+v, %v; want a queued rerun of fr_on by cardflow", rerun, err)
	}
	if n, err := s.RerunWaiting(ctx); err != nil || n != 0 {
		t.Errorf("RerunWaiting again: %d, %v; want none", n, err)
	}
}

// TestRerunWaitingPages: runs waiting for a connection that stays
// inactive, more than a page of them, do not hide a later run whose
// connection is active again.
func TestRerunWaitingPages(t *testing.T) {
	defer func(n int) { rerunWaitingBatch = n }(rerunWaitingBatch)
	rerunWaitingBatch = 2
	ctx := t.Context()
	st := sqlitetest.Open(t)
	now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	s := New(Config{Store: st, Owner: "here", Now: func() time.Time { return now }})
	trig := []byte(`{"kind":"event","card":"okta-devices/device-removed-from-user","connection":"Robot"}`)
	if _, err := st.PutFlow(ctx, &store.Flow{ID: "f1", Name: "q", Source: []byte("name: q\n"), Trigger: trig, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetFlowEnabled(ctx, "f1", trig, true, now, store.ServerActor); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ id, status string }{{"c_down", store.StatusNeedsReauthorization}, {"c_up", store.StatusActive}} {
		if err := st.CreateConnection(ctx, &store.Connection{ID: c.id, Nickname: c.id, Connector: "okta-devices", Status: c.status, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	for i, conn := range []string{"c_down", "c_down", "c_down", "c_up"} {
		r := &store.FlowRun{ID: fmt.Sprintf("fr_%d", i), FlowID: "f1", FlowName: "q", Source: []byte("name: q\n"), Status: flow.StatusFailed,
			CreatedAt: now.Add(time.Duration(i) * time.Second), FinishedAt: now, Trigger: []byte(`{"kind":"event"}`), RerunWhenActive: conn, RerunConnection: conn}
		if err := st.CreateFlowRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.RerunWaiting(ctx); err != nil || n != 1 {
		t.Fatalf("RerunWaiting: %d, %v; want the run waiting for c_up rerun, behind three waiting for c_down", n, err)
	}
	if r, err := st.GetFlowRun(ctx, "fr_3"); err != nil || r.RerunBy == "" {
		t.Errorf("fr_3: %+v, %v; want it rerun", r, err)
	}
}

// TestDisableDropsWaitingReruns: disabling a flow drops its failed event
// runs waiting for their connection to run again by themselves, there and
// then, naming them in its answer and its flow.disable audit event; a
// flow enabled again before the next dispatch round reruns none of them
// once the connection is active (before, the disable said nothing, and
// such a run was rerun or dropped depending on whether a round came
// between the disable and the enable). Another flow's keeps waiting.
func TestDisableDropsWaitingReruns(t *testing.T) {
	ctx := t.Context()
	st := sqlitetest.Open(t)
	now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	s := New(Config{Store: st, Owner: "here", Now: func() time.Time { return now }})
	enabler := store.Actor{Type: store.ActorUser, Login: "ada@example.com"}
	trig := []byte(`{"kind":"event","card":"okta-devices/device-removed-from-user","connection":"Robot"}`)
	for _, name := range []string{"quarantine", "other"} {
		fl := &store.Flow{ID: "f_" + name, Name: name, Source: []byte("name: " + name + "\n"), Trigger: trig, CreatedAt: now, UpdatedAt: now}
		if _, err := st.PutFlow(ctx, fl); err != nil {
			t.Fatal(err)
		}
		if err := st.SetFlowEnabled(ctx, fl.ID, trig, true, time.Time{}, enabler); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateConnection(ctx, &store.Connection{ID: "c1", Nickname: "Robot", Connector: "okta-devices", Status: store.StatusError, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"fr_q1", "fr_q2", "fr_o1"} {
		flowID, name := "f_quarantine", "quarantine"
		if id == "fr_o1" {
			flowID, name = "f_other", "other"
		}
		at := now.Add(time.Duration(i) * time.Minute)
		r := &store.FlowRun{ID: id, FlowID: flowID, FlowName: name, Source: []byte("name: " + name + "\n"), Status: flow.StatusFailed,
			Actor: enabler, CreatedAt: at, FinishedAt: at, Trigger: []byte(`{"kind":"event"}`), RerunWhenActive: "c1", RerunConnection: "Robot"}
		if err := st.CreateFlowRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	d, err := s.DisableFlow(ctx, "quarantine", enabler)
	if err != nil || d.Flow.Enabled {
		t.Fatalf("disable: %+v, %v", d, err)
	}
	var dropped []string
	for _, r := range d.DroppedReruns {
		dropped = append(dropped, r.ID)
	}
	if want := []string{"fr_q1", "fr_q2"}; !slices.Equal(dropped, want) {
		t.Errorf("dropped %v; want %v, the flow's waiting runs, oldest first", dropped, want)
	}
	for id, why := range map[string]string{"fr_q1": "flow quarantine was disabled", "fr_q2": "flow quarantine was disabled", "fr_o1": ""} {
		if r, err := st.GetFlowRun(ctx, id); err != nil || r.RerunSkipped != why {
			t.Errorf("%s: skipped %q, %v; want %q", id, r.RerunSkipped, err, why)
		}
	}
	evs, err := st.ListAudit(ctx, store.AuditFilter{Action: store.ActionFlowDisable})
	if err != nil || len(evs) != 1 || !strings.HasSuffix(evs[0].InputSummary, "; dropped 2 failed event runs waiting for their connection to run again by themselves: fr_q1, fr_q2") {
		t.Errorf("flow.disable audit events %+v, %v; want one naming the dropped runs", evs, err)
	}

	// Enabled again, and the connection active before any round: nothing
	// of quarantine is rerun; the other flow's run is.
	if err := st.SetFlowEnabled(ctx, "f_quarantine", trig, true, time.Time{}, enabler); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateConnection(ctx, "c1", func(c *store.Connection) error { c.Status = store.StatusActive; return nil }); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RerunWaiting(ctx); err != nil || n != 1 {
		t.Fatalf("RerunWaiting: %d, %v; want only the other flow's run rerun", n, err)
	}
	if r, err := st.GetFlowRun(ctx, "fr_o1"); err != nil || r.RerunBy == "" {
		t.Errorf("the other flow's run: %+v, %v; want it rerun", r, err)
	}
	d, err = s.DisableFlow(ctx, "quarantine", enabler)
	if err != nil || len(d.DroppedReruns) != 0 {
		t.Errorf("disable again: %+v, %v; want nothing more dropped", d, err)
	}
}

// roundAtDisable is a store where a dispatch round, woken by a flow's
// disabling, drops a waiting rerun of it (as RerunWaiting does for a
// disabled flow) right after the flow is disabled.
type roundAtDisable struct {
	store.Store
	run, why string
}

func (r *roundAtDisable) SetFlowEnabled(ctx context.Context, id string, trigger []byte, on bool, next time.Time, by store.Actor) error {
	if err := r.Store.SetFlowEnabled(ctx, id, trigger, on, next, by); err != nil || on {
		return err
	}
	return r.Store.SkipRerun(ctx, r.run, r.why)
}

// TestDisableCountsRerunsARoundDropped: a rerun that a dispatch round,
// woken by the disabling, dropped before the disable came to it is
// counted among those the disable dropped; the answer said none.
func TestDisableCountsRerunsARoundDropped(t *testing.T) {
	ctx := t.Context()
	st := sqlitetest.Open(t)
	now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	s := New(Config{Store: &roundAtDisable{Store: st, run: "fr_q", why: "flow q was disabled"}, Owner: "here", Now: func() time.Time { return now }})
	enabler := store.Actor{Type: store.ActorUser, Login: "ada@example.com"}
	trig := []byte(`{"kind":"event","card":"okta-devices/device-removed-from-user","connection":"Robot"}`)
	fl := &store.Flow{ID: "f_q", Name: "q", Source: []byte("name: q\n"), Trigger: trig, CreatedAt: now, UpdatedAt: now}
	if _, err := st.PutFlow(ctx, fl); err != nil {
		t.Fatal(err)
	}
	if err := st.SetFlowEnabled(ctx, fl.ID, trig, true, time.Time{}, enabler); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateConnection(ctx, &store.Connection{ID: "c1", Nickname: "Robot", Connector: "okta-devices", Status: store.StatusError, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateFlowRun(ctx, &store.FlowRun{ID: "fr_q", FlowID: fl.ID, FlowName: "q", Source: fl.Source, Status: flow.StatusFailed,
		Actor: enabler, CreatedAt: now, FinishedAt: now, Trigger: []byte(`{"kind":"event"}`), RerunWhenActive: "c1", RerunConnection: "Robot"}); err != nil {
		t.Fatal(err)
	}
	d, err := s.DisableFlow(ctx, "q", enabler)
	if err != nil || len(d.DroppedReruns) != 1 || d.DroppedReruns[0].ID != "fr_q" {
		t.Fatalf("disable: %+v, %v; want fr_q dropped", d, err)
	}
}
