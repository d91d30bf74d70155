package schedule

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/outage"
	"github.com/cardflow/cardflow/internal/store"
)

// Runs builds and wakes flow runs (flowrun.Service implements it).
type Runs interface {
	TriggeredRun(fl *store.Flow, f flow.Firing, key string) *store.FlowRun
	Wake()
}

// Scheduler fires due ticks. Set its fields before Run or Tick; it is safe
// for concurrent use.
type Scheduler struct {
	// Store holds the flows and their next ticks (required).
	Store store.Store
	// Runs builds the runs of ticks (required).
	Runs Runs
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Poll bounds how long Run waits between two looks at the store, so
	// that flows enabled on other servers are seen; zero means 30 s.
	Poll time.Duration
	// Logger receives fired, skipped and failed ticks; nil discards.
	Logger *slog.Logger
	// Metrics counts ticks; nil counts nothing.
	Metrics *Metrics
	// Outage logs the failures of Run's ticks and of firing a flow's
	// tick (the database down): once, summarised, and the recovery. Nil
	// means one of Logger and Now.
	Outage *outage.Log

	once sync.Once
	wake chan struct{}

	fallback outage.Fallback

	mu        sync.Mutex
	schedules map[string]*flow.Schedule // trigger spec → its schedule
	lastNow   time.Time                 // the wall clock at the last Tick; zero before the first
}

// Metrics counts ticks by outcome: "fired" (this server created the run),
// "lost" (another server had fired it), "skipped" (missed while every
// server was down, older than the latest due tick or than the flow's
// startingDeadline), "overlapped" (not
// fired: the flow's run of an earlier tick had not ended) and "error".
type Metrics struct {
	Ticks *prometheus.CounterVec
}

// NewMetrics makes the scheduler's metrics.
func NewMetrics() *Metrics {
	return &Metrics{Ticks: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cardflow_schedule_ticks_total",
		Help: "Schedule ticks by outcome: fired, lost (fired by another server), skipped (missed while no server could fire them: every server down, or the database unreachable; older than the latest due tick, or than the flow's startingDeadline), overlapped (not fired: the flow's run of an earlier tick had not ended), error.",
	}, []string{"outcome"})}
}

// Register adds the metrics to r.
func (m *Metrics) Register(r prometheus.Registerer) error { return r.Register(m.Ticks) }

func (s *Scheduler) count(outcome string, n int) {
	if s.Metrics != nil && n > 0 {
		s.Metrics.Ticks.WithLabelValues(outcome).Add(float64(n))
	}
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Scheduler) outage() *outage.Log {
	return s.fallback.Or(s.Outage, s.Logger, s.Now)
}

func (s *Scheduler) wakeChan() chan struct{} {
	s.once.Do(func() { s.wake = make(chan struct{}, 1) })
	return s.wake
}

// Wake makes Run look at the store now (a flow was enabled or disabled).
func (s *Scheduler) Wake() {
	select {
	case s.wakeChan() <- struct{}{}:
	default:
	}
}

// Run fires due ticks until ctx ends, waking at the next tick of any
// enabled flow (or after Poll).
func (s *Scheduler) Run(ctx context.Context) {
	poll := s.Poll
	if poll <= 0 {
		poll = 30 * time.Second
	}
	for {
		next, err := s.Tick(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			s.outage().Fail(ctx, "schedule tick", err)
		default:
			s.outage().OK(ctx, "schedule tick")
		}
		wait := runWait(next, s.now(), poll)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-s.wakeChan():
			t.Stop()
		}
	}
}

// runWait is how long Run waits after a Tick that reported next: until
// next, at most poll. A tick still due after the Tick is one that could not
// be fired (logged and counted): Run looks again after a second, not at
// once, so that it does not spin on it.
func runWait(next, now time.Time, poll time.Duration) time.Duration {
	switch {
	case next.IsZero():
		return poll
	case !next.After(now):
		return min(poll, time.Second)
	}
	return min(poll, next.Sub(now))
}

// pageSize is how many due flows one query returns.
const pageSize = 100

// Tick fires every tick due now and returns when the next one is due
// (zero when no flow is scheduled). Its work is one query per page of due
// flows, one transaction per fired tick, and one query for the next tick:
// it does not grow with idle flows or with past runs (but for one read of
// every flow at the first Tick and after the clock went back, pullBack).
func (s *Scheduler) Tick(ctx context.Context) (time.Time, error) {
	now := s.now()
	if s.clockWentBack(now) {
		s.pullBack(ctx, now)
	}
	fired := false
	for {
		due, err := s.Store.ListDueFlows(ctx, now, pageSize)
		if err != nil {
			return time.Time{}, err
		}
		for _, fl := range due {
			if s.fire(ctx, fl, now) {
				fired = true
			}
		}
		if len(due) < pageSize {
			break
		}
	}
	if fired {
		s.Runs.Wake()
	}
	return s.Store.NextDueAt(ctx)
}

