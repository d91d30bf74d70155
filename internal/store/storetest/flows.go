package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

func testFlow(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	_, err := s.GetFlow(ctx, "missing")
	wantErr(t, err, store.ErrNotFound, "GetFlow(missing)")
	wantErr(t, s.DeleteFlow(ctx, "missing"), store.ErrNotFound, "DeleteFlow(missing)")

	f := &store.Flow{ID: "f1", Name: "suspend-stale-macs", Source: []byte("name: suspend-stale-macs\n"), CreatedAt: at(0), UpdatedAt: at(0)}
	putFlow(t, s, f, "PutFlow")
	putFlow(t, s, &store.Flow{ID: "f0", Name: "a-first", Source: []byte("name: a-first\n"), CreatedAt: at(1), UpdatedAt: at(1)}, "PutFlow")

	for _, key := range []string{"f1", "suspend-stale-macs"} {
		got, err := s.GetFlow(ctx, key)
		noErr(t, err, "GetFlow("+key+")")
		diff(t, "flow", f, got)
	}

	// Replacing by name keeps the stored id and creation time.
	repl := &store.Flow{ID: "other-id", Name: "suspend-stale-macs", Source: []byte("name: suspend-stale-macs\nsteps: []\n"), CreatedAt: at(50), UpdatedAt: at(60)}
	putFlow(t, s, repl, "PutFlow(replace)")
	want := &store.Flow{ID: "f1", Name: "suspend-stale-macs", Source: repl.Source, Version: 2, CreatedAt: at(0), UpdatedAt: at(60)}
	diff(t, "PutFlow's view of the replaced flow", want, repl)
	got, err := s.GetFlow(ctx, "f1")
	noErr(t, err, "GetFlow")
	diff(t, "replaced flow", want, got)
	_, err = s.GetFlow(ctx, "other-id")
	wantErr(t, err, store.ErrNotFound, "GetFlow(id of a replacing put)")

	list, err := s.ListFlows(ctx)
	noErr(t, err, "ListFlows")
	var names []string
	for _, f := range list {
		names = append(names, f.Name)
	}
	diff(t, "ListFlows order", []string{"a-first", "suspend-stale-macs"}, names)

	noErr(t, s.DeleteFlow(ctx, "f1"), "DeleteFlow")
	_, err = s.GetFlow(ctx, "suspend-stale-macs")
	wantErr(t, err, store.ErrNotFound, "GetFlow(deleted)")
}

