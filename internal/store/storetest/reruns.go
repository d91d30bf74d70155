package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

// failedWaiting stores a failed run of flow f1 that waits for connection
// c1, with a succeeded and a failed item.
func failedWaiting(t *testing.T, s store.Store, id string, created int) {
	t.Helper()
	failedWaitingOf(t, s, "f1", id, created)
}

// failedWaitingOf is failedWaiting of flow flowID.
func failedWaitingOf(t *testing.T, s store.Store, flowID, id string, created int) {
	t.Helper()
	ctx := t.Context()
	r := newFlowRun(id, created)
	r.FlowID = flowID
	r.RerunOf, r.Status, r.FinishedAt, r.RerunWhenActive, r.RerunConnection = "", "failed", at(created+1), "c1", "Robot"
	noErr(t, s.CreateFlowRun(ctx, r), "CreateFlowRun")
	for i, st := range []string{"succeeded", "failed"} {
		noErr(t, s.PutFlowItem(ctx, "", &store.FlowItem{RunID: id, StepID: "act", Index: i, Status: st, StartedAt: at(created), FinishedAt: at(created + 1)}), "PutFlowItem")
	}
}

// testClaimRerunExactlyOnce: servers that rerun a run waiting for its
// connection at once create one rerun between them, with its audit event
// and the kept items; the run names it and waits no more. A rerun by hand
// ends the wait too, and a skipped run is rerun by neither.
func testClaimRerunExactlyOnce(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	putFlow(t, s1, &store.Flow{ID: "f1", Name: "flow", Source: []byte("v1"), Trigger: hourly, CreatedAt: at(0), UpdatedAt: at(0)}, "PutFlow")
	noErr(t, s1.SetFlowEnabled(ctx, "f1", hourly, true, at(0), enabler), "SetFlowEnabled")
	const runs, workers = 4, 8
	for i := range runs {
		failedWaiting(t, s1, fmt.Sprintf("orig%d", i), 10*i)
	}
	done := newFlowRun("done", 100)
	done.Status = "failed"
	noErr(t, s1.CreateFlowRun(ctx, done), "CreateFlowRun(waits for nothing)")
	waiting, err := s2.ListRerunsWaiting(ctx, "", nil, 0)
	noErr(t, err, "ListRerunsWaiting")
	if len(waiting) != runs || waiting[0].ID != "orig0" || waiting[0].RerunWhenActive != "c1" || waiting[0].RerunConnection != "Robot" {
		t.Fatalf("waiting runs: %+v; want the %d runs, oldest first, waiting for c1", waiting, runs)
	}
	// In pages, after a cursor.
	var paged []string
	var after *store.FlowRun
	for {
		page, err := s1.ListRerunsWaiting(ctx, "", after, 3)
		noErr(t, err, "ListRerunsWaiting(page)")
		for _, r := range page {
			paged = append(paged, r.ID)
		}
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1]
	}
	if want := []string{"orig0", "orig1", "orig2", "orig3"}; !slices.Equal(paged, want) {
		t.Errorf("waiting runs in pages of 3: %v; want %v", paged, want)
	}
	// The purge keeps them, however old: they wait as long as their
	// connection does.
	_, err = s1.Purge(ctx, at(10000), at(10000), 100)
	noErr(t, err, "Purge")
	if again, err := s2.ListRerunsWaiting(ctx, "", nil, 0); err != nil || len(again) != runs {
		t.Fatalf("waiting runs after a purge: %d, %v; want the %d runs kept", len(again), err, runs)
	}

	pending, err := s1.PendingReruns(ctx)
	noErr(t, err, "PendingReruns")
	if len(pending) != 1 || pending["f1"] == "" {
		t.Errorf("PendingReruns with runs waiting: %v; want flow f1 with one of them", pending)
	}

	var mu sync.Mutex
	created := map[string][]string{}
	parallel(workers, func(i int) {
		s := alternate(i, s1, s2)
		for _, orig := range waiting {
			r := newFlowRun("", 200)
			r.RerunOf, r.Actor = orig.ID, store.ServerActor
			ev := func(r *store.FlowRun) *store.AuditEvent {
				return &store.AuditEvent{Time: at(200), Actor: store.ServerActor, Action: store.ActionFlowRerun, Outcome: "success", InputSummary: r.ID + " reruns " + orig.ID}
			}
			n, err := s.ClaimRerun(ctx, r, orig.ID, []string{"succeeded"}, ev)
			if errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrFlowChanged) {
				continue
			}
			if err != nil || n != 1 {
				t.Errorf("ClaimRerun(%s) = %d, %v; want 1 item kept", orig.ID, n, err)
				continue
			}
			mu.Lock()
			created[orig.ID] = append(created[orig.ID], r.ID)
			mu.Unlock()
		}
	})
	for _, orig := range waiting {
		if len(created[orig.ID]) != 1 {
			t.Errorf("reruns of %s: %v; want exactly one", orig.ID, created[orig.ID])
			continue
		}
		got, err := s1.GetFlowRun(ctx, orig.ID)
		noErr(t, err, "GetFlowRun")
		if got.RerunBy != created[orig.ID][0] {
			t.Errorf("%s RerunBy = %q; want %q", orig.ID, got.RerunBy, created[orig.ID][0])
		}
		items, err := s1.ListFlowItems(ctx, created[orig.ID][0], "act")
		noErr(t, err, "ListFlowItems")
		if len(items) != 1 || items[0].Status != "succeeded" {
			t.Errorf("items of the rerun of %s: %+v; want the succeeded one kept", orig.ID, items)
		}
	}
	audit, err := s1.ListAudit(ctx, store.AuditFilter{Action: store.ActionFlowRerun})
	noErr(t, err, "ListAudit")
	if len(audit) != runs {
		t.Errorf("%d flow.rerun audit events; want %d, one per rerun", len(audit), runs)
	}
	if waiting, err := s2.ListRerunsWaiting(ctx, "", nil, 0); err != nil || len(waiting) != 0 {
		t.Errorf("waiting runs after the reruns: %v, %v; want none", waiting, err)
	}
	// The reruns queued still hold the flow's later events; ended, they
	// do not.
	if pending, err := s1.PendingReruns(ctx); err != nil || pending["f1"] == "" || created[waiting[0].ID] == nil {
		t.Errorf("PendingReruns with the reruns queued: %v, %v; want flow f1", pending, err)
	}
	for _, ids := range created {
		r, err := s1.GetFlowRun(ctx, ids[0])
		noErr(t, err, "GetFlowRun")
		r.Status, r.FinishedAt = "succeeded", at(300)
		noErr(t, s1.UpdateFlowRun(ctx, r), "UpdateFlowRun")
	}
	if pending, err := s2.PendingReruns(ctx); err != nil || len(pending) != 0 {
		t.Errorf("PendingReruns with the reruns ended: %v, %v; want none", pending, err)
	}
	wantErr(t, func() error { _, err := s1.ClaimRerun(ctx, newFlowRun("", 300), "done", nil, nil); return err }(), store.ErrConflict, "ClaimRerun(a run that waits for nothing)")

	// A rerun by hand ends the wait: no automatic rerun follows it.
	failedWaiting(t, s1, "byhand", 400)
	hand := newFlowRun("hand", 410)
	hand.RerunOf = "byhand"
	_, err = s2.CreateFlowRunFrom(ctx, hand, "byhand", nil)
	noErr(t, err, "CreateFlowRunFrom")
	if got, err := s1.GetFlowRun(ctx, "byhand"); err != nil || got.RerunBy != "hand" {
		t.Errorf("run rerun by hand: %+v, %v; want RerunBy hand", got, err)
	}
	wantErr(t, func() error { _, err := s1.ClaimRerun(ctx, newFlowRun("", 420), "byhand", nil, nil); return err }(), store.ErrConflict, "ClaimRerun(rerun by hand)")

	// A disabled flow's run is not rerun; skipped, it waits no more.
	failedWaiting(t, s1, "off", 500)
	noErr(t, s1.SetFlowEnabled(ctx, "f1", hourly, false, at(510), enabler), "SetFlowEnabled(false)")
	wantErr(t, func() error { _, err := s2.ClaimRerun(ctx, newFlowRun("", 520), "off", nil, nil); return err }(), store.ErrFlowChanged, "ClaimRerun(disabled flow)")
	if pending, err := s1.PendingReruns(ctx); err != nil || pending["f1"] != "off" {
		t.Errorf("PendingReruns with run off waiting: %v, %v; want flow f1 with it", pending, err)
	}
	noErr(t, s2.SkipRerun(ctx, "off", "flow flow was disabled"), "SkipRerun")
	if pending, err := s1.PendingReruns(ctx); err != nil || len(pending) != 0 {
		t.Errorf("PendingReruns with run off skipped: %v, %v; want none", pending, err)
	}
	wantErr(t, s1.SkipRerun(ctx, "off", "again"), store.ErrConflict, "SkipRerun(skipped)")
	if got, err := s1.GetFlowRun(ctx, "off"); err != nil || got.RerunSkipped != "flow flow was disabled" || got.RerunBy != "" {
		t.Errorf("skipped run: %+v, %v; want RerunSkipped and no RerunBy", got, err)
	}
	noErr(t, s1.SetFlowEnabled(ctx, "f1", hourly, true, at(530), enabler), "SetFlowEnabled(true)")
	wantErr(t, func() error { _, err := s2.ClaimRerun(ctx, newFlowRun("", 540), "off", nil, nil); return err }(), store.ErrConflict, "ClaimRerun(skipped)")
}

