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
	"github.com/cardflow/cardflow/internal/timetext"
)

var (
	hourly  = []byte(`{"every":"1h0m0s","kind":"schedule","timezone":"UTC"}`)
	nightly = []byte(`{"cron":"0 2 * * *","kind":"schedule","timezone":"UTC"}`)
)

func testFlowEnabled(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	f := &store.Flow{ID: "f1", Name: "tick", Source: []byte("v1"), Trigger: hourly, CreatedAt: at(0), UpdatedAt: at(0)}
	putFlow(t, s, f, "PutFlow")
	if f.Enabled || !f.NextRunAt.IsZero() {
		t.Errorf("a new flow with a trigger is %+v; want it stored disabled", f)
	}
	wantErr(t, s.SetFlowEnabled(ctx, "missing", hourly, true, at(10), enabler), store.ErrNotFound, "SetFlowEnabled(missing)")
	wantErr(t, s.SetFlowEnabled(ctx, "f1", nightly, true, at(10), enabler), store.ErrConflict, "SetFlowEnabled(stale trigger)")
	noErr(t, s.SetFlowEnabled(ctx, "f1", hourly, true, at(10), enabler), "SetFlowEnabled")
	got, err := s.GetFlow(ctx, "f1")
	noErr(t, err, "GetFlow")
	if !got.Enabled || !got.NextRunAt.Equal(at(10)) || string(got.Trigger) != string(hourly) || got.EnabledBy != enabler {
		t.Errorf("enabled flow = %+v; want enabled, next run at %v", got, at(10))
	}

	// The same trigger keeps the enabled state and the next tick.
	same := &store.Flow{Name: "tick", Source: []byte("v2"), Trigger: hourly, CreatedAt: at(5), UpdatedAt: at(5)}
	putFlow(t, s, same, "PutFlow(same trigger)")
	if !same.Enabled || !same.NextRunAt.Equal(at(10)) || same.ID != "f1" {
		t.Errorf("re-stored with the same trigger: %+v; want still enabled with its next tick", same)
	}
	// Another trigger disables it.
	other := &store.Flow{Name: "tick", Source: []byte("v3"), Trigger: nightly, CreatedAt: at(6), UpdatedAt: at(6)}
	putFlow(t, s, other, "PutFlow(new trigger)")
	got, err = s.GetFlow(ctx, "f1")
	noErr(t, err, "GetFlow")
	if other.Enabled || got.Enabled || !got.NextRunAt.IsZero() || string(got.Trigger) != string(nightly) {
		t.Errorf("re-stored with another trigger: %+v; want disabled", got)
	}
	// So does removing the trigger.
	noErr(t, s.SetFlowEnabled(ctx, "f1", nightly, true, at(20), enabler), "SetFlowEnabled")
	putFlow(t, s, &store.Flow{Name: "tick", Source: []byte("v4"), CreatedAt: at(7), UpdatedAt: at(7)}, "PutFlow(no trigger)")
	got, err = s.GetFlow(ctx, "f1")
	noErr(t, err, "GetFlow")
	if got.Enabled || got.Trigger != nil {
		t.Errorf("re-stored without a trigger: %+v; want disabled, no trigger", got)
	}
	noErr(t, s.SetFlowEnabled(ctx, "f1", nil, false, time.Time{}, enabler), "SetFlowEnabled(off)")
}