func newFlowRun(id string, created int) *store.FlowRun {
	return &store.FlowRun{ID: id, FlowID: "f1", FlowName: "flow", Source: []byte("name: flow\n"),
		FlowVersion: 3, RerunOf: "r0", Inputs: json.RawMessage(`{"since":"2024-01-01"}`), Status: "queued",
		Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"}, CreatedAt: at(created)}
}

func testFlowRun(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	_, err := s.GetFlowRun(ctx, "missing")
	wantErr(t, err, store.ErrNotFound, "GetFlowRun(missing)")
	wantErr(t, s.UpdateFlowRun(ctx, &store.FlowRun{ID: "missing"}), store.ErrNotFound, "UpdateFlowRun(missing)")

	r := newFlowRun("r1", 0)
	noErr(t, s.CreateFlowRun(ctx, r), "CreateFlowRun")
	wantErr(t, s.CreateFlowRun(ctx, r), store.ErrConflict, "CreateFlowRun(duplicate)")
	got, err := s.GetFlowRun(ctx, "r1")
	noErr(t, err, "GetFlowRun")
	diff(t, "flow run", r, got)

	claimed, err := s.ClaimFlowRun(ctx, "server-a", time.Minute, at(1))
	noErr(t, err, "ClaimFlowRun")
	// UpdateFlowRun leaves the lease alone, even when given stale lease
	// fields (its owner's is the fence of the write, see FencedWrites).
	r.Status, r.StartedAt, r.Error = "running", at(2), ""
	r.Owner, r.LeaseUntil = claimed.Owner, at(99999)
	noErr(t, s.UpdateFlowRun(ctx, r), "UpdateFlowRun")
	got, err = s.GetFlowRun(ctx, "r1")
	noErr(t, err, "GetFlowRun")
	r.Owner, r.LeaseUntil = claimed.Owner, claimed.LeaseUntil
	diff(t, "updated flow run", r, got)

	// FinishFlowRun stores the outcome and its audit event together; for
	// an unknown run, neither.
	e := &store.AuditEvent{Time: at(4), Action: store.ActionFlowRun, Outcome: "failure", Error: "boom", InputSummary: "flow f, run missing"}
	wantErr(t, s.FinishFlowRun(ctx, &store.FlowRun{ID: "missing"}, event(e), nil), store.ErrNotFound, "FinishFlowRun(missing)")
	events, err := s.ListAudit(ctx, store.AuditFilter{})
	noErr(t, err, "ListAudit")
	if len(events) != 0 {
		t.Errorf("FinishFlowRun(missing) left audit events %+v", events)
	}
	r.Status, r.FinishedAt, r.Error, r.Failure = "failed", at(3), "boom", "step s: not_found"
	e.InputSummary = "flow f, run r1"
	noErr(t, s.FinishFlowRun(ctx, r, event(e), nil), "FinishFlowRun")
	got, err = s.GetFlowRun(ctx, "r1")
	noErr(t, err, "GetFlowRun")
	if !got.LeaseUntil.IsZero() || !r.LeaseUntil.IsZero() {
		t.Errorf("finished flow run's lease until %v (given run: %v); want it ended with the run", got.LeaseUntil, r.LeaseUntil)
	}
	diff(t, "finished flow run", r, got)
	events, err = s.ListAudit(ctx, store.AuditFilter{})
	noErr(t, err, "ListAudit")
	if len(events) != 1 || events[0].ID != e.ID || events[0].InputSummary != "flow f, run r1" {
		t.Errorf("audit after FinishFlowRun: %+v; want the run's event, id %d", events, e.ID)
	}

	for i, flow := range []string{"f1", "f2", "f1"} {
		fr := newFlowRun(fmt.Sprintf("r%d", i+2), 10+i)
		fr.FlowID = flow
		noErr(t, s.CreateFlowRun(ctx, fr), "CreateFlowRun")
	}
	tests := []struct {
		name   string
		flowID string
		limit  int
		want   []string
	}{
		{name: "one flow", flowID: "f1", want: []string{"r4", "r2", "r1"}},
		{name: "every flow", want: []string{"r4", "r3", "r2", "r1"}},
		{name: "limit", flowID: "f1", limit: 1, want: []string{"r4"}},
		{name: "unknown flow", flowID: "nope", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, err := s.ListFlowRuns(ctx, tt.flowID, tt.limit)
			noErr(t, err, "ListFlowRuns")
			var ids []string
			for _, r := range runs {
				ids = append(ids, r.ID)
			}
			diff(t, "flow run ids", tt.want, ids)
		})
	}
}