// testListRerunsWaitingOfAFlow: the runs waiting for their connection
// are read for one flow (its disabling drops them) without the other
// flows' runs, in pages; with no flow, every flow's.
func testListRerunsWaitingOfAFlow(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	for i, id := range []string{"a0", "b0", "a1", "b1", "a2"} {
		flowID := "f1"
		if id[0] == 'b' {
			flowID = "f2"
		}
		failedWaitingOf(t, s, flowID, id, 10*i)
	}
	ids := func(flowID string, limit int) []string {
		var out []string
		var after *store.FlowRun
		for {
			page, err := s.ListRerunsWaiting(ctx, flowID, after, limit)
			noErr(t, err, "ListRerunsWaiting")
			for _, r := range page {
				out = append(out, r.FlowID+"/"+r.ID)
			}
			if len(page) < limit {
				return out
			}
			after = page[len(page)-1]
		}
	}
	for _, tt := range []struct {
		flowID string
		want   []string
	}{
		{"f1", []string{"f1/a0", "f1/a1", "f1/a2"}},
		{"f2", []string{"f2/b0", "f2/b1"}},
		{"", []string{"f1/a0", "f2/b0", "f1/a1", "f2/b1", "f1/a2"}},
		{"f3", nil},
	} {
		if got := ids(tt.flowID, 2); !slices.Equal(got, tt.want) {
			t.Errorf("runs of flow %q waiting, in pages of 2: %v; want %v", tt.flowID, got, tt.want)
		}
	}
}