func testDueFlows(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	next, err := s.NextDueAt(ctx)
	noErr(t, err, "NextDueAt")
	if !next.IsZero() {
		t.Errorf("NextDueAt of no flows = %v; want zero", next)
	}
	for i, due := range []int{30, 10, 20, 0} {
		f := &store.Flow{ID: fmt.Sprintf("f%d", i), Name: fmt.Sprintf("flow%d", i), Trigger: hourly, CreatedAt: at(0), UpdatedAt: at(0)}
		putFlow(t, s, f, "PutFlow")
		if due > 0 {
			noErr(t, s.SetFlowEnabled(ctx, f.ID, hourly, true, at(due), enabler), "SetFlowEnabled")
		}
	}
	next, err = s.NextDueAt(ctx)
	noErr(t, err, "NextDueAt")
	if !next.Equal(at(10)) {
		t.Errorf("NextDueAt = %v; want %v", next, at(10))
	}
	due, err := s.ListDueFlows(ctx, at(20), 0)
	noErr(t, err, "ListDueFlows")
	var ids []string
	for _, f := range due {
		ids = append(ids, f.ID)
	}
	diff(t, "due flows at 20", []string{"f1", "f2"}, ids)
	noErr(t, s.SetFlowEnabled(ctx, "f1", hourly, false, at(10), enabler), "SetFlowEnabled(off)")
	due, err = s.ListDueFlows(ctx, at(20), 0)
	noErr(t, err, "ListDueFlows")
	if len(due) != 1 || due[0].ID != "f2" {
		t.Errorf("due flows after disabling f1 = %v; want f2", due)
	}
}

// enabler is who enables the flows of the trigger tests.
var enabler = store.Actor{Type: store.ActorUser, Login: "ada@example.com"}

func tickRun(flowID string, tick time.Time) *store.FlowRun {
	return &store.FlowRun{FlowID: flowID, FlowName: "tick", Source: []byte("v1"), FlowVersion: 1, Status: "queued", Actor: enabler,
		CreatedAt: tick, Trigger: json.RawMessage(`{"kind":"schedule"}`), TriggerKey: "schedule:" + tick.Format(time.RFC3339Nano)}
}

func testAdvanceSchedule(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	putFlow(t, s, &store.Flow{ID: "f1", Name: "tick", Source: []byte("v1"), Trigger: hourly, CreatedAt: at(0), UpdatedAt: at(0)}, "PutFlow")
	wantErr(t, s.AdvanceSchedule(ctx, "f1", at(10), at(20), tickRun("f1", at(10))), store.ErrConflict, "AdvanceSchedule(disabled)")
	noErr(t, s.SetFlowEnabled(ctx, "f1", hourly, true, at(10), enabler), "SetFlowEnabled")
	run := tickRun("f1", at(10))
	noErr(t, s.AdvanceSchedule(ctx, "f1", at(10), at(20), run), "AdvanceSchedule")
	got, err := s.FindFlowRun(ctx, "f1", run.TriggerKey)
	noErr(t, err, "FindFlowRun")
	if got.ID != run.ID || string(got.Trigger) != `{"kind":"schedule"}` || got.TriggerKey != run.TriggerKey {
		t.Errorf("FindFlowRun = %+v; want %+v", got, run)
	}
	f, err := s.GetFlow(ctx, "f1")
	noErr(t, err, "GetFlow")
	if !f.NextRunAt.Equal(at(20)) {
		t.Errorf("next run at %v after the tick; want %v", f.NextRunAt, at(20))
	}
	// The same tick again: nothing changes.
	err = s.AdvanceSchedule(ctx, "f1", at(10), at(20), tickRun("f1", at(10)))
	wantErr(t, err, store.ErrConflict, "AdvanceSchedule(same tick)")
	if want := "the tick " + timetext.Format(at(10)) + " is no longer due"; !strings.Contains(err.Error(), want) {
		t.Errorf("AdvanceSchedule(same tick): %v; want it to say %q", err, want)
	}
	// A run whose key is taken rolls the advance back.
	wantErr(t, s.AdvanceSchedule(ctx, "f1", at(20), at(30), tickRun("f1", at(10))), store.ErrConflict, "AdvanceSchedule(key taken)")
	f, err = s.GetFlow(ctx, "f1")
	noErr(t, err, "GetFlow")
	if !f.NextRunAt.Equal(at(20)) {
		t.Errorf("next run at %v after a failed advance; want %v unchanged", f.NextRunAt, at(20))
	}
	// A version stored since the run was built, with the same trigger,
	// keeps the tick due: the run of the old version is refused, and the
	// tick fires with the new one.
	f.Source = []byte("v2")
	if !putFlow(t, s, f, "PutFlow(v2)") {
		t.Fatalf("PutFlow of a new document added no version")
	}
	f, err = s.GetFlow(ctx, "f1")
	noErr(t, err, "GetFlow")
	if f.Version != 2 || !f.Enabled || !f.NextRunAt.Equal(at(20)) {
		t.Fatalf("flow after its version 2 = version %d, enabled %v, next run at %v; want 2, enabled, %v", f.Version, f.Enabled, f.NextRunAt, at(20))
	}
	wantErr(t, s.AdvanceSchedule(ctx, "f1", at(20), at(30), tickRun("f1", at(20))), store.ErrConflict, "AdvanceSchedule(run of version 1)")
	f, err = s.GetFlow(ctx, "f1")
	noErr(t, err, "GetFlow")
	if !f.NextRunAt.Equal(at(20)) {
		t.Errorf("next run at %v after the run of an old version was refused; want %v unchanged", f.NextRunAt, at(20))
	}
	if _, err := s.FindFlowRun(ctx, "f1", tickRun("f1", at(20)).TriggerKey); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FindFlowRun of the refused tick: %v; want ErrNotFound", err)
	}
	v2 := tickRun("f1", at(20))
	v2.FlowVersion, v2.Source = 2, []byte("v2")
	noErr(t, s.AdvanceSchedule(ctx, "f1", at(20), at(30), v2), "AdvanceSchedule(run of version 2)")
	// Skipping a tick creates no run.
	noErr(t, s.AdvanceSchedule(ctx, "f1", at(30), at(40), nil), "AdvanceSchedule(skip)")
	runs, err := s.ListFlowRuns(ctx, "f1", 0)
	noErr(t, err, "ListFlowRuns")
	if len(runs) != 2 {
		t.Errorf("%d runs; want 2", len(runs))
	}
	// Keys are per flow; runs without a key never conflict.
	other := tickRun("f2", at(10))
	noErr(t, s.CreateFlowRun(ctx, other), "CreateFlowRun(same key, other flow)")
	wantErr(t, s.CreateFlowRun(ctx, tickRun("f2", at(10))), store.ErrConflict, "CreateFlowRun(key taken)")
	for i := range 2 {
		noErr(t, s.CreateFlowRun(ctx, &store.FlowRun{FlowID: "f1", FlowName: "tick", Status: "queued", CreatedAt: at(40 + i)}), "CreateFlowRun(no key)")
	}
	_, err = s.FindFlowRun(ctx, "f1", "event:nope")
	wantErr(t, err, store.ErrNotFound, "FindFlowRun(missing)")
}

