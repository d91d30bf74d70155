package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

const connectionCols = `id, connector, nickname, domain, status, status_reason, remedy, status_reason_code, status_reason_code_version,
	scope_mode, requested_scopes, granted_scopes, client_id,
	sealed_client_secret, sealed_refresh_token, sealed_access_token, sealed_id_token,
	access_token_expiry, refresh_started_at,
	authorized_user_id, authorized_login, authorized_name, authorized_at, last_used_at,
	created_at, updated_at,
	auth, refresh_token_expires_at, expiry_notified_at,
	sealed_private_key, sealed_next_private_key, sealed_dpop_key, dpop, access_token_type,
	service_retries, service_retry_at, org_clock_offset,
	version`

func scanConnection(sc scanner) (*store.Connection, error) {
	var c store.Connection
	var requested, granted string
	var expiry, refreshStarted, authorizedAt, lastUsed, created, updated, refreshExpires, notified, dpop, retryAt, codeVersion, orgClock int64
	err := sc.Scan(&c.ID, &c.Connector, &c.Nickname, &c.Domain, &c.Status, &c.StatusReason, &c.Remedy, &c.StatusReasonCode, &codeVersion,
		&c.ScopeMode, &requested, &granted, &c.ClientID,
		&c.SealedClientSecret, &c.SealedRefreshToken, &c.SealedAccessToken, &c.SealedIDToken,
		&expiry, &refreshStarted,
		&c.AuthorizedUserID, &c.AuthorizedLogin, &c.AuthorizedName, &authorizedAt, &lastUsed,
		&created, &updated,
		&c.Auth, &refreshExpires, &notified,
		&c.SealedPrivateKey, &c.SealedNextPrivateKey, &c.SealedDPoPKey, &dpop, &c.AccessTokenType,
		&c.ServiceRetries, &retryAt, &orgClock,
		&c.Version)
	if err != nil {
		return nil, err
	}
	if c.RequestedScopes, err = parseList(requested); err != nil {
		return nil, err
	}
	if c.GrantedScopes, err = parseList(granted); err != nil {
		return nil, err
	}
	c.SealedClientSecret = fromBlob(c.SealedClientSecret)
	c.SealedRefreshToken = fromBlob(c.SealedRefreshToken)
	c.SealedAccessToken = fromBlob(c.SealedAccessToken)
	c.SealedIDToken = fromBlob(c.SealedIDToken)
	c.AccessTokenExpiry = fromTS(expiry)
	c.RefreshStartedAt = fromTS(refreshStarted)
	c.AuthorizedAt = fromTS(authorizedAt)
	c.LastUsedAt = fromTS(lastUsed)
	c.CreatedAt = fromTS(created)
	c.UpdatedAt = fromTS(updated)
	c.RefreshTokenExpiresAt = fromTS(refreshExpires)
	c.ExpiryNotifiedAt = fromTS(notified)
	c.SealedPrivateKey = fromBlob(c.SealedPrivateKey)
	c.SealedNextPrivateKey = fromBlob(c.SealedNextPrivateKey)
	c.SealedDPoPKey = fromBlob(c.SealedDPoPKey)
	c.DPoP = dpop != 0
	c.ServiceRetryAt = fromTS(retryAt)
	c.OrgClockOffset = time.Duration(orgClock)
	if codeVersion != c.Version {
		// A cardflow that keeps no codes updated the row since (a rolling
		// upgrade): the code is no longer its status's.
		c.StatusReasonCode = ""
	}
	return &c, nil
}

