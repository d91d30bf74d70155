package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/postgres"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
	"github.com/cardflow/cardflow/internal/store/sqlite"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func openSQLite(t testing.TB) store.Store {
	t.Helper()
	st := sqlitetest.Open(t)
	return st
}

func openPostgres(t testing.TB, dsn string) store.Store {
	t.Helper()
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

const everyMinute = `name: NAME
inputs:
  since: {type: string, required: true}
on:
  schedule: {SCHEDULE}
  inputs:
    since: ${{ string(trigger.time - duration("24h")) }}
steps:
  - id: a
    card: okta-devices/search-devices
    connection: Prod
`

// enabler enables the tests' flows: their triggered runs are attributed to
// it.
var enabler = store.Actor{Type: store.ActorToken, Login: "ada@example.com", TokenName: "deploy"}

// scheduledFlow stores an enabled flow with the given schedule whose first
// tick is the first after now.
func scheduledFlow(t testing.TB, st store.Store, name, schedule string, now time.Time) *store.Flow {
	t.Helper()
	src := []byte(strings.NewReplacer("NAME", name, "SCHEDULE", schedule).Replace(everyMinute))
	doc, err := flow.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	fl := &store.Flow{Name: name, Source: src, Trigger: doc.Trigger.SpecJSON(), CreatedAt: now, UpdatedAt: now}
	if _, err := st.PutFlow(t.Context(), fl); err != nil {
		t.Fatal(err)
	}
	if err := st.SetFlowEnabled(t.Context(), fl.ID, fl.Trigger, true, doc.Trigger.Schedule.Next(now), enabler); err != nil {
		t.Fatal(err)
	}
	return fl
}

func newScheduler(st store.Store, c *emutest.Clock) *Scheduler {
	runs := flowrun.New(flowrun.Config{Store: st, Owner: "test", Now: c.Now})
	return &Scheduler{Store: st, Runs: runs, Now: c.Now, Metrics: NewMetrics()}
}

// ticksOf checks that the runs of fl are exactly one per tick in want.
func ticksOf(t *testing.T, st store.Store, fl *store.Flow, want []time.Time) {
	t.Helper()
	runs, err := st.ListFlowRuns(t.Context(), fl.ID, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	got := map[time.Time]int{}
	for _, r := range runs {
		var f flow.Firing
		if err := json.Unmarshal(r.Trigger, &f); err != nil {
			t.Fatalf("run %s trigger %s: %v", r.ID, r.Trigger, err)
		}
		if f.Kind != flow.KindSchedule || r.TriggerKey != flowrun.ScheduleKey(f.Time) || (r.Status != "queued" && r.Status != "running" && r.Status != flow.StatusSucceeded) || r.Actor != enabler {
			t.Errorf("run %+v; want a schedule run keyed by its tick, queued (or set running or ended by the test), started as %v (who enabled the flow)", r, enabler)
		}
		got[f.Time.UTC()]++
	}
	if len(runs) != len(want) {
		t.Errorf("%d runs; want %d", len(runs), len(want))
	}
	for _, tick := range want {
		if got[tick.UTC()] != 1 {
			t.Errorf("tick %v has %d runs; want 1", tick, got[tick.UTC()])
		}
	}
}

// endRuns ends the store's queued runs as a worker would have before the
// next tick: a tick fires no run while its flow's previous schedule run
// has not ended.
func endRuns(t testing.TB, st store.Store, now time.Time) {
	t.Helper()
	endRunsBut(t, st, now, "")
}

func minutes(from time.Time, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range n {
		out[i] = from.Add(time.Duration(i) * time.Minute)
	}
	return out
}

func TestTwoHundredTicks(t *testing.T) {
	st := openSQLite(t)
	c := emutest.NewClock(time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC))
	fl := scheduledFlow(t, st, "every-minute", "every: 1m", c.Now())
	s := newScheduler(st, c)
	first := time.Date(2025, 6, 1, 10, 1, 0, 0, time.UTC)
	for range 200 {
		c.Advance(time.Minute)
		next, err := s.Tick(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if want := c.Now().Truncate(time.Minute).Add(time.Minute); !next.Equal(want) {
			t.Fatalf("next tick at %v = %v; want %v", c.Now(), next, want)
		}
		// A second look at the same moment fires nothing more.
		if _, err := s.Tick(t.Context()); err != nil {
			t.Fatal(err)
		}
		endRuns(t, st, c.Now())
	}
	ticksOf(t, st, fl, minutes(first, 200))
	if got := testutil.ToFloat64(s.Metrics.Ticks.WithLabelValues("fired")); got != 200 {
		t.Errorf("fired ticks = %v; want 200", got)
	}
}

func TestTwoServersOnPostgres(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	st1, st2 := openPostgres(t, dsn), openPostgres(t, dsn)
	c := emutest.NewClock(time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC))
	fl := scheduledFlow(t, st1, "every-minute", "every: 1m", c.Now())
	cron := scheduledFlow(t, st1, "cron-five", `cron: "*/5 * * * *"`, c.Now())
	servers := []*Scheduler{newScheduler(st1, c), newScheduler(st2, c)}
	const ticks = 60
	for range ticks {
		c.Advance(time.Minute)
		var wg sync.WaitGroup
		for _, s := range servers {
			for range 2 { // two looks each, racing
				wg.Go(func() {
					if _, err := s.Tick(context.WithoutCancel(t.Context())); err != nil {
						t.Error(err)
					}
				})
			}
		}
		wg.Wait()
		endRuns(t, st1, c.Now())
	}
	first := time.Date(2025, 6, 1, 10, 1, 0, 0, time.UTC)
	ticksOf(t, st2, fl, minutes(first, ticks))
	var fives []time.Time
	for tk := time.Date(2025, 6, 1, 10, 5, 0, 0, time.UTC); !tk.After(c.Now()); tk = tk.Add(5 * time.Minute) {
		fives = append(fives, tk)
	}
	ticksOf(t, st2, cron, fives)
	fired := 0.0
	for _, s := range servers {
		fired += testutil.ToFloat64(s.Metrics.Ticks.WithLabelValues("fired"))
	}
	if want := float64(ticks + len(fives)); fired != want {
		t.Errorf("the servers fired %v ticks together; want %v", fired, want)
	}
}

func TestMissedTicks(t *testing.T) {
	tests := []struct {
		name     string
		schedule string
		down     time.Duration // how long every server was down after the first tick was due
		wantRun  time.Time     // zero: no run
		skipped  float64
	}{
		{"nightly, down 3 days: the latest runs, 2 skipped", `cron: "0 2 * * *"`, 3*24*time.Hour - time.Hour,
			time.Date(2025, 6, 4, 2, 0, 0, 0, time.UTC), 2},
		{"nightly, down 1 hour: the missed tick runs", `cron: "0 2 * * *"`, time.Hour,
			time.Date(2025, 6, 2, 2, 0, 0, 0, time.UTC), 0},
		{"every 15m, down 50m: the latest of 4 runs", "every: 15m", 50 * time.Minute,
			time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), 3},
		// startingDeadline: a missed tick later than it does not run.
		{"nightly with a 2h deadline, down 15 hours: skipped, no run in the afternoon", `cron: "0 2 * * *", startingDeadline: 2h`, 15 * time.Hour,
			time.Time{}, 1},
		{"nightly with a 2h deadline, down 1 hour: the missed tick runs", `cron: "0 2 * * *", startingDeadline: 2h`, time.Hour,
			time.Date(2025, 6, 2, 2, 0, 0, 0, time.UTC), 0},
		{"nightly with a 2h deadline, down exactly 2 hours: the missed tick runs", `cron: "0 2 * * *", startingDeadline: 2h`, 2 * time.Hour,
			time.Date(2025, 6, 2, 2, 0, 0, 0, time.UTC), 0},
		{"nightly with a 2h deadline, down 3 days: the latest is 23 hours late, all 3 skipped", `cron: "0 2 * * *", startingDeadline: 2h`, 3*24*time.Hour - time.Hour,
			time.Time{}, 3},
		{"every 15m with a 10m deadline, down 50m: the latest, 5m late, runs", "every: 15m, startingDeadline: 10m", 50 * time.Minute,
			time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), 3},
		{"every 15m with a 10m deadline, down 59m: the latest, 14m late, skipped too", "every: 15m, startingDeadline: 10m", 59 * time.Minute,
			time.Time{}, 4},
		// Every minute after a long outage: the latest due tick runs, the
		// others are counted without going through them (3 years is past
		// the million ticks the scheduler once went through one by one,
		// after which it ran a tick of years before, and again at once).
		{"every minute by cron, down 30 days", `cron: "* * * * *"`, 30 * 24 * time.Hour,
			time.Date(2025, 7, 1, 23, 1, 0, 0, time.UTC), 43_200},
		{"every minute by interval, down 30 days", "every: 1m", 30 * 24 * time.Hour,
			time.Date(2025, 7, 1, 23, 1, 0, 0, time.UTC), 43_200},
		{"every minute by cron in Berlin, down 3 years", `cron: "* * * * *", timezone: Europe/Berlin`, 3 * 365 * 24 * time.Hour,
			time.Date(2028, 5, 31, 23, 1, 0, 0, time.UTC), 3 * 365 * 24 * 60},
		{"every minute by interval, down 3 years", "every: 1m", 3 * 365 * 24 * time.Hour,
			time.Date(2028, 5, 31, 23, 1, 0, 0, time.UTC), 3 * 365 * 24 * 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openSQLite(t)
			c := emutest.NewClock(time.Date(2025, 6, 1, 23, 0, 0, 0, time.UTC))
			fl := scheduledFlow(t, st, "missed", tt.schedule, c.Now())
			stored, err := st.GetFlow(t.Context(), fl.ID)
			if err != nil {
				t.Fatal(err)
			}
			c.Advance(stored.NextRunAt.Add(tt.down).Sub(c.Now()))
			s := newScheduler(st, c)
			if _, err := s.Tick(t.Context()); err != nil {
				t.Fatal(err)
			}
			var want []time.Time
			if !tt.wantRun.IsZero() {
				want = append(want, tt.wantRun)
			}
			ticksOf(t, st, fl, want)
			if got := testutil.ToFloat64(s.Metrics.Ticks.WithLabelValues("skipped")); got != tt.skipped {
				t.Errorf("skipped = %v; want %v", got, tt.skipped)
			}
			after, err := st.GetFlow(t.Context(), fl.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !after.NextRunAt.After(c.Now()) {
				t.Errorf("next run at %v is not after now %v", after.NextRunAt, c.Now())
			}
		})
	}
}

