package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

func testEvent(uuid, conn string, published int) *store.Event {
	return &store.Event{UUID: uuid, ConnectionID: conn, EventType: "device.user.remove", Published: at(published),
		Raw: json.RawMessage(`{"uuid":"` + uuid + `"}`), ReceivedAt: at(1000)}
}

func testEvents(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	n, err := s.PutEvents(ctx, []*store.Event{testEvent("e2", "c1", 20), testEvent("e1", "c1", 10), testEvent("x1", "c2", 5)}, store.ViaHook)
	noErr(t, err, "PutEvents")
	if n != 3 {
		t.Errorf("PutEvents stored %d new events; want 3", n)
	}
	// The same events again, by the other way and with another copy: no
	// new event, but both ways are recorded; the first copy stays.
	again := testEvent("e1", "c1", 10)
	again.Raw = json.RawMessage(`{"changed":true}`)
	n, err = s.PutEvents(ctx, []*store.Event{again, testEvent("e3", "c1", 15)}, store.ViaPoll)
	noErr(t, err, "PutEvents(again)")
	if n != 1 {
		t.Errorf("PutEvents(again) stored %d new events; want 1 (e3)", n)
	}
	_, err = s.PutEvents(ctx, []*store.Event{testEvent("e1", "c1", 10)}, "carrier-pigeon")
	if err == nil {
		t.Errorf("PutEvents with an unknown way succeeded")
	}

	got, err := s.ListEvents(ctx, store.EventFilter{ConnectionIDs: []string{"c1"}})
	noErr(t, err, "ListEvents")
	var order []string
	for _, e := range got {
		order = append(order, e.UUID)
	}
	diff(t, "events of c1, newest first", []string{"e2", "e3", "e1"}, order)
	e1 := got[2]
	want := testEvent("e1", "c1", 10)
	want.ReceivedVia, want.FlowRuns = []string{store.ViaHook, store.ViaPoll}, []string{}
	diff(t, "e1", want, e1)
	got, err = s.ListEvents(ctx, store.EventFilter{ConnectionIDs: []string{"c2", "c1"}})
	noErr(t, err, "ListEvents(c2, c1)")
	order = order[:0]
	for _, e := range got {
		order = append(order, e.UUID)
	}
	diff(t, "events of c2 and c1, newest first", []string{"e2", "e3", "e1", "x1"}, order)
	got, err = s.ListEvents(ctx, store.EventFilter{UUID: "e1"})
	noErr(t, err, "ListEvents(uuid e1)")
	if len(got) != 1 {
		t.Fatalf("ListEvents(uuid e1) = %d events; want e1", len(got))
	}
	diff(t, "e1 by its uuid", want, got[0])
	got, err = s.ListEvents(ctx, store.EventFilter{UUID: "none"})
	noErr(t, err, "ListEvents(uuid none)")
	diff(t, "events of an unknown uuid", 0, len(got))

	// Dispatch: oldest published first; a run per (event, flow) once.
	und, err := s.UndispatchedEvents(ctx, "c1", nil, 0)
	noErr(t, err, "UndispatchedEvents")
	order = order[:0]
	for _, e := range und {
		order = append(order, e.UUID)
	}
	diff(t, "undispatched events of c1", []string{"e1", "e3", "e2"}, order)
	for i, want := range [][]string{{"e3", "e2"}, {"e2"}, {}} {
		after, err := s.UndispatchedEvents(ctx, "c1", und[i], 0)
		noErr(t, err, "UndispatchedEvents(after "+und[i].UUID+")")
		got := []string{}
		for _, e := range after {
			got = append(got, e.UUID)
		}
		diff(t, "undispatched events of c1 after "+und[i].UUID, want, got)
	}

	putFlow(t, s, &store.Flow{ID: "f1", Name: "quarantine", Source: []byte("name: quarantine\n")}, "PutFlow")
	run := &store.FlowRun{FlowID: "f1", FlowName: "quarantine", Status: "queued", CreatedAt: at(1001)}
	noErr(t, s.StartEventRun(ctx, "e1", "f1", run), "StartEventRun")
	if run.ID == "" {
		t.Fatalf("StartEventRun left the run without an id")
	}
	stored, err := s.GetFlowRun(ctx, run.ID)
	noErr(t, err, "GetFlowRun")
	if stored.Status != "queued" || stored.FlowID != "f1" {
		t.Errorf("the started run %+v", stored)
	}
	second := &store.FlowRun{FlowID: "f1", FlowName: "quarantine", Status: "queued", CreatedAt: at(1002)}
	wantErr(t, s.StartEventRun(ctx, "e1", "f1", second), store.ErrConflict, "StartEventRun(again)")
	if _, err := s.GetFlowRun(ctx, second.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused StartEventRun created its run: %v", err)
	}
	noErr(t, s.StartEventRun(ctx, "e1", "f2", &store.FlowRun{FlowID: "f2", Status: "queued", CreatedAt: at(1003)}), "StartEventRun(other flow)")

	// A run of a version (a triggered run, built from the flow as the
	// dispatcher read it) starts only while the flow is enabled and that
	// version is its latest.
	flowChanged := func(flowID string, version int, what string) {
		t.Helper()
		r := &store.FlowRun{FlowID: flowID, FlowVersion: version, Status: "queued", CreatedAt: at(1003)}
		wantErr(t, s.StartEventRun(ctx, "e3", flowID, r), store.ErrFlowChanged, what)
		if _, err := s.GetFlowRun(ctx, r.ID); r.ID != "" && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s created its run: %v", what, err)
		}
	}
	putFlow(t, s, &store.Flow{ID: "f3", Name: "on-event", Source: []byte("v1"), Trigger: hourly}, "PutFlow(f3)")
	flowChanged("f3", 1, "StartEventRun(disabled flow)")
	noErr(t, s.SetFlowEnabled(ctx, "f3", hourly, true, at(2000), enabler), "SetFlowEnabled(f3)")
	putFlow(t, s, &store.Flow{ID: "f3", Name: "on-event", Source: []byte("v2"), Trigger: hourly}, "PutFlow(f3 v2)")
	flowChanged("f3", 1, "StartEventRun(run of version 1 after version 2)")
	putFlow(t, s, &store.Flow{ID: "f4", Name: "gone", Source: []byte("v1"), Trigger: hourly}, "PutFlow(f4)")
	noErr(t, s.SetFlowEnabled(ctx, "f4", hourly, true, at(2000), enabler), "SetFlowEnabled(f4)")
	noErr(t, s.DeleteFlow(ctx, "f4"), "DeleteFlow(f4)")
	flowChanged("f4", 1, "StartEventRun(deleted flow)")
	noErr(t, s.StartEventRun(ctx, "e3", "f3", &store.FlowRun{FlowID: "f3", FlowVersion: 2, Status: "queued", CreatedAt: at(1003)}), "StartEventRun(latest version)")
	noErr(t, s.MarkEventDispatched(ctx, "e1", at(1004)), "MarkEventDispatched")
	wantErr(t, s.MarkEventDispatched(ctx, "missing", at(1004)), store.ErrNotFound, "MarkEventDispatched(missing)")
	und, err = s.UndispatchedEvents(ctx, "c1", nil, 0)
	noErr(t, err, "UndispatchedEvents")
	if len(und) != 2 || und[0].UUID != "e3" {
		t.Errorf("undispatched after e1: %d events", len(und))
	}
	got, err = s.ListEvents(ctx, store.EventFilter{Limit: 10})
	noErr(t, err, "ListEvents")
	for _, e := range got {
		if e.UUID == "e1" && (len(e.FlowRuns) != 2 || e.FlowRuns[0] != run.ID || !e.DispatchedAt.Equal(at(1004))) {
			t.Errorf("e1 lists runs %v, dispatched %v; want its two runs (%s first), dispatched at %v", e.FlowRuns, e.DispatchedAt, run.ID, at(1004))
		}
	}
	if len(got) != 4 {
		t.Errorf("ListEvents of every connection: %d; want 4", len(got))
	}
	// Waiting: the events not dispatched yet, every one but e1.
	got, err = s.ListEvents(ctx, store.EventFilter{Waiting: true, Limit: 10})
	noErr(t, err, "ListEvents(waiting)")
	if len(got) != 3 || slices.ContainsFunc(got, func(e *store.Event) bool { return e.UUID == "e1" || !e.DispatchedAt.IsZero() }) {
		t.Errorf("ListEvents(waiting): %d events; want the 3 not dispatched, e1 left out", len(got))
	}
}

