package connection

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

const (
	// refreshSkew: an access token with less than this left is refreshed
	// before use.
	refreshSkew = 60 * time.Second
	// tokenCallTimeout bounds one call to the org's token endpoint.
	tokenCallTimeout = 15 * time.Second
	// refreshWorkTimeout bounds a whole refresh, waiting for the lease
	// included. It does not depend on any caller's context: a refresh that
	// has presented the refresh token must get to commit the answer.
	refreshWorkTimeout = 45 * time.Second
	// defaultRetryWindow: see Recover.
	defaultRetryWindow = 20 * time.Second
)

// Token is a usable access token of a connection. AccessToken redacts
// itself when printed; call Reveal only to build the Authorization header.
type Token struct {
	AccessToken keyring.Secret
	Scopes      []string  // the granted scopes
	ActingAs    string    // the login of the Okta account the token acts as
	BaseURL     string    // the org origin, e.g. https://example.okta.com
	Expiry      time.Time // when the access token expires
	// Type is "Bearer" or, for a DPoP-bound token, "DPoP" (API calls then
	// need a proof signed with the connection's DPoP key).
	Type string

	dpopKey *jose.JSONWebKey
	// user is set for a user connection's token, and orgClock is its
	// connection's OrgClockOffset, which the answers to calls with it
	// are checked against (noteOrgClock).
	user     bool
	orgClock time.Duration
}

