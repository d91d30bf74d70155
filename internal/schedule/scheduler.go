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

	once sync.Once
	wake chan struct{}

	mu        sync.Mutex
	schedules map[string]*flow.Schedule // trigger spec → its schedule
}

// Metrics counts ticks by outcome: "fired" (this server created the run),
// "lost" (another server had fired it), "skipped" (missed while every
// server was down, older than the latest due tick) and "error".
type Metrics struct {
	Ticks *prometheus.CounterVec
}

// NewMetrics makes the scheduler's metrics.
func NewMetrics() *Metrics {
	return &Metrics{Ticks: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cardflow_schedule_ticks_total",
		Help: "Schedule ticks by outcome: fired, lost (fired by another server), skipped (missed while every server was down), error.",
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
		if err != nil && ctx.Err() == nil {
			s.log().ErrorContext(ctx, "schedule tick", slog.Any("error", err))
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
// it does not grow with idle flows or with past runs.
func (s *Scheduler) Tick(ctx context.Context) (time.Time, error) {
	now := s.now()
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

// maxCatchUp bounds the missed ticks counted one by one after a long
// outage of a fine-grained cron schedule.
const maxCatchUp = 1_000_000

// fire fires fl's latest due tick and skips the older ones, reporting
// whether this server created the run.
func (s *Scheduler) fire(ctx context.Context, fl *store.Flow, now time.Time) bool {
	log := s.log().With(slog.String("flow", fl.Name), slog.String("flow_id", fl.ID))
	sch, err := s.schedule(fl.Trigger)
	if err != nil || sch == nil {
		log.ErrorContext(ctx, "the flow's stored schedule cannot be read; disable and enable it again", slog.Any("error", err))
		s.count("error", 1)
		return false
	}
	first := fl.NextRunAt
	last, skipped := first, 0
	if sch.Every > 0 {
		n := int(now.Sub(first) / sch.Every)
		last, skipped = first.Add(time.Duration(n)*sch.Every), n
	} else {
		for skipped < maxCatchUp {
			n := sch.Next(last)
			if n.IsZero() || n.After(now) {
				break
			}
			last, skipped = n, skipped+1
		}
	}
	next := sch.Next(last)
	key := flowrun.ScheduleKey(last)
	run := s.Runs.TriggeredRun(fl, flow.Firing{Kind: flow.KindSchedule, Time: last}, key)
	err = s.Store.AdvanceSchedule(ctx, fl.ID, first, next, run)
	switch {
	case errors.Is(err, store.ErrConflict):
		if prev, ferr := s.Store.FindFlowRun(ctx, fl.ID, key); ferr == nil {
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
		log.ErrorContext(ctx, "fire a schedule tick", slog.Time("tick", last), slog.Any("error", err))
		s.count("error", 1)
		return false
	}
	s.count("fired", 1)
	log.InfoContext(ctx, "schedule tick fired", slog.Time("tick", last), slog.String("flow_run", run.ID), slog.Time("next_run_at", next))
	if skipped > 0 {
		s.count("skipped", skipped)
		log.WarnContext(ctx, "missed schedule ticks skipped: every server was down; only the latest ran",
			slog.Int("skipped", skipped), slog.Time("first_missed", first), slog.Time("ran", last))
	}
	return true
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