// clockWentBack reports whether now is the first Tick's or earlier than
// the last Tick's, by the wall clock: then a next tick computed before may
// lie beyond the schedule's next one (see pullBack).
func (s *Scheduler) clockWentBack(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	back := s.lastNow.IsZero() || now.UnixNano() < s.lastNow.UnixNano()
	s.lastNow = now.Round(0) // the wall clock only: a jump does not move the monotonic one
	return back
}

// pullBack moves the next tick of every enabled flow that lies beyond its
// schedule's next tick after now to that one. A tick fired while the host's
// clock ran ahead (then set right, perhaps after a restart) moved the next
// tick as far ahead, and the flow would not run until the clock got there.
// It reads every flow, so it runs only at the first Tick and after the
// clock went back.
func (s *Scheduler) pullBack(ctx context.Context, now time.Time) {
	fls, err := s.Store.ListFlows(ctx)
	if err != nil {
		s.log().ErrorContext(ctx, "read the flows to check their next ticks against the clock", slog.Any("error", err))
		return
	}
	for _, fl := range fls {
		if !fl.Enabled || fl.NextRunAt.IsZero() {
			continue
		}
		sch, err := s.schedule(fl.Trigger)
		if err != nil || sch == nil {
			continue // fire reports it when it is due
		}
		want := sch.Next(now)
		if want.IsZero() || !fl.NextRunAt.After(want) {
			continue
		}
		log := s.log().With(slog.String("flow", fl.Name), slog.String("flow_id", fl.ID))
		if err := s.Store.AdvanceSchedule(ctx, fl.ID, fl.NextRunAt, want, nil); err != nil {
			if !errors.Is(err, store.ErrConflict) {
				log.ErrorContext(ctx, "move back a next tick set while the clock ran ahead", slog.Any("error", err))
			}
			continue
		}
		log.WarnContext(ctx, "the flow's next tick was later than its schedule's next one: it was set while the clock ran ahead (check the host's time source); moved back",
			slog.Time("was", fl.NextRunAt), slog.Time("next_run_at", want))
	}
}

// advance moves fl's schedule from the due tick first to next without a
// run, and reports whether this server moved it: another server that
// moved it first is counted lost, an error counted and logged as an
// outage.
func (s *Scheduler) advance(ctx context.Context, fl *store.Flow, first, next time.Time) bool {
	switch err := s.Store.AdvanceSchedule(ctx, fl.ID, first, next, nil); {
	case errors.Is(err, store.ErrConflict):
		s.count("lost", 1)
	case err != nil:
		if ctx.Err() == nil {
			s.outage().Fail(ctx, "fire a schedule tick", err, slog.String("flow", fl.Name), slog.String("flow_id", fl.ID))
		}
		s.count("error", 1)
	default:
		s.outage().OK(ctx, "fire a schedule tick", slog.String("flow", fl.Name), slog.String("flow_id", fl.ID))
		return true
	}
	return false
}