// testEventRunExactlyOnce: many handles race to start the same event's
// run; exactly one succeeds and exactly one run exists.
func testEventRunExactlyOnce(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	_, err := s1.PutEvents(ctx, []*store.Event{testEvent("race", "c1", 1)}, store.ViaHook)
	noErr(t, err, "PutEvents")
	var won, lost atomic.Int64
	parallel(16, func(i int) {
		r := &store.FlowRun{ID: fmt.Sprintf("run%02d", i), FlowID: "f1", Status: "queued", CreatedAt: at(i)}
		err := alternate(i, s1, s2).StartEventRun(ctx, "race", "f1", r)
		switch {
		case err == nil:
			won.Add(1)
		case errors.Is(err, store.ErrConflict):
			lost.Add(1)
		default:
			t.Errorf("StartEventRun: %v", err)
		}
	})
	if won.Load() != 1 || lost.Load() != 15 {
		t.Errorf("%d won, %d lost; want 1 and 15", won.Load(), lost.Load())
	}
	runs, err := s1.ListFlowRuns(ctx, "f1", 100)
	noErr(t, err, "ListFlowRuns")
	if len(runs) != 1 {
		t.Errorf("%d runs exist; want 1", len(runs))
	}
}

func testEventSource(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	_, err := s.GetEventSource(ctx, "c1")
	wantErr(t, err, store.ErrNotFound, "GetEventSource(missing)")
	_, err = s.GetEventSourceByHookPath(ctx, "")
	wantErr(t, err, store.ErrNotFound, "GetEventSourceByHookPath(empty)")
	noErr(t, s.SetPollCursor(ctx, "c1", "", "/api/v1/logs?after=abc", at(5)), "SetPollCursor")
	hook := &store.EventSource{ConnectionID: "c1", HookPath: "p1", HookID: "who1", SealedSecret: []byte{1, 2, 3},
		HookTypes: []string{"device.user.remove"}, HookStatus: "error", HookReason: "Okta could not verify the event hook",
		HookFailures: 3, HookOutages: 2, HookRetryAt: at(60), HookRetryKey: "k1", UpdatedAt: at(6)}
	noErr(t, s.PutEventHook(ctx, hook), "PutEventHook")
	noErr(t, s.SetPollCursor(ctx, "c1", "", "/api/v1/logs?after=def", at(7)), "SetPollCursor(again)")
	got, err := s.GetEventSource(ctx, "c1")
	noErr(t, err, "GetEventSource")
	want := *hook
	want.PollNext, want.PolledAt, want.UpdatedAt = "/api/v1/logs?after=def", at(7), at(7)
	diff(t, "event source", &want, got)
	byPath, err := s.GetEventSourceByHookPath(ctx, "p1")
	noErr(t, err, "GetEventSourceByHookPath")
	diff(t, "event source by hook path", &want, byPath)
	wantErr(t, s.PutEventHook(ctx, &store.EventSource{ConnectionID: "c2", HookPath: "p1"}), store.ErrConflict, "PutEventHook(taken path)")
	noErr(t, s.SetPollCursor(ctx, "c0", "", "/api/v1/logs?after=ghi", at(8)), "SetPollCursor(c0)")
	all, err := s.ListEventSources(ctx)
	noErr(t, err, "ListEventSources")
	c0 := &store.EventSource{ConnectionID: "c0", PollNext: "/api/v1/logs?after=ghi", PolledAt: at(8), UpdatedAt: at(8)}
	diff(t, "event sources", []*store.EventSource{c0, &want}, all)
	noErr(t, s.DeleteEventSource(ctx, "c1"), "DeleteEventSource")
	wantErr(t, s.DeleteEventSource(ctx, "c1"), store.ErrNotFound, "DeleteEventSource(again)")
}

