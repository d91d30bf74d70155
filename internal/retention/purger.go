package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cardflow/cardflow/internal/outage"
	"github.com/cardflow/cardflow/internal/store"
)

// Store is the part of the store a Purger uses (store.Store implements it).
type Store interface {
	Purge(ctx context.Context, before, eventsBefore time.Time, limit int) (store.Purged, error)
	PurgeAudit(ctx context.Context, before time.Time, limit int) (int, error)
}

// Purger deletes runs that ended more than Retain ago, and the Okta events
// and notifications older than that (delivered or, after trying that long,
// given up on) (see store.Store.Purge), and
// audit events older than RetainAudit (store.Store.PurgeAudit): at Run's
// start and then every Every. Several servers may purge the same
// store at once; each deletes what is still there. Set its fields before
// Run or Purge.
type Purger struct {
	// Store holds the records (required).
	Store Store
	// Retain is how long an ended run, an event or a notification is
	// kept (an undelivered one is retried that long); zero or negative
	// keeps them forever.
	Retain time.Duration
	// KeepEvents is how long after its publication an Okta event is kept
	// at least, even when Retain is shorter: as long as Okta keeps it in
	// the System Log (events.LogRetention), since a poll that reads it
	// again must find it stored, or it would start its runs a second
	// time. Zero keeps events as long as Retain.
	KeepEvents time.Duration
	// RetainAudit is how long an audit event is kept; zero or negative
	// keeps them forever.
	RetainAudit time.Duration
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
	// Outage logs Run's failed purges: the first, a summary of repeats,
	// and the recovery. Nil means one of Logger and Now.
	Outage *outage.Log
	// Purged, when set, is called after each purge of Run with what it
	// removed (also when nothing).
	Purged func(Report)
}

// Report is what one purge removed: what ended (or, for events, was
// received, and published before EventsBefore; for notifications, was
// created) before Before,
// and the audit events of before AuditBefore. A zero time says that the
// purge kept those kinds.
type Report struct {
	Before       time.Time
	EventsBefore time.Time
	store.Purged
	AuditBefore time.Time
	AuditEvents int
}

// Empty reports whether the purge removed nothing.
func (r Report) Empty() bool { return r.Purged.Empty() && r.AuditEvents == 0 }

// Metrics counts purged records by kind ("flow_run", "card_run", "event",
// "notification", "notification_undelivered" (of those, never delivered),
// "audit_event").
type Metrics struct {
	Purged *prometheus.CounterVec
}

// NewMetrics makes the purger's metrics.
func NewMetrics() *Metrics {
	return &Metrics{Purged: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cardflow_retention_purged_total",
		Help: "Records deleted because they are older than -retain-runs, by kind: flow_run (with its steps and items), card_run, event (of the Okta event inbox), notification (of which notification_undelivered: given up after failing that long); and audit_event, older than -retain-audit.",
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
	fails := p.Outage
	if fails == nil {
		fails = &outage.Log{Logger: p.Logger, Now: p.Now}
	}
	for {
		rep, err := p.Purge(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			fails.Fail(ctx, "purge records past the retention period", err)
		default:
			fails.OK(ctx, "purge records past the retention period")
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

// Purge deletes every record older than its retention period, Batch at a
// time, and reports what it removed (what it removed before an error too).
func (p *Purger) Purge(ctx context.Context) (Report, error) {
	batch := p.Batch
	if batch <= 0 {
		batch = 500
	}
	var rep Report
	defer func() {
		if rep.Empty() {
			return
		}
		if p.Metrics != nil {
			for kind, n := range map[string]int{"flow_run": rep.FlowRuns, "card_run": rep.CardRuns,
				"event": rep.Events, "notification": rep.Notifications, "notification_undelivered": rep.Undelivered,
				"audit_event": rep.AuditEvents} {
				p.Metrics.Purged.WithLabelValues(kind).Add(float64(n))
			}
		}
		attrs := []slog.Attr{slog.Int("flow_runs", rep.FlowRuns), slog.Int("card_runs", rep.CardRuns),
			slog.Int("events", rep.Events), slog.Int("notifications", rep.Notifications)}
		if !rep.Before.IsZero() {
			attrs = append(attrs, slog.Time("before", rep.Before), slog.Duration("retain", p.Retain))
		}
		if !rep.AuditBefore.IsZero() {
			attrs = append(attrs, slog.Int("audit_events", rep.AuditEvents),
				slog.Time("audit_before", rep.AuditBefore), slog.Duration("retain_audit", p.RetainAudit))
		}
		p.log().LogAttrs(ctx, slog.LevelInfo, "purged records past the retention period", attrs...)
		if rep.Undelivered > 0 {
			p.log().WarnContext(ctx, "gave up notifications that no receiver took in the whole retention period (is a -notify-url receiver down or gone?)",
				slog.Int("notifications", rep.Undelivered), slog.Time("created_before", rep.Before))
		}
	}()
	now := p.now()
	if p.Retain > 0 {
		rep.Before = now.Add(-p.Retain)
		rep.EventsBefore = now.Add(-max(p.Retain, p.KeepEvents))
		for {
			got, err := p.Store.Purge(ctx, rep.Before, rep.EventsBefore, batch)
			rep.FlowRuns += got.FlowRuns
			rep.CardRuns += got.CardRuns
			rep.Events += got.Events
			rep.Notifications += got.Notifications
			rep.Undelivered += got.Undelivered
			if err != nil {
				return rep, err
			}
			if got.Empty() {
				break
			}
		}
	}
	if p.RetainAudit > 0 {
		rep.AuditBefore = now.Add(-p.RetainAudit)
		for {
			n, err := p.Store.PurgeAudit(ctx, rep.AuditBefore, batch)
			rep.AuditEvents += n
			if err != nil || n == 0 {
				return rep, err
			}
		}
	}
	return rep, nil
}
