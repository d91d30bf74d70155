package app

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// pausedItems pauses a server's flow runs from its at-th stored item on,
// before the item is stored, until resume is closed: as a server stopped
// (SIGSTOP, a VM paused) right after Okta answered an item's card would
// be, its lease renewals stopped too (the test gives it a lease far longer
// than it runs). paused is closed when the first item waits.
type pausedItems struct {
	store.Store
	at     int64
	n      atomic.Int64
	paused chan struct{}
	resume chan struct{}
}

func (s *pausedItems) FinishFlowItem(ctx context.Context, it *store.FlowItem, r *store.Run, e *store.AuditEvent) error {
	if n := s.n.Add(1); n >= s.at {
		if n == s.at {
			close(s.paused)
		}
		<-s.resume
	}
	return s.Store.FinishFlowItem(ctx, it, r, e)
}

// TestPausedServerStopsAtItsNextWrite: server A runs a flow suspending
// devices one at a time and is paused past its lease right after Okta
// answered its third item's card, before that item is stored. Server B,
// whose clock is past A's lease, claims the run, resumes it without doing
// any device twice, and ends it. When A goes on, its item is refused (B
// holds the run) and A stops the run at once: it records no further card
// run, calls Okta no more, and says that another server owns the run; the
// run stays as B ended it. On SQLite (two servers on one data directory)
// and on PostgreSQL.
func TestPausedServerStopsAtItsNextWrite(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"SQLite", "PostgreSQL"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			emu := emutest.Start(t, oktaemu.Config{Devices: 40})
			dirA, dirB, db := t.TempDir(), t.TempDir(), ""
			if backend == "SQLite" {
				dirB = dirA // one database file, one keyring
			} else {
				db = pgtest.NewDatabase(t)
			}
			pause := &pausedItems{at: 3, paused: make(chan struct{}), resume: make(chan struct{})}
			var resumed atomic.Bool
			t.Cleanup(func() {
				if !resumed.Load() {
					close(pause.resume)
				}
			})
			a := startServer(t, emu, dirA, func(c *Config) {
				c.DB, c.Owner, c.FlowLeaseTTL = db, "server-a", time.Hour
				c.wrapStore = func(st store.Store) store.Store { pause.Store = st; return pause }
			})
			if backend == "PostgreSQL" {
				copyKeyring(t, dirA, dirB)
			}
			a.connect("Prod")
			var stored putAnswer
			if code, data := a.postYAML("/api/v1/flows", strings.Replace(suspendActiveFlow, "concurrency: 3", "concurrency: 1", 1), &stored); code != http.StatusCreated {
				t.Fatalf("store the flow: %d %s", code, data)
			}
			before := lifecycleCalls(emu.Stats(t))
			var run flowRun
			if code, data := a.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs", map[string]any{"inputs": map[string]any{"platform": "WINDOWS"}}, &run); code != http.StatusAccepted {
				t.Fatalf("start the run on A: %d %s", code, data)
			}
			select {
			case <-pause.paused:
			case <-time.After(time.Minute):
				t.Fatalf("A did not reach its third item\n%s", a.logs)
			}

			// B starts with its clock two hours on, past A's lease of an
			// hour, and claims the run as a server does at its start.
			clock := &shiftedClock{}
			clock.advance(2 * time.Hour)
			b := startServer(t, emu, dirB, func(c *Config) {
				c.DB, c.Owner, c.FlowLeaseTTL, c.PublicURL, c.Now = db, "server-b", time.Hour, a.url, clock.now
			})
			done := waitFlowRun(t, b, run.ID, time.Minute)
			want := done.Steps[1].Items
			if done.Status != "succeeded" || want < 5 || done.Steps[1].Succeeded != want {
				t.Fatalf("the run B resumed: %+v; want succeeded, every one of at least 5 items", done)
			}
			if n := lifecycleCalls(emu.Stats(t)) - before; n != want {
				t.Errorf("%d lifecycle calls for %d devices; want one each", n, want)
			}
			cardRuns := func() (byA int) {
				t.Helper()
				runs, err := b.app.Store.ListRuns(t.Context(), store.RunFilter{FlowRunID: run.ID, Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range runs {
					if r.Owner == "server-a" {
						byA++
					}
				}
				return byA
			}
			byA := cardRuns()

			// A goes on.
			resumed.Store(true)
			close(pause.resume)
			// A stops at its first write, or (as before writes were
			// fenced) at its refused outcome.
			waitFor(t, "A to stop the run", func() bool {
				return strings.Contains(a.logs.String(), "another server owns this flow run now") ||
					strings.Contains(a.logs.String(), "lost the lease of a flow run")
			})
			if !strings.Contains(a.logs.String(), "another server owns this flow run now") {
				t.Errorf("A did not say that another server owns the run")
			}
			if n := cardRuns(); n != byA {
				t.Errorf("A recorded %d card runs of the flow run after it went on; want none", n-byA)
			}
			if n := lifecycleCalls(emu.Stats(t)) - before; n != want {
				t.Errorf("%d lifecycle calls for %d devices after A went on; want one each", n, want)
			}
			var after flowRun
			b.call("GET", "/api/v1/flow-runs/"+run.ID, nil, &after)
			if after.Status != "succeeded" || after.Steps[1].Succeeded != want {
				t.Errorf("the run after A went on: %+v; want B's succeeded run", after)
			}
			if fr, err := b.app.Store.GetFlowRun(t.Context(), run.ID); err != nil || fr.Owner != "server-b" {
				t.Errorf("the run after A went on: %+v, %v; want it held by server-b", fr, err)
			}
		})
	}
}

