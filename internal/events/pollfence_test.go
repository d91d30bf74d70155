package events

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// gate holds a poller's first System Log request until released: the
// poller is paused there, as a server stopped by its host (or a long
// garbage collection) would be, while the test goes on.
type gate struct {
	base     http.RoundTripper
	arrived  chan struct{}
	release  chan struct{}
	mu       sync.Mutex
	requests int
}

func newGate(base http.RoundTripper) *gate {
	return &gate{base: base, arrived: make(chan struct{}), release: make(chan struct{})}
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/api/v1/logs" {
		g.mu.Lock()
		g.requests++
		first := g.requests == 1
		g.mu.Unlock()
		if first {
			g.arrived <- struct{}{}
			<-g.release
		}
	}
	return g.base.RoundTrip(r)
}

func (g *gate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.requests
}

// throughOrgs gives every connection the emulated org's client, its
// requests through rt.
type throughOrgs struct {
	srv *emutest.Server
	rt  http.RoundTripper
}

func (o throughOrgs) Client(context.Context, string) (*okta.Client, error) {
	u, err := url.Parse(o.srv.URL)
	if err != nil {
		return nil, err
	}
	// No retries: each System Log call is one request through rt.
	return &okta.Client{BaseURL: u, HTTP: &http.Client{Transport: ssws{o.rt}}, MaxRetries: -1}, nil
}

// TestPausedPollerIsFenced drives two servers' pollers of one connection
// step by step: server-1 takes the poll lease and is paused in its System
// Log request; past its lease server-2 takes over and polls twice, moving
// the cursor on. When server-1 resumes, the store refuses its write
// (store.ErrLeaseLost): its cursor, which would move the polls back, or
// its status (a failure Okta answered it), which would say the polls fail
// while they work; and it stops at once, asking Okta for no further page.
func TestPausedPollerIsFenced(t *testing.T) {
	for _, tt := range []struct {
		name string
		// fail makes server-1's request fail when it resumes: its next
		// write is then its status, not its cursor.
		fail bool
	}{{"cursor", false}, {"status", true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := newIntake(t, oktaemu.Config{Devices: 5})
			since := in.srv.Org.Now()
			in.enroll(t, 2)
			g := newGate(in.srv.Client.Transport)
			one := &Poller{Store: in.st, Orgs: throughOrgs{in.srv, g}, Owner: "server-1", PageSize: 100, Now: in.srv.Now}
			two := &Poller{Store: in.st, Orgs: emuOrgs{in.srv}, Owner: "server-2", PageSize: 100, Now: in.srv.Now}

			type outcome struct {
				res PollResult
				err error
			}
			done := make(chan outcome, 1)
			go func() {
				res, err := one.Poll(t.Context(), connID, since)
				done <- outcome{res, err}
			}()
			<-g.arrived // server-1 holds the lease, paused in its request

			// server-2 cannot poll while the lease holds, then takes over.
			if res, err := two.Poll(t.Context(), connID, since); err != nil || res.Polled {
				t.Fatalf("server-2's poll within server-1's lease: %+v, %v; want none", res, err)
			}
			in.srv.AdvanceClock(t, 2*DefaultPollInterval+time.Minute+time.Second)
			for i := range 2 {
				if res, err := two.Poll(t.Context(), connID, since); err != nil || !res.Polled {
					t.Fatalf("server-2's poll %d after server-1's lease: %+v, %v", i+1, res, err)
				}
				in.enroll(t, 1)
			}
			want, err := in.st.GetEventSource(t.Context(), connID)
			if err != nil || want.PollNext == "" || want.Poll.Error != "" {
				t.Fatalf("event source after server-2's polls: %+v, %v", want, err)
			}

			if tt.fail {
				in.srv.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/api/v1/logs", Status: http.StatusServiceUnavailable, Count: 1})
			}
			close(g.release)
			got := <-done
			if got.err != nil || got.res.Polled {
				t.Errorf("server-1's poll after it resumed: %+v, %v; want it to stop, Polled false and no error", got.res, got.err)
			}
			if n := g.count(); n != 1 {
				t.Errorf("server-1 made %d System Log requests; want it to stop after the one it was paused in", n)
			}
			after, err := in.st.GetEventSource(t.Context(), connID)
			if err != nil {
				t.Fatal(err)
			}
			if after.PollNext != want.PollNext || !after.PolledAt.Equal(want.PolledAt) || after.Poll != want.Poll {
				t.Errorf("event source after server-1 resumed: cursor %q at %s, poll %+v; want server-2's: %q at %s, %+v",
					after.PollNext, after.PolledAt, after.Poll, want.PollNext, want.PolledAt, want.Poll)
			}
			// server-2 reads on from its own cursor: the events since.
			if res, err := two.Poll(t.Context(), connID, since); err != nil || !res.Polled || res.Events != 2 {
				t.Errorf("server-2's next poll: %+v, %v; want the 2 events of the last enrollment", res, err)
			}
			if n := len(in.inbox(t)); n != 8 {
				t.Errorf("inbox holds %d events; want 8", n)
			}
		})
	}
}
