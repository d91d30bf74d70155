package connection

import (
	"context"
	"math/rand/v2"
	"time"
)

// Refresh lease timing. The lease is short and renewed while held, so a
// process that dies mid-refresh frees it within seconds and the survivor
// can still recover inside Okta's refresh token grace window (see Recover).
const (
	defaultLeaseTTL = 6 * time.Second
	leasePoll       = 40 * time.Millisecond
)

// leaseTTL is m's refresh lease lifetime (Manager.RefreshLeaseTTL).
func (m *Manager) leaseTTL() time.Duration {
	if m.RefreshLeaseTTL > 0 {
		return m.RefreshLeaseTTL
	}
	return defaultLeaseTTL
}

func leaseName(id string) string { return "refresh:" + id }

// connSem is the in-process lock of a connection: a one-slot channel, so
// waiting for it can be abandoned with the context. users counts who holds
// or waits for it.
type connSem struct {
	ch    chan struct{}
	users int
}

// sem returns the in-process lock of a connection and the function to call
// once done with it: the entry is dropped when nobody holds or waits for
// it, so the map does not keep every connection ever refreshed.
func (m *Manager) sem(id string) (chan struct{}, func()) {
	m.init()
	m.semMu.Lock()
	defer m.semMu.Unlock()
	s, ok := m.sems[id]
	if !ok {
		s = &connSem{ch: make(chan struct{}, 1)}
		m.sems[id] = s
	}
	s.users++
	return s.ch, func() {
		m.semMu.Lock()
		defer m.semMu.Unlock()
		if s.users--; s.users == 0 {
			delete(m.sems, id)
		}
	}
}

// lockConn takes the connection's in-process lock and then its refresh
// lease in the store, which every process sharing the store honours. While
// another process holds the lease it calls waiting (if not nil) between
// polls; when waiting reports stop, lockConn gives up and returns a nil
// unlock and waiting's error. The lease is renewed until unlock is called.
func (m *Manager) lockConn(ctx context.Context, id string, waiting func(context.Context) (stop bool, err error)) (unlock func(), err error) {
	sem, forget := m.sem(id)
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	}
	release := func() {
		<-sem
		forget()
	}
	for {
		ok, err := m.Store.TryLease(ctx, leaseName(id), m.leaseOwner, m.leaseTTL(), m.now())
		if err != nil {
			// The lease may be taken all the same: a statement that ends
			// as ctx does (a request given up) can be written and still
			// answer the context's error. Left, it would keep the other
			// servers from refreshing the connection's token until it
			// lapsed.
			_ = m.Store.ReleaseLease(context.WithoutCancel(ctx), leaseName(id), m.leaseOwner)
			release()
			return nil, internal("take refresh lease", err)
		}
		if ok {
			break
		}
		if waiting != nil {
			stop, err := waiting(ctx)
			if stop || err != nil {
				release()
				return nil, err
			}
		}
		t := time.NewTimer(leasePoll/2 + rand.N(leasePoll))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			release()
			return nil, ctx.Err()
		}
	}
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(m.leaseTTL() / 3)
		defer tick.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-tick.C:
				if ok, err := m.Store.TryLease(hctx, leaseName(id), m.leaseOwner, m.leaseTTL(), m.now()); !ok || err != nil {
					m.log.WarnContext(hctx, "could not renew the refresh lease", "connection", id, "error", err)
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
		if err := m.Store.ReleaseLease(context.WithoutCancel(ctx), leaseName(id), m.leaseOwner); err != nil {
			m.log.WarnContext(ctx, "could not release the refresh lease", "connection", id, "error", err)
		}
		release()
	}, nil
}
