package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cardflow/cardflow/internal/store"
)

// Store is the part of the store a Purger uses (store.Store implements it).
type Store interface {
	Purge(ctx context.Context, before time.Time, limit int) (store.Purged, error)
}

// Purger deletes runs that ended more than Retain ago, and the Okta events
// and delivered notifications older than that (see store.Store.Purge): at
// Run's start and then every Every. Several servers may purge the same
// store at once; each deletes what is still there. Set its fields before
// Run or Purge.
type Purger struct {
	// Store holds the records (required).
	Store Store
	// Retain is how long an ended run, an event or a delivered
	// notification is kept (required, positive).
	Retain time.Duration
	// Every is the time between two purges; zero means an hour.
	Every time.Duration
	// Batch bounds the records of each kind deleted in one transaction, so
	// that a large purge does not hold the database for long; zero means
	// 500.
	Batch int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// After waits between purges; nil means time.After. Tests pass a
	// channel they control.
	After func(time.Duration) <-chan time.Time
	// Logger receives one line per purge that removed something, and
	// failures; nil discards.
	Logger *slog.Logger
	// Metrics counts what was removed; nil counts nothing.
	Metrics *Metrics
	// Purged, when set, is called after each purge of Run with what it
	// removed (also when nothing).
	Purged func(Report)
}

// Report is what one purge removed: what ended (or, for events, was
// published and received; for notifications, was created) before Before.
type Report struct {
	Before time.Time
	store.Purged
}

// Metrics counts purged records by kind ("flow_run", "card_run", "event",
// "notification").
type Metrics struct {
	Purged *prometheus.CounterVec
}

// NewMetrics makes the purger's metrics.
func NewMetrics() *Metrics {
	return &Metrics{Purged: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cardflow_retention_purged_total",
		Help: "Records deleted because they are older than -retain-runs, by kind: flow_run (with its steps and items), card_run, event (of the Okta event inbox), notification (delivered).",
	}, []string{"kind"})}
}

// Register adds the metrics to r.
func (m *Metrics) Register(r prometheus.Registerer) error { return r.Register(m.Purged) }

func (p *Purger) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Purger) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Run purges now and then every Every until ctx ends.
func (p *Purger) Run(ctx context.Context) {
	every := p.Every
	if every <= 0 {
		every = time.Hour
	}
	after := p.After
	if after == nil {
		after = time.After
	}
	for {
		rep, err := p.Purge(ctx)
		if err != nil && ctx.Err() == nil {
			p.log().ErrorContext(ctx, "purge records past the retention period", slog.Any("error", err))
		}
		if p.Purged != nil && err == nil {
			p.Purged(rep)
		}
		select {
		case <-ctx.Done():
			return
		case <-after(every):
		}
	}
}

// Purge deletes every record older than Retain, Batch at a time, and
// reports what it removed (what it removed before an error too).
func (p *Purger) Purge(ctx context.Context) (Report, error) {
	batch := p.Batch
	if batch <= 0 {
		batch = 500
	}
	rep := Report{Before: p.now().Add(-p.Retain)}
	defer func() {
		if rep.Empty() {
			return
		}
		if p.Metrics != nil {
			for kind, n := range map[string]int{"flow_run": rep.FlowRuns, "card_run": rep.CardRuns,
				"event": rep.Events, "notification": rep.Notifications} {
				p.Metrics.Purged.WithLabelValues(kind).Add(float64(n))
			}
		}
		p.log().InfoContext(ctx, "purged records past the retention period",
			slog.Time("before", rep.Before), slog.Duration("retain", p.Retain),
			slog.Int("flow_runs", rep.FlowRuns), slog.Int("card_runs", rep.CardRuns),
			slog.Int("events", rep.Events), slog.Int("notifications", rep.Notifications))
	}()
	for {
		got, err := p.Store.Purge(ctx, rep.Before, batch)
		rep.FlowRuns += got.FlowRuns
		rep.CardRuns += got.CardRuns
		rep.Events += got.Events
		rep.Notifications += got.Notifications
		if err != nil || got.Empty() {
			return rep, err
		}
	}
}