func TestDisabledFlowsDoNotFire(t *testing.T) {
	st := openSQLite(t)
	c := emutest.NewClock(time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC))
	fl := scheduledFlow(t, st, "off", "every: 1m", c.Now())
	if err := st.SetFlowEnabled(t.Context(), fl.ID, fl.Trigger, false, time.Time{}, store.Actor{Type: store.ActorBootstrap}); err != nil {
		t.Fatal(err)
	}
	s := newScheduler(st, c)
	c.Advance(10 * time.Minute)
	next, err := s.Tick(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !next.IsZero() {
		t.Errorf("next tick %v with no enabled flow; want none", next)
	}
	ticksOf(t, st, fl, nil)
}

// countingStore counts the store calls of the scheduler.
type countingStore struct {
	store.Store
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingStore) add(name string) {
	c.mu.Lock()
	c.calls[name]++
	c.mu.Unlock()
}

func (c *countingStore) ListDueFlows(ctx context.Context, now time.Time, limit int) ([]*store.Flow, error) {
	c.add("ListDueFlows")
	return c.Store.ListDueFlows(ctx, now, limit)
}

func (c *countingStore) NextDueAt(ctx context.Context) (time.Time, error) {
	c.add("NextDueAt")
	return c.Store.NextDueAt(ctx)
}

