package connection

import (
	"context"
	"errors"
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

// errNotDue: the connection's background test is not due, or another
// server took it.
var errNotDue = errors.New("service connection test not due")

// serviceRetryWait is the wait after a connection's background test when
// tries tests came before it: 2 minutes after the first, doubling up to
// serviceRetryMax.
func serviceRetryWait(tries int) time.Duration {
	if tries >= 5 {
		return serviceRetryMax
	}
	return min(serviceRetryFirst<<(tries+1), serviceRetryMax)
}

// retriable reports whether c is a service connection the background
// tests are for.
func retriable(c *store.Connection) bool {
	return c.Auth == store.AuthService && (c.Status == store.StatusError || c.Status == store.StatusPending) && len(c.SealedPrivateKey) > 0
}

// RetryFailedServices tests again each service connection in status error
// or pending whose wait is over (see serviceRetryFirst): one the org
// accepts (again) becomes active (audited as the service app's token first
// accepted, connection.authorize) without anyone running a test. User
// connections are left alone: one that needs reauthorization, or is
// pending its first sign-in, needs a person to sign in. The backoff is
// kept on the connection (Connection.ServiceRetries, ServiceRetryAt), so
// it is shared by every server on the store, of which one makes each
// test, and survives restarts. Call it periodically (the server does
// every minute).
func (m *Manager) RetryFailedServices(ctx context.Context) error {
	m.init()
	cs, err := m.Store.ListConnections(ctx)
	if err != nil {
		return internal("list connections", err)
	}
	for _, c := range cs {
		if retriable(c) {
			if err := m.retryService(ctx, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// retryService tests the failed or pending service connection c if its
// wait is over, taking the test in the connection's row first so that no
// other server makes it too.
func (m *Manager) retryService(ctx context.Context, c *store.Connection) error {
	now := m.now()
	if c.ServiceRetryAt.IsZero() {
		// Seen failed now: the first test waits a minute, whatever made
		// it fail having just been tried.
		err := m.Store.UpdateConnection(ctx, c.ID, func(cur *store.Connection) error {
			if !retriable(cur) || !cur.ServiceRetryAt.IsZero() {
				return errNotDue
			}
			cur.ServiceRetryAt = now.Add(serviceRetryFirst)
			return nil
		})
		if err != nil && !errors.Is(err, errNotDue) && !errors.Is(err, store.ErrNotFound) {
			return internal("schedule the service connection's test", err)
		}
		return nil
	}
	if now.Before(c.ServiceRetryAt) {
		return nil
	}
	var wait time.Duration
	err := m.Store.UpdateConnection(ctx, c.ID, func(cur *store.Connection) error {
		if !retriable(cur) || !cur.ServiceRetryAt.Equal(c.ServiceRetryAt) {
			return errNotDue // another server took this test
		}
		wait = serviceRetryWait(cur.ServiceRetries)
		cur.ServiceRetries++
		cur.ServiceRetryAt = now.Add(wait)
		return nil
	})
	switch {
	case errors.Is(err, errNotDue), errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return internal("take the service connection's test", err)
	}
	if err := m.sealedBehind(ctx, c); err != nil {
		return nil // a server with the database's key tests it
	}
	if _, err := m.refreshScopes(ctx, c.ID, "", true, false); err != nil {
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
