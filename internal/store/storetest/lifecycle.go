package storetest

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// testItemRuns: the card runs of one flow item, and the interrupted card
// runs of a resumed flow run.
func testItemRuns(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	runs := []*store.Run{
		{ID: "second", Card: "okta-devices/suspend-device", Status: store.RunRunning, FlowRunID: "f1", StepID: "s", ItemIndex: 3, StartedAt: at(20)},
		{ID: "first", Card: "okta-devices/suspend-device", Status: "succeeded", FlowRunID: "f1", StepID: "s", ItemIndex: 3, StartedAt: at(10), FinishedAt: at(11)},
		{ID: "other-index", Card: "okta-devices/suspend-device", Status: store.RunRunning, FlowRunID: "f1", StepID: "s", ItemIndex: 4, StartedAt: at(10)},
		{ID: "other-step", Card: "okta-devices/suspend-device", Status: "failed", FlowRunID: "f1", StepID: "t", ItemIndex: 3, StartedAt: at(10)},
		{ID: "other-run", Card: "okta-devices/suspend-device", Status: store.RunRunning, FlowRunID: "f2", StepID: "s", ItemIndex: 3, StartedAt: at(10)},
		{ID: "direct", Card: "okta-devices/suspend-device", Status: store.RunRunning, StartedAt: at(10)},
	}
	for _, r := range runs {
		noErr(t, s.CreateRun(ctx, r), "CreateRun "+r.ID)
	}
	ids := func(rs []*store.Run) []string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	got, err := s.ListItemRuns(ctx, "f1", "s", 3)
	noErr(t, err, "ListItemRuns")
	diff(t, "runs of item f1/s/3, oldest first", []string{"first", "second"}, ids(got))
	got, err = s.ListItemRuns(ctx, "f1", "s", 9)
	noErr(t, err, "ListItemRuns(no runs)")
	diff(t, "runs of an item without runs", []string{}, ids(got))

	n, err := s.InterruptRuns(ctx, "f1", "", at(30))
	noErr(t, err, "InterruptRuns")
	if n != 2 {
		t.Errorf("InterruptRuns marked %d runs; want 2 (f1's running ones)", n)
	}
	want := map[string]string{
		"second": store.RunInterrupted, "first": "succeeded", "other-index": store.RunInterrupted,
		"other-step": "failed", "other-run": store.RunRunning, "direct": store.RunRunning,
	}
	for id, status := range want {
		r, err := s.GetRun(ctx, id)
		noErr(t, err, "GetRun "+id)
		if r.Status != status {
			t.Errorf("run %s: status %q; want %q", id, r.Status, status)
		}
		if status == store.RunInterrupted && (!r.FinishedAt.Equal(at(30)) || r.ErrorMessage != store.InterruptedMessage) {
			t.Errorf("interrupted run %s: finished %v, error %q; want %v and InterruptedMessage", id, r.FinishedAt, r.ErrorMessage, at(30))
		}
	}
	n, err = s.InterruptRuns(ctx, "f1", "", at(40))
	noErr(t, err, "InterruptRuns again")
	if n != 0 {
		t.Errorf("InterruptRuns again marked %d runs; want 0", n)
	}
}