func (c *countingStore) AdvanceSchedule(ctx context.Context, id string, due, next time.Time, run *store.FlowRun) error {
	c.add("AdvanceSchedule")
	return c.Store.AdvanceSchedule(ctx, id, due, next, run)
}

// BenchmarkTick measures the scheduler with 10 000 enabled flows: one
// iteration is one minute of virtual time in which flowsPerMinute of them
// (every: 1m) fire and the rest (nightly) stay idle, with their past runs
// piling up. It reports the store queries of a tick; they must not grow
// with the idle flows or with past runs.
func BenchmarkTick(b *testing.B) {
	const total, flowsPerMinute = 10_000, 10
	st := &countingStore{Store: openSQLite(b), calls: map[string]int{}}
	c := emutest.NewClock(time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC))
	for i := range total {
		sched := `cron: "0 2 * * *"`
		if i < flowsPerMinute {
			sched = "every: 1m"
		}
		scheduledFlow(b, st.Store, fmt.Sprintf("flow-%05d", i), sched, c.Now())
	}
	s := newScheduler(st, c)
	idle := 0
	b.ResetTimer()
	for b.Loop() {
		c.Advance(time.Minute)
		if _, err := s.Tick(b.Context()); err != nil {
			b.Fatal(err)
		}
		endRuns(b, st.Store, c.Now())
		// An idle look in the same minute: nothing due.
		before := st.calls["ListDueFlows"] + st.calls["NextDueAt"]
		if _, err := s.Tick(b.Context()); err != nil {
			b.Fatal(err)
		}
		idle = st.calls["ListDueFlows"] + st.calls["NextDueAt"] - before
	}
	b.StopTimer()
	ticks := float64(b.N)
	b.ReportMetric(float64(st.calls["ListDueFlows"]+st.calls["NextDueAt"])/ticks/2, "reads/tick")
	b.ReportMetric(float64(st.calls["AdvanceSchedule"])/ticks, "fires/minute")
	b.ReportMetric(float64(idle), "reads/idle-tick")
	if idle != 2 {
		b.Errorf("an idle tick made %d reads; want 2 (due flows, next tick)", idle)
	}
}