// testAdvanceScheduleOnce races servers over the same ticks: each tick
// creates exactly one run.
func testAdvanceScheduleOnce(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	putFlow(t, s1, &store.Flow{ID: "f1", Name: "tick", Trigger: hourly, CreatedAt: at(0), UpdatedAt: at(0)}, "PutFlow")
	noErr(t, s1.SetFlowEnabled(ctx, "f1", hourly, true, at(1), enabler), "SetFlowEnabled")
	const ticks, workers = 20, 6
	var mu sync.Mutex
	won := map[int]int{}
	parallel(workers, func(i int) {
		s := alternate(i, s1, s2)
		for tick := 1; tick <= ticks; tick++ {
			err := s.AdvanceSchedule(ctx, "f1", at(tick), at(tick+1), tickRun("f1", at(tick)))
			if errors.Is(err, store.ErrConflict) {
				continue
			}
			if err != nil {
				t.Errorf("AdvanceSchedule: %v", err)
				return
			}
			mu.Lock()
			won[tick]++
			mu.Unlock()
		}
	})
	runs, err := s2.ListFlowRuns(ctx, "f1", 1000)
	noErr(t, err, "ListFlowRuns")
	if len(runs) != ticks {
		t.Errorf("%d runs for %d ticks; want one each", len(runs), ticks)
	}
	for tick := 1; tick <= ticks; tick++ {
		if won[tick] != 1 {
			t.Errorf("tick %d fired %d times; want once", tick, won[tick])
		}
	}
}