// Token returns the connection's access token, refreshing it first when it
// has less than 60 s left. Concurrent calls share one refresh per
// connection in this process, and the store's lease makes other processes
// wait for it and use its result. A connection that is not active gives a
// needs_reauthorization problem with the reason and remedy.
func (m *Manager) Token(ctx context.Context, id string) (*Token, error) {
	m.init()
	c, err := m.getConn(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := usable(c); err != nil {
		return nil, err
	}
	if m.refreshExpired(c) {
		return nil, m.expire(ctx, c)
	}
	if t, ok := m.storedToken(c, ""); ok && (c.Auth != store.AuthService || c.Status == store.StatusActive) {
		// A refresh would read the expiry the org did not tell; without
		// one, ask for it now.
		m.learnExpiry(ctx, c, expiryAskTimeout)
		return t, nil
	}
	return m.refresh(ctx, id, "")
}

// refresh runs (or joins) the single refresh of a connection. rejected is
// the access token the org just answered 401 to, forcing a refresh even if
// the stored token looks fresh, unless another refresh already replaced it.
func (m *Manager) refresh(ctx context.Context, id, rejected string) (*Token, error) {
	return m.refreshScopes(ctx, id, rejected, false, false)
}

// refreshScopes is refresh; allScopes makes a service connection ask for
// every requested scope again rather than only those granted last time
// (a health check does, to pick up scopes granted to the app since), and
// roleBack refreshes a user connection that awaitsRole too (roleBack).
func (m *Manager) refreshScopes(ctx context.Context, id, rejected string, allScopes, roleBack bool) (*Token, error) {
	key := id
	if rejected != "" {
		sum := sha256.Sum256([]byte(rejected))
		key = id + "/rejected/" + hex.EncodeToString(sum[:8])
	}
	if allScopes {
		key += "/all-scopes"
	}
	if roleBack {
		key += "/role-back"
	}
	ch := m.flights.DoChan(key, func() (any, error) {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshWorkTimeout)
		defer cancel()
		return m.refreshLocked(wctx, id, rejected, allScopes, roleBack)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		t := *r.Val.(*Token)
		t.Scopes = slices.Clone(t.Scopes)
		return &t, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// errRetry asks refreshLocked to read the connection again.
var errRetry = errors.New("connection changed; read it again")

func (m *Manager) refreshLocked(ctx context.Context, id, rejected string, allScopes, roleBack bool) (*Token, error) {
	var early *Token
	unlock, err := m.lockConn(ctx, id, func(ctx context.Context) (bool, error) {
		// Another process holds the lease: use its result as soon as it
		// is committed.
		c, err := m.getConn(ctx, id)
		if err != nil {
			return true, err
		}
		if err := refreshable(c, roleBack); err != nil {
			return true, err
		}
		early, _ = m.storedToken(c, rejected)
		return early != nil, nil
	})
	if err != nil {
		return nil, err
	}
	if unlock == nil {
		return early, nil
	}
	defer unlock()
	var waited time.Duration
	conflicts, calls := 0, 0
	for {
		// Re-read under the lease: a refresh by another goroutine or
		// process may have committed a newer token meanwhile.
		c, err := m.getConn(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := refreshable(c, roleBack); err != nil {
			return nil, err
		}
		if t, ok := m.storedToken(c, rejected); ok && (c.Auth != store.AuthService || c.Status == store.StatusActive) {
			return t, nil
		}
		var t *Token
		if c.Auth == store.AuthService {
			// client_credentials rotates nothing: any attempt may be
			// repeated.
			calls++
			t, err = m.mintService(ctx, c, allScopes)
		} else {
			// Tokens the org gave that the store refused come first: the
			// refresh token presented for them may be past its grace window.
			if ok, err := m.commitUnstored(ctx, c); err != nil {
				return nil, err
			} else if ok {
				continue
			}
			if m.refreshExpired(c) {
				// Its 90 days are over by the org's clock, which an answer
				// just told (a card call's 401 to an access token that
				// ended by that clock): the org would refuse the refresh
				// token; say why without presenting it.
				return nil, m.expire(ctx, c)
			}
			retrying := !c.RefreshStartedAt.IsZero()
			if retrying {
				// A refresh was interrupted; only retry inside the window.
				if !m.retryAllowed(c.RefreshStartedAt) {
					return nil, m.markInterrupted(ctx, c)
				}
				m.log.WarnContext(ctx, "retrying an interrupted token refresh inside the grace window", "connection", id,
					"startedAt", c.RefreshStartedAt)
			}
			calls++
			t, err = m.redeem(ctx, c, retrying)
		}
		var tr *transientRefresh
		switch {
		case errors.Is(err, errRetry):
			if conflicts++; conflicts >= 4 {
				return nil, problem.New(problem.UpstreamError, "the connection kept changing during a token refresh").
					WithRemedy("try again")
			}
			continue
		case errors.As(err, &tr):
			wait := tr.wait
			if wait == 0 {
				wait = backoff(calls)
			}
			if calls >= refreshAttempts || waited+wait > refreshRetryBudget {
				m.log.WarnContext(ctx, "token refresh failed; not retrying", "connection", id, "attempts", calls, "wait", wait, "error", tr.err)
				return nil, tr.err
			}
			m.log.WarnContext(ctx, "token refresh failed; retrying", "connection", id, "attempt", calls, "wait", wait, "error", tr.err)
			if err := m.sleep(ctx, wait); err != nil {
				return nil, tr.err
			}
			waited += wait
			continue
		}
		return t, err
	}
}

// redeem presents c's refresh token to the org and commits the answer
// before returning the new access token. retrying says c.RefreshStartedAt
// was left by an earlier, interrupted attempt (and must stay as it is).
func (m *Manager) redeem(ctx context.Context, c *store.Connection, retrying bool) (*Token, error) {
	rt, err := m.Keyring.Open(c.SealedRefreshToken, sealedAAD(c.ID, fieldRefreshToken))
	if err != nil {
		return nil, unreadable("refresh token", c.SealedRefreshToken, err)
	}
	secret, err := m.Keyring.Open(c.SealedClientSecret, sealedAAD(c.ID, fieldClientSecret))
	if err != nil {
		return nil, unreadable("client secret", c.SealedClientSecret, err)
	}
	if err := m.Keyring.SealErr(); err != nil {
		// The org would rotate the refresh token, and the new one could
		// not be stored: leave the refresh to a server that can seal.
		return nil, internal("refresh a token", err)
	}
	if !retrying {
		// Persist-before-use, part one: record that the refresh token is
		// about to be presented, so a crash from here on is detectable.
		// A connection changed since it was read is read again.
		err := m.Store.UpdateConnection(ctx, c.ID, func(cur *store.Connection) error {
			if cur.Version != c.Version {
				return errRetry
			}
			cur.RefreshStartedAt = m.now()
			c = cur
			return nil
		})
		if errors.Is(err, errRetry) || errors.Is(err, store.ErrNotFound) {
			return nil, errRetry
		} else if err != nil {
			return nil, internal("record refresh start", err)
		}
	}
	// Persist-before-use, part two: the answer is committed below before
	// the new access token is returned to anyone.
	presented := c.SealedRefreshToken
	tctx, cancel := context.WithTimeout(ctx, tokenCallTimeout)
	tok, err := m.oauthConfig(c, string(secret), nil).TokenSource(m.oauthContext(tctx), &oauth2.Token{RefreshToken: string(rt)}).Token()
	cancel()
	err = withoutBody(err)
	if err != nil {
		return nil, m.refreshFailed(ctx, c, presented, retrying, err)
	}
	ts, err := parseTokenResponse(tok, m.now(), c.GrantedScopes)
	if err != nil {
		// The org answered 200, so it may well have rotated the refresh
		// token: leave RefreshStartedAt set, as after a lost answer.
		m.log.ErrorContext(ctx, "unusable token refresh response", "connection", c.ID, "error", err)
		return nil, problem.New(problem.UpstreamError, "the org's token refresh response is not usable: %s", err.Error()).
			WithRemedy("try again shortly; if it persists, %s", problem.Reauthorize(c.Nickname))
	}
	if ts.Refresh == "" {
		ts.Refresh = string(rt) // no rotation: the old refresh token stays valid
	}
	stored, err := m.commitRefreshed(ctx, c.ID, presented, ts)
	switch {
	case errors.Is(err, errTokensReplaced):
		// Someone stored other tokens (a reauthorization); theirs win.
		m.log.WarnContext(ctx, "tokens replaced during a refresh; using the stored ones", "connection", c.ID)
		return nil, errRetry
	case errors.Is(err, store.ErrNotFound):
		return nil, notFound("", c.ID) // deleted meanwhile: nothing to store the answer in
	case err != nil:
		// Not committed, so not used. RefreshStartedAt stays set; the
		// org's answer is kept for the next attempt (keepUnstored).
		return nil, m.keepUnstored(ctx, c.ID, presented, ts, err)
	}
	m.log.DebugContext(ctx, "access token refreshed", "connection", c.ID, "expiry", ts.Expiry)
	m.noteRefreshExpiry(ctx, c.ID, stored.SealedRefreshToken, string(secret), ts.Refresh)
	return m.tokenOf(stored, ts.Access), nil
}

// commitRefreshed stores the tokens ts that the org answered to the
// refresh token presented (sealed as stored), as long as the connection
// still holds that one; errTokensReplaced when it does not.
func (m *Manager) commitRefreshed(ctx context.Context, id string, presented []byte, ts *tokenSet) (*store.Connection, error) {
	var stored *store.Connection
	err := m.Store.UpdateConnection(ctx, id, func(cur *store.Connection) error {
		if !bytes.Equal(cur.SealedRefreshToken, presented) {
			return errTokensReplaced
		}
		// Unrelated changes since (status, nickname) stay; ours go on top.
		if err := m.sealTokens(cur, ts); err != nil {
			return err
		}
		cur.RefreshStartedAt = time.Time{}
		cur.LastUsedAt = m.now()
		cur.UpdatedAt = cur.LastUsedAt
		stored = cur
		return nil
	})
	return stored, err
}

// unstoredRemedy is the remedy of a refresh whose tokens the store refused.
const unstoredRemedy = "make the database writable again (free space in the data directory, or fix the database server); " +
	"cardflow keeps the org's new tokens in memory and stores them on the connection's next use: " +
	"do not stop the server before then, or the connection will need reauthorization"

// unstoredTokens is an answer of the org to a refresh that the store
// refused to commit.
type unstoredTokens struct {
	presented []byte // the sealed refresh token that was presented
	ts        *tokenSet
}

// keepUnstored keeps the org's answer ts to a refresh whose commit failed
// with err (a full disk, a read-only database) for commitUnstored to store
// later. Once the old refresh token's grace window has passed, ts holds
// the only refresh token the org still takes: presenting the old one again
// would be reuse, which makes Okta revoke every token of the connection.
// The tokens live only in this process's memory until stored.
func (m *Manager) keepUnstored(ctx context.Context, id string, presented []byte, ts *tokenSet, err error) error {
	m.unstoredMu.Lock()
	if m.unstored == nil {
		m.unstored = map[string]*unstoredTokens{}
	}
	m.unstored[id] = &unstoredTokens{presented: presented, ts: ts}
	m.unstoredMu.Unlock()
	m.log.ErrorContext(ctx, "cannot store the tokens of a token refresh; keeping them in memory until the database takes writes again (stopping the server before then loses them)",
		"connection", id, "error", err)
	return internal("store refreshed tokens", err).WithRemedy("%s", unstoredRemedy)
}

// commitUnstored stores the tokens keepUnstored kept for c, if any and
// c still holds the refresh token they answered. It reports whether it
// stored them; an error means the store refused again (they stay kept).
func (m *Manager) commitUnstored(ctx context.Context, c *store.Connection) (bool, error) {
	m.unstoredMu.Lock()
	u := m.unstored[c.ID]
	m.unstoredMu.Unlock()
	if u == nil {
		return false, nil
	}
	_, err := m.commitRefreshed(ctx, c.ID, u.presented, u.ts)
	if err != nil && !errors.Is(err, errTokensReplaced) && !errors.Is(err, store.ErrNotFound) {
		m.log.ErrorContext(ctx, "still cannot store the tokens of a token refresh; keeping them in memory", "connection", c.ID, "error", err)
		return false, internal("store refreshed tokens", err).WithRemedy("%s", unstoredRemedy)
	}
	m.unstoredMu.Lock()
	if m.unstored[c.ID] == u {
		delete(m.unstored, c.ID)
	}
	m.unstoredMu.Unlock()
	if err != nil {
		return false, nil // other tokens were stored since (a reauthorization): theirs win
	}
	m.log.InfoContext(ctx, "stored the tokens of a token refresh the database had refused", "connection", c.ID)
	return true, nil
}

// expiredAtOrg reports whether the org's refusal err of c's refresh token
// came when, by the org's own clock (the answer's Date), the token had
// reached the expiry the org gave it, or, when the org never told it, 90
// days from the sign-in. Both are the org's time too, so a host clock
// behind the org's does not turn a token's 90-day end into an
// unexplained refusal.
func expiredAtOrg(c *store.Connection, err error) bool {
	var re *oauth2.RetrieveError
	end := refreshEnd(c)
	if end.IsZero() || !errors.As(err, &re) || re.Response == nil {
		return false
	}
	at, perr := http.ParseTime(re.Response.Header.Get("Date"))
	return perr == nil && !at.Before(end.Truncate(time.Second))
}

// errTokensReplaced: the stored refresh token is no longer the one presented.
var errTokensReplaced = errors.New("the connection's tokens were replaced")

// refreshFailed handles a refresh the org did not complete.
func (m *Manager) refreshFailed(ctx context.Context, c *store.Connection, presented []byte, retrying bool, err error) error {
	oe, answered := asOAuthError(err)
	switch {
	case answered && (oe.Code == "invalid_grant" || oe.Code == "invalid_client"):
		cur, gerr := m.Store.GetConnection(ctx, c.ID)
		if gerr == nil && !bytes.Equal(cur.SealedRefreshToken, presented) {
			return errRetry // another process stored a newer token: use that
		}
		if oe.Code == "invalid_grant" && (m.refreshExpired(c) || expiredAtOrg(c, err)) {
			return m.expire(ctx, c) // its 90 days are over, by this host's clock or the org's
		}
		reason := "the org rejected the refresh token (invalid_grant: " + orDefault(oe.Description, "it is invalid, expired or revoked") +
			"); it was revoked, expired, or reused"
		remedy, code := problem.Reauthorize(c.Nickname), store.ReasonRefreshTokenRefused
		if oe.Code == "invalid_client" {
			code = store.ReasonClientSecretRefused
			reason = "the org rejected the connection's client secret while refreshing the token (invalid_client): the OAuth app's client secret was changed, or the app was deactivated or deleted"
			remedy = fmt.Sprintf("if the OAuth app's client secret was rotated, give the connection the new one (Change secret on its console page, or cardflow connections update %s --client-secret-stdin); it reauthorizes with it and keeps its id and history. If the app was deactivated, activate it again in the Okta Admin Console (Applications), then %s", c.ID, problem.Reauthorize(c.Nickname))
		}
		m.setNeedsReauth(ctx, c.ID, presented, code, reason, remedy)
		return problem.New(problem.NeedsReauthorization, "%s", problem.NeedsReauthorizationMessage(c.Nickname, reason)).
			WithRemedy("%s", remedy).Wrap(oe)
	case answered && oe.Code == "" && oe.Status >= 500:
		// An error page that is no OAuth error (a proxy's HTML, a
		// gateway timeout's empty body) comes from something between
		// cardflow and the token endpoint, which may have rotated the
		// refresh token before its answer was lost: as no answer below,
		// RefreshStartedAt stays set and the window rules apply.
		m.log.WarnContext(ctx, "token refresh got an error page instead of the org's answer", "connection", c.ID, "status", oe.Status)
		wait, _ := transientAnswer(oe, err, m.now())
		return &transientRefresh{wait: wait, err: problem.New(problem.UpstreamError,
			"the token refresh got %d %s instead of an answer from the org, which may have rotated the refresh token", oe.Status, http.StatusText(oe.Status)).
			WithRemedy("try again within a few seconds; if the connection then needs reauthorization, reauthorize it").Wrap(err)}
	case answered || neverSent(err):
		// A definite answer (or the request never left): this attempt did
		// not rotate the refresh token, so it may be presented again later.
		// After a retry, though, the interrupted attempt may have rotated
		// it: RefreshStartedAt stays, and the window rules keep applying.
		if !retrying {
			m.clearRefreshStarted(ctx, c.ID, presented)
		}
		perr := problem.New(problem.UpstreamError, "the org did not refresh the access token (%s)", describe(oe, err)).
			WithRemedy("try again shortly; check that the org is reachable").Wrap(err)
		if answered && oe.Code == "unauthorized_client" {
			// The app may no longer use refresh tokens: Refresh Token was
			// taken off its grant types. The refresh token was refused
			// unused and works again once the grant type is back.
			perr = problem.New(problem.UpstreamError, "the org refused to refresh the access token: the OAuth app is not allowed the refresh token grant (%s)", describe(oe, err)).
				WithRemedy("%s; the connection then works again as it is, without a new sign-in", refreshGrantRemedy).Wrap(err)
		}
		if wait, ok := transientAnswer(oe, err, m.now()); ok || (!answered && !errors.As(err, new(*AddressError))) {
			return &transientRefresh{err: perr, wait: wait}
		}
		return perr
	}
	// No answer: the org may have rotated the token. RefreshStartedAt stays
	// set, so the next attempt retries only inside the grace window.
	m.log.WarnContext(ctx, "token refresh got no answer", "connection", c.ID, "error", err)
	perr := problem.New(problem.UpstreamError, "the token refresh did not complete (%s); the org may have rotated the refresh token", transportCause(err)).
		WithRemedy("try again within a few seconds; if the connection then needs reauthorization, reauthorize it").Wrap(err)
	if errors.As(err, new(*RedirectError)) || errors.Is(err, ErrResponseTooLarge) {
		return perr
	}
	return &transientRefresh{err: perr}
}

func describe(oe *oauthError, err error) string {
	if oe != nil {
		return oe.Error()
	}
	return transportCause(err)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// retryAllowed reports whether an interrupted refresh that started at
// started may present the same refresh token again.
func (m *Manager) retryAllowed(started time.Time) bool {
	w := m.RefreshRetryWindow
	if w == 0 {
		w = defaultRetryWindow
	}
	age := m.now().Sub(started)
	return w > 0 && age > -clockSkewAllowance && age < w
}

// clockSkewAllowance: an interrupted refresh that seems to start up to this
// far in the future was started by a server whose clock is a little ahead.
// Further ahead, this host's clock went back (a restart after a power loss,
// before NTP set it right), and how long ago the refresh started is unknown.
const clockSkewAllowance = 5 * time.Second

// Recover handles refreshes that a stopped process left half done; call it
// at start-up (Token does the same lazily).
//
// Why: Okta rotates refresh tokens. Presenting refresh token R returns R2
// and R stays valid only for the rotation grace window (30 s unless the
// app sets another leeway); presenting R after that is "reuse", and Okta
// then revokes R2 and every token of the grant — an outage. A process that
// died between committing RefreshStartedAt and committing the answer may or
// may not have presented R, and if it did, R2 is lost. So R may be
// presented again only while the window is surely still open: within
// RefreshRetryWindow (20 s, leaving margin for clock skew and latency) of
// RefreshStartedAt (not seconds before it: a clock that went back makes the
// age unknown), and then only from the original RefreshStartedAt, never
// a new one, so retries cannot extend the window or loop. Past the window
// the connection is marked needs_reauthorization with the reason.
func (m *Manager) Recover(ctx context.Context) error {
	m.init()
	cs, err := m.Store.ListConnections(ctx)
	if err != nil {
		return internal("list connections", err)
	}
	var errs []error
	for _, c := range cs {
		if c.RefreshStartedAt.IsZero() {
			continue
		}
		if err := m.recoverOne(ctx, c.ID); err != nil {
			if _, ok := problem.As(err); !ok {
				errs = append(errs, fmt.Errorf("connection %s: %w", c.ID, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) recoverOne(ctx context.Context, id string) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshWorkTimeout)
	defer cancel()
	// A lease held by a live process means it is handling the refresh.
	unlock, err := m.lockConn(wctx, id, func(context.Context) (bool, error) { return true, nil })
	if err != nil || unlock == nil {
		return err
	}
	defer unlock()
	c, err := m.Store.GetConnection(wctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.RefreshStartedAt.IsZero() {
		return nil
	}
	if c.Status != store.StatusActive {
		m.clearRefreshStarted(wctx, id, c.SealedRefreshToken)
		return nil
	}
	if !m.retryAllowed(c.RefreshStartedAt) {
		return m.markInterrupted(wctx, c)
	}
	m.log.WarnContext(wctx, "retrying an interrupted token refresh inside the grace window", "connection", id, "startedAt", c.RefreshStartedAt)
	_, err = m.redeem(wctx, c, true)
	if errors.Is(err, errRetry) {
		return nil
	}
	return err
}

func (m *Manager) markInterrupted(ctx context.Context, c *store.Connection) error {
	reason := fmt.Sprintf("a token refresh started at %s got no answer from the org or was interrupted, and was not retried in time; the org may have rotated the refresh token, and presenting it again could make Okta detect reuse and revoke every token of the connection",
		timetext.Format(c.RefreshStartedAt))
	remedy := "to be safe, " + problem.Reauthorize(c.Nickname)
	m.setNeedsReauth(ctx, c.ID, c.SealedRefreshToken, store.ReasonRefreshInterrupted, reason, remedy)
	return problem.New(problem.NeedsReauthorization, "%s", problem.NeedsReauthorizationMessage(c.Nickname, reason)).WithRemedy("%s", remedy)
}

// setNeedsReauth marks the connection needs_reauthorization for the kind
// of reason code (a store.Reason*), unless its refresh token is no longer
// the one that failed.
func (m *Manager) setNeedsReauth(ctx context.Context, id string, presented []byte, code, reason, remedy string) {
	m.updateIfToken(ctx, id, presented, func(c *store.Connection) {
		c.Status, c.StatusReason, c.Remedy, c.StatusReasonCode = store.StatusNeedsReauthorization, reason, remedy, code
		c.RefreshStartedAt = time.Time{}
	})
	m.log.WarnContext(ctx, "connection needs reauthorization", "connection", id, "reason", reason)
}

// updateConnection is Store.UpdateConnection that also stores, in the same
// transaction, the notice of a status change fn makes: the
// connection.needs_reauthorization of a connection fn moves into that
// status, and the ServiceStatusNotice of a service connection fn moves
// into error, out of it to active, or keeps in error for another kind of
// failure (failsOtherwise).
func (m *Manager) updateConnection(ctx context.Context, id string, fn func(c *store.Connection) error) error {
	notified := false
	err := m.Store.UpdateConnectionNotify(ctx, id, func(c *store.Connection) ([]*store.Notification, error) {
		prev := *c
		if err := fn(c); err != nil {
			return nil, err
		}
		var ns []*store.Notification
		var err error
		switch was := prev.Status; {
		case was != store.StatusNeedsReauthorization && c.Status == store.StatusNeedsReauthorization && m.NeedsReauthorizationNotice != nil:
			ns, err = m.NeedsReauthorizationNotice(c)
		case c.Auth == store.AuthService && m.ServiceStatusNotice != nil &&
			(was != store.StatusError && c.Status == store.StatusError || was == store.StatusError && c.Status == store.StatusActive ||
				failsOtherwise(&prev, c)):
			ns, err = m.ServiceStatusNotice(&prev, c)
		}
		notified = len(ns) > 0
		return ns, err
	})
	if err == nil && notified && m.OnNotified != nil {
		m.OnNotified()
	}
	return err
}

func (m *Manager) clearRefreshStarted(ctx context.Context, id string, presented []byte) {
	m.updateIfToken(ctx, id, presented, func(c *store.Connection) { c.RefreshStartedAt = time.Time{} })
}

// updateIfToken applies change to the stored connection as long as its
// refresh token is still presented. It returns the connection as stored,
// or nil when it stored nothing.
func (m *Manager) updateIfToken(ctx context.Context, id string, presented []byte, change func(*store.Connection)) *store.Connection {
	var stored *store.Connection
	err := m.updateConnection(ctx, id, func(c *store.Connection) error {
		if !bytes.Equal(c.SealedRefreshToken, presented) {
			return errTokensReplaced
		}
		change(c)
		c.UpdatedAt = m.now()
		stored = c
		return nil
	})
	if err != nil {
		if !errors.Is(err, errTokensReplaced) && !errors.Is(err, store.ErrNotFound) {
			m.log.ErrorContext(ctx, "cannot update connection", "connection", id, "error", err)
		}
		return nil
	}
	return stored
}

// accessTokenFresh reports whether c has a stored access token with more
// than the skew left (without opening it).
func (m *Manager) accessTokenFresh(c *store.Connection) bool {
	return len(c.SealedAccessToken) > 0 && c.AccessTokenExpiry.Sub(m.now()) > refreshSkew
}

// storedToken returns the stored access token when it has more than the
// skew left and is not the rejected one.
func (m *Manager) storedToken(c *store.Connection, rejected string) (*Token, bool) {
	if !m.accessTokenFresh(c) {
		return nil, false
	}
	at, err := m.Keyring.Open(c.SealedAccessToken, sealedAAD(c.ID, fieldAccessToken))
	if err != nil {
		m.log.Error("cannot open access token", "connection", c.ID, "error", err)
		return nil, false
	}
	if rejected != "" && string(at) == rejected {
		return nil, false
	}
	return m.tokenOf(c, string(at)), true
}

func (m *Manager) tokenOf(c *store.Connection, access string) *Token {
	t := &Token{AccessToken: keyring.Secret(access), Scopes: slices.Clone(c.GrantedScopes), ActingAs: c.AuthorizedLogin,
		BaseURL: OriginOf(c.Domain), Expiry: c.AccessTokenExpiry, Type: "Bearer", user: c.Auth != store.AuthService, orgClock: c.OrgClockOffset}
	if strings.EqualFold(c.AccessTokenType, "DPoP") {
		t.Type = "DPoP"
		k, err := m.openKey(c.SealedDPoPKey, c.ID, fieldDPoPKey)
		if err != nil {
			m.log.Error("cannot open the DPoP key", "connection", c.ID, "error", err)
		}
		t.dpopKey = k
	}
	return t
}

// getConn reads a connection by id, as a problem when it is missing.
func (m *Manager) getConn(ctx context.Context, id string) (*store.Connection, error) {
	c, err := m.Store.GetConnection(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("", id)
	}
	if err != nil {
		return nil, internal("read connection", err)
	}
	return c, nil
}

// refreshable is usable, or, with roleBack, nil for a connection that
// awaitsRole too: its refresh token is presented to check it (roleBack).
func refreshable(c *store.Connection, roleBack bool) error {
	if roleBack && awaitsRole(c) {
		return nil
	}
	return usable(c)
}

// neverAuthorized reports whether c is a person's connection that no
// sign-in has authorized yet (problem.NotActiveCode).
func neverAuthorized(c *store.Connection) bool {
	return c.Auth != store.AuthService && c.AuthorizedAt.IsZero()
}

// usable is nil for an active connection, else the problem to report.
func usable(c *store.Connection) error {
	if c.Status == store.StatusActive && len(c.SealedRefreshToken) > 0 {
		return nil
	}
	if c.Auth == store.AuthService && len(c.SealedPrivateKey) > 0 {
		// A service connection may always ask the org for a token: that is
		// how it becomes active once the admin has added its key.
		return nil
	}
	reason, remedy := c.StatusReason, c.Remedy
	switch {
	case reason == "" && c.Status == store.StatusPending:
		reason = "its authorization was never finished"
	case reason == "":
		reason = "it is " + c.Status
	}
	if remedy == "" {
		remedy = problem.Reauthorize(c.Nickname)
	}
	switch c.Status {
	case store.StatusNeedsReauthorization:
		return problem.New(problem.NeedsReauthorization, "%s", problem.NeedsReauthorizationMessage(c.Nickname, reason)).
			WithRemedy("%s", remedy).WithDetail("status", c.Status).WithDetail("connection", c.ID)
	case store.StatusPending:
		return problem.New(problem.ConnectionPending, "%s", problem.PendingMessage(c.Nickname, reason)).
			WithRemedy("%s", remedy).WithDetail("status", c.Status).WithDetail("connection", c.ID)
	}
	if problem.NotActiveCode(c.Status, neverAuthorized(c)) == problem.ConnectionPending {
		// A person's connection whose first sign-in failed: as pending.
		return problem.New(problem.ConnectionPending, "%s", problem.SignInFailedMessage(c.Nickname, reason)).
			WithRemedy("%s", remedy).WithDetail("status", c.Status).WithDetail("connection", c.ID)
	}
	msg := fmt.Sprintf("connection %q cannot be used (status %s): %s", c.Nickname, c.Status, reason)
	if c.Status == store.StatusError {
		msg = problem.InErrorMessage(c.Nickname, c.StatusReason)
	}
	return problem.New(problem.NeedsReauthorization, "%s", msg).
		WithRemedy("%s", remedy).WithDetail("status", c.Status).WithDetail("connection", c.ID)
}