// testCancelFlowRun: a free queued run ends canceled at once, with the
// audit event of the request that ended it alone; a run a server holds
// (queued or running) keeps its status and gets the request (when, by
// whom, why), with no such event, which UpdateFlowRun and FinishFlowRun
// leave alone and ClaimFlowRun hands over; a second request keeps the
// first's; finished runs refuse. Every request that is not refused
// stores its own audit event, given the run as it comes back; a refused
// one stores none.
func testCancelFlowRun(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	admin := store.Actor{Type: store.ActorUser, Login: "admin@example.com"}
	bot := store.Actor{Type: store.ActorToken, Login: "ops@example.com", TokenName: "laptop"}
	const revoked = "its starter ada@example.com's access was revoked"
	// ended is the audit event of a run a request ended, naming the run
	// as the request saw it; events lists those stored.
	ended := func(r *store.FlowRun) *store.AuditEvent {
		return &store.AuditEvent{Time: r.FinishedAt, Actor: r.Actor, Action: store.ActionFlowRun, Outcome: "failure",
			Error: "canceled by " + r.CancelRequestedBy.Login, InputSummary: "run " + r.ID + " of " + r.Owner}
	}
	events := func(want ...string) {
		t.Helper()
		evs, err := s.ListAudit(ctx, store.AuditFilter{Action: store.ActionFlowRun})
		noErr(t, err, "ListAudit")
		var got []string
		for _, e := range evs {
			got = append(got, e.InputSummary+": "+e.Error)
		}
		diff(t, "flow.run audit events", want, got)
	}
	// asked is the audit event of a request by by, naming the run as it
	// comes back; requests lists those stored, newest first.
	asked := func(by store.Actor) func(*store.FlowRun) *store.AuditEvent {
		return func(r *store.FlowRun) *store.AuditEvent {
			return &store.AuditEvent{Actor: by, Action: store.ActionFlowCancel, Outcome: "success",
				InputSummary: by.Login + " asked " + r.ID + ", " + r.Status + ", first by " + r.CancelRequestedBy.Login}
		}
	}
	var requests []string
	requested := func(want ...string) {
		t.Helper()
		requests = append(want, requests...)
		evs, err := s.ListAudit(ctx, store.AuditFilter{Action: store.ActionFlowCancel})
		noErr(t, err, "ListAudit")
		var got []string
		for _, e := range evs {
			got = append(got, e.InputSummary)
		}
		diff(t, "flow.cancel audit events", requests, got)
	}
	_, err := s.CancelFlowRun(ctx, "missing", admin, "", at(0), asked(admin), ended)
	wantErr(t, err, store.ErrNotFound, "CancelFlowRun(missing)")
	requested()

	free := newFlowRun("free", 0)
	noErr(t, s.CreateFlowRun(ctx, free), "CreateFlowRun")
	got, err := s.CancelFlowRun(ctx, "free", bot, "", at(5), asked(bot), ended)
	noErr(t, err, "CancelFlowRun(free queued)")
	if got.Status != store.FlowRunCanceled || !got.FinishedAt.Equal(at(5)) || !got.CancelRequestedAt.Equal(at(5)) ||
		got.CancelRequestedBy != bot || got.CancelReason != "" {
		t.Errorf("canceled queued run = %s finished %v requested %v by %+v (%q); want canceled at %v by %+v, no reason",
			got.Status, got.FinishedAt, got.CancelRequestedAt, got.CancelRequestedBy, got.CancelReason, at(5), bot)
	}
	events("run free of : canceled by ops@example.com")
	requested("ops@example.com asked free, canceled, first by ops@example.com")
	again, err := s.CancelFlowRun(ctx, "free", admin, revoked, at(9), asked(admin), ended)
	noErr(t, err, "CancelFlowRun(canceled)")
	diff(t, "a canceled run canceled again", got, again)
	events("run free of : canceled by ops@example.com")
	requested("admin@example.com asked free, canceled, first by ops@example.com")
	stored, err := s.GetFlowRun(ctx, "free")
	noErr(t, err, "GetFlowRun(free)")
	diff(t, "the canceled run as read back", got, stored)
	if _, err := s.ClaimFlowRun(ctx, "a", time.Minute, at(10)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ClaimFlowRun after the only run was canceled: %v; want ErrNotFound", err)
	}

	held := newFlowRun("held", 20)
	noErr(t, s.CreateFlowRun(ctx, held), "CreateFlowRun")
	claimed, err := s.ClaimFlowRun(ctx, "a", time.Minute, at(21))
	noErr(t, err, "ClaimFlowRun")
	got, err = s.CancelFlowRun(ctx, "held", admin, revoked, at(22), asked(admin), ended)
	noErr(t, err, "CancelFlowRun(held queued)")
	if got.Status != "queued" || !got.CancelRequestedAt.Equal(at(22)) || !got.FinishedAt.IsZero() ||
		got.CancelRequestedBy != admin || got.CancelReason != revoked {
		t.Errorf("held queued run after cancel = %s requested %v by %+v (%q) finished %v; want queued, requested at %v by %+v (%q)",
			got.Status, got.CancelRequestedAt, got.CancelRequestedBy, got.CancelReason, got.FinishedAt, at(22), admin, revoked)
	}
	// The owner writes its state, which knows no request; the request stays.
	claimed.Status = "running"
	noErr(t, s.UpdateFlowRun(ctx, claimed), "UpdateFlowRun")
	got, err = s.CancelFlowRun(ctx, "held", bot, "", at(30), asked(bot), ended)
	noErr(t, err, "CancelFlowRun(running)")
	if got.Status != "running" || !got.CancelRequestedAt.Equal(at(22)) || got.CancelRequestedBy != admin || got.CancelReason != revoked {
		t.Errorf("running run after a second cancel = %s requested %v by %+v (%q); want running, first request %v by %+v (%q) kept",
			got.Status, got.CancelRequestedAt, got.CancelRequestedBy, got.CancelReason, at(22), admin, revoked)
	}
	events("run free of : canceled by ops@example.com")
	requested("ops@example.com asked held, running, first by admin@example.com", "admin@example.com asked held, queued, first by admin@example.com")
	// Its owner died: the next claimer gets the request with the run.
	next, err := s.ClaimFlowRun(ctx, "b", time.Minute, at(200))
	noErr(t, err, "ClaimFlowRun(expired)")
	if next.ID != "held" || !next.CancelRequestedAt.Equal(at(22)) || next.CancelRequestedBy != admin || next.CancelReason != revoked {
		t.Errorf("claimed %s with request %v by %+v (%q); want held with %v by %+v (%q)",
			next.ID, next.CancelRequestedAt, next.CancelRequestedBy, next.CancelReason, at(22), admin, revoked)
	}
	// It ends canceled; its outcome, written by a server that read the run
	// before the request, keeps the request, and its audit event is made
	// knowing it.
	claimed.Owner, claimed.Status, claimed.FinishedAt = "b", store.FlowRunCanceled, at(210)
	noErr(t, s.FinishFlowRun(ctx, claimed, func(r *store.FlowRun) *store.AuditEvent {
		e := &store.AuditEvent{Time: at(210), Actor: r.Actor, Action: store.ActionFlowRun, Outcome: "failure", InputSummary: "run " + r.ID}
		if !r.CancelRequestedAt.IsZero() {
			e.Error = "canceled: " + r.CancelReason + " by " + r.CancelRequestedBy.Login + " at " + timetext.Format(r.CancelRequestedAt)
		}
		return e
	}, nil), "FinishFlowRun")
	events("run held: canceled: "+revoked+" by admin@example.com at "+timetext.Format(at(22)), "run free of : canceled by ops@example.com")
	got, err = s.GetFlowRun(ctx, "held")
	noErr(t, err, "GetFlowRun(held)")
	if got.Status != store.FlowRunCanceled || !got.CancelRequestedAt.Equal(at(22)) || got.CancelRequestedBy != admin || got.CancelReason != revoked {
		t.Errorf("held run ended = %s requested %v by %+v (%q); want canceled, requested at %v by %+v (%q)",
			got.Status, got.CancelRequestedAt, got.CancelRequestedBy, got.CancelReason, at(22), admin, revoked)
	}

	// A claimant whose lease lapsed before it marked its run running (a
	// paused server) finds the run canceled at once held by no one: its
	// writes are refused, and the run stays canceled with one event.
	paused := newFlowRun("paused", 300)
	noErr(t, s.CreateFlowRun(ctx, paused), "CreateFlowRun")
	claimed, err = s.ClaimFlowRun(ctx, "c", time.Minute, at(301))
	noErr(t, err, "ClaimFlowRun(paused)")
	got, err = s.CancelFlowRun(ctx, "paused", bot, "", at(400), asked(bot), ended)
	noErr(t, err, "CancelFlowRun(lapsed claim)")
	if got.Status != store.FlowRunCanceled || got.Owner != "" {
		t.Errorf("a queued run whose claim lapsed, canceled = %s held by %q; want canceled, held by no one", got.Status, got.Owner)
	}
	claimed.Status = "running"
	wantErr(t, s.UpdateFlowRun(ctx, claimed), store.ErrLeaseLost, "UpdateFlowRun(lapsed claimant)")
	claimed.Status, claimed.FinishedAt = "succeeded", at(410)
	wantErr(t, s.FinishFlowRun(ctx, claimed, ended, nil), store.ErrLeaseLost, "FinishFlowRun(lapsed claimant)")
	requested("ops@example.com asked paused, canceled, first by ops@example.com")
	got, err = s.GetFlowRun(ctx, "paused")
	noErr(t, err, "GetFlowRun(paused)")
	if got.Status != store.FlowRunCanceled || !got.FinishedAt.Equal(at(400)) {
		t.Errorf("the run canceled under a lapsed claimant = %s finished %v; want canceled at %v", got.Status, got.FinishedAt, at(400))
	}
	events("run paused of : canceled by ops@example.com",
		"run held: canceled: "+revoked+" by admin@example.com at "+timetext.Format(at(22)), "run free of : canceled by ops@example.com")

	done := newFlowRun("done", 40)
	done.Status = "succeeded"
	noErr(t, s.CreateFlowRun(ctx, done), "CreateFlowRun")
	got, err = s.CancelFlowRun(ctx, "done", admin, "", at(41), asked(admin), ended)
	wantErr(t, err, store.ErrConflict, "CancelFlowRun(succeeded)")
	if got == nil || got.Status != "succeeded" || !got.CancelRequestedAt.IsZero() || got.CancelRequestedBy != (store.Actor{}) {
		t.Errorf("finished run after a refused cancel = %+v; want it unchanged", got)
	}
	requested()
}