func testNotifications(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	_, err := s.ClaimNotification(ctx, "a", nil, time.Minute, at(0))
	wantErr(t, err, store.ErrNotFound, "ClaimNotification(empty)")
	msg := func(id, receiver string, created int) *store.Notification {
		return &store.Notification{ID: id, Receiver: receiver, Type: "flow_run.failed", Body: json.RawMessage(`{"id":"` + id + `"}`),
			NextAttemptAt: at(created), CreatedAt: at(created)}
	}
	noErr(t, s.EnqueueNotifications(ctx, []*store.Notification{msg("n1", "rcv-a", 1), msg("n1", "rcv-b", 1), msg("n2", "rcv-a", 2)}), "EnqueueNotifications")
	// Enqueueing again changes nothing.
	noErr(t, s.EnqueueNotifications(ctx, []*store.Notification{msg("n1", "rcv-a", 9)}), "EnqueueNotifications(again)")
	list, err := s.ListNotifications(ctx, 0)
	noErr(t, err, "ListNotifications")
	if len(list) != 3 || list[0].ID != "n2" {
		t.Fatalf("ListNotifications = %d, first %+v; want 3, n2 first", len(list), list[0])
	}

	n, err := s.ClaimNotification(ctx, "a", nil, time.Minute, at(5))
	noErr(t, err, "ClaimNotification")
	if n.ID != "n1" || n.Owner != "a" || string(n.Body) != `{"id":"n1"}` || !n.LeaseUntil.Equal(at(5).Add(time.Minute)) {
		t.Errorf("claimed %+v; want n1 leased to a", n)
	}
	// A failed attempt: due again later, lease freed.
	n.Attempts, n.NextAttemptAt, n.LastError = 1, at(100), "500 Internal Server Error"
	noErr(t, s.UpdateNotification(ctx, n), "UpdateNotification")
	// What waits for each receiver, with the last error of its attempts.
	backlogs, err := s.NotificationBacklogs(ctx)
	noErr(t, err, "NotificationBacklogs")
	diff(t, "backlogs", []store.NotificationBacklog{
		{Receiver: "rcv-a", Waiting: 2, Since: at(1), LastError: "500 Internal Server Error"},
		{Receiver: "rcv-b", Waiting: 1, Since: at(1)},
	}, backlogs)
	// Limited to receivers: only theirs.
	_, err = s.ClaimNotification(ctx, "b", []string{"rcv-gone"}, time.Minute, at(6))
	wantErr(t, err, store.ErrNotFound, "ClaimNotification(another receiver)")
	only, err := s.ClaimNotification(ctx, "b", []string{"rcv-gone", "rcv-b"}, time.Minute, at(6))
	noErr(t, err, "ClaimNotification(receivers)")
	if only.ID != "n1" || only.Receiver != "rcv-b" {
		t.Errorf("claimed for rcv-gone and rcv-b: %+v; want n1 to rcv-b", only)
	}
	noErr(t, s.UpdateNotification(ctx, only), "UpdateNotification")
	seen := map[string]bool{}
	for {
		c, err := s.ClaimNotification(ctx, "b", nil, time.Minute, at(6))
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		noErr(t, err, "ClaimNotification")
		seen[c.ID+" "+c.Receiver] = true
		c.DeliveredAt = at(6)
		noErr(t, s.UpdateNotification(ctx, c), "UpdateNotification")
	}
	diff(t, "claimed at 6", map[string]bool{"n1 rcv-b": true, "n2 rcv-a": true}, seen)
	// Delivered messages wait no more; a receiver with none is left out.
	backlogs, err = s.NotificationBacklogs(ctx)
	noErr(t, err, "NotificationBacklogs")
	diff(t, "backlogs after deliveries", []store.NotificationBacklog{
		{Receiver: "rcv-a", Waiting: 1, Since: at(1), LastError: "500 Internal Server Error"},
	}, backlogs)
	c, err := s.ClaimNotification(ctx, "b", nil, time.Minute, at(100))
	noErr(t, err, "ClaimNotification(retry due)")
	if c.ID != "n1" || c.Receiver != "rcv-a" || c.Attempts != 1 || c.LastError == "" {
		t.Errorf("retry = %+v", c)
	}
	// While b holds it, nobody else gets it; after its lease it is free.
	_, err = s.ClaimNotification(ctx, "c", nil, time.Minute, at(100).Add(time.Second))
	wantErr(t, err, store.ErrNotFound, "ClaimNotification(leased)")
	c2, err := s.ClaimNotification(ctx, "c", nil, time.Minute, at(100).Add(2*time.Minute))
	noErr(t, err, "ClaimNotification(lease expired)")
	if c2.ID != "n1" || c2.Owner != "c" {
		t.Errorf("after the lease expired: %+v; want n1 leased to c", c2)
	}
	// b's attempt outlasted its lease and c took the message over: b's
	// outcome is refused, and c's kept.
	c.Attempts, c.NextAttemptAt, c.LastError = 2, at(300), "timeout"
	c2.Attempts, c2.DeliveredAt, c2.LastError = 2, at(100).Add(2*time.Minute), ""
	noErr(t, s.UpdateNotification(ctx, c2), "UpdateNotification(new owner)")
	wantErr(t, s.UpdateNotification(ctx, c), store.ErrConflict, "UpdateNotification(lease lost)")
	list, err = s.ListNotifications(ctx, 0)
	noErr(t, err, "ListNotifications")
	for _, m := range list {
		if m.ID == "n1" && m.Receiver == "rcv-a" && (!m.DeliveredAt.Equal(c2.DeliveredAt) || m.LastError != "" || m.Owner != "") {
			t.Errorf("after the lost lease's attempt: %+v; want delivered by c, lease free", m)
		}
	}
	wantErr(t, s.UpdateNotification(ctx, &store.Notification{ID: "nope", Receiver: "x"}), store.ErrNotFound, "UpdateNotification(missing)")
}