func testClaimFlowRun(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	ttl := time.Minute
	_, err := s.ClaimFlowRun(ctx, "a", ttl, at(0))
	wantErr(t, err, store.ErrNotFound, "ClaimFlowRun(empty)")

	done := newFlowRun("done", 0)
	done.Status = "succeeded"
	noErr(t, s.CreateFlowRun(ctx, done), "CreateFlowRun")
	noErr(t, s.CreateFlowRun(ctx, newFlowRun("second", 20)), "CreateFlowRun")
	noErr(t, s.CreateFlowRun(ctx, newFlowRun("first", 10)), "CreateFlowRun")

	claim := func(owner string, now time.Time) string {
		t.Helper()
		r, err := s.ClaimFlowRun(ctx, owner, ttl, now)
		if errors.Is(err, store.ErrNotFound) {
			return ""
		}
		noErr(t, err, "ClaimFlowRun")
		if r.Owner != owner || !r.LeaseUntil.Equal(now.Add(ttl)) {
			t.Errorf("claimed run owner %q lease %v; want %q, %v", r.Owner, r.LeaseUntil, owner, now.Add(ttl))
		}
		return r.ID
	}
	if got := claim("a", at(30)); got != "first" {
		t.Errorf("first claim = %q; want the oldest queued run, first", got)
	}
	if got := claim("b", at(31)); got != "second" {
		t.Errorf("second claim = %q; want second", got)
	}
	if got := claim("c", at(32)); got != "" {
		t.Errorf("third claim = %q; want none (both leased, one finished)", got)
	}

	// a renews; b's lease runs out while its run is "running".
	noErr(t, s.RenewFlowRunLease(ctx, "first", "a", ttl, at(80)), "RenewFlowRunLease")
	second, err := s.GetFlowRun(ctx, "second")
	noErr(t, err, "GetFlowRun")
	second.Status = "running"
	noErr(t, s.UpdateFlowRun(ctx, second), "UpdateFlowRun")
	if got := claim("c", at(95)); got != "second" {
		t.Errorf("claim after b's lease expired = %q; want second", got)
	}
	wantErr(t, s.RenewFlowRunLease(ctx, "second", "b", ttl, at(96)), store.ErrConflict, "RenewFlowRunLease(lost lease)")
	wantErr(t, s.RenewFlowRunLease(ctx, "missing", "b", ttl, at(96)), store.ErrNotFound, "RenewFlowRunLease(missing run)")
	if got := claim("d", at(100)); got != "" {
		t.Errorf("claim = %q; want none (a renewed until 140)", got)
	}
	if got := claim("d", at(140)); got != "first" {
		t.Errorf("claim at a's expiry = %q; want first", got)
	}

	// A finished run is never claimed, whatever its lease.
	first, err := s.GetFlowRun(ctx, "first")
	noErr(t, err, "GetFlowRun")
	first.Status = "failed"
	noErr(t, s.UpdateFlowRun(ctx, first), "UpdateFlowRun")
	if got := claim("e", at(1000)); got != "second" {
		t.Errorf("claim long after = %q; want second (first failed, done succeeded)", got)
	}
	// c, whose lease lapsed and whose run e claimed, cannot store an
	// outcome over e's run, nor its audit event; e can.
	second, err = s.GetFlowRun(ctx, "second")
	noErr(t, err, "GetFlowRun")
	staleC := *second
	staleC.Owner, staleC.Status, staleC.Error = "c", "failed", "c's outcome"
	e := &store.AuditEvent{Time: at(1001), Action: store.ActionFlowRun, Outcome: "failure", InputSummary: "flow f, run second"}
	wantErr(t, s.FinishFlowRun(ctx, &staleC, event(e), nil), store.ErrConflict, "FinishFlowRun(lost lease)")
	if got, err := s.GetFlowRun(ctx, "second"); err != nil || got.Owner != "e" || got.Status != "running" {
		t.Errorf("after a stale FinishFlowRun: %+v, %v; want e's running run", got, err)
	}
	if events, err := s.ListAudit(ctx, store.AuditFilter{}); err != nil || len(events) != 0 {
		t.Errorf("a stale FinishFlowRun left audit events %+v, %v", events, err)
	}
	fromE := *second
	fromE.Status = "succeeded"
	noErr(t, s.FinishFlowRun(ctx, &fromE, event(e), nil), "FinishFlowRun(owner)")
	if got, err := s.GetFlowRun(ctx, "second"); err != nil || got.Status != "succeeded" {
		t.Errorf("after the owner's FinishFlowRun: %+v, %v; want succeeded", got, err)
	}
}