// testCancelFlowRunAudited: a cancel request's audit event is made and
// stored in the request's transaction: while it is made, another handle
// (another server) sees neither the request nor the event; once the call
// returns, both. Requests made at once by several servers of a free queued
// run and of a held one store one event each, and the run that ended
// canceled one flow.run event; a request whose asked makes no event stores
// none.
func testCancelFlowRunAudited(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	admin := store.Actor{Type: store.ActorUser, Login: "admin@example.com"}
	count := func(action string) int {
		t.Helper()
		evs, err := s2.ListAudit(ctx, store.AuditFilter{Action: action, Limit: 1000})
		noErr(t, err, "ListAudit")
		return len(evs)
	}
	noErr(t, s1.CreateFlowRun(ctx, newFlowRun("free", 0)), "CreateFlowRun")
	seen := false
	r, err := s1.CancelFlowRun(ctx, "free", admin, "", at(5), func(r *store.FlowRun) *store.AuditEvent {
		// Inside the transaction: not committed yet. (No t.Fatal here:
		// it would leave the transaction's writer stuck.)
		seen = true
		other, err := s2.GetFlowRun(ctx, "free")
		switch {
		case err != nil:
			t.Errorf("GetFlowRun(from another handle, during the cancel): %v", err)
		case other.Status != "queued" || !other.CancelRequestedAt.IsZero():
			t.Errorf("the run read by another handle while its cancel's event is made = %s asked at %v; want queued, not asked: the event made after the cancel committed",
				other.Status, other.CancelRequestedAt)
		}
		evs, err := s2.ListAudit(ctx, store.AuditFilter{Action: store.ActionFlowCancel})
		if err != nil || len(evs) != 0 {
			t.Errorf("flow.cancel events seen by another handle while the event is made: %d, %v; want none", len(evs), err)
		}
		return &store.AuditEvent{Time: at(5), Actor: admin, Action: store.ActionFlowCancel, Outcome: "success", InputSummary: "run " + r.ID}
	}, nil)
	noErr(t, err, "CancelFlowRun")
	if !seen || r.Status != store.FlowRunCanceled {
		t.Fatalf("CancelFlowRun = %s, asked called %v; want canceled, asked called", r.Status, seen)
	}
	if n := count(store.ActionFlowCancel); n != 1 {
		t.Errorf("%d flow.cancel events after the cancel; want 1", n)
	}

	// A request whose asked makes no event stores none.
	noErr(t, s1.CreateFlowRun(ctx, newFlowRun("quiet", 1)), "CreateFlowRun")
	_, err = s1.CancelFlowRun(ctx, "quiet", admin, "", at(6), func(*store.FlowRun) *store.AuditEvent { return nil }, nil)
	noErr(t, err, "CancelFlowRun(no event)")
	if n := count(store.ActionFlowCancel); n != 1 {
		t.Errorf("%d flow.cancel events after a request that makes none; want still 1", n)
	}

	// Many requests at once, from two servers.
	noErr(t, s1.CreateFlowRun(ctx, newFlowRun("held", 10)), "CreateFlowRun")
	claimed, err := s1.ClaimFlowRun(ctx, "a", time.Hour, at(11))
	noErr(t, err, "ClaimFlowRun")
	if claimed.ID != "held" {
		t.Fatalf("claimed %s; want held, the only queued run", claimed.ID)
	}
	noErr(t, s1.CreateFlowRun(ctx, newFlowRun("idle", 20)), "CreateFlowRun")
	const requests = 8
	event := func(r *store.FlowRun) *store.AuditEvent {
		return &store.AuditEvent{Time: at(30), Actor: admin, Action: store.ActionFlowCancel, Outcome: "success", InputSummary: "run " + r.ID}
	}
	ended := func(r *store.FlowRun) *store.AuditEvent {
		return &store.AuditEvent{Time: at(30), Actor: r.Actor, Action: store.ActionFlowRun, Outcome: "failure", InputSummary: "run " + r.ID}
	}
	parallel(2*requests, func(i int) {
		id := []string{"idle", "held"}[i%2]
		if _, err := alternate(i/2, s1, s2).CancelFlowRun(ctx, id, admin, "", at(30), event, ended); err != nil {
			t.Errorf("CancelFlowRun(%s): %v", id, err)
		}
	})
	evs, err := s2.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	noErr(t, err, "ListAudit")
	got := map[string]int{}
	for _, e := range evs {
		got[e.Action+" "+e.InputSummary]++
	}
	want := map[string]int{"flow.cancel run free": 1, "flow.cancel run idle": requests, "flow.cancel run held": requests, "flow.run run idle": 1}
	diff(t, "audit events after concurrent requests", want, got)
}

