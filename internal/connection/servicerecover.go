package connection

import (
	"context"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// Service connections the org stopped accepting (status error: its key
// removed from the app, the app deactivated, its admin role taken away),
// and those it has not accepted yet (status pending: created before the
// admin added the public key to the app), are tested again in the
// background, since nobody has to sign in for them to work: the first
// time a minute after the failure is seen, then after twice the wait each
// time, up to serviceRetryMax.
const (
	serviceRetryFirst = time.Minute
	serviceRetryMax   = 30 * time.Minute
)

// serviceRetryLease is the lease a background test of a service connection
// takes for its wait: each test takes it under an owner of its own and
// never releases it, so that of all the servers sharing the store one
// tests at a time, and none again before the wait is over.
func serviceRetryLease(id string) string { return "service-retry:" + id }

// serviceRetry is this server's backoff for one failed service connection.
type serviceRetry struct {
	tries int
	next  time.Time
}

// RetryFailedServices tests again each service connection in status error
// or pending whose wait is over (see serviceRetryFirst): one the org
// accepts (again) becomes active (audited as the service app's token first
// accepted, connection.authorize) without anyone running a test. User
// connections are left alone: one that needs reauthorization, or is
// pending its first sign-in, needs a person to sign in. Call it
// periodically (the server does every minute).
func (m *Manager) RetryFailedServices(ctx context.Context) error {
	m.init()
	cs, err := m.Store.ListConnections(ctx)
	if err != nil {
		return internal("list connections", err)
	}
	failed := map[string]bool{}
	for _, c := range cs {
		if c.Auth == store.AuthService && (c.Status == store.StatusError || c.Status == store.StatusPending) && len(c.SealedPrivateKey) > 0 {
			failed[c.ID] = true
			if err := m.retryService(ctx, c); err != nil {
				return err
			}
		}
	}
	m.retryMu.Lock()
	for id := range m.retries {
		if !failed[id] {
			delete(m.retries, id)
		}
	}
	m.retryMu.Unlock()
	return nil
}

// retryService tests the failed or pending service connection c if its
// wait is over and no other server tested it within its own wait.
func (m *Manager) retryService(ctx context.Context, c *store.Connection) error {
	now := m.now()
	m.retryMu.Lock()
	if m.retries == nil {
		m.retries = map[string]*serviceRetry{}
	}
	r := m.retries[c.ID]
	if r == nil {
		// Seen failed now: the first test waits a minute, whatever made
		// it fail having just been tried.
		r = &serviceRetry{next: now.Add(serviceRetryFirst)}
		m.retries[c.ID] = r
	}
	due := !now.Before(r.next)
	wait := serviceRetryMax
	if r.tries < 5 {
		wait = min(serviceRetryFirst<<(r.tries+1), serviceRetryMax)
	}
	m.retryMu.Unlock()
	if !due {
		return nil
	}
	ok, err := m.Store.TryLease(ctx, serviceRetryLease(c.ID), m.leaseOwner+"/"+randomID(6), wait, now)
	if err != nil {
		return internal("take the service retry lease", err)
	}
	m.retryMu.Lock()
	if ok {
		r.tries++
		r.next = now.Add(wait)
	} else {
		// Another server tested it within its wait: look again later.
		r.next = now.Add(serviceRetryFirst)
	}
	m.retryMu.Unlock()
	if !ok {
		return nil
	}
	if err := m.sealedBehind(ctx, c); err != nil {
		return nil // a server with the database's key tests it
	}
	if _, err := m.refreshScopes(ctx, c.ID, "", true); err != nil {
		m.log.InfoContext(ctx, "service connection still refused by the org; testing again later", "connection", c.ID, "status", c.Status, "next", now.Add(wait), "error", err)
		return nil
	}
	if c.Status == store.StatusPending {
		m.log.InfoContext(ctx, "service connection active: the org accepts its key", "connection", c.ID, "nickname", c.Nickname)
		return nil
	}
	m.log.InfoContext(ctx, "service connection recovered: the org accepts its key again", "connection", c.ID, "nickname", c.Nickname)
	return nil
}