// TestTickWithItsRunAlready: a flow enabled again by a server whose clock
// lags gets a next tick that another server already fired; the tick is not
// fired twice, and the schedule moves on past it instead of staying due.
func TestTickWithItsRunAlready(t *testing.T) {
	st := openSQLite(t)
	c := emutest.NewClock(time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC))
	fl := scheduledFlow(t, st, "lagging", "every: 1m", c.Now())
	tick := time.Date(2025, 6, 1, 10, 1, 0, 0, time.UTC)
	c.Advance(40 * time.Second)
	s := newScheduler(st, c)
	if _, err := s.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Enabled again on a server whose clock reads 10:00:50.
	if err := st.SetFlowEnabled(t.Context(), fl.ID, fl.Trigger, true, tick, enabler); err != nil {
		t.Fatal(err)
	}
	next, err := s.Tick(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !next.After(c.Now()) {
		t.Errorf("after the tick: next due %v; want after now (%v), not a tick that stays due", next, c.Now())
	}
	ticksOf(t, st, fl, []time.Time{tick})
}

// TestRunWait: Run waits for the next tick, at most its poll, and a second
// (not zero) for a tick that is still due after a Tick, which could not be
// fired, so that it does not spin on it.
func TestRunWait(t *testing.T) {
	now := time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC)
	tests := []struct {
		name string
		next time.Time
		want time.Duration
	}{
		{"no flow scheduled", time.Time{}, 30 * time.Second},
		{"next tick in 20 s", now.Add(20 * time.Second), 20 * time.Second},
		{"next tick in an hour", now.Add(time.Hour), 30 * time.Second},
		{"a tick still due", now.Add(-time.Minute), time.Second},
		{"a tick due now", now, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runWait(tt.next, now, 30*time.Second); got != tt.want {
				t.Errorf("runWait = %v; want %v", got, tt.want)
			}
		})
	}
}