// pausedStreak pauses a server as it reads a flow's earlier failures (the
// read that decides whether the failure of a run it ends is notified)
// until resume is closed; paused is closed when it waits.
type pausedStreak struct {
	store.Store
	once   sync.Once
	paused chan struct{}
	resume chan struct{}
}

func (s *pausedStreak) FailureStreak(ctx context.Context, f store.StreakFilter) (store.Streak, error) {
	s.once.Do(func() {
		close(s.paused)
		<-s.resume
	})
	return s.Store.FailureStreak(ctx, f)
}

// TestPausedServerQueuesNoNotification: server A ends a flow run failed and
// is paused past its lease before it stores the outcome. The run is
// canceled meanwhile and server B, whose clock is past A's lease, claims it
// and ends it canceled. When A goes on, it stores neither its outcome nor
// its flow_run.failed notification: receivers are not told that a run
// failed which ended canceled. On SQLite and on PostgreSQL.
func TestPausedServerQueuesNoNotification(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"SQLite", "PostgreSQL"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			emu := emutest.Start(t, oktaemu.Config{Devices: 3})
			dirA, dirB, db := t.TempDir(), t.TempDir(), ""
			if backend == "SQLite" {
				dirB = dirA
			} else {
				db = pgtest.NewDatabase(t)
			}
			receiver := notificationReceiver(t, make(chan map[string]any, 16))
			pause := &pausedStreak{paused: make(chan struct{}), resume: make(chan struct{})}
			var resumed atomic.Bool
			t.Cleanup(func() {
				if !resumed.Load() {
					close(pause.resume)
				}
			})
			server := func(owner string, edit func(*Config)) func(*Config) {
				return func(c *Config) {
					c.DB, c.Owner, c.FlowLeaseTTL = db, owner, time.Hour
					c.NotifyURLs, c.NotifySecret = []string{receiver}, "a-long-random-notification-secret"
					edit(c)
				}
			}
			a := startServer(t, emu, dirA, server("server-a", func(c *Config) {
				c.wrapStore = func(st store.Store) store.Store { pause.Store = st; return pause }
			}))
			if backend == "PostgreSQL" {
				copyKeyring(t, dirA, dirB)
			}
			a.connect("Prod")
			var stored putAnswer
			if code, data := a.postYAML("/api/v1/flows", readOneFlow, &stored); code != http.StatusCreated {
				t.Fatalf("store the flow: %d %s", code, data)
			}
			var run flowRun
			if code, data := a.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs", map[string]any{"inputs": map[string]any{"deviceId": "guo0000000000000none"}}, &run); code != http.StatusAccepted {
				t.Fatalf("start the run on A: %d %s", code, data)
			}
			select {
			case <-pause.paused:
			case <-time.After(time.Minute):
				t.Fatalf("A did not end the run\n%s", a.logs)
			}
			if code, data := a.call("POST", "/api/v1/flow-runs/"+run.ID+"/cancel", nil, nil); code != http.StatusOK && code != http.StatusAccepted {
				t.Fatalf("cancel the run: %d %s", code, data)
			}
			clock := &shiftedClock{}
			clock.advance(2 * time.Hour)
			b := startServer(t, emu, dirB, server("server-b", func(c *Config) { c.PublicURL, c.Now = a.url, clock.now }))
			var ended flowRun
			waitFor(t, "B to end the run canceled", func() bool {
				b.call("GET", "/api/v1/flow-runs/"+run.ID, nil, &ended)
				return ended.Status == "canceled"
			})

			resumed.Store(true)
			close(pause.resume)
			waitFor(t, "A to stop the run", func() bool {
				return strings.Contains(a.logs.String(), "another server owns this flow run now") ||
					strings.Contains(a.logs.String(), "lost the lease of a flow run")
			})
			ns, err := b.app.Store.ListNotifications(t.Context(), 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range ns {
				if strings.Contains(n.ID, run.ID) {
					t.Errorf("notification %s (%s) of the run B ended canceled; want none", n.ID, n.Type)
				}
			}
			var after flowRun
			b.call("GET", "/api/v1/flow-runs/"+run.ID, nil, &after)
			if after.Status != "canceled" {
				t.Errorf("the run after A went on is %s; want canceled, as B ended it", after.Status)
			}
		})
	}
}