// testPurge: runs that ended before the cutoff go, with their steps,
// items and card runs, oldest first and at most limit at a time; younger
// runs, unfinished runs and the card runs of kept flow runs stay.
func testPurge(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	flowRun := func(id, status string, finished int) {
		t.Helper()
		r := newFlowRun(id, 0)
		r.Status = status
		if finished > 0 {
			r.FinishedAt = at(finished)
		}
		noErr(t, s.CreateFlowRun(ctx, r), "CreateFlowRun "+id)
		noErr(t, s.PutFlowStep(ctx, "", &store.FlowStep{RunID: id, StepID: "s", Status: "succeeded"}), "PutFlowStep")
		for i := range 2 {
			card := &store.Run{Card: "okta-devices/suspend-device", Status: "succeeded", Output: []byte(`{"changed":true}`),
				FlowRunID: id, StepID: "s", ItemIndex: i, StartedAt: at(1), FinishedAt: at(2)}
			noErr(t, s.CreateRun(ctx, card), "CreateRun")
			noErr(t, s.PutFlowItem(ctx, "", &store.FlowItem{RunID: id, StepID: "s", Index: i, Status: "succeeded",
				Output: []byte(`{"changed":true}`), RunRef: card.ID}), "PutFlowItem")
		}
	}
	flowRun("old1", "succeeded", 10)
	flowRun("old2", "failed", 20)
	flowRun("old3", "canceled", 30)
	flowRun("young", "succeeded", 200)
	flowRun("running", "running", 0)
	flowRun("queued", "queued", 0)
	direct := func(id string, finished int) {
		t.Helper()
		noErr(t, s.CreateRun(ctx, &store.Run{ID: id, Card: "okta-devices/read-device", Status: "succeeded",
			StartedAt: at(1), FinishedAt: at(finished)}), "CreateRun "+id)
	}
	direct("d-old", 50)
	direct("d-young", 150)
	noErr(t, s.CreateRun(ctx, &store.Run{ID: "d-running", Card: "okta-devices/read-device", Status: store.RunRunning, StartedAt: at(1)}), "CreateRun")

	got, err := s.Purge(ctx, at(100), at(100), 2)
	noErr(t, err, "Purge")
	diff(t, "first purge (limit 2)", store.Purged{FlowRuns: 2, CardRuns: 5}, got)
	if _, err := s.GetFlowRun(ctx, "old1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old1 after the purge: %v; want ErrNotFound (the oldest goes first)", err)
	}
	if _, err := s.GetFlowRun(ctx, "old3"); err != nil {
		t.Errorf("old3 after a purge of 2: %v; want it kept for the next", err)
	}
	got, err = s.Purge(ctx, at(100), at(100), 2)
	noErr(t, err, "Purge again")
	diff(t, "second purge", store.Purged{FlowRuns: 1, CardRuns: 2}, got)
	got, err = s.Purge(ctx, at(100), at(100), 2)
	noErr(t, err, "Purge a third time")
	diff(t, "third purge", store.Purged{}, got)

	for _, id := range []string{"old1", "old2", "old3"} {
		if _, err := s.GetFlowRun(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("flow run %s: %v; want purged", id, err)
		}
		steps, err := s.ListFlowSteps(ctx, id)
		noErr(t, err, "ListFlowSteps")
		items, err := s.ListFlowItems(ctx, id, "s")
		noErr(t, err, "ListFlowItems")
		runs, err := s.ListRuns(ctx, store.RunFilter{FlowRunID: id})
		noErr(t, err, "ListRuns")
		if len(steps)+len(items)+len(runs) != 0 {
			t.Errorf("flow run %s left %d steps, %d items, %d card runs; want none", id, len(steps), len(items), len(runs))
		}
	}
	for _, id := range []string{"young", "running", "queued"} {
		if _, err := s.GetFlowRun(ctx, id); err != nil {
			t.Errorf("flow run %s: %v; want kept", id, err)
		}
		items, err := s.ListFlowItems(ctx, id, "s")
		noErr(t, err, "ListFlowItems")
		if len(items) != 2 || string(items[0].Output) != `{"changed":true}` {
			t.Errorf("flow run %s kept %d items (%s); want both with their outputs", id, len(items), items[0].Output)
		}
	}
	for id, kept := range map[string]bool{"d-old": false, "d-young": true, "d-running": true} {
		_, err := s.GetRun(ctx, id)
		if kept && err != nil || !kept && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("card run %s: %v; want kept %v", id, err, kept)
		}
	}
}