// TestClockWentBack: the host's clock ran a year ahead for a while (a bad
// time source) and a tick fired then moved the flow's next tick a year
// ahead. Once the clock is set right, the next tick is again the schedule's
// next one after now, whether the server saw the clock go back or was
// restarted meanwhile, instead of nothing running for a year.
func TestClockWentBack(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprintf("restart=%v", restart), func(t *testing.T) {
			st := openSQLite(t)
			start := time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC)
			c := emutest.NewClock(start)
			fl := scheduledFlow(t, st, "jumpy", "every: 15m", c.Now())
			s := newScheduler(st, c)
			if _, err := s.Tick(t.Context()); err != nil {
				t.Fatal(err)
			}
			c.Advance(365 * 24 * time.Hour) // a year ahead
			if _, err := s.Tick(t.Context()); err != nil {
				t.Fatal(err)
			}
			endRuns(t, st, c.Now())
			c.Advance(-365 * 24 * time.Hour) // set right
			if restart {
				s = newScheduler(st, c)
			}
			next, err := s.Tick(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want := time.Date(2025, 6, 1, 10, 15, 0, 0, time.UTC)
			if !next.Equal(want) {
				t.Errorf("next tick %v; want %v, the schedule's next after now", next, want)
			}
			c.Advance(15 * time.Minute)
			if _, err := s.Tick(t.Context()); err != nil {
				t.Fatal(err)
			}
			ticksOf(t, st, fl, []time.Time{time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC), want})
		})
	}
}

// pausingStore runs pause once, after the scheduler's first read of the
// due flows: what happens while a server is paused between reading a flow
// and firing its tick.
type pausingStore struct {
	store.Store
	once  sync.Once
	pause func()
}

func (p *pausingStore) ListDueFlows(ctx context.Context, now time.Time, limit int) ([]*store.Flow, error) {
	due, err := p.Store.ListDueFlows(ctx, now, limit)
	p.once.Do(p.pause)
	return due, err
}