// testPollStatus: a poll's status is stored beside the cursor and the hook
// without touching them, with its notifications in the same transaction;
// a later success clears it.
func testPollStatus(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	failing := store.PollStatus{Error: "the org refused the System Log", Remedy: "grant okta.logs.read", FailingSince: at(3)}
	noErr(t, s.SetPollStatus(ctx, "c1", "", failing, at(3), nil), "SetPollStatus(new source)")
	got, err := s.GetEventSource(ctx, "c1")
	noErr(t, err, "GetEventSource")
	diff(t, "event source with a failing poll", &store.EventSource{ConnectionID: "c1", Poll: failing, UpdatedAt: at(3)}, got)

	noErr(t, s.SetPollCursor(ctx, "c1", "", "/api/v1/logs?after=abc", at(4)), "SetPollCursor")
	hook := &store.EventSource{ConnectionID: "c1", HookPath: "p1", HookID: "who1", HookTypes: []string{"device.user.remove"}, HookStatus: "active", UpdatedAt: at(5)}
	noErr(t, s.PutEventHook(ctx, hook), "PutEventHook")
	alerted := failing
	alerted.AlertedAt = at(6)
	notice := []*store.Notification{{ID: "poll-c1", Receiver: "rcv-a", Type: "events.poll_failing", Body: json.RawMessage(`{"id":"poll-c1"}`), NextAttemptAt: at(6), CreatedAt: at(6)}}
	noErr(t, s.SetPollStatus(ctx, "c1", "", alerted, at(6), notice), "SetPollStatus(alerted)")
	got, err = s.GetEventSource(ctx, "c1")
	noErr(t, err, "GetEventSource")
	want := *hook
	want.PollNext, want.PolledAt, want.Poll, want.UpdatedAt = "/api/v1/logs?after=abc", at(4), alerted, at(6)
	diff(t, "event source after the alert", &want, got)
	list, err := s.ListNotifications(ctx, 0)
	noErr(t, err, "ListNotifications")
	if len(list) != 1 || list[0].ID != "poll-c1" || list[0].Type != "events.poll_failing" {
		t.Errorf("notifications after the alert: %+v; want the one enqueued with the status", list)
	}

	noErr(t, s.SetPollStatus(ctx, "c1", "", store.PollStatus{ReadTo: at(7)}, at(7), nil), "SetPollStatus(recovered)")
	got, err = s.GetEventSource(ctx, "c1")
	noErr(t, err, "GetEventSource")
	want.Poll, want.UpdatedAt = store.PollStatus{ReadTo: at(7)}, at(7)
	diff(t, "event source after a poll that worked", &want, got)
}