// testCreateFlowRunFrom: the new run gets copies of the kept items (their
// outputs included, also when the item read its output from its card run)
// and the copies outlive the run they came from.
func testCreateFlowRunFrom(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	orig := newFlowRun("orig", 0)
	orig.Status, orig.FinishedAt = "failed", at(5)
	noErr(t, s.CreateFlowRun(ctx, orig), "CreateFlowRun")
	card := &store.Run{ID: "search", Card: "okta-devices/search-devices", Status: "succeeded", Output: []byte(`{"devices":[1,2]}`),
		FlowRunID: "orig", StepID: "find", StartedAt: at(1), FinishedAt: at(2)}
	noErr(t, s.CreateRun(ctx, card), "CreateRun")
	items := []*store.FlowItem{
		{RunID: "orig", StepID: "find", Index: 0, Status: "succeeded", Output: card.Output, RunRef: "search", StartedAt: at(1), FinishedAt: at(2)},
		{RunID: "orig", StepID: "act", Index: 0, Status: "failed", ErrorCode: "not_found", Error: "gone", StartedAt: at(3), FinishedAt: at(4)},
		{RunID: "orig", StepID: "act", Index: 1, Status: "skipped", StartedAt: at(3), FinishedAt: at(4)},
	}
	for _, it := range items {
		noErr(t, s.PutFlowItem(ctx, "", it), "PutFlowItem")
	}
	again := newFlowRun("again", 10)
	n, err := s.CreateFlowRunFrom(ctx, again, "orig", []string{"succeeded", "skipped"})
	noErr(t, err, "CreateFlowRunFrom")
	if n != 2 {
		t.Errorf("copied %d items; want 2 (succeeded and skipped)", n)
	}
	got, err := s.GetFlowRun(ctx, "again")
	noErr(t, err, "GetFlowRun")
	diff(t, "created run", again, got)
	// The original goes (as retention would); the copies stay whole.
	_, err = s.Purge(ctx, at(6), at(6), 10)
	noErr(t, err, "Purge")
	find, err := s.ListFlowItems(ctx, "again", "find")
	noErr(t, err, "ListFlowItems(find)")
	act, err := s.ListFlowItems(ctx, "again", "act")
	noErr(t, err, "ListFlowItems(act)")
	wantFind, wantAct := *items[0], *items[2]
	wantFind.RunID, wantAct.RunID = "again", "again"
	diff(t, "copied search item", []*store.FlowItem{&wantFind}, find)
	diff(t, "copied items of act", []*store.FlowItem{&wantAct}, act)
	wantErr(t, func() error { _, err := s.CreateFlowRunFrom(ctx, again, "orig", nil); return err }(), store.ErrConflict, "CreateFlowRunFrom(existing id)")
}