// CreateConnection inserts c, filling in an empty ID and setting Version
// to 1.
func (s *Store) CreateConnection(ctx context.Context, c *store.Connection) error {
	fillID(&c.ID)
	_, err := s.exec(ctx, s.db, `INSERT INTO connections (`+connectionCols+`, nickname_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Connector, c.Nickname, c.Domain, c.Status, c.StatusReason, c.Remedy, c.StatusReasonCode, 1,
		c.ScopeMode, list(c.RequestedScopes), list(c.GrantedScopes), c.ClientID,
		blob(c.SealedClientSecret), blob(c.SealedRefreshToken), blob(c.SealedAccessToken), blob(c.SealedIDToken),
		ts(c.AccessTokenExpiry), ts(c.RefreshStartedAt),
		c.AuthorizedUserID, c.AuthorizedLogin, c.AuthorizedName, ts(c.AuthorizedAt), ts(c.LastUsedAt),
		ts(c.CreatedAt), ts(c.UpdatedAt),
		c.Auth, ts(c.RefreshTokenExpiresAt), ts(c.ExpiryNotifiedAt),
		blob(c.SealedPrivateKey), blob(c.SealedNextPrivateKey), blob(c.SealedDPoPKey), boolInt(c.DPoP), c.AccessTokenType,
		c.ServiceRetries, ts(c.ServiceRetryAt), int64(c.OrgClockOffset),
		1, foldNickname(c.Nickname))
	if err != nil {
		return s.fail("create connection", err)
	}
	c.Version = 1
	return nil
}

// GetConnection returns the connection with id. It reads only the
// connection's version when it has read that version before (connCache).
func (s *Store) GetConnection(ctx context.Context, id string) (*store.Connection, error) {
	var version int64
	err := s.queryRow(ctx, s.db, qConnectionVersion, id).Scan(&version)
	if err == nil {
		if c := s.conns.get(id, version); c != nil {
			return c, nil
		}
	}
	var c *store.Connection
	if err == nil {
		c, err = scanConnection(s.queryRow(ctx, s.db, qGetConnection, id))
	}
	if err != nil {
		s.conns.drop(id)
		return nil, s.fail(fmt.Sprintf("get connection %q", id), err)
	}
	s.conns.put(c)
	return c, nil
}

const (
	qGetConnection           = `SELECT ` + connectionCols + ` FROM connections WHERE id = ?`
	qConnectionVersion       = `SELECT version FROM connections WHERE id = ?`
	qGetConnectionByNickname = `SELECT ` + connectionCols + ` FROM connections WHERE connector = ? AND nickname_key = ?`
	qConnectionByNickname    = `SELECT id, version FROM connections WHERE connector = ? AND nickname_key = ?`
)

// GetConnectionByNickname finds a connection by nickname, ignoring case.
// Like GetConnection, it reads only the id and version of a connection it
// has read at that version before.
func (s *Store) GetConnectionByNickname(ctx context.Context, connector, nickname string) (*store.Connection, error) {
	var id string
	var version int64
	err := s.queryRow(ctx, s.db, qConnectionByNickname, connector, foldNickname(nickname)).Scan(&id, &version)
	if err == nil {
		if c := s.conns.get(id, version); c != nil {
			return c, nil
		}
	}
	var c *store.Connection
	if err == nil {
		c, err = scanConnection(s.queryRow(ctx, s.db, qGetConnectionByNickname, connector, foldNickname(nickname)))
	}
	if err != nil {
		return nil, s.fail(fmt.Sprintf("get connection by nickname %q", nickname), err)
	}
	s.conns.put(c)
	return c, nil
}

// ListConnections returns every connection ordered by connector, then
// nickname ignoring case.
func (s *Store) ListConnections(ctx context.Context) ([]*store.Connection, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+connectionCols+` FROM connections ORDER BY connector, nickname_key, id`)
	if err != nil {
		return nil, s.fail("list connections", err)
	}
	out, err := collect(rows, scanConnection)
	return out, s.fail("list connections", err)
}

// ListConnectionsPage returns a page of the connections by nickname
// ignoring case, then id, after the cursor of p; it reads the index
// connections_by_name.
func (s *Store) ListConnectionsPage(ctx context.Context, p store.NamePage) ([]*store.Connection, error) {
	var c conditions
	c.afterName("lower(nickname)", p)
	rows, err := s.query(ctx, s.db, `SELECT `+connectionCols+` FROM connections`+c.where()+
		` ORDER BY lower(nickname), id LIMIT ?`, append(c.args, limitOr100(p.Limit))...)
	if err != nil {
		return nil, s.fail("list connections", err)
	}
	out, err := collect(rows, scanConnection)
	return out, s.fail("list connections", err)
}

// UpdateConnection reads the connection under a lock (SELECT ... FOR
// UPDATE on PostgreSQL; SQLite's immediate transactions hold the write lock
// from BEGIN), lets fn change it and writes it back with Version
// incremented, in one transaction.
func (s *Store) UpdateConnection(ctx context.Context, id string, fn func(c *store.Connection) error) error {
	return s.UpdateConnectionNotify(ctx, id, func(c *store.Connection) ([]*store.Notification, error) { return nil, fn(c) })
}

// UpdateConnectionNotify is UpdateConnection that also enqueues, in the
// same transaction, the notifications fn returns.
func (s *Store) UpdateConnectionNotify(ctx context.Context, id string, fn func(c *store.Connection) ([]*store.Notification, error)) error {
	err := s.updateConnection(ctx, id, fn)
	var fe errFromFn
	if errors.As(err, &fe) {
		return fe.err
	}
	return s.fail(fmt.Sprintf("update connection %q", id), err)
}

func (s *Store) updateConnection(ctx context.Context, id string, fn func(c *store.Connection) ([]*store.Notification, error)) error {
	tx, end, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	c, err := scanConnection(s.queryRow(ctx, tx, `SELECT `+connectionCols+` FROM connections WHERE id = ?`+s.d.ForUpdate, id))
	if err != nil {
		return err
	}
	ns, err := fn(c)
	if err != nil {
		return errFromFn{err}
	}
	if c.ID != id {
		return fmt.Errorf("the update changed the connection's id to %q", c.ID)
	}
	if _, err := s.exec(ctx, tx, `UPDATE connections SET
		connector = ?, nickname = ?, nickname_key = ?, domain = ?, status = ?, status_reason = ?, remedy = ?, status_reason_code = ?, status_reason_code_version = version + 1,
		scope_mode = ?, requested_scopes = ?, granted_scopes = ?, client_id = ?,
		sealed_client_secret = ?, sealed_refresh_token = ?, sealed_access_token = ?, sealed_id_token = ?,
		access_token_expiry = ?, refresh_started_at = ?,
		authorized_user_id = ?, authorized_login = ?, authorized_name = ?, authorized_at = ?, last_used_at = ?,
		created_at = ?, updated_at = ?,
		auth = ?, refresh_token_expires_at = ?, expiry_notified_at = ?,
		sealed_private_key = ?, sealed_next_private_key = ?, sealed_dpop_key = ?, dpop = ?, access_token_type = ?,
		service_retries = ?, service_retry_at = ?, org_clock_offset = ?,
		version = version + 1
		WHERE id = ?`,
		c.Connector, c.Nickname, foldNickname(c.Nickname), c.Domain, c.Status, c.StatusReason, c.Remedy, c.StatusReasonCode,
		c.ScopeMode, list(c.RequestedScopes), list(c.GrantedScopes), c.ClientID,
		blob(c.SealedClientSecret), blob(c.SealedRefreshToken), blob(c.SealedAccessToken), blob(c.SealedIDToken),
		ts(c.AccessTokenExpiry), ts(c.RefreshStartedAt),
		c.AuthorizedUserID, c.AuthorizedLogin, c.AuthorizedName, ts(c.AuthorizedAt), ts(c.LastUsedAt),
		ts(c.CreatedAt), ts(c.UpdatedAt),
		c.Auth, ts(c.RefreshTokenExpiresAt), ts(c.ExpiryNotifiedAt),
		blob(c.SealedPrivateKey), blob(c.SealedNextPrivateKey), blob(c.SealedDPoPKey), boolInt(c.DPoP), c.AccessTokenType,
		c.ServiceRetries, ts(c.ServiceRetryAt), int64(c.OrgClockOffset),
		id); err != nil {
		return err
	}
	if err := s.insertNotifications(ctx, tx, ns); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	c.Version++
	return nil
}

// DeleteConnection removes the connection with id.
func (s *Store) DeleteConnection(ctx context.Context, id string) error {
	s.conns.drop(id)
	res, err := s.exec(ctx, s.db, `DELETE FROM connections WHERE id = ?`, id)
	if err == nil {
		err = affected(res)
	}
	return s.fail(fmt.Sprintf("delete connection %q", id), err)
}

const authRequestCols = `state, connection_id, reauthorize, scope_mode, requested_scopes,
	sealed_verifier, nonce, caller, created_at, expires_at, actor_type, actor_login, actor_token`

// CreateAuthRequest stores a pending authorization; a reused state is
// ErrConflict.
func (s *Store) CreateAuthRequest(ctx context.Context, r *store.AuthRequest) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO auth_requests (`+authRequestCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.State, r.ConnectionID, boolInt(r.Reauthorize), r.ScopeMode, list(r.RequestedScopes),
		blob(r.SealedVerifier), r.Nonce, r.Actor.String(), ts(r.CreatedAt), ts(r.ExpiresAt), r.Actor.Type, r.Actor.Login, r.Actor.TokenName)
	return s.fail("create auth request", err)
}

