package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// testPollFence drives two pollers of one connection step by step: a
// holds the poll lease and writes its cursor and status (creating the
// source); its lease lapses and b takes it; every write a then makes (the
// cursor, the status with a notification) is refused with ErrLeaseLost
// and stores nothing, while b's are stored; once b released the lease, a
// holds it no more either. Writes without an owner are not fenced.
func testPollFence(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	lease, ttl := store.PollLease("c1"), time.Minute
	take := func(owner string, now time.Time) {
		t.Helper()
		ok, err := s.TryLease(ctx, lease, owner, ttl, now)
		noErr(t, err, "TryLease("+owner+")")
		if !ok {
			t.Fatalf("%s did not get the poll lease", owner)
		}
	}
	take("a", at(1))
	noErr(t, s.SetPollCursor(ctx, "c1", "a", "/api/v1/logs?after=a1", at(2)), "SetPollCursor(a, holding, new source)")
	failing := store.PollStatus{Error: "Okta answered 503", FailingSince: at(2)}
	noErr(t, s.SetPollStatus(ctx, "c1", "a", failing, at(2), nil), "SetPollStatus(a, holding)")

	// a is paused past its lease; b takes it over and reads further.
	take("b", at(1).Add(ttl+time.Second))
	noErr(t, s.SetPollCursor(ctx, "c1", "b", "/api/v1/logs?after=b1", at(3)), "SetPollCursor(b)")
	noErr(t, s.SetPollStatus(ctx, "c1", "b", store.PollStatus{ReadTo: at(3)}, at(3), nil), "SetPollStatus(b)")
	want, err := s.GetEventSource(ctx, "c1")
	noErr(t, err, "GetEventSource")
	if want.PollNext != "/api/v1/logs?after=b1" || want.Poll.Error != "" {
		t.Fatalf("event source after b's poll: %+v", want)
	}

	// a resumes: its cursor would move the polls back, its status says
	// they fail; neither is stored, nor its notification.
	wantErr(t, s.SetPollCursor(ctx, "c1", "a", "/api/v1/logs?after=a2", at(4)), store.ErrLeaseLost, "SetPollCursor(a, lost)")
	wantErr(t, s.SetPollCursor(ctx, "c1", "a", "/api/v1/logs?after=a2", at(4)), store.ErrConflict, "SetPollCursor(a, lost) as ErrConflict")
	notice := []*store.Notification{{ID: "poll-c1-a", Receiver: "rcv-a", Type: "events.poll_failing", Body: json.RawMessage(`{"id":"poll-c1-a"}`),
		NextAttemptAt: at(4), CreatedAt: at(4)}}
	alerted := failing
	alerted.AlertedAt = at(4)
	wantErr(t, s.SetPollStatus(ctx, "c1", "a", alerted, at(4), notice), store.ErrLeaseLost, "SetPollStatus(a, lost)")
	got, err := s.GetEventSource(ctx, "c1")
	noErr(t, err, "GetEventSource")
	diff(t, "event source after a's refused writes", want, got)
	list, err := s.ListNotifications(ctx, 0)
	noErr(t, err, "ListNotifications")
	if len(list) != 0 {
		t.Errorf("notifications after a's refused status: %+v; want none", list)
	}
	// Another connection's lease is no fence of this one's.
	ok, err := s.TryLease(ctx, store.PollLease("c2"), "a", ttl, at(4))
	noErr(t, err, "TryLease(a, c2)")
	if !ok {
		t.Fatal("a did not get c2's poll lease")
	}
	wantErr(t, s.SetPollCursor(ctx, "c1", "a", "/api/v1/logs?after=a3", at(5)), store.ErrLeaseLost, "SetPollCursor(a, holding c2's lease only)")
	noErr(t, s.SetPollCursor(ctx, "c2", "a", "/api/v1/logs?after=c2", at(5)), "SetPollCursor(a, c2)")

	// b stops polling and releases the lease: no one holds it, a's writes
	// are still refused (it must take the lease again first).
	noErr(t, s.ReleaseLease(ctx, lease, "b"), "ReleaseLease(b)")
	wantErr(t, s.SetPollCursor(ctx, "c1", "a", "/api/v1/logs?after=a4", at(6)), store.ErrLeaseLost, "SetPollCursor(a, released)")
	// Unfenced writes (no owner) are stored.
	noErr(t, s.SetPollCursor(ctx, "c1", "", "/api/v1/logs?after=x", at(7)), "SetPollCursor(no owner)")
	got, err = s.GetEventSource(ctx, "c1")
	noErr(t, err, "GetEventSource")
	if got.PollNext != "/api/v1/logs?after=x" {
		t.Errorf("cursor after an unfenced write: %q", got.PollNext)
	}
}

// testPollFenceConcurrent races a paused poller's cursor write (a) with
// the take-over of its lease by b, which then writes its own cursor:
// whatever the order, b's cursor is the one kept, and a's write is either
// refused or made before b took the lease.
func testPollFenceConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	s, s2 := open(t), open(t)
	ctx := t.Context()
	const rounds = 40
	ttl := time.Minute
	refused := 0
	for i := range rounds {
		conn := fmt.Sprintf("c%d", i)
		lease := store.PollLease(conn)
		now := at(1).Add(time.Duration(i) * time.Hour)
		ok, err := s.TryLease(ctx, lease, "a", ttl, now)
		if err != nil || !ok {
			t.Fatalf("round %d: a's lease: %t %v", i, ok, err)
		}
		var wg sync.WaitGroup
		var aErr error
		wg.Go(func() {
			aErr = s.SetPollCursor(ctx, conn, "a", "a", now.Add(time.Second))
		})
		wg.Go(func() {
			ok, err := s2.TryLease(ctx, lease, "b", ttl, now.Add(ttl+time.Second))
			if err != nil || !ok {
				t.Errorf("round %d: b's take-over: %t %v", i, ok, err)
				return
			}
			if err := s2.SetPollCursor(ctx, conn, "b", "b", now.Add(ttl+2*time.Second)); err != nil {
				t.Errorf("round %d: b's cursor: %v", i, err)
			}
		})
		wg.Wait()
		if aErr != nil {
			wantErr(t, aErr, store.ErrLeaseLost, fmt.Sprintf("round %d: a's cursor", i))
			refused++
		}
		got, err := s.GetEventSource(ctx, conn)
		noErr(t, err, "GetEventSource")
		if got.PollNext != "b" {
			t.Fatalf("round %d: cursor %q (a's write: %v); want b's, which took the lease", i, got.PollNext, aErr)
		}
	}
	t.Logf("%d of %d writes of a refused", refused, rounds)
}
