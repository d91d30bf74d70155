package card

import (
	"context"
	"log/slog"
	"time"

	"github.com/cardflow/cardflow/internal/outage"
)

// DefaultLeaseTTL is how long a server's lease on its card runs lasts
// without a renewal when RunLeases.TTL and Executor.LeaseTTL are zero.
const DefaultLeaseTTL = 15 * time.Second

// LeaseStore is what RunLeases needs of the store.
type LeaseStore interface {
	RenewRunLeases(ctx context.Context, owner string, ids []string, until time.Time) (int, error)
	InterruptLapsedRuns(ctx context.Context, now time.Time) ([]string, error)
}

// RunLeases keeps this server's card runs its own and ends those of
// servers that died. Every card run records the server executing it
// (Executor.Owner) and a lease; while the server lives, Run renews the
// lease of the card runs it is executing every TTL/3, and on each round
// ends the direct card runs (of no flow run) whose lease lapsed: their
// server died, or gave up on them when their outcome could not be stored,
// so nobody will finish them. They end interrupted, as the card runs
// a resumed flow run finds running do, with the same warning that the
// call may or may not have reached Okta. A flow run's card runs are left
// to the server that resumes the flow run.
type RunLeases struct {
	// Store keeps the runs (required).
	Store LeaseStore
	// Owner names this server, as Executor.Owner does (required).
	Owner string
	// TTL is how long a renewal lasts; zero means DefaultLeaseTTL. It must
	// be the Executor's LeaseTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets a line per sweep that ends runs; nil discards.
	Logger *slog.Logger
	// Outage logs the failures of Run's renewals and sweeps (the
	// database down): the first, a summary of repeats, and the recovery.
	// Nil means one of Logger and Now.
	Outage *outage.Log
	// Running lists the card runs this server is executing
	// (Executor.Running): the runs whose leases are renewed. Nil renews
	// none.
	Running func() []string

	fallback outage.Fallback
}

func (l *RunLeases) ttl() time.Duration {
	if l.TTL <= 0 {
		return DefaultLeaseTTL
	}
	return l.TTL
}

func (l *RunLeases) running() []string {
	if l.Running == nil {
		return nil
	}
	return l.Running()
}

func (l *RunLeases) now() time.Time {
	if l.Now == nil {
		return time.Now()
	}
	return l.Now()
}

func (l *RunLeases) outage() *outage.Log {
	return l.fallback.Or(l.Outage, l.Logger, l.Now)
}

// Run renews and sweeps at once and then every TTL/3 until ctx ends.
func (l *RunLeases) Run(ctx context.Context) {
	t := time.NewTicker(l.ttl() / 3)
	defer t.Stop()
	for {
		l.Round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Round renews this server's leases and ends the card runs of lapsed
// ones; it returns the ids of the runs it ended.
func (l *RunLeases) Round(ctx context.Context) []string {
	log := l.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fails := l.outage()
	if ids := l.running(); len(ids) > 0 {
		const what = "renew the leases of this server's card runs"
		if _, err := l.Store.RenewRunLeases(ctx, l.Owner, ids, l.now().Add(l.ttl())); err == nil {
			fails.OK(ctx, what)
		} else if ctx.Err() == nil {
			fails.Fail(ctx, what, err)
		}
	}
	const what = "end the card runs of servers that stopped"
	ids, err := l.Store.InterruptLapsedRuns(ctx, l.now())
	if err != nil {
		if ctx.Err() == nil {
			fails.Fail(ctx, what, err)
		}
		return nil
	}
	fails.OK(ctx, what)
	if len(ids) > 0 {
		log.WarnContext(ctx, "card runs interrupted: the server running them stopped before they finished; whether their calls reached Okta is unknown",
			slog.Int("runs", len(ids)), slog.Any("ids", ids))
	}
	return ids
}