// testPurgeEventsAndNotifications: dispatched events published and
// received before the cutoff go with their links to runs (a poll catching
// up on an outage receives old events late: they stay), and published
// before eventsBefore; events not yet
// dispatched stay whatever their age; notifications created before the
// cutoff go, delivered or not (counted apart), but for one a sender holds.
// testPurgeKeepsFailureStreakStart: the purge keeps the first run of the
// failure streak a flow is in (FailureStreak with SameFailure), however
// old, and only while the streak lasts and the flow exists; the streak's
// other old runs, and older streaks, go.
func testPurgeKeepsFailureStreakStart(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	run := func(id, flowID string, created int, status, failure string) {
		t.Helper()
		r := newFlowRun(id, created)
		r.FlowID, r.Status, r.Failure, r.FinishedAt = flowID, status, failure, at(created+1)
		noErr(t, s.CreateFlowRun(ctx, r), "CreateFlowRun "+id)
	}
	putFlow(t, s, &store.Flow{ID: "f1", Name: "failing", Source: []byte("name: failing\n")}, "PutFlow")
	putFlow(t, s, &store.Flow{ID: "f2", Name: "recovered", Source: []byte("name: recovered\n")}, "PutFlow")
	expired, gone := "step s: needs_reauthorization", "step s: not_found"
	run("old-streak", "f1", 1, "failed", expired)
	run("ok", "f1", 3, "succeeded", "")
	run("other", "f1", 5, "failed", gone)
	run("start", "f1", 7, "failed", expired)
	run("canceled", "f1", 8, store.FlowRunCanceled, "") // not part of any streak
	run("second", "f1", 9, "failed", expired)
	run("young", "f1", 200, "failed", expired)
	run("f2-failed", "f2", 11, "failed", expired)
	run("f2-ok", "f2", 13, "succeeded", "")
	run("deleted-flow", "f3", 15, "failed", expired)

	for range 2 { // the second purge finds nothing more
		_, err := s.Purge(ctx, at(100), at(100), 100)
		noErr(t, err, "Purge")
	}
	// other stays as the first failure since ok (testPurgeKeepsFailingSince).
	for _, id := range []string{"start", "young", "other"} {
		if _, err := s.GetFlowRun(ctx, id); err != nil {
			t.Errorf("flow run %s: %v; want it kept", id, err)
		}
	}
	for _, id := range []string{"old-streak", "ok", "canceled", "second", "f2-failed", "f2-ok", "deleted-flow"} {
		if _, err := s.GetFlowRun(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("flow run %s: %v; want purged", id, err)
		}
	}
	same := expired
	st, err := s.FailureStreak(ctx, store.StreakFilter{FlowID: "f1", CreatedBefore: at(300), SameFailure: &same})
	noErr(t, err, "FailureStreak")
	if !st.First.Equal(at(8)) || st.Runs != 2 {
		t.Errorf("the streak after the purge: %+v; want 2 runs from %v", st, at(8))
	}
}

