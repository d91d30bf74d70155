package connection

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// roleCheckKey prefixes a connection's id in claimForbiddenCheck for the
// check, before a card runs, of one that awaitsRole.
const roleCheckKey = "role-back/"

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
		p.WithRemedy("%s", roleRemedy(c.Nickname, tok.ActingAs))
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

// awaitsRole reports whether c is a user connection stopped because the
// org refused its account's device reads for lack of an admin role
// (no_admin_role) that still holds its refresh token: once the account
// has its role back, a refresh and the device check make it active again,
// with no new sign-in (roleBack).
func awaitsRole(c *store.Connection) bool {
	return c.Auth != store.AuthService && c.Status == store.StatusNeedsReauthorization &&
		c.StatusReasonCode == store.ReasonNoAdminRole && len(c.SealedRefreshToken) > 0
}

// roleRemedy is the remedy of a user connection stopped for its account's
// admin role: give it back and test the connection, or sign in as
// another admin.
func roleRemedy(nickname, login string) string {
	return fmt.Sprintf("give %s an admin role in Okta Admin Console › Security › Administrators (super, org or mobile administrator; read-only administrator for the read cards alone), "+
		"then test the connection (Test on its console page, or cardflow connections test %q): it works again without a new sign-in while its refresh token is valid; "+
		"or reauthorize it signed in as a super admin (a dedicated service account is recommended)", login, nickname)
}

// roleBack checks a connection that awaitsRole as connections test
// checks an active one: a refresh of its access token (fresh: even when
// the stored one has time left) and the read-only device call. When the
// org answers the call, the connection is stored active again, audited as
// connection.authorize by actor, and returned. Otherwise the error says
// why, and the connection stays as the check left it: still waiting for
// the role, or needing reauthorization for another reason (its refresh
// token refused or expired, its token refused).
func (m *Manager) roleBack(ctx context.Context, id string, fresh bool, actor store.Actor) (*store.Connection, error) {
	c, err := m.getConn(ctx, id)
	if err != nil {
		return nil, err
	}
	if !awaitsRole(c) {
		return c, usable(c)
	}
	rejected := ""
	if fresh {
		// Any stored access token is refused, so a new one is asked for.
		rejected = "-"
		if at, err := m.Keyring.Open(c.SealedAccessToken, sealedAAD(c.ID, fieldAccessToken)); err == nil {
			rejected = string(at)
		}
	}
	tok, err := m.refreshScopes(ctx, id, rejected, false, true)
	if err != nil {
		return nil, err
	}
	if c, err = m.getConn(ctx, id); err != nil {
		return nil, err
	}
	if !awaitsRole(c) {
		return c, usable(c) // changed meanwhile (a reauthorization, another check)
	}
	if hasDeviceRead(tok.Scopes) {
		if p := m.probe(ctx, c, tok.AccessToken.Reveal(), tok.ActingAs); p != nil {
			switch p.Code {
			case problem.Forbidden:
				p.WithRemedy("%s", roleRemedy(c.Nickname, tok.ActingAs))
			case problem.NeedsReauthorization, problem.InsufficientScope:
				m.setNeedsReauth(ctx, id, c.SealedRefreshToken, probeReasonCode(p), p.Message, p.Remedy)
			default:
				return nil, p
			}
			return nil, problem.New(problem.NeedsReauthorization, "%s", problem.NeedsReauthorizationMessage(c.Nickname, p.Message)).
				WithRemedy("%s", p.Remedy).WithDetail("status", store.StatusNeedsReauthorization).WithDetail("connection", id).Wrap(p)
		}
	}
	var stored *store.Connection
	err = m.updateConnection(ctx, id, func(cur *store.Connection) error {
		if !awaitsRole(cur) || !bytes.Equal(cur.SealedRefreshToken, c.SealedRefreshToken) {
			return errTokensReplaced
		}
		cur.Status, cur.StatusReason, cur.Remedy, cur.StatusReasonCode = store.StatusActive, "", "", ""
		cur.UpdatedAt = m.now()
		stored = cur
		return nil
	})
	if errors.Is(err, errTokensReplaced) {
		if c, err = m.getConn(ctx, id); err != nil {
			return nil, err
		}
		return c, usable(c)
	}
	if err != nil {
		return nil, internal("store the connection active", err)
	}
	m.log.InfoContext(ctx, "connection works again: its account has an admin role that may read devices again", "connection", id, "actingAs", stored.AuthorizedLogin)
	m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionAuthorize, ConnectionID: id, ActingAs: stored.AuthorizedLogin,
		InputSummary: "admin role back: the org answers the device check again; no new sign-in"}, nil)
	if m.OnActive != nil {
		m.OnActive(id)
	}
	return stored, nil
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