// TestTickRunsTheCurrentVersion: a server paused between reading a due
// flow and firing its tick, while a new version of the flow with the same
// schedule is stored, fires the tick with the new version, not the one it
// read; and when another server fired the tick meanwhile (with the new
// version), it fires nothing. On SQLite and PostgreSQL.
func TestTickRunsTheCurrentVersion(t *testing.T) {
	for _, backend := range []struct {
		name string
		open func(t *testing.T) (store.Store, store.Store) // two servers' stores of one database
	}{
		{"SQLite", func(t *testing.T) (store.Store, store.Store) {
			file := sqlitetest.NewFile(t)
			open := func() store.Store {
				st, err := sqlite.Open(t.Context(), file)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = st.Close() })
				return st
			}
			return open(), open()
		}},
		{"PostgreSQL", func(t *testing.T) (store.Store, store.Store) {
			dsn := pgtest.NewSchema(t)
			return openPostgres(t, dsn), openPostgres(t, dsn)
		}},
	} {
		t.Run(backend.name, func(t *testing.T) {
			st1, st2 := backend.open(t)
			c := emutest.NewClock(time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC))
			fl := scheduledFlow(t, st1, "every-minute", "every: 1m", c.Now())
			version := 1
			storeVersion := func() {
				version++
				src := append(append([]byte(nil), fl.Source...), fmt.Sprintf("    input: {resultSet: first}\n# version %d\n", version)...)
				v := &store.Flow{Name: fl.Name, Source: src, Trigger: fl.Trigger, CreatedAt: c.Now(), UpdatedAt: c.Now()}
				if added, err := st2.PutFlow(t.Context(), v); err != nil || !added || v.Version != version || !v.Enabled {
					t.Fatalf("store version %d: added %v, %v; got version %d, enabled %v", version, added, err, v.Version, v.Enabled)
				}
			}
			runOf := func(tick time.Time) *store.FlowRun {
				t.Helper()
				r, err := st2.FindFlowRun(t.Context(), fl.ID, flowrun.ScheduleKey(tick))
				if err != nil {
					t.Fatalf("the run of tick %v: %v", tick, err)
				}
				return r
			}

			// Paused while version 2 is stored.
			paused := newScheduler(&pausingStore{Store: st1, pause: storeVersion}, c)
			c.Advance(time.Minute)
			if _, err := paused.Tick(t.Context()); err != nil {
				t.Fatal(err)
			}
			tick := time.Date(2025, 6, 1, 10, 1, 0, 0, time.UTC)
			if r := runOf(tick); r.FlowVersion != 2 || !strings.Contains(string(r.Source), "# version 2") {
				t.Errorf("the run of tick %v is of version %d; want 2, stored before the tick fired\n%s", tick, r.FlowVersion, r.Source)
			}
			endRuns(t, st2, c.Now())

			// Paused while version 3 is stored and another server fires
			// the tick with it.
			other := newScheduler(st2, c)
			paused = newScheduler(&pausingStore{Store: st1, pause: func() {
				storeVersion()
				if _, err := other.Tick(t.Context()); err != nil {
					t.Error(err)
				}
			}}, c)
			c.Advance(time.Minute)
			if _, err := paused.Tick(t.Context()); err != nil {
				t.Fatal(err)
			}
			tick = tick.Add(time.Minute)
			if r := runOf(tick); r.FlowVersion != 3 {
				t.Errorf("the run of tick %v is of version %d; want 3", tick, r.FlowVersion)
			}
			ticksOf(t, st2, fl, minutes(time.Date(2025, 6, 1, 10, 1, 0, 0, time.UTC), 2))
			if fired, lost := testutil.ToFloat64(paused.Metrics.Ticks.WithLabelValues("fired")), testutil.ToFloat64(paused.Metrics.Ticks.WithLabelValues("lost")); fired != 0 || lost != 1 {
				t.Errorf("the paused server fired %v and lost %v ticks; want 0 and 1 (the other server fired it)", fired, lost)
			}
		})
	}
}

// TestSpringForwardInTheHours: "0 2-4 * * *" in Europe/Berlin on the night
// its clocks go from 02:00 to 03:00 runs at 03:00, for 02:00, which does not
// happen that night (as cron runs a fixed-time job whose time a jump skips
// right after the jump), and at 04:00, as on any night; the 03:00 run of the
// schedule is the same run, at the same instant, as in cron, which runs an
// entry once at a time. "30 2-4 * * *" runs at 03:00 (for 02:30), 03:30 and
// 04:30. The scheduler looks every minute, and, as Run does, at each next
// tick it gives.
func TestSpringForwardInTheHours(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) time.Time { return time.Date(2027, 3, 28, h, m, 0, 0, berlin) }
	for _, tt := range []struct {
		cron string
		want []time.Time
	}{
		{"0 2-4 * * *", []time.Time{at(3, 0), at(4, 0)}},
		{"30 2-4 * * *", []time.Time{at(3, 0), at(3, 30), at(4, 30)}},
	} {
		for _, byMinute := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/every minute %v", tt.cron, byMinute), func(t *testing.T) {
				st := openSQLite(t)
				c := emutest.NewClock(time.Date(2027, 3, 27, 23, 0, 30, 0, berlin))
				fl := scheduledFlow(t, st, "nightly", `cron: "`+tt.cron+`", timezone: Europe/Berlin`, c.Now())
				s := newScheduler(st, c)
				end := at(5, 15)
				for c.Now().Before(end) {
					next, err := s.Tick(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					endRuns(t, st, c.Now())
					if d := next.Sub(c.Now()); !byMinute && d > 0 {
						c.Advance(d)
					} else {
						c.Advance(time.Minute)
					}
				}
				ticksOf(t, st, fl, tt.want)
				if got := testutil.ToFloat64(s.Metrics.Ticks.WithLabelValues("skipped")); got != 0 {
					t.Errorf("skipped ticks = %v; want none", got)
				}
			})
		}
	}
}