// testPurgeKeepsFailingSince: the purge keeps the first run a flow failed
// since it last succeeded, however old, while it has not succeeded since,
// even when the flow failed in other ways by turns (no streak of one
// failure is longer than a run), so that FailureStreak (without
// SameFailure, as flow_run.recovered reads it) still says since when the
// flow has failed; the runs around it go.
func testPurgeKeepsFailingSince(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	run := func(id string, created int, status, failure string) {
		t.Helper()
		r := newFlowRun(id, created)
		r.FlowID, r.Status, r.Failure, r.FinishedAt = "f1", status, failure, at(created+1)
		noErr(t, s.CreateFlowRun(ctx, r), "CreateFlowRun "+id)
	}
	putFlow(t, s, &store.Flow{ID: "f1", Name: "failing", Source: []byte("name: failing\n")}, "PutFlow")
	expired, gone := "step s: needs_reauthorization", "step s: not_found"
	run("old-failure", 1, "failed", gone)
	run("ok", 3, "succeeded", "")
	run("first", 5, "failed", expired)
	run("second", 7, "failed", gone)
	run("third", 9, "failed", expired)
	run("fourth", 11, "failed", gone)
	run("young", 200, "failed", expired)

	for range 2 { // the second purge finds nothing more
		_, err := s.Purge(ctx, at(100), at(100), 100)
		noErr(t, err, "Purge")
	}
	for _, id := range []string{"first", "young"} {
		if _, err := s.GetFlowRun(ctx, id); err != nil {
			t.Errorf("flow run %s: %v; want it kept", id, err)
		}
	}
	for _, id := range []string{"old-failure", "ok", "second", "third", "fourth"} {
		if _, err := s.GetFlowRun(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("flow run %s: %v; want purged", id, err)
		}
	}
	st, err := s.FailureStreak(ctx, store.StreakFilter{FlowID: "f1", CreatedBefore: at(300)})
	noErr(t, err, "FailureStreak")
	if !st.First.Equal(at(6)) || st.Runs != 2 {
		t.Errorf("the failures after the purge: %+v; want 2 runs from %v", st, at(6))
	}

	// Once the flow succeeded, the first failure goes too.
	run("recovered", 300, "succeeded", "")
	run("recovered-young", 301, "succeeded", "") // keeps f1's history from being empty
	_, err = s.Purge(ctx, at(250), at(250), 100)
	noErr(t, err, "Purge")
	for _, id := range []string{"first", "young"} {
		if _, err := s.GetFlowRun(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("flow run %s after the flow succeeded: %v; want purged", id, err)
		}
	}
}

func testPurgeEventsAndNotifications(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	event := func(uuid string, published, received int, dispatched bool) {
		t.Helper()
		e := testEvent(uuid, "c1", published)
		e.ReceivedAt = at(received)
		_, err := s.PutEvents(ctx, []*store.Event{e}, store.ViaPoll)
		noErr(t, err, "PutEvents "+uuid)
		if dispatched {
			noErr(t, s.StartEventRun(ctx, uuid, "f1", &store.FlowRun{FlowID: "f1", Status: "queued", CreatedAt: at(received)}), "StartEventRun "+uuid)
			noErr(t, s.MarkEventDispatched(ctx, uuid, at(received)), "MarkEventDispatched "+uuid)
		}
	}
	putFlow(t, s, &store.Flow{ID: "f1", Name: "quarantine", Source: []byte("name: quarantine\n")}, "PutFlow")
	event("old1", 10, 11, true)
	event("old2", 20, 21, true)
	event("caught-up", 30, 150, true) // published long ago, received late
	event("undispatched", 40, 41, false)
	event("young", 120, 121, true)
	msg := func(id, receiver string, created int, delivered bool) {
		t.Helper()
		n := &store.Notification{ID: id, Receiver: receiver, Type: "flow_run.failed", Body: json.RawMessage(`{}`),
			NextAttemptAt: at(created), CreatedAt: at(created)}
		noErr(t, s.EnqueueNotifications(ctx, []*store.Notification{n}), "EnqueueNotifications "+id)
		if delivered {
			n.Attempts, n.DeliveredAt = 1, at(created+1)
			noErr(t, s.UpdateNotification(ctx, n), "UpdateNotification "+id)
		}
	}
	msg("n-old", "rcv-a", 10, true)
	msg("n-pending", "rcv-a", 20, false)
	msg("n-leased", "rcv-b", 25, false)
	msg("n-young", "rcv-a", 120, true)
	// A sender attempts n-leased as the purge runs.
	leased, err := s.ClaimNotification(ctx, "server-1", []string{"rcv-b"}, time.Minute, at(100))
	noErr(t, err, "ClaimNotification")
	diff(t, "claimed", "n-leased", leased.ID)

	got, err := s.Purge(ctx, at(100), at(100), 1)
	noErr(t, err, "Purge")
	diff(t, "first purge (limit 1)", store.Purged{Events: 1, Notifications: 1}, got)
	got, err = s.Purge(ctx, at(100), at(100), 1)
	noErr(t, err, "Purge again")
	diff(t, "second purge", store.Purged{Events: 1, Notifications: 1, Undelivered: 1}, got)
	got, err = s.Purge(ctx, at(100), at(100), 1)
	noErr(t, err, "Purge a third time")
	diff(t, "third purge", store.Purged{}, got)

	events, err := s.ListEvents(ctx, store.EventFilter{ConnectionIDs: []string{"c1"}})
	noErr(t, err, "ListEvents")
	kept := map[string]int{}
	for _, e := range events {
		kept[e.UUID] = len(e.FlowRuns)
	}
	diff(t, "events kept, with their runs", map[string]int{"young": 1, "undispatched": 0, "caught-up": 1}, kept)
	// The links of the kept events still refuse a second run; those of the
	// purged ones went with them (the event would be new again).
	wantErr(t, s.StartEventRun(ctx, "young", "f1", &store.FlowRun{FlowID: "f1", Status: "queued", CreatedAt: at(200)}),
		store.ErrConflict, "StartEventRun(kept event, again)")
	noErr(t, s.StartEventRun(ctx, "old1", "f1", &store.FlowRun{FlowID: "f1", Status: "queued", CreatedAt: at(200)}),
		"StartEventRun(purged event): its link to a run is gone")
	list, err := s.ListNotifications(ctx, 0)
	noErr(t, err, "ListNotifications")
	var ids []string
	for _, n := range list {
		ids = append(ids, n.ID)
	}
	diff(t, "notifications kept, newest first", []string{"n-young", "n-leased"}, ids)

	// An event received before the cutoff but published after eventsBefore
	// (Okta still keeps it, and a lagging poll may read it again) stays.
	event("in-okta", 60, 61, true)
	got, err = s.Purge(ctx, at(100), at(50), 10)
	noErr(t, err, "Purge with an earlier eventsBefore")
	diff(t, "purge with eventsBefore before the event's publication", store.Purged{}, got)
	got, err = s.Purge(ctx, at(100), at(70), 10)
	noErr(t, err, "Purge with a later eventsBefore")
	diff(t, "purge with eventsBefore after the event's publication", store.Purged{Events: 1}, got)
}

