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
	PurgeRuns(ctx context.Context, before time.Time, limit int) (store.Purged, error)
}

// Purger deletes runs that ended more than Retain ago: at Run's start and
// then every Every. Several servers may purge the same store at once; each
// deletes what is still there. Set its fields before Run or Purge.
type Purger struct {
	// Store holds the runs (required).
	Store Store
	// Retain is how long an ended run is kept (required, positive).
	Retain time.Duration
	// Every is the time between two purges; zero means an hour.
	Every time.Duration
	// Batch bounds the runs deleted in one transaction, so that a large
	// purge does not hold the database for long; zero means 500.
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

// Report is what one purge removed.
type Report struct {
	Before   time.Time // runs that ended before this went
	FlowRuns int       // flow runs, each with its steps and items
	CardRuns int       // card runs (of those flow runs, and direct ones)
}

// Metrics counts purged runs by kind ("flow_run", "card_run").
type Metrics struct {
	Purged *prometheus.CounterVec
}

// NewMetrics makes the purger's metrics.
func NewMetrics() *Metrics {
	return &Metrics{Purged: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cardflow_retention_purged_total",
		Help: "Runs deleted because they ended longer ago than -retain-runs, by kind: flow_run (with its steps and items), card_run.",
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
			p.log().ErrorContext(ctx, "purge old runs", slog.Any("error", err))
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

// Purge deletes every run that ended more than Retain ago, Batch at a
// time, and reports what it removed (what it removed before an error too).
func (p *Purger) Purge(ctx context.Context) (Report, error) {
	batch := p.Batch
	if batch <= 0 {
		batch = 500
	}
	rep := Report{Before: p.now().Add(-p.Retain)}
	defer func() {
		if rep.FlowRuns+rep.CardRuns == 0 {
			return
		}
		if p.Metrics != nil {
			p.Metrics.Purged.WithLabelValues("flow_run").Add(float64(rep.FlowRuns))
			p.Metrics.Purged.WithLabelValues("card_run").Add(float64(rep.CardRuns))
		}
		p.log().InfoContext(ctx, "purged runs past the retention period",
			slog.Time("ended_before", rep.Before), slog.Duration("retain", p.Retain),
			slog.Int("flow_runs", rep.FlowRuns), slog.Int("card_runs", rep.CardRuns))
	}()
	for {
		got, err := p.Store.PurgeRuns(ctx, rep.Before, batch)
		rep.FlowRuns += got.FlowRuns
		rep.CardRuns += got.CardRuns
		if err != nil {
			return rep, err
		}
		if got.FlowRuns+got.CardRuns == 0 {
			return rep, nil
		}
	}
}