// testReplaceEventSecret: a re-sealed hook secret replaces the stored one
// only while that is still the value the caller read.
func testReplaceEventSecret(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	wantErr(t, s.ReplaceEventSecret(ctx, "c1", []byte{1}, []byte{2}), store.ErrNotFound, "ReplaceEventSecret(no source)")
	noErr(t, s.PutEventHook(ctx, &store.EventSource{ConnectionID: "c1", HookPath: "p1", SealedSecret: []byte{1, 2, 3}, UpdatedAt: at(1)}), "PutEventHook")
	wantErr(t, s.ReplaceEventSecret(ctx, "c1", []byte{9}, []byte{4, 5, 6}), store.ErrConflict, "ReplaceEventSecret(stale)")
	noErr(t, s.ReplaceEventSecret(ctx, "c1", []byte{1, 2, 3}, []byte{4, 5, 6}), "ReplaceEventSecret")
	got, err := s.GetEventSource(ctx, "c1")
	noErr(t, err, "GetEventSource")
	diff(t, "sealed secret", []byte{4, 5, 6}, got.SealedSecret)
	if got.HookPath != "p1" {
		t.Errorf("hook path %q after ReplaceEventSecret; want it unchanged", got.HookPath)
	}
}

// testMalformedEventsOnce: servers noting the same malformed events of a
// connection at once, each with one of its own, append one audit event
// each, and the shared events are fresh to exactly one of them; per
// connection; an audit that makes nothing appends nothing; Purge removes
// the records made before its cutoffs, after which an event is fresh again.
func testMalformedEventsOnce(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	note := func(s store.Store, conn string, keys []string, when int) []string {
		t.Helper()
		var got []string
		err := s.NoteMalformedEvents(ctx, conn, keys, at(when), func(fresh []string) *store.AuditEvent {
			got = fresh
			if len(fresh) == 0 {
				return nil
			}
			return &store.AuditEvent{Time: at(when), Actor: store.ServerActor, Action: store.ActionConnectionEventMalformed,
				ConnectionID: conn, InputSummary: strings.Join(fresh, " "), Outcome: "failure"}
		})
		noErr(t, err, "NoteMalformedEvents")
		return got
	}
	parallel(16, func(i int) {
		note(alternate(i, s1, s2), "c1", []string{"k2", "k1", fmt.Sprintf("own%02d", i), "k1"}, 10+i)
	})
	audits, err := s1.ListAudit(ctx, store.AuditFilter{Action: store.ActionConnectionEventMalformed, Limit: 100})
	noErr(t, err, "ListAudit")
	all := ""
	for _, a := range audits {
		all += a.InputSummary + "\n"
	}
	if len(audits) != 16 || strings.Count(all, "k1") != 1 || strings.Count(all, "k2") != 1 {
		t.Errorf("%d audit events naming\n%s; want 16 (one per server's own event), k1 and k2 in one of them once", len(audits), all)
	}
	diff(t, "fresh of c2", []string{"k1"}, note(s1, "c2", []string{"k1"}, 30))
	diff(t, "fresh of c1 again", []string(nil), note(s2, "c1", []string{"k1", "own03"}, 31))
	if after, err := s1.ListAudit(ctx, store.AuditFilter{Action: store.ActionConnectionEventMalformed, Limit: 100}); err != nil || len(after) != 17 {
		t.Errorf("%d audit events, %v; want 17: none for events noted before", len(after), err)
	}
	_, err = s1.Purge(ctx, at(100), at(28), 100)
	noErr(t, err, "Purge")
	diff(t, "fresh of c1 after the purge", []string{"k1"}, note(s1, "c1", []string{"k1"}, 40))
	diff(t, "fresh of c2 after the purge", []string(nil), note(s1, "c2", []string{"k1"}, 41))
}