// testPurgeAudit: audit events older than the cutoff go oldest first, a
// batch at a time; the purge stops at the first event (in append order)
// that is not older, and the others stay as they were.
func testPurgeAudit(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	n, err := s.PurgeAudit(ctx, at(100), 10)
	noErr(t, err, "PurgeAudit of an empty log")
	if n != 0 {
		t.Errorf("PurgeAudit of an empty log deleted %d", n)
	}
	// Appended at 1..6, then one stamped 2 by a server whose clock is
	// behind, then 7 and 8.
	for i, tm := range []int{1, 2, 3, 4, 5, 6, 2, 7, 8} {
		noErr(t, s.AppendAudit(ctx, &store.AuditEvent{Time: at(tm), Action: store.ActionCardRun, InputSummary: strconv.Itoa(i)}), "AppendAudit")
	}
	var purged []int
	for {
		n, err := s.PurgeAudit(ctx, at(5), 3)
		noErr(t, err, "PurgeAudit")
		if n == 0 {
			break
		}
		purged = append(purged, n)
	}
	if !slices.Equal(purged, []int{3, 1}) {
		t.Errorf("purges deleted %v; want [3 1] (batches of 3, up to the first event not before the cutoff)", purged)
	}
	left, err := s.ListAudit(ctx, store.AuditFilter{})
	noErr(t, err, "ListAudit")
	var summaries []string
	for _, e := range left {
		summaries = append(summaries, e.InputSummary)
	}
	// Newest first: the events at 8, 7, the late one, 6 and 5.
	if want := []string{"8", "7", "6", "5", "4"}; !slices.Equal(summaries, want) {
		t.Errorf("left events %v; want %v", summaries, want)
	}
}

// testDeletedNicknames: the connection.delete events recorded with the
// deleted connection's nickname are found by it, ignoring case beyond
// ASCII, however many other deletions came after them, newest first;
// the purge of the audit log takes them along.
func testDeletedNicknames(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	deleted := func(sec int, id, nickname string) {
		t.Helper()
		noErr(t, s.AppendAudit(ctx, &store.AuditEvent{Time: at(sec), Action: store.ActionConnectionDelete, ConnectionID: id,
			InputSummary: "nickname " + nickname, Outcome: "success", DeletedNickname: nickname}), "AppendAudit")
	}
	deleted(1, "conn_first", "Émile")
	for i := range 1005 {
		deleted(2, "conn_other"+strconv.Itoa(i), "Other "+strconv.Itoa(i))
	}
	// Not deletions of a connection of that nickname: a refused one, and
	// another event naming it.
	noErr(t, s.AppendAudit(ctx, &store.AuditEvent{Time: at(3), Action: store.ActionConnectionDelete, ConnectionID: "conn_kept",
		InputSummary: "nickname Émile, if unused", Outcome: "failure"}), "AppendAudit")
	noErr(t, s.AppendAudit(ctx, &store.AuditEvent{Time: at(3), Action: store.ActionConnectionCreate, ConnectionID: "conn_kept",
		InputSummary: "nickname Émile", Outcome: "success"}), "AppendAudit")
	deleted(4, "conn_second", "ÉMILE")
	ids := func() []string {
		t.Helper()
		evs, err := s.ListAudit(ctx, store.AuditFilter{Action: store.ActionConnectionDelete, DeletedNickname: "émile"})
		noErr(t, err, "ListAudit")
		var out []string
		for _, e := range evs {
			out = append(out, e.ConnectionID)
		}
		return out
	}
	diff(t, "the deletions of émile", []string{"conn_second", "conn_first"}, ids())
	for {
		n, err := s.PurgeAudit(ctx, at(2), 100)
		noErr(t, err, "PurgeAudit")
		if n == 0 {
			break
		}
	}
	diff(t, "the deletions of émile after the purge of the oldest", []string{"conn_second"}, ids())
}