// fire fires fl's latest due tick and skips the older ones (and the
// latest too when it is later than the schedule's StartingDeadline),
// reporting whether this server created the run.
func (s *Scheduler) fire(ctx context.Context, fl *store.Flow, now time.Time) bool {
	log := s.log().With(slog.String("flow", fl.Name), slog.String("flow_id", fl.ID))
	sch, err := s.schedule(fl.Trigger)
	if err != nil || sch == nil {
		if err == nil {
			err = errors.New("the trigger has no schedule")
		}
		// Still due, so tried again every second until the flow changes.
		s.outage().Fail(ctx, "the flow's stored schedule cannot be read; disable and enable it again", err,
			slog.String("flow", fl.Name), slog.String("flow_id", fl.ID))
		s.count("error", 1)
		return false
	}
	s.outage().OK(ctx, "the flow's stored schedule cannot be read; disable and enable it again", slog.String("flow", fl.Name), slog.String("flow_id", fl.ID))
	// The latest due tick and the count of the older ones, computed
	// rather than gone through: a schedule of every minute whose servers
	// were down for a month missed 43 200.
	first := fl.NextRunAt
	last := sch.Latest(first, now)
	skipped := sch.Ticks(first, last)
	next := sch.Next(last)
	if late := now.Sub(last); sch.StartingDeadline > 0 && late > sch.StartingDeadline {
		// Missed for longer than the flow allows: a nightly job must not
		// run in the afternoon after an outage. No run; the next tick runs.
		if s.advance(ctx, fl, first, next) {
			s.count("skipped", skipped+1)
			log.WarnContext(ctx, "missed schedule tick skipped: it is later than the flow's startingDeadline (no server could fire it in time: every server down, or the database unreachable); the flow runs at its next tick",
				slog.Time("tick", last), slog.Duration("late", late.Round(time.Second)), slog.Duration("starting_deadline", sch.StartingDeadline),
				slog.Int("older_skipped", skipped), slog.Time("next_run_at", next))
		}
		return false
	}
	if prev := s.unfinished(ctx, fl, log); prev != nil {
		// The schedule does not overlap itself: two runs of one flow
		// acting on the same devices at once would each find the other's
		// changes (a device deleted under it: a failed run), and a run
		// longer than its interval would pile up runs. The due ticks are
		// skipped, as a CronJob's concurrencyPolicy Forbid skips them.
		if s.advance(ctx, fl, first, next) {
			s.count("overlapped", 1)
			s.count("skipped", skipped)
			log.WarnContext(ctx, "schedule tick not fired: the run of the flow's previous tick has not ended (a run takes longer than the schedule's interval, or waits for a server to run it); the flow runs again at its first tick after that run ends",
				slog.Time("tick", last), slog.String("unfinished_run", prev.ID), slog.String("unfinished_status", prev.Status),
				slog.Time("next_run_at", next))
			if skipped > 0 {
				log.WarnContext(ctx, "missed schedule ticks skipped: no server could fire them in time (every server down, or the database unreachable)",
					slog.Int("skipped", skipped), slog.Time("first_missed", first))
			}
		}
		return false
	}
	key := flowrun.ScheduleKey(last)
	run := s.Runs.TriggeredRun(fl, flow.Firing{Kind: flow.KindSchedule, Time: last}, key)
	err = s.Store.AdvanceSchedule(ctx, fl.ID, first, next, run)
	switch {
	case errors.Is(err, store.ErrConflict):
		prev, ferr := s.Store.FindFlowRun(ctx, fl.ID, key)
		if errors.Is(ferr, store.ErrNotFound) {
			// A version of the flow stored since it was read (with the
			// same trigger, so the tick is still due) refused the run of
			// the version read: the tick runs the current one.
			if cur, gerr := s.Store.GetFlow(ctx, fl.ID); gerr == nil && cur.Enabled && cur.NextRunAt.Equal(first) && cur.Version > fl.Version {
				log.InfoContext(ctx, "the flow has a newer version than the one read for its schedule tick: firing the tick with it",
					slog.Int("version_read", fl.Version), slog.Int("version", cur.Version))
				return s.fire(ctx, cur, now)
			}
		}
		if ferr == nil {
			// The tick has its run already: the flow was enabled again by a
			// server whose clock lags, at a tick another server had fired.
			// Move the schedule past it, or it stays due for good.
			if err := s.Store.AdvanceSchedule(ctx, fl.ID, first, next, nil); err != nil && !errors.Is(err, store.ErrConflict) {
				log.ErrorContext(ctx, "move a schedule past a tick fired before", slog.Time("tick", last), slog.Any("error", err))
			} else if err == nil {
				log.WarnContext(ctx, "schedule tick fired before, not again: the flow was enabled with a tick in the past (are the servers' clocks apart?)",
					slog.Time("tick", last), slog.String("flow_run", prev.ID), slog.Time("next_run_at", next))
			}
		}
		s.count("lost", 1)
		return false
	case err != nil:
		if ctx.Err() == nil {
			s.outage().Fail(ctx, "fire a schedule tick", err, slog.String("flow", fl.Name), slog.String("flow_id", fl.ID))
		}
		s.count("error", 1)
		return false
	}
	s.outage().OK(ctx, "fire a schedule tick", slog.String("flow", fl.Name), slog.String("flow_id", fl.ID))
	s.count("fired", 1)
	log.InfoContext(ctx, "schedule tick fired", slog.Time("tick", last), slog.String("flow_run", run.ID), slog.Time("next_run_at", next))
	if skipped > 0 {
		s.count("skipped", skipped)
		log.WarnContext(ctx, "missed schedule ticks skipped: no server could fire them in time (every server down, or the database unreachable); only the latest ran",
			slog.Int("skipped", skipped), slog.Time("first_missed", first), slog.Time("ran", last))
	}
	return true
}

// unfinished returns the run fl's schedule started last when it has not
// ended (queued, or running here or on another server, or waiting for a
// server to resume it), else nil. A failure to read it fires the tick:
// an overlap is less harm than a schedule that stops.
func (s *Scheduler) unfinished(ctx context.Context, fl *store.Flow, log *slog.Logger) *store.FlowRun {
	prev, err := s.Store.LatestScheduleRun(ctx, fl.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		if ctx.Err() == nil {
			log.WarnContext(ctx, "read the flow's previous schedule run, to fire no tick while it runs; firing the tick", slog.Any("error", err))
		}
		return nil
	case flowrun.Finished(prev.Status):
		return nil
	}
	return prev
}

// schedule parses a trigger spec once.
func (s *Scheduler) schedule(spec []byte) (*flow.Schedule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.schedules[string(spec)]; ok {
		return sch, nil
	}
	sch, err := flow.ScheduleFromSpec(spec)
	if err != nil {
		return nil, err
	}
	if s.schedules == nil {
		s.schedules = map[string]*flow.Schedule{}
	}
	if len(s.schedules) > 10_000 {
		clear(s.schedules)
	}
	s.schedules[string(spec)] = sch
	return sch, nil
}