// ConsumeAuthRequest deletes and returns the request in one statement, so
// that of several concurrent callers exactly one gets it.
func (s *Store) ConsumeAuthRequest(ctx context.Context, state string) (*store.AuthRequest, error) {
	var r store.AuthRequest
	var reauth int64
	var requested string
	var created, expires int64
	var caller string
	err := s.queryRow(ctx, s.db, `DELETE FROM auth_requests WHERE state = ? RETURNING `+authRequestCols, state).Scan(
		&r.State, &r.ConnectionID, &reauth, &r.ScopeMode, &requested,
		&r.SealedVerifier, &r.Nonce, &caller, &created, &expires, &r.Actor.Type, &r.Actor.Login, &r.Actor.TokenName)
	if err != nil {
		return nil, s.fail("consume auth request", err) // never echo the state
	}
	if r.RequestedScopes, err = parseList(requested); err != nil {
		return nil, err
	}
	r.Reauthorize = reauth != 0
	r.SealedVerifier = fromBlob(r.SealedVerifier)
	r.CreatedAt, r.ExpiresAt = fromTS(created), fromTS(expires)
	return &r, nil
}

// DeleteExpiredAuthRequests removes requests that expired at or before now.
func (s *Store) DeleteExpiredAuthRequests(ctx context.Context, now time.Time) error {
	_, err := s.exec(ctx, s.db, `DELETE FROM auth_requests WHERE expires_at <= ?`, ts(now))
	if err == nil {
		_, err = s.exec(ctx, s.db, `DELETE FROM auth_completions WHERE expires_at <= ?`, ts(now))
	}
	return s.fail("delete expired auth requests", err)
}

