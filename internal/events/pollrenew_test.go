package events

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// onLogs calls each with the number of every System Log request, in the
// goroutine making it, before sending it.
type onLogs struct {
	base http.RoundTripper
	each func(n int)
	mu   sync.Mutex
	n    int
}

func (o *onLogs) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/api/v1/logs" {
		o.mu.Lock()
		o.n++
		n := o.n
		o.mu.Unlock()
		o.each(n)
	}
	return o.base.RoundTrip(r)
}

func (o *onLogs) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n
}

// pausedAfterCursor is the store of a server paused right after it stored
// its nth System Log cursor: pause runs then, in that server's goroutine.
type pausedAfterCursor struct {
	store.Store
	nth   int
	pause func()
	n     int
}

func (s *pausedAfterCursor) SetPollCursor(ctx context.Context, connectionID, owner, next string, at time.Time) error {
	err := s.Store.SetPollCursor(ctx, connectionID, owner, next, at)
	if s.n++; err == nil && s.n == s.nth {
		s.pause()
	}
	return err
}

// TestLongPollRenewsItsLease drives two servers' pollers of one connection
// step by step through a catch-up of many pages by server-1, each page
// taking a minute (the lease lasts two intervals and a minute, 2 minutes
// here): server-1 renews its lease before each page, so server-2, asking
// at every page, never takes the poll over, and server-1 reads to the end
// and keeps its cursor.
func TestLongPollRenewsItsLease(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	since := in.srv.Org.Now()
	in.enroll(t, 4) // 8 events, a page each
	two := &Poller{Store: in.st, Orgs: emuOrgs{in.srv}, Owner: "server-2", Interval: 30 * time.Second, PageSize: 1, Now: in.srv.Now}
	var took []int
	o := &onLogs{base: in.srv.Client.Transport, each: func(n int) {
		if n == 1 {
			return
		}
		in.srv.AdvanceClock(t, time.Minute) // the page before took a minute
		res, err := two.Poll(t.Context(), connID, since)
		if err != nil || res.Polled {
			took = append(took, n)
		}
	}}
	one := &Poller{Store: in.st, Orgs: throughOrgs{in.srv, o}, Owner: "server-1", Interval: 30 * time.Second, PageSize: 1, Now: in.srv.Now}

	res, err := one.Poll(t.Context(), connID, since)
	if err != nil || !res.Polled || res.Pages != 9 || res.New != 8 {
		t.Errorf("server-1's catch-up: %+v, %v; want the 8 events of 8 pages and an empty one", res, err)
	}
	if len(took) > 0 {
		t.Errorf("server-2 took the poll over (or failed) at server-1's System Log requests %v; want never: server-1 renews its lease before each page", took)
	}
	// Its cursor is at the end: its next poll reads nothing again.
	o.each = func(int) {}
	if res, err := one.Poll(t.Context(), connID, since); err != nil || !res.Polled || res.Events != 0 {
		t.Errorf("server-1's next poll: %+v, %v; want nothing read again", res, err)
	}
}

// TestPollStopsWhenItsLeaseIsLost drives two servers' pollers of one
// connection step by step: server-1 is paused after storing the cursor of
// its second page; past its lease server-2 takes the poll over, reads to
// the end, and stops too (its lease lapses as well). When server-1
// resumes, the renewal of its lease before its next page is refused, also
// with server-2's lease lapsed (server-1 may not take the lease again, its
// cursor being stale): it stops at once, asking Okta for no further page,
// and the cursor stays server-2's.
func TestPollStopsWhenItsLeaseIsLost(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	since := in.srv.Org.Now()
	in.enroll(t, 3) // 6 events, a page each
	two := &Poller{Store: in.st, Orgs: emuOrgs{in.srv}, Owner: "server-2", PageSize: 1, Now: in.srv.Now}
	ttl := 2*DefaultPollInterval + time.Minute
	var want *store.EventSource
	paused := &pausedAfterCursor{Store: in.st, nth: 2, pause: func() {
		in.srv.AdvanceClock(t, ttl+time.Second)
		res, err := two.Poll(t.Context(), connID, since)
		if err != nil || !res.Polled || res.New != 4 {
			t.Errorf("server-2's poll past server-1's lease: %+v, %v; want the 4 events server-1 had not read", res, err)
		}
		var gerr error
		if want, gerr = in.st.GetEventSource(t.Context(), connID); gerr != nil {
			t.Error(gerr)
		}
		in.srv.AdvanceClock(t, ttl+time.Second) // server-2 stopped
	}}
	o := &onLogs{base: in.srv.Client.Transport, each: func(int) {}}
	one := &Poller{Store: paused, Orgs: throughOrgs{in.srv, o}, Owner: "server-1", PageSize: 1, Now: in.srv.Now}

	res, err := one.Poll(t.Context(), connID, since)
	if err != nil || res.Polled {
		t.Errorf("server-1's poll after it resumed: %+v, %v; want it to stop, Polled false and no error", res, err)
	}
	if n := o.count(); n != 2 {
		t.Errorf("server-1 made %d System Log requests; want it to stop after the 2 before its pause", n)
	}
	after, err := in.st.GetEventSource(t.Context(), connID)
	if err != nil || want == nil {
		t.Fatal(err)
	}
	if after.PollNext != want.PollNext || !after.PolledAt.Equal(want.PolledAt) || after.Poll != want.Poll {
		t.Errorf("event source after server-1 resumed: cursor %q at %s, poll %+v; want server-2's: %q at %s, %+v",
			after.PollNext, after.PolledAt, after.Poll, want.PollNext, want.PolledAt, want.Poll)
	}
	if n := len(in.inbox(t)); n != 6 {
		t.Errorf("inbox holds %d events; want 6", n)
	}
}