// TestTickWhileItsRunGoesOn: a schedule does not overlap itself. A tick
// that comes while the run of the flow's previous tick is queued or
// running fires no run (a run longer than the interval would pile up runs
// acting on the same devices at once); the schedule moves on to its next
// tick, which fires once that run has ended. A run of the flow started
// another way (by hand) holds no tick. On SQLite and PostgreSQL.
func TestTickWhileItsRunGoesOn(t *testing.T) {
	for _, backend := range []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"SQLite", func(t *testing.T) store.Store { return openSQLite(t) }},
		{"PostgreSQL", func(t *testing.T) store.Store { return openPostgres(t, pgtest.NewSchema(t)) }},
	} {
		t.Run(backend.name, func(t *testing.T) {
			st := backend.open(t)
			c := emutest.NewClock(time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC))
			fl := scheduledFlow(t, st, "slow", "every: 1m", c.Now())
			s := newScheduler(st, c)
			at := func(m int) time.Time { return time.Date(2025, 6, 1, 10, m, 0, 0, time.UTC) }
			tick := func(wantNext time.Time) {
				t.Helper()
				next, err := s.Tick(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if !next.Equal(wantNext) {
					t.Errorf("at %v: next tick %v; want %v", c.Now(), next, wantNext)
				}
			}
			c.Advance(30 * time.Second) // 10:01
			tick(at(2))
			first, err := st.FindFlowRun(t.Context(), fl.ID, flowrun.ScheduleKey(at(1)))
			if err != nil {
				t.Fatal(err)
			}
			c.Advance(time.Minute) // 10:02: the run of 10:01 is still queued
			tick(at(3))
			first.Status, first.StartedAt = "running", c.Now()
			if err := st.UpdateFlowRun(t.Context(), first); err != nil {
				t.Fatal(err)
			}
			c.Advance(time.Minute) // 10:03: it runs
			tick(at(4))
			ticksOf(t, st, fl, []time.Time{at(1)})
			if got := testutil.ToFloat64(s.Metrics.Ticks.WithLabelValues("overlapped")); got != 2 {
				t.Errorf("overlapped ticks = %v; want 2", got)
			}

			// A run by hand goes on; the run of 10:01 ends.
			byHand := &store.FlowRun{FlowID: fl.ID, FlowName: fl.Name, Source: fl.Source, FlowVersion: fl.Version,
				Status: "running", Actor: enabler, CreatedAt: c.Now()}
			if err := st.CreateFlowRun(t.Context(), byHand); err != nil {
				t.Fatal(err)
			}
			endRunsBut(t, st, c.Now(), byHand.ID)
			c.Advance(time.Minute) // 10:04
			tick(at(5))
			if _, err := st.FindFlowRun(t.Context(), fl.ID, flowrun.ScheduleKey(at(4))); err != nil {
				t.Errorf("the tick of 10:04, after the run of 10:01 ended, beside a run by hand: %v; want its run", err)
			}
			if got := testutil.ToFloat64(s.Metrics.Ticks.WithLabelValues("fired")); got != 2 {
				t.Errorf("fired ticks = %v; want 2 (10:01 and 10:04)", got)
			}
		})
	}
}

// endRunsBut is endRuns but for the run keep.
func endRunsBut(t testing.TB, st store.Store, now time.Time, keep string) {
	t.Helper()
	runs, err := st.ListFlowRunsPage(t.Context(), store.FlowRunFilter{Unfinished: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.ID == keep {
			continue
		}
		r.Status, r.StartedAt, r.FinishedAt = flow.StatusSucceeded, now, now
		if err := st.UpdateFlowRun(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
}