func testClaimExactlyOnce(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	const runs, workers = 12, 10
	for i := range runs {
		noErr(t, s1.CreateFlowRun(ctx, newFlowRun(fmt.Sprintf("run%02d", i), i)), "CreateFlowRun")
	}
	var mu sync.Mutex
	claims := map[string][]string{}
	parallel(workers, func(i int) {
		s := alternate(i, s1, s2)
		owner := fmt.Sprintf("server-%d", i)
		for {
			r, err := s.ClaimFlowRun(ctx, owner, time.Hour, at(100))
			if errors.Is(err, store.ErrNotFound) {
				return
			}
			if err != nil {
				t.Errorf("ClaimFlowRun: %v", err)
				return
			}
			mu.Lock()
			claims[r.ID] = append(claims[r.ID], owner)
			mu.Unlock()
		}
	})
	if len(claims) != runs {
		t.Errorf("%d runs claimed; want %d", len(claims), runs)
	}
	for id, owners := range claims {
		if len(owners) != 1 {
			t.Errorf("run %s claimed by %v; want exactly one owner", id, owners)
		}
		r, err := s2.GetFlowRun(ctx, id)
		noErr(t, err, "GetFlowRun")
		if len(owners) == 1 && r.Owner != owners[0] {
			t.Errorf("run %s stored owner %q; want %q", id, r.Owner, owners[0])
		}
	}
}

func testFlowStep(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	noErr(t, s.CreateFlowRun(ctx, newFlowRun("r1", 0)), "CreateFlowRun")
	wantErr(t, s.PutFlowStep(ctx, "", &store.FlowStep{RunID: "missing", StepID: "x"}), store.ErrNotFound, "PutFlowStep(missing run)")

	steps := []*store.FlowStep{
		{RunID: "r1", StepID: "stale", Status: "running", StartedAt: at(1)},
		{RunID: "r1", StepID: "suspend", Status: "pending"},
		{RunID: "r1", StepID: "notify", Status: "pending"},
	}
	for _, st := range steps {
		noErr(t, s.PutFlowStep(ctx, "", st), "PutFlowStep")
	}
	// Replacing a step keeps its place.
	steps[0].Status, steps[0].Items, steps[0].Succeeded = "succeeded", 1, 1
	steps[0].Output, steps[0].FinishedAt = json.RawMessage(`{"devices":[]}`), at(2)
	noErr(t, s.PutFlowStep(ctx, "", steps[0]), "PutFlowStep(replace)")
	steps[1].Status, steps[1].Items, steps[1].Succeeded, steps[1].Failed, steps[1].Skipped = "failed", 10, 7, 2, 1
	steps[1].Error = "2 items failed"
	changed := 5 // of the 7 succeeded; the read step "stale" keeps no count
	steps[1].Changed = &changed
	noErr(t, s.PutFlowStep(ctx, "", steps[1]), "PutFlowStep(replace)")

	got, err := s.ListFlowSteps(ctx, "r1")
	noErr(t, err, "ListFlowSteps")
	diff(t, "flow steps", steps, got)
	none, err := s.ListFlowSteps(ctx, "missing")
	noErr(t, err, "ListFlowSteps(missing)")
	if len(none) != 0 {
		t.Errorf("ListFlowSteps(missing) = %d steps; want 0", len(none))
	}
}

