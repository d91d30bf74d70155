package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxGroup bounds the writes one shared transaction carries.
const maxGroup = 128

// write is one caller's part of a shared transaction: fn runs its
// statements; err is its outcome once done is closed. lead is closed when
// the caller is to commit the writes queued behind the previous group.
type write struct {
	fn   func(ctx context.Context, ex execer) error
	err  error
	done chan struct{}
	lead chan struct{}
}

// groupCommit commits the small writes of concurrent callers together: one
// transaction, and so one fsync, for every write queued while the previous
// group was committing. Each caller still returns only once its own write
// is committed (or has failed), so a write is as durable when its call
// returns as it was with a transaction of its own. There is no background
// goroutine: the first caller to find no commit in progress commits, and
// hands the next group to the first of the callers who queued meanwhile.
type groupCommit struct {
	mu      sync.Mutex
	busy    bool // a caller is committing a group
	pending []*write
}

// do queues w and returns once it is committed or has failed; commit runs
// a group of writes and sets each one's err.
func (g *groupCommit) do(w *write, commit func([]*write)) {
	g.mu.Lock()
	g.pending = append(g.pending, w)
	if g.busy {
		g.mu.Unlock()
		select {
		case <-w.done:
			return
		case <-w.lead:
		}
		g.mu.Lock()
	}
	g.busy = true
	n := min(len(g.pending), maxGroup)
	group := g.pending[:n:n]
	g.pending = append([]*write(nil), g.pending[n:]...)
	g.mu.Unlock()

	commit(group)
	for _, x := range group {
		close(x.done)
	}

	g.mu.Lock()
	if len(g.pending) > 0 {
		close(g.pending[0].lead)
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	<-w.done // w was in the group it committed
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
	if !s.grouped.Load() {
		return s.inTx(ctx, fn)
	}
	w := &write{fn: fn, done: make(chan struct{}), lead: make(chan struct{})}
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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

var _ execer = (*sql.Tx)(nil)