// RecordAuthCompletion remembers a succeeded authorization until expiresAt.
func (s *Store) RecordAuthCompletion(ctx context.Context, stateHash string, expiresAt time.Time) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO auth_completions (state_hash, expires_at) VALUES (?, ?)
		ON CONFLICT (state_hash) DO UPDATE SET expires_at = excluded.expires_at`, stateHash, ts(expiresAt))
	return s.fail("record auth completion", err)
}

// AuthCompleted reports whether a succeeded authorization is remembered at now.
func (s *Store) AuthCompleted(ctx context.Context, stateHash string, now time.Time) (bool, error) {
	var n int64
	err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM auth_completions WHERE state_hash = ? AND expires_at > ?`, stateHash, ts(now)).Scan(&n)
	if err != nil {
		return false, s.fail("read auth completion", err)
	}
	return n > 0, nil
}

// TryLease takes or renews the named lease in one statement: the upsert
// only overwrites a row that is the owner's or has expired.
func (s *Store) TryLease(ctx context.Context, name, owner string, ttl time.Duration, now time.Time) (bool, error) {
	res, err := s.exec(ctx, s.db, `INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE leases.owner = excluded.owner OR leases.expires_at <= ?`,
		name, owner, ts(now.Add(ttl)), ts(now))
	if err != nil {
		return false, s.fail(fmt.Sprintf("lease %q", name), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail(fmt.Sprintf("lease %q", name), err)
	}
	return n > 0, nil
}

// RenewLease extends the lease while owner holds it.
func (s *Store) RenewLease(ctx context.Context, name, owner string, ttl time.Duration, now time.Time) (bool, error) {
	res, err := s.exec(ctx, s.db, `UPDATE leases SET expires_at = ? WHERE name = ? AND owner = ?`, ts(now.Add(ttl)), name, owner)
	if err != nil {
		return false, s.fail(fmt.Sprintf("renew lease %q", name), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail(fmt.Sprintf("renew lease %q", name), err)
	}
	return n > 0, nil
}

// ReleaseLease gives up the lease if owner holds it; otherwise it does
// nothing.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	_, err := s.exec(ctx, s.db, `DELETE FROM leases WHERE name = ? AND owner = ?`, name, owner)
	return s.fail(fmt.Sprintf("release lease %q", name), err)
}

// GetSetting returns the named value.
func (s *Store) GetSetting(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.queryRow(ctx, s.db, `SELECT value FROM settings WHERE name = ?`, key).Scan(&v)
	if err != nil {
		return nil, s.fail(fmt.Sprintf("get setting %q", key), err)
	}
	return fromBlob(v), nil
}

// PutSetting creates or replaces the named value.
func (s *Store) PutSetting(ctx context.Context, key string, value []byte) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, key, blob(value))
	return s.fail(fmt.Sprintf("put setting %q", key), err)
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (*T, error)) ([]*T, error) {
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