func testFlowItem(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	noErr(t, s.CreateFlowRun(ctx, newFlowRun("r1", 0)), "CreateFlowRun")
	wantErr(t, s.PutFlowItem(ctx, "", &store.FlowItem{RunID: "missing", StepID: "x"}), store.ErrNotFound, "PutFlowItem(missing run)")

	var want []*store.FlowItem
	for _, i := range []int{2, 0, 10, 1} {
		it := &store.FlowItem{RunID: "r1", StepID: "suspend", Index: i, Status: "succeeded",
			Input: json.RawMessage(fmt.Sprintf(`{"deviceId":"guo%d"}`, i)), Output: json.RawMessage(`{"changed":true}`),
			RunRef: fmt.Sprintf("run-%d", i), StartedAt: at(i), FinishedAt: at(i + 1)}
		if i == 10 {
			it.Status, it.Output, it.ErrorCode, it.Error = "failed", nil, "upstream_error", "okta said no"
		}
		noErr(t, s.PutFlowItem(ctx, "", it), "PutFlowItem")
		want = append(want, it)
	}
	noErr(t, s.PutFlowItem(ctx, "", &store.FlowItem{RunID: "r1", StepID: "other", Index: 0, Status: "skipped"}), "PutFlowItem(other step)")
	dup := *want[0]
	dup.Status = "failed"
	wantErr(t, s.PutFlowItem(ctx, "", &dup), store.ErrConflict, "PutFlowItem(duplicate)")

	got, err := s.ListFlowItems(ctx, "r1", "suspend")
	noErr(t, err, "ListFlowItems")
	diff(t, "flow items by index", []*store.FlowItem{want[1], want[3], want[0], want[2]}, got)

	// Pages: after an index, at most limit.
	page, err := s.ListFlowItemsPage(ctx, "r1", "suspend", -1, 2)
	noErr(t, err, "ListFlowItemsPage(first)")
	diff(t, "first page", []*store.FlowItem{want[1], want[3]}, page)
	page, err = s.ListFlowItemsPage(ctx, "r1", "suspend", 1, 2)
	noErr(t, err, "ListFlowItemsPage(after 1)")
	diff(t, "second page", []*store.FlowItem{want[0], want[2]}, page)
	page, err = s.ListFlowItemsPage(ctx, "r1", "suspend", 10, 2)
	noErr(t, err, "ListFlowItemsPage(after the last)")
	if len(page) != 0 {
		t.Errorf("page after the last item has %d items; want none", len(page))
	}
	// An item whose output is its card run's reads back the same.
	big := json.RawMessage(`{"devices":[` + strings.Repeat(`{"id":"guo1","status":"ACTIVE"},`, 1000) + `{"id":"guo2"}]}`)
	noErr(t, s.CreateRun(ctx, &store.Run{ID: "search-run", Card: "okta-devices/search-devices", Status: "succeeded",
		Output: big, FlowRunID: "r1", StepID: "find", StartedAt: at(1), FinishedAt: at(2)}), "CreateRun")
	same := &store.FlowItem{RunID: "r1", StepID: "find", Index: 0, Status: "succeeded", Output: big, RunRef: "search-run", StartedAt: at(1), FinishedAt: at(2)}
	other := &store.FlowItem{RunID: "r1", StepID: "find", Index: 1, Status: "succeeded", Output: json.RawMessage(`{"note":"mine"}`), RunRef: "search-run", StartedAt: at(1), FinishedAt: at(2)}
	noErr(t, s.PutFlowItem(ctx, "", same), "PutFlowItem(output of its run)")
	noErr(t, s.PutFlowItem(ctx, "", other), "PutFlowItem(output of its own)")
	got, err = s.ListFlowItems(ctx, "r1", "find")
	noErr(t, err, "ListFlowItems(find)")
	diff(t, "items sharing their run's output", []*store.FlowItem{same, other}, got)
	page, err = s.ListFlowItemsPage(ctx, "r1", "find", -1, 1)
	noErr(t, err, "ListFlowItemsPage(find)")
	diff(t, "page of an item sharing its run's output", []*store.FlowItem{same}, page)

	counts, err := s.CountFlowItems(ctx, "r1", "suspend")
	noErr(t, err, "CountFlowItems")
	diff(t, "item counts", map[string]int{"succeeded": 3, "failed": 1}, counts)
}

func testFlowItemConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	noErr(t, s1.CreateFlowRun(ctx, newFlowRun("r1", 0)), "CreateFlowRun")
	const n = 20
	var mu sync.Mutex
	wins := 0
	parallel(n, func(i int) {
		s := alternate(i, s1, s2)
		err := s.PutFlowItem(ctx, "", &store.FlowItem{RunID: "r1", StepID: "s", Index: 3, Status: "succeeded", RunRef: fmt.Sprint(i)})
		switch {
		case err == nil:
			mu.Lock()
			wins++
			mu.Unlock()
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("PutFlowItem: %v; want nil or ErrConflict", err)
		}
	})
	if wins != 1 {
		t.Errorf("%d of %d concurrent puts of one item succeeded; want exactly 1", wins, n)
	}
}

func testSetting(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	_, err := s.GetSetting(ctx, "api_token_hash")
	wantErr(t, err, store.ErrNotFound, "GetSetting(missing)")
	noErr(t, s.PutSetting(ctx, "api_token_hash", []byte{0, 1, 2}), "PutSetting")
	noErr(t, s.PutSetting(ctx, "keyring_check", []byte("sealed")), "PutSetting")
	noErr(t, s.PutSetting(ctx, "api_token_hash", []byte("replaced")), "PutSetting(replace)")
	for key, want := range map[string]string{"api_token_hash": "replaced", "keyring_check": "sealed"} {
		got, err := s.GetSetting(ctx, key)
		noErr(t, err, "GetSetting")
		if string(got) != want {
			t.Errorf("GetSetting(%s) = %q; want %q", key, got, want)
		}
	}
}

func testFinishFlowItem(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	noErr(t, s.CreateFlowRun(ctx, newFlowRun("r1", 0)), "CreateFlowRun")
	start := func(id string) *store.Run {
		r := &store.Run{ID: id, Card: "okta-devices/suspend-device", Status: "running", Input: json.RawMessage(`{"deviceId":"guo1"}`),
			FlowRunID: "r1", StepID: "suspend", StartedAt: at(1)}
		noErr(t, s.CreateRun(ctx, r), "CreateRun")
		r.Status, r.Output, r.FinishedAt = "succeeded", json.RawMessage(`{"changed":true}`), at(2)
		return r
	}
	event := func(r *store.Run) *store.AuditEvent {
		return &store.AuditEvent{Time: at(2), Action: store.ActionCardRun, Card: r.Card, InputSummary: "of " + r.ID, Outcome: "success"}
	}
	item := &store.FlowItem{RunID: "r1", StepID: "suspend", Index: 0, Status: "succeeded", Input: json.RawMessage(`{"deviceId":"guo1"}`),
		Output: json.RawMessage(`{"changed":true}`), RunRef: "cr1", StartedAt: at(1), FinishedAt: at(2)}
	first := start("cr1")
	noErr(t, s.FinishFlowItem(ctx, item, first, event(first)), "FinishFlowItem")

	// A second attempt at the same item changes nothing: its run stays
	// running, no audit event is added.
	second := start("cr2")
	again := *item
	again.RunRef, again.Output = "cr2", json.RawMessage(`{"changed":false}`)
	wantErr(t, s.FinishFlowItem(ctx, &again, second, event(second)), store.ErrConflict, "FinishFlowItem(recorded item)")

	got, err := s.ListFlowItems(ctx, "r1", "suspend")
	noErr(t, err, "ListFlowItems")
	diff(t, "the finished item", []*store.FlowItem{item}, got)
	run, err := s.GetRun(ctx, "cr1")
	noErr(t, err, "GetRun(cr1)")
	diff(t, "the finished run", first, run)
	run, err = s.GetRun(ctx, "cr2")
	noErr(t, err, "GetRun(cr2)")
	if run.Status != "running" {
		t.Errorf("the run of the refused item is %s; want running (nothing of the refused write stored)", run.Status)
	}
	events, err := s.ListAudit(ctx, store.AuditFilter{})
	noErr(t, err, "ListAudit")
	if len(events) != 1 || events[0].InputSummary != "of cr1" {
		t.Errorf("audit events %+v; want the first run's only", events)
	}
}

