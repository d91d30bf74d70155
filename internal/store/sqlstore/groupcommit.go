package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// maxGroup bounds the writes one shared transaction carries.
const maxGroup = 128

// linger is how long a write whose caller can wait (store.CanWait) waits
// for a write whose caller cannot, to share its commit, before it commits
// on its own.
const linger = 3 * time.Millisecond

// write is one caller's part of a shared transaction: fn runs its
// statements; err is its outcome once done is closed. lead is closed when
// the caller is to commit the writes queued behind the previous group.
// A lazy write starts a commit of its own only after lingering (see
// lingerLazy).
type write struct {
	fn   func(ctx context.Context, ex execer) error
	err  error
	done chan struct{}
	lead chan struct{}
	lazy bool
	// queued, when set, is called once the write is queued (with the
	// lock held: before any later write is queued).
	queued func()
}

// groupCommit commits the small writes of concurrent callers together: one
// transaction, and so one fsync, for every write queued while the previous
// group was committing. Each caller still returns only once its own write
// is committed (or has failed), so a write is as durable when its call
// returns as it was with a transaction of its own. There is no background
// goroutine: the first caller to find no commit in progress commits, and
// hands the next group to a caller who queued meanwhile. A lazy write
// waits up to linger for a caller who is in a hurry (a card run that must
// be recorded as running before its call to Okta) and rides along with
// its commit, so that the writes nobody waits for do not take commits of
// their own in between.
//
// A leader may also wait, briefly, for the callers in a hurry that it can
// expect after a group that carried lazy writes (the workers of a flow
// run, which go on to their next card run at once): those of the group
// just committed and those that queued while it committed. Concurrent callers who each write once per short call
// (the items of a flow run, with a call to Okta between their writes)
// would otherwise split into cohorts that take turns, each cohort's
// group committing while the other's callers are in their calls, at
// twice the commits. The wait ends as soon as they have all queued, and
// after half the last commit's duration at most.
type groupCommit struct {
	mu      sync.Mutex
	busy    bool // a caller is committing a group
	pending []*write
	urgent  int           // writes in pending that are not lazy
	arrived chan struct{} // closed (and replaced) when a write that is not lazy queues
	expect  int           // writes that are not lazy the next group may wait for
	last    time.Duration // how long the last group took to commit
}

// do queues w and returns once it is committed or has failed; commit runs
// a group of writes and sets each one's err.
func (g *groupCommit) do(w *write, commit func([]*write)) {
	g.mu.Lock()
	g.pending = append(g.pending, w)
	if w.queued != nil {
		w.queued()
	}
	if !w.lazy {
		g.urgent++
		if g.arrived != nil {
			close(g.arrived)
			g.arrived = nil
		}
	}
	switch {
	case w.lazy:
		g.mu.Unlock()
		if !g.lingerLazy(w) {
			return
		}
		g.mu.Lock()
	case g.busy:
		g.mu.Unlock()
		select {
		case <-w.done:
			return
		case <-w.lead:
		}
		g.mu.Lock()
	}
	g.busy = true
	g.gather()
	// The group is the writes queued first, in order, up to w at least:
	// w commits the group it is in.
	n := max(min(len(g.pending), maxGroup), slices.Index(g.pending, w)+1)
	group := g.pending[:n:n]
	g.pending = append([]*write(nil), g.pending[n:]...)
	urgent, lazy := 0, false
	for _, x := range group {
		if !x.lazy {
			urgent++
		}
		lazy = lazy || x.lazy
	}
	g.urgent -= urgent
	g.mu.Unlock()

	start := time.Now()
	commit(group)
	took := time.Since(start)
	for _, x := range group {
		close(x.done)
	}

	g.mu.Lock()
	g.last = took
	g.expect = 0
	if lazy {
		// Lazy writes come from callers who go on to a next write at
		// once (a flow's workers: the item's save, then the next card
		// run): expect them back.
		g.expect = urgent + g.urgent
	}
	if i := g.nextLeader(); i >= 0 {
		close(g.pending[i].lead)
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	<-w.done // w was in the group it committed
}

// lingerLazy waits for the lazy write w to be committed with another's
// group (it returns false then) or to lead a group (true): when no commit
// is in progress linger after it was queued or after the commit it waited
// for ended, or when handed the lead.
func (g *groupCommit) lingerLazy(w *write) bool {
	for {
		t := time.NewTimer(linger)
		select {
		case <-w.done:
			t.Stop()
			return false
		case <-w.lead:
			t.Stop()
			return true
		case <-t.C:
		}
		g.mu.Lock()
		pending := slices.Contains(g.pending, w)
		idle := !g.busy
		if idle && pending {
			g.busy = true // w leads; do takes the group
			g.mu.Unlock()
			return true
		}
		g.mu.Unlock()
		if !pending {
			<-w.done // in the group being committed
			return false
		}
		// A commit is in progress without w: linger again once it ends,
		// for the writes its callers queue next.
	}
}

// gather waits, with g.mu held, until the writes that are not lazy number
// g.expect or half of g.last has passed.
func (g *groupCommit) gather() {
	if g.urgent >= g.expect {
		return
	}
	t := time.NewTimer(g.last / 2)
	defer t.Stop()
	for g.urgent < g.expect {
		if g.arrived == nil {
			g.arrived = make(chan struct{})
		}
		arrived := g.arrived
		g.mu.Unlock()
		select {
		case <-arrived:
			g.mu.Lock()
		case <-t.C:
			g.mu.Lock()
			return
		}
	}
}

// nextLeader is the index of the pending write that is to commit the next
// group: the first one that is not lazy; -1 when there is none (the lazy
// writes queued linger on).
func (g *groupCommit) nextLeader() int {
	return slices.IndexFunc(g.pending, func(x *write) bool { return !x.lazy })
}

// SetGroupCommit turns group commit of card runs, audit events and flow
// items on or off (Open turns it on where the dialect asks for it). It is
// safe to call at any time; writes already queued are committed as
// queued.
func (s *Store) SetGroupCommit(on bool) { s.grouped.Store(on) }

// write runs fn in a transaction: its own, or with group commit one that
// it shares with the writes of other callers queued at the same time. fn
// must only write (its statements may run twice: alone again when another
// write of its group fails) and must leave Go values it fills in (ids)
// right whichever run is the one committed.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, ex execer) error) error {
	queued := store.Queued(ctx)
	if !s.grouped.Load() {
		if queued != nil {
			queued()
		}
		return s.inTx(ctx, fn)
	}
	w := &write{fn: fn, done: make(chan struct{}), lead: make(chan struct{}), lazy: store.CanWait(ctx), queued: queued}
	s.group.do(w, s.commitGroup)
	return w.err
}

// commitGroup runs the group's writes in one transaction. If any of them
// fails, or the commit does, it rolls back and runs each write in a
// transaction of its own, so that one write's error is its own alone. The
// group runs under no caller's context: it carries other callers' writes.
func (s *Store) commitGroup(group []*write) {
	ctx := context.Background()
	if len(group) > 1 {
		err := s.inTx(ctx, func(ctx context.Context, ex execer) error {
			for _, w := range group {
				if err := w.fn(ctx, ex); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			return
		}
	}
	for _, w := range group {
		w.err = s.inTx(ctx, w.fn)
	}
}

// inTx runs fn in a transaction and commits it.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, ex execer) error) error {
	tx, end, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

var _ execer = (*sql.Tx)(nil)
