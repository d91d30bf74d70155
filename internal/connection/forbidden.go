package connection

import (
	"context"
	"errors"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// forbiddenCheckEvery is how long after checking a connection for a
// card's E0000006 a server leaves the next ones of the connection
// unchecked: the many items of a flow that a read-only role may not
// change make one check, not one each.
const forbiddenCheckEvery = time.Minute

var errNoLongerActive = errors.New("the connection is no longer active")

// CardForbidden checks connection id after Okta answered a call of one of
// its cards with E0000006: no admin role that allows the call. Such an
// answer may concern that call alone (a role that may read devices but not
// change them, a custom role whose resource set leaves that device out),
// so it makes the call connections test makes, the read-only device call
// (GET /api/v1/devices?limit=1). When the org refuses that too with
// E0000006, the connection cannot do its job, and it is stored as the
// test stores it: a service connection in error, a user connection
// needs_reauthorization, each with store.ReasonNoAdminRole, the test's
// reason and remedy, and the notice of that status change
// (connection.failing and tested again in the background;
// connection.needs_reauthorization). It returns the connection as then
// stored and true; otherwise nil and false: the connection is not active,
// its scopes allow no device read, this server checked it less than
// forbiddenCheckEvery ago, or the device read is not refused for lack of
// a role.
func (m *Manager) CardForbidden(ctx context.Context, id string) (*View, bool) {
	m.init()
	c, err := m.Store.GetConnection(ctx, id)
	if err != nil || c.Status != store.StatusActive || !hasDeviceRead(c.GrantedScopes) || !m.claimForbiddenCheck(id) {
		return nil, false
	}
	var p *problem.Error
	if c.Auth == store.AuthService {
		if !refusedForRole(readOneDevice(ctx, m.HTTPClient(id), c.Domain)) {
			return nil, false
		}
		p = noAdminRole(c.Nickname, c.ClientID)
	} else {
		tok, err := m.Token(ctx, id)
		if err != nil {
			return nil, false
		}
		if p = m.probe(ctx, c, tok.AccessToken.Reveal(), tok.ActingAs); p == nil || p.Code != problem.Forbidden {
			return nil, false
		}
	}
	var stored *store.Connection
	err = m.updateConnection(ctx, id, func(cur *store.Connection) error {
		if cur.Status != store.StatusActive {
			return errNoLongerActive
		}
		cur.Status = store.StatusError
		if cur.Auth != store.AuthService {
			cur.Status = store.StatusNeedsReauthorization
			cur.RefreshStartedAt = time.Time{}
		}
		cur.StatusReason, cur.Remedy, cur.StatusReasonCode, cur.UpdatedAt = p.Message, p.Remedy, store.ReasonNoAdminRole, m.now()
		stored = cur
		return nil
	})
	if err != nil {
		if !errors.Is(err, errNoLongerActive) && !errors.Is(err, store.ErrNotFound) {
			m.log.ErrorContext(ctx, "cannot update connection", "connection", id, "error", err)
		}
		return nil, false
	}
	m.log.WarnContext(ctx, "a card's call and the read-only device call were refused for lack of an admin role (E0000006): the connection cannot do its job",
		"connection", id, "status", stored.Status, "reason", stored.StatusReason)
	return m.view(stored), true
}

// claimForbiddenCheck reports whether CardForbidden may check connection
// id now, and if so notes that it does.
func (m *Manager) claimForbiddenCheck(id string) bool {
	now := m.now()
	m.forbiddenMu.Lock()
	defer m.forbiddenMu.Unlock()
	if at, ok := m.forbiddenAt[id]; ok && now.Sub(at) < forbiddenCheckEvery && !now.Before(at) {
		return false
	}
	if m.forbiddenAt == nil {
		m.forbiddenAt = map[string]time.Time{}
	}
	for k, at := range m.forbiddenAt {
		if now.Sub(at) >= forbiddenCheckEvery {
			delete(m.forbiddenAt, k)
		}
	}
	m.forbiddenAt[id] = now
	return true
}