// testNotificationThreads: a message of a thread is not claimed while an
// older one of its thread to the same receiver is undelivered, even when
// it is due first (the older one waits for its retry); other threads,
// other receivers and messages without a thread are not held.
func testNotificationThreads(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	msg := func(id, receiver, thread string, created int) *store.Notification {
		return &store.Notification{ID: id, Receiver: receiver, Type: "events.poll_failing", Body: json.RawMessage(`{}`),
			NextAttemptAt: at(created), CreatedAt: at(created), Thread: thread}
	}
	noErr(t, s.EnqueueNotifications(ctx, []*store.Notification{msg("failing", "rcv-a", "poll/c1", 1), msg("failing", "rcv-b", "poll/c1", 1)}), "EnqueueNotifications")
	n, err := s.ClaimNotification(ctx, "a", []string{"rcv-a"}, time.Minute, at(2))
	noErr(t, err, "ClaimNotification")
	if n.Thread != "poll/c1" {
		t.Errorf("claimed %+v; want its thread", n)
	}
	// Its attempt failed: due again at 100.
	n.Attempts, n.NextAttemptAt, n.LastError = 1, at(100), "502 Bad Gateway"
	noErr(t, s.UpdateNotification(ctx, n), "UpdateNotification")
	noErr(t, s.EnqueueNotifications(ctx, []*store.Notification{msg("recovered", "rcv-a", "poll/c1", 3), msg("recovered", "rcv-b", "poll/c1", 3),
		msg("other", "rcv-a", "poll/c2", 4), msg("plain", "rcv-a", "", 5)}), "EnqueueNotifications(later)")
	claimAll := func(now int, receivers ...string) []string {
		var got []string
		for {
			c, err := s.ClaimNotification(ctx, "a", receivers, time.Minute, at(now))
			if errors.Is(err, store.ErrNotFound) {
				return got
			}
			noErr(t, err, "ClaimNotification")
			got = append(got, c.ID)
			c.DeliveredAt = at(now)
			noErr(t, s.UpdateNotification(ctx, c), "UpdateNotification")
		}
	}
	diff(t, "claimed for rcv-a at 10", []string{"other", "plain"}, claimAll(10, "rcv-a"))
	diff(t, "claimed for rcv-b at 10", []string{"failing", "recovered"}, claimAll(10, "rcv-b"))
	diff(t, "claimed for rcv-a at 100", []string{"failing", "recovered"}, claimAll(100, "rcv-a"))
}