// testPutFlowItems: items put together are all recorded, or, when one of
// them was recorded before, none.
func testPutFlowItems(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	noErr(t, s.CreateFlowRun(ctx, newFlowRun("r1", 0)), "CreateFlowRun")
	item := func(i int) *store.FlowItem {
		return &store.FlowItem{RunID: "r1", StepID: "suspend", Index: i, Status: "skipped",
			Input: json.RawMessage(fmt.Sprintf(`{"deviceId":"guo%d"}`, i)), StartedAt: at(i), FinishedAt: at(i)}
	}
	first := []*store.FlowItem{item(0), item(1), item(2)}
	noErr(t, s.PutFlowItems(ctx, "", first), "PutFlowItems")
	got, err := s.ListFlowItems(ctx, "r1", "suspend")
	noErr(t, err, "ListFlowItems")
	diff(t, "items put together", first, got)

	// Item 2 is recorded already: 3 and 4 are not recorded either.
	wantErr(t, s.PutFlowItems(ctx, "", []*store.FlowItem{item(3), item(2), item(4)}), store.ErrConflict, "PutFlowItems(one recorded before)")
	got, err = s.ListFlowItems(ctx, "r1", "suspend")
	noErr(t, err, "ListFlowItems")
	diff(t, "items after a refused put", first, got)
}

// testFailureStreak: the failed runs since a flow last ran well, by
// creation order, with canceled and unfinished runs not looked at, other
// flows' runs not counted, and the run being decided about left out.
func testFailureStreak(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	run := func(id, flowID string, created int, status, failure string, finished int) {
		t.Helper()
		r := newFlowRun(id, created)
		r.FlowID, r.Status, r.Failure = flowID, status, failure
		if finished > 0 {
			r.FinishedAt = at(finished)
		}
		noErr(t, s.CreateFlowRun(ctx, r), "CreateFlowRun "+id)
	}
	streak := func(same *string, createdBefore int, exclude string) store.Streak {
		t.Helper()
		st, err := s.FailureStreak(ctx, store.StreakFilter{FlowID: "f1", ExcludeID: exclude, CreatedBefore: at(createdBefore), SameFailure: same})
		noErr(t, err, "FailureStreak")
		return st
	}
	expired, gone := "token expired", "device gone"
	if got := streak(nil, 100, ""); got.Runs != 0 || !got.First.IsZero() {
		t.Errorf("a flow without runs: %+v; want no failures", got)
	}
	run("r1", "f1", 1, "failed", expired, 2)
	run("r2", "f1", 3, "succeeded", "", 4)
	run("r3", "f1", 5, "failed", gone, 6)
	run("r4", "f1", 7, "failed", expired, 8)
	run("r5", "f1", 9, store.FlowRunCanceled, "", 10)
	run("r6", "f1", 11, "failed", expired, 14)
	run("r7", "f1", 12, "running", "", 0)
	run("x1", "f2", 13, "failed", expired, 13)
	run("r8", "f1", 15, "failed", expired, 16)

	want := func(what string, got store.Streak, n, first, last int) {
		t.Helper()
		if got.Runs != n || (n > 0 && (!got.First.Equal(at(first)) || !got.Last.Equal(at(last)))) {
			t.Errorf("%s: %+v; want %d runs, finished from %v to %v", what, got, n, at(first), at(last))
		}
	}
	want("every failure since the success", streak(nil, 100, ""), 4, 6, 16)
	want("the same failure since another one", streak(&expired, 100, ""), 3, 8, 16)
	want("another failure, just after r3", streak(&gone, 100, ""), 0, 0, 0)
	want("the run decided about is left out", streak(&expired, 100, "r8"), 2, 8, 14)
	want("only runs created before", streak(&expired, 11, ""), 1, 8, 8)
	want("before the success", streak(nil, 3, ""), 1, 2, 2)
	run("r9", "f1", 17, "succeeded", "", 18)
	want("after a new success", streak(nil, 100, ""), 0, 0, 0)
}
