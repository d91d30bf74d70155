package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

const apiTokenCols = `id, name, hash, role, owner_type, owner_login, created_at, expires_at, last_used_at, parent_id`

func scanAPIToken(sc scanner) (*store.APIToken, error) {
	var t store.APIToken
	var created, expires, used int64
	if err := sc.Scan(&t.ID, &t.Name, &t.Hash, &t.Role, &t.OwnerType, &t.OwnerLogin, &created, &expires, &used, &t.ParentID); err != nil {
		return nil, err
	}
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt = fromTS(created), fromTS(expires), fromTS(used)
	return &t, nil
}

// CreateAPIToken inserts t, filling in an empty ID, once what creates it
// is there still (see grantedBy).
func (s *Store) CreateAPIToken(ctx context.Context, t *store.APIToken) error {
	fillID(&t.ID)
	var lowered store.RoleLowered
	err := s.inTx(ctx, func(ctx context.Context, tx execer) error {
		if err := s.grantedBy(ctx, tx, t.SignIn, t.OwnerLogin, t.SessionID, t.ParentID); err != nil {
			return err
		}
		if t.SignIn != "" {
			if err := s.bindSubject(ctx, tx, t.OwnerLogin, t.Subject, t.Issuer, t.CreatedAt); err != nil {
				return err
			}
			var err error
			if lowered, err = s.lowerRole(ctx, tx, t.OwnerLogin, t.Role, t.CreatedAt); err != nil {
				return err
			}
		}
		if fn := store.Locked(ctx); fn != nil {
			fn()
		}
		_, err := s.exec(ctx, tx, `INSERT INTO api_tokens (`+apiTokenCols+`, owner_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Name, t.Hash, t.Role, t.OwnerType, t.OwnerLogin, ts(t.CreatedAt), ts(t.ExpiresAt), ts(t.LastUsedAt), t.ParentID,
			store.FoldCase(t.OwnerLogin))
		return err
	})
	if err == nil {
		t.Lowered = lowered
	}
	return s.fail("create API token", err)
}

// byLogin is the condition that a row's login (column col, with its key
// in column key) is a login ignoring case: the row's key is the login's
// (store.FoldCase), or, for a row a server of an earlier version wrote
// without a key, lower() finds them equal, as before migration 0027. Its
// arguments are loginArgs(login).
func byLogin(col, key string) string {
	return "(" + key + " = ? OR " + key + " = '' AND lower(" + col + ") = lower(?))"
}

// loginArgs are the arguments of a byLogin condition.
func loginArgs(login string) []any { return []any{store.FoldCase(login), login} }

// grantedBy, in a transaction that goes on to store a session or a token
// of the person login, ends the sign-in in flight signIn and makes sure
// the console session sessionID and the token tokenID still exist (empty
// ones are not looked at): ErrRevoked otherwise, or when a revoke of
// login's access marked the sign-in. Each is locked until the transaction
// ends, and DeletePersonAccess locks the sign-ins in flight (to mark them)
// and the person's sessions and tokens before it deletes them, so that of
// the two, whichever comes second sees what the first did (PostgreSQL;
// SQLite's writers take turns anyway).
func (s *Store) grantedBy(ctx context.Context, tx execer, signIn, login, sessionID, tokenID string) error {
	if signIn != "" {
		var id string
		err := s.queryRow(ctx, tx, `SELECT id FROM sign_ins_in_flight WHERE id = ?`+s.d.ForUpdate, signIn).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("the sign-in ended meanwhile: %w", store.ErrRevoked)
		}
		if err != nil {
			return err
		}
		// Read once the sign-in is held: a revoke that marked it has
		// committed by then.
		marked, err := s.texts(ctx, tx, `SELECT login_key FROM sign_in_revokes WHERE sign_in = ? AND login_key = ?`, signIn, store.FoldCase(login))
		if err != nil {
			return err
		}
		if len(marked) > 0 {
			return fmt.Errorf("the access of %s was revoked during the sign-in: %w", login, store.ErrRevoked)
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM sign_ins_in_flight WHERE id = ?`, signIn); err != nil {
			return err
		}
	}
	for _, c := range []struct{ what, table, id string }{{"console session", "sessions", sessionID}, {"API token", "api_tokens", tokenID}} {
		if c.id == "" {
			continue
		}
		var id string
		err := s.queryRow(ctx, tx, `SELECT id FROM `+c.table+` WHERE id = ?`+s.d.ForUpdate, c.id).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("the creator's %s ended meanwhile: %w", c.what, store.ErrRevoked)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// bindSubject, in the transaction of a sign-in's session or token (after
// grantedBy, which holds the sign-in), binds login to the identity
// provider's subject and issuer when it is bound to none, and refuses
// with ErrSubjectTaken when it is bound to another subject, or with an
// *IssuerChangedError when it is bound at another issuer (whatever the
// subject: subjects are unique only within their issuer). A binding of
// no issuer (made before issuers were kept, migration 0038) takes the
// issuer of the first sign-in with its subject. Of two sign-ins binding
// the same login at once, the second's insert waits for the first's
// commit (PostgreSQL; SQLite's writers take turns) and then reads its
// binding. An empty subject binds nothing and is refused by no binding.
func (s *Store) bindSubject(ctx context.Context, tx execer, login, subject, issuer string, at time.Time) error {
	if subject == "" {
		return nil
	}
	key := store.FoldCase(login)
	if _, err := s.exec(ctx, tx, `INSERT INTO person_subjects (login_key, login, subject, issuer, bound_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (login_key) DO NOTHING`,
		key, login, subject, issuer, ts(at)); err != nil {
		return err
	}
	var bound, boundIssuer string
	if err := s.queryRow(ctx, tx, `SELECT subject, issuer FROM person_subjects WHERE login_key = ?`+s.d.ForUpdate, key).Scan(&bound, &boundIssuer); err != nil {
		return err
	}
	switch {
	case boundIssuer != "" && issuer != "" && boundIssuer != issuer:
		return &store.IssuerChangedError{Login: login, Bound: boundIssuer, Issuer: issuer}
	case bound != subject:
		return fmt.Errorf("%s is bound to another subject: %w", login, store.ErrSubjectTaken)
	case boundIssuer == "" && issuer != "":
		_, err := s.exec(ctx, tx, `UPDATE person_subjects SET issuer = ? WHERE login_key = ?`, issuer, key)
		return err
	}
	return nil
}

const personBindingCols = `login, subject, issuer, bound_at`

func scanPersonBinding(sc scanner) (*store.PersonBinding, error) {
	var b store.PersonBinding
	var at int64
	if err := sc.Scan(&b.Login, &b.Subject, &b.Issuer, &at); err != nil {
		return nil, err
	}
	b.BoundAt = fromTS(at)
	return &b, nil
}

// PersonBinding returns the account login is bound to.
func (s *Store) PersonBinding(ctx context.Context, login string) (*store.PersonBinding, error) {
	b, err := scanPersonBinding(s.queryRow(ctx, s.db, `SELECT `+personBindingCols+` FROM person_subjects WHERE login_key = ?`, store.FoldCase(login)))
	if err != nil {
		return nil, s.fail("get the binding of a person", err)
	}
	return b, nil
}

// ListPersonBindings returns every login's binding, by the login's key
// (sorted here: the databases' collations differ).
func (s *Store) ListPersonBindings(ctx context.Context) ([]*store.PersonBinding, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+personBindingCols+` FROM person_subjects`)
	if err != nil {
		return nil, s.fail("list the bindings of people", err)
	}
	all, err := collect(rows, scanPersonBinding)
	if err != nil {
		return nil, s.fail("list the bindings of people", err)
	}
	slices.SortFunc(all, func(a, b *store.PersonBinding) int {
		return strings.Compare(store.FoldCase(a.Login), store.FoldCase(b.Login))
	})
	return all, nil
}

// GetAPIToken returns the token with id.
func (s *Store) GetAPIToken(ctx context.Context, id string) (*store.APIToken, error) {
	t, err := scanAPIToken(s.queryRow(ctx, s.db, `SELECT `+apiTokenCols+` FROM api_tokens WHERE id = ?`, id))
	if err != nil {
		return nil, s.fail(fmt.Sprintf("get API token %q", id), err)
	}
	return t, nil
}

// GetAPITokenByHash returns the token whose hash is hash.
func (s *Store) GetAPITokenByHash(ctx context.Context, hash string) (*store.APIToken, error) {
	t, err := scanAPIToken(s.queryRow(ctx, s.db, `SELECT `+apiTokenCols+` FROM api_tokens WHERE hash = ?`, hash))
	if err != nil {
		return nil, s.fail("get API token by hash", err) // never echo the hash
	}
	return t, nil
}

// ListAPITokens returns the tokens of one owner, or every token when
// ownerType is empty, oldest first.
func (s *Store) ListAPITokens(ctx context.Context, ownerType, ownerLogin string) ([]*store.APIToken, error) {
	var c conditions
	if ownerType != "" {
		c.add("owner_type = ?", ownerType)
		c.sql = append(c.sql, byLogin("owner_login", "owner_key"))
		c.args = append(c.args, loginArgs(ownerLogin)...)
	}
	rows, err := s.query(ctx, s.db, `SELECT `+apiTokenCols+` FROM api_tokens`+c.where()+` ORDER BY created_at, id`, c.args...)
	if err != nil {
		return nil, s.fail("list API tokens", err)
	}
	out, err := collect(rows, scanAPIToken)
	if err == nil && out == nil {
		out = []*store.APIToken{}
	}
	return out, s.fail("list API tokens", err)
}

// qTokenTree reads the ids of some tokens and of their offspring; it
// ends with the list of the tokens' ids.
const qTokenTree = `WITH RECURSIVE tree (id) AS (
		SELECT id FROM api_tokens WHERE id IN %s
		UNION
		SELECT t.id FROM api_tokens t JOIN tree ON t.parent_id = tree.id)
	SELECT id FROM tree ORDER BY id`

// takeRevokeTurn, the first lock of a transaction that revokes tokens,
// waits for any other such transaction to end (see migration 0024). A
// table that lost its row gets it back: without it, the revoke would find
// nothing to lock and fail as if its token were gone.
func (s *Store) takeRevokeTurn(ctx context.Context, tx execer) error {
	if _, err := s.exec(ctx, tx, `INSERT INTO revoke_turn (id) VALUES (1) ON CONFLICT (id) DO NOTHING`); err != nil {
		return err
	}
	var turn int64
	return s.queryRow(ctx, tx, `SELECT id FROM revoke_turn WHERE id = 1`+s.d.ForUpdate).Scan(&turn)
}

// lockTokenTree locks the tokens ids and their offspring, in a revoke's
// transaction (after takeRevokeTurn), and returns the ids of those that
// exist. It locks the tokens it found and then reads the offspring again,
// until a read finds none it has not locked: a token committed by a
// creator that held one of them before the lock was taken is found by the
// next read (on PostgreSQL each statement sees what was committed before
// it began), and a creator that comes after the lock waits for the revoke
// and then finds its creator gone (grantedBy).
func (s *Store) lockTokenTree(ctx context.Context, tx execer, ids []string) ([]string, error) {
	locked := map[string]bool{}
	args := anys(ids)
	tree := ids
	for {
		var fresh []any
		for _, t := range tree {
			if !locked[t] {
				fresh = append(fresh, t)
				locked[t] = true
			}
		}
		if len(fresh) == 0 {
			return tree, nil
		}
		if _, err := s.texts(ctx, tx, `SELECT id FROM api_tokens WHERE id IN `+inList(len(fresh))+` ORDER BY id`+s.d.ForUpdate, fresh...); err != nil {
			return nil, err
		}
		var err error
		if tree, err = s.texts(ctx, tx, fmt.Sprintf(qTokenTree, inList(len(args))), args...); err != nil {
			return nil, err
		}
	}
}

// deleteTokens deletes the tokens ids and returns them, oldest first.
func (s *Store) deleteTokens(ctx context.Context, tx execer, ids []string) ([]*store.APIToken, error) {
	if len(ids) == 0 {
		return []*store.APIToken{}, nil
	}
	rows, err := s.query(ctx, tx, `DELETE FROM api_tokens WHERE id IN `+inList(len(ids))+` RETURNING `+apiTokenCols, anys(ids)...)
	if err != nil {
		return nil, err
	}
	deleted, err := collect(rows, scanAPIToken)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(deleted, byCreation)
	if deleted == nil {
		deleted = []*store.APIToken{}
	}
	return deleted, nil
}

// DeleteAPIToken removes the token with id and its offspring in one
// transaction, in the revokes' turn (takeRevokeTurn), holding each token
// it deletes from when it finds it (lockTokenTree).
func (s *Store) DeleteAPIToken(ctx context.Context, id string) ([]*store.APIToken, error) {
	var deleted []*store.APIToken
	err := s.inTx(ctx, func(ctx context.Context, tx execer) error {
		if err := s.takeRevokeTurn(ctx, tx); err != nil {
			return err
		}
		tree, err := s.lockTokenTree(ctx, tx, []string{id})
		if err != nil {
			return err
		}
		if len(tree) == 0 {
			return store.ErrNotFound
		}
		if fn := store.Locked(ctx); fn != nil {
			fn()
		}
		deleted, err = s.deleteTokens(ctx, tx, tree)
		return err
	})
	if err != nil {
		return nil, s.fail(fmt.Sprintf("delete API token %q", id), err)
	}
	return slices.DeleteFunc(deleted, func(t *store.APIToken) bool { return t.ID == id }), nil
}

// byCreation orders tokens oldest first (CreatedAt, then ID).
func byCreation(a, b *store.APIToken) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// TouchAPIToken records that the token with id was used at at.
func (s *Store) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	res, err := s.exec(ctx, s.db, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, ts(at), id)
	if err == nil {
		err = affected(res)
	}
	return s.fail(fmt.Sprintf("touch API token %q", id), err)
}

const sessionCols = `id, actor_type, actor_login, actor_token, name, role, csrf, created_at, expires_at, last_seen`

// sessionSelect reads sessionCols and how many messages wait.
const sessionSelect = `SELECT ` + sessionCols + `, (SELECT COUNT(*) FROM session_flashes f WHERE f.session_id = sessions.id) FROM sessions`

func scanSession(sc scanner) (*store.Session, error) {
	var ss store.Session
	var created, expires, seen int64
	if err := sc.Scan(&ss.ID, &ss.Actor.Type, &ss.Actor.Login, &ss.Actor.TokenName, &ss.Name, &ss.Role, &ss.CSRF,
		&created, &expires, &seen, &ss.Flashes); err != nil {
		return nil, err
	}
	ss.CreatedAt, ss.ExpiresAt, ss.LastSeen = fromTS(created), fromTS(expires), fromTS(seen)
	return &ss, nil
}

// CreateSession inserts ss, ending its sign-in in flight (ErrRevoked when
// it ended meanwhile); a taken id is ErrConflict.
func (s *Store) CreateSession(ctx context.Context, ss *store.Session) error {
	var lowered store.RoleLowered
	err := s.inTx(ctx, func(ctx context.Context, tx execer) error {
		if err := s.grantedBy(ctx, tx, ss.SignIn, ss.Actor.Login, "", ""); err != nil {
			return err
		}
		if ss.SignIn != "" {
			if err := s.bindSubject(ctx, tx, ss.Actor.Login, ss.Subject, ss.Issuer, ss.CreatedAt); err != nil {
				return err
			}
			var err error
			if lowered, err = s.lowerRole(ctx, tx, ss.Actor.Login, ss.Role, ss.CreatedAt); err != nil {
				return err
			}
		}
		_, err := s.exec(ctx, tx, `INSERT INTO sessions (`+sessionCols+`, login_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ss.ID, ss.Actor.Type, ss.Actor.Login, ss.Actor.TokenName, ss.Name, ss.Role, ss.CSRF,
			ts(ss.CreatedAt), ts(ss.ExpiresAt), ts(ss.LastSeen), store.FoldCase(ss.Actor.Login))
		return err
	})
	if err == nil {
		ss.Lowered = lowered
	}
	return s.fail("create session", err)
}

// roleRanks orders the roles (access.Role) for lowerRole; a role not in it
// ranks 0, below all.
var roleRanks = map[string]int{"viewer": 1, "operator": 2, "admin": 3}

// roleRankSQL is the rank of column col's role, as roleRanks has it.
func roleRankSQL(col string) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	for _, role := range slices.Sorted(maps.Keys(roleRanks)) {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", role, roleRanks[role])
	}
	b.WriteString(" ELSE 0 END")
	return b.String()
}

// lowerRole, in the transaction of a sign-in of the person login that
// gives role, lowers to role their console sessions and tokens live at
// now whose role is above it (store.RoleLowered).
func (s *Store) lowerRole(ctx context.Context, tx execer, login, role string, now time.Time) (store.RoleLowered, error) {
	var out store.RoleLowered
	rank := roleRanks[role]
	if rank == 0 {
		return out, fmt.Errorf("lower the roles of %s: unknown role %q", login, role)
	}
	sessions := `actor_type = ? AND ` + byLogin("actor_login", "login_key") + ` AND expires_at > ? AND ` + roleRankSQL("role") + ` > ?`
	tokens := `owner_type = ? AND ` + byLogin("owner_login", "owner_key") + ` AND expires_at > ? AND ` + roleRankSQL("role") + ` > ?`
	where := append(append([]any{store.ActorUser}, loginArgs(login)...), ts(now), rank)
	// Locked first in the order of their ids, as every statement that
	// locks several sessions or tokens does (DeletePersonAccess,
	// DeleteAPIToken), so that two never wait for each other.
	if _, err := s.texts(ctx, tx, `SELECT id FROM sessions WHERE `+sessions+` ORDER BY id`+s.d.ForUpdate, where...); err != nil {
		return out, err
	}
	if _, err := s.texts(ctx, tx, `SELECT id FROM api_tokens WHERE `+tokens+` ORDER BY id`+s.d.ForUpdate, where...); err != nil {
		return out, err
	}
	args := append([]any{role}, where...)
	res, err := s.exec(ctx, tx, `UPDATE sessions SET role = ? WHERE `+sessions, args...)
	if err != nil {
		return out, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return out, err
	}
	out.Sessions = int(n)
	rows, err := s.query(ctx, tx, `UPDATE api_tokens SET role = ? WHERE `+tokens+` RETURNING name`, args...)
	if err != nil {
		return out, err
	}
	names, err := collect(rows, func(sc scanner) (*string, error) {
		var name string
		err := sc.Scan(&name)
		return &name, err
	})
	for _, n := range names {
		out.Tokens = append(out.Tokens, *n)
	}
	slices.Sort(out.Tokens)
	return out, err
}

// GetSession returns the session with id.
func (s *Store) GetSession(ctx context.Context, id string) (*store.Session, error) {
	ss, err := scanSession(s.queryRow(ctx, s.db, sessionSelect+` WHERE id = ?`, id))
	if err != nil {
		return nil, s.fail("get session", err)
	}
	return ss, nil
}

// TouchSession sets the session's last_seen alone, so that a request
// writes back nothing else it read.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	res, err := s.exec(ctx, s.db, `UPDATE sessions SET last_seen = ? WHERE id = ?`, ts(at), id)
	if err == nil {
		err = affected(res)
	}
	return s.fail("touch session", err)
}

// AddSessionFlash inserts one message row: adding never rewrites the
// messages already waiting.
func (s *Store) AddSessionFlash(ctx context.Context, id string, flash json.RawMessage) error {
	res, err := s.exec(ctx, s.db, `INSERT INTO session_flashes (session_id, body) SELECT id, ? FROM sessions WHERE id = ?`,
		string(flash), id)
	if err == nil {
		err = affected(res)
	}
	return s.fail("add session message", err)
}

// TakeSessionFlashes deletes and returns the session's messages in one
// statement, so that each goes to exactly one of concurrent callers.
func (s *Store) TakeSessionFlashes(ctx context.Context, id string) ([]json.RawMessage, error) {
	rows, err := s.query(ctx, s.db, `DELETE FROM session_flashes WHERE session_id = ? RETURNING id, body`, id)
	if err != nil {
		return nil, s.fail("take session messages", err)
	}
	type taken struct {
		id   int64
		body string
	}
	all, err := collect(rows, func(sc scanner) (*taken, error) {
		var t taken
		return &t, sc.Scan(&t.id, &t.body)
	})
	if err != nil {
		return nil, s.fail("take session messages", err)
	}
	slices.SortFunc(all, func(a, b *taken) int { return cmp.Compare(a.id, b.id) })
	var out []json.RawMessage
	for _, t := range all {
		out = append(out, json.RawMessage(t.body))
	}
	return out, nil
}

// DeleteSession removes the session with id.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	res, err := s.exec(ctx, s.db, `DELETE FROM sessions WHERE id = ?`, id)
	if err == nil {
		err = affected(res)
	}
	return s.fail("delete session", err)
}

// deleteSessions is the statement that deletes the sessions where cond
// holds, which it locks in the order of their ids first, as
// DeletePersonAccess does: deleting them in the order a scan meets them,
// it could hold one the revoke waits for while it waits for one the
// revoke holds.
func (s *Store) deleteSessions(cond string) string {
	return `DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE ` + cond + ` ORDER BY id` + s.d.ForUpdate + `)`
}

// DeleteExpiredSessions removes sessions past their absolute end or idle
// since before idleBefore.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) error {
	_, err := s.exec(ctx, s.db, s.deleteSessions(`expires_at <= ? OR last_seen < ?`), ts(now), ts(idleBefore))
	return s.fail("delete expired sessions", err)
}

// sessionsOf is the condition and arguments that select the sessions of
// actor: of its type, and of its login ignoring case when it has one.
func sessionsOf(actor store.Actor) (string, []any) {
	if actor.Login == "" {
		return `actor_type = ?`, []any{actor.Type}
	}
	return `actor_type = ? AND ` + byLogin("actor_login", "login_key"), append([]any{actor.Type}, loginArgs(actor.Login)...)
}

// DeleteSessionsOf removes every session of actor (of its type, when it
// has no login).
func (s *Store) DeleteSessionsOf(ctx context.Context, actor store.Actor) (int, error) {
	cond, args := sessionsOf(actor)
	res, err := s.exec(ctx, s.db, s.deleteSessions(cond), args...)
	if err != nil {
		return 0, s.fail("delete sessions of an actor", err)
	}
	n, err := res.RowsAffected()
	return int(n), s.fail("delete sessions of an actor", err)
}

const signInRequestCols = `state, sealed_verifier, nonce, next, created_at, expires_at`

// CreateSignInRequest stores a pending single sign-on; a reused state is
// ErrConflict.
func (s *Store) CreateSignInRequest(ctx context.Context, r *store.SignInRequest) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO sign_in_requests (`+signInRequestCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		r.State, blob(r.SealedVerifier), r.Nonce, r.Next, ts(r.CreatedAt), ts(r.ExpiresAt))
	return s.fail("create sign-in request", err)
}

// ConsumeSignInRequest deletes and returns the request in one statement,
// so that of several concurrent callers exactly one gets it.
func (s *Store) ConsumeSignInRequest(ctx context.Context, state string) (*store.SignInRequest, error) {
	var r store.SignInRequest
	var created, expires int64
	err := s.queryRow(ctx, s.db, `DELETE FROM sign_in_requests WHERE state = ? RETURNING `+signInRequestCols, state).Scan(
		&r.State, &r.SealedVerifier, &r.Nonce, &r.Next, &created, &expires)
	if err != nil {
		return nil, s.fail("consume sign-in request", err) // never echo the state
	}
	r.SealedVerifier = fromBlob(r.SealedVerifier)
	r.CreatedAt, r.ExpiresAt = fromTS(created), fromTS(expires)
	return &r, nil
}

// DeleteExpiredSignInRequests removes requests, and sign-ins in flight,
// that expired by now. The sign-ins are locked in the order of their ids
// first, as DeletePersonAccess locks them.
func (s *Store) DeleteExpiredSignInRequests(ctx context.Context, now time.Time) error {
	_, err := s.exec(ctx, s.db, `DELETE FROM sign_in_requests WHERE expires_at <= ?`, ts(now))
	if err == nil {
		_, err = s.exec(ctx, s.db, `DELETE FROM sign_ins_in_flight WHERE id IN (SELECT id FROM sign_ins_in_flight WHERE expires_at <= ? ORDER BY id`+s.d.ForUpdate+`)`, ts(now))
	}
	return s.fail("delete expired sign-in requests", err)
}

// StartSignIn records the sign-in in flight id; a taken id is ErrConflict.
func (s *Store) StartSignIn(ctx context.Context, id string, expiresAt time.Time) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO sign_ins_in_flight (id, expires_at) VALUES (?, ?)`, id, ts(expiresAt))
	return s.fail("start a sign-in", err)
}

// EndSignIn removes the sign-in in flight id.
func (s *Store) EndSignIn(ctx context.Context, id string) error {
	res, err := s.exec(ctx, s.db, `DELETE FROM sign_ins_in_flight WHERE id = ?`, id)
	if err == nil {
		err = affected(res)
	}
	return s.fail("end a sign-in", err)
}

// ListSessionsOf returns every session of actor (of its type, when it has
// no login), oldest first.
func (s *Store) ListSessionsOf(ctx context.Context, actor store.Actor) ([]*store.Session, error) {
	cond, args := sessionsOf(actor)
	rows, err := s.query(ctx, s.db, sessionSelect+` WHERE `+cond+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, s.fail("list sessions of an actor", err)
	}
	out, err := collect(rows, scanSession)
	if err == nil && out == nil {
		out = []*store.Session{}
	}
	return out, s.fail("list sessions of an actor", err)
}

// deleteAuthRequestsOf deletes the pending authorizations of connections
// that the person whose FoldCase login is key started (on the console, or
// with one of their tokens): a revoked person must not finish one with its
// authorize URL. auth_requests keeps no folded key, so the few pending
// ones (each lasts minutes) are compared here, as FoldCase does.
func (s *Store) deleteAuthRequestsOf(ctx context.Context, tx execer, key string) error {
	rows, err := s.query(ctx, tx, `SELECT state, actor_login FROM auth_requests WHERE actor_type IN (?, ?) ORDER BY state`+s.d.ForUpdate,
		store.ActorUser, store.ActorToken)
	if err != nil {
		return err
	}
	var theirs []string
	for rows.Next() {
		var state, login string
		if err := rows.Scan(&state, &login); err != nil {
			rows.Close()
			return err
		}
		if login != "" && store.FoldCase(login) == key {
			theirs = append(theirs, state)
		}
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	rows.Close()
	for chunk := range slices.Chunk(theirs, 500) {
		if _, err := s.exec(ctx, tx, `DELETE FROM auth_requests WHERE state IN `+inList(len(chunk)), anys(chunk)...); err != nil {
			return err
		}
	}
	return nil
}

// DeletePersonAccess removes every console session and API token of the
// person login, and the tokens' offspring, in one transaction, in the
// revokes' turn (takeRevokeTurn), marks every sign-in in flight with
// the login's key, and forgets the login's binding, returning it as the
// delete found it.
func (s *Store) DeletePersonAccess(ctx context.Context, login string) (int, []*store.APIToken, *store.PersonBinding, error) {
	return s.deletePersonAccess(ctx, login, nil)
}

// DeleteBoundPersonAccess is DeletePersonAccess when login is bound to
// subject at issuer (a binding made before issuers were kept matches the
// subject at any issuer, as bindSubject has it), checked in its
// transaction; otherwise it deletes nothing.
func (s *Store) DeleteBoundPersonAccess(ctx context.Context, login, subject, issuer string) (int, []*store.APIToken, *store.PersonBinding, error) {
	return s.deletePersonAccess(ctx, login, func(b *store.PersonBinding) error {
		switch {
		case b == nil:
			return fmt.Errorf("%s is bound to no account: %w", login, store.ErrNotFound)
		case b.Issuer != "" && b.Issuer != issuer:
			return &store.IssuerChangedError{Login: login, Bound: b.Issuer, Issuer: issuer}
		case b.Subject != subject:
			return fmt.Errorf("%s is bound to another subject: %w", login, store.ErrSubjectTaken)
		}
		return nil
	})
}

// deletePersonAccess is DeletePersonAccess; a non-nil bound, given the
// binding the transaction removed (nil for none), rolls it all back with
// its error.
func (s *Store) deletePersonAccess(ctx context.Context, login string, bound func(*store.PersonBinding) error) (int, []*store.APIToken, *store.PersonBinding, error) {
	var sessions int
	var tokens []*store.APIToken
	var binding *store.PersonBinding
	key := store.FoldCase(login)
	err := s.inTx(ctx, func(ctx context.Context, tx execer) error {
		if err := s.takeRevokeTurn(ctx, tx); err != nil {
			return err
		}
		// First what grantedBy locks, so that a session or token being
		// created on the strength of one of them is either refused or
		// committed, and then deleted below (a statement sees what was
		// committed before it began). Whose a sign-in in flight is is not
		// known yet: each is marked, and refuses only this person.
		inFlight, err := s.texts(ctx, tx, `SELECT id FROM sign_ins_in_flight ORDER BY id`+s.d.ForUpdate)
		if err != nil {
			return err
		}
		// The ones locked, not any begun since: those could be gone by
		// the insert.
		for chunk := range slices.Chunk(inFlight, 500) {
			if _, err := s.exec(ctx, tx, `INSERT INTO sign_in_revokes (sign_in, login_key)
				SELECT id, CAST(? AS TEXT) FROM sign_ins_in_flight WHERE id IN `+inList(len(chunk))+` ON CONFLICT DO NOTHING`,
				append([]any{key}, anys(chunk)...)...); err != nil {
				return err
			}
		}
		// In the order of their ids, as every statement that locks several
		// sessions does.
		mine, args := sessionsOf(store.Actor{Type: store.ActorUser, Login: login})
		if _, err := s.texts(ctx, tx, `SELECT id FROM sessions WHERE `+mine+` ORDER BY id`+s.d.ForUpdate, args...); err != nil { // every row read: every row locked
			return err
		}
		owned, err := s.texts(ctx, tx, `SELECT id FROM api_tokens WHERE owner_type = ? AND `+byLogin("owner_login", "owner_key")+` ORDER BY id`+s.d.ForUpdate,
			append([]any{store.ActorUser}, loginArgs(login)...)...)
		if err != nil {
			return err
		}
		// With their offspring, whatever their owner: no token outlives
		// its creator.
		tree, err := s.lockTokenTree(ctx, tx, owned)
		if err != nil {
			return err
		}
		if fn := store.Locked(ctx); fn != nil {
			fn()
		}
		if err := s.deleteAuthRequestsOf(ctx, tx, key); err != nil {
			return err
		}
		res, err := s.exec(ctx, tx, `DELETE FROM sessions WHERE `+mine, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		sessions = int(n)
		if tokens, err = s.deleteTokens(ctx, tx, tree); err != nil {
			return err
		}
		// Last, after the sign-ins in flight are marked: a sign-in that
		// would bind the login again is refused.
		binding, err = scanPersonBinding(s.queryRow(ctx, tx, `DELETE FROM person_subjects WHERE login_key = ? RETURNING `+personBindingCols, key))
		if errors.Is(err, sql.ErrNoRows) {
			binding, err = nil, nil
		}
		if err == nil && bound != nil {
			err = bound(binding)
		}
		return err
	})
	if errors.Is(err, store.ErrSubjectTaken) {
		return 0, nil, nil, fmt.Errorf("store: delete the access of a person: %w", err)
	} else if err != nil {
		return 0, nil, nil, s.fail("delete the access of a person", err)
	}
	return sessions, tokens, binding, nil
}
