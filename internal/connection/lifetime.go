package connection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// Okta's org authorization server gives a refresh token a fixed 90-day
// lifetime from the sign-in; rotation keeps that expiry and there is no
// idle expiry. So a user connection ends 90 days after its last
// (re)authorization however often it runs. cardflow reads the expiry with
// introspection after every token exchange, warns ahead of it and, once it
// has passed, stops the connection before any card call is attempted, each
// by the org's clock (orgNow; see orgclock.go).

// DefaultExpiryWarning is how long before the refresh token's expiry a
// connection is reported as expiring soon when Manager.ExpiryWarning is 0.
const DefaultExpiryWarning = 336 * time.Hour

// Notification is a message about a connection for the notifications
// outbox (for example connection.expiring). It never holds a secret.
type Notification struct {
	Kind         string    `json:"kind"`
	ConnectionID string    `json:"connectionId"`
	Nickname     string    `json:"nickname"`
	Domain       string    `json:"domain"`
	Message      string    `json:"message"`
	Remedy       string    `json:"remedy"`
	ExpiresAt    time.Time `json:"expiresAt"`
}

// Notifier queues notifications for delivery. Implementations must be safe
// for concurrent use.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

func (m *Manager) expiryWarning() time.Duration {
	if m.ExpiryWarning > 0 {
		return m.ExpiryWarning
	}
	return DefaultExpiryWarning
}

// expiresSoon reports whether c's refresh token expires within the warning
// window (and has not expired yet), by the org's clock (orgNow).
func (m *Manager) expiresSoon(c *store.Connection) bool {
	if c.Auth == store.AuthService || c.RefreshTokenExpiresAt.IsZero() {
		return false
	}
	left := c.RefreshTokenExpiresAt.Sub(m.orgNow(c))
	return left > 0 && left <= m.expiryWarning()
}

// refreshExpired reports whether c's refresh token has reached its expiry
// by the org's clock (orgNow).
func (m *Manager) refreshExpired(c *store.Connection) bool {
	return c.Auth != store.AuthService && !c.RefreshTokenExpiresAt.IsZero() && !m.orgNow(c).Before(c.RefreshTokenExpiresAt)
}

const dateFormat = "2006-01-02"

// refreshLifetime is how long Okta's org authorization server lets a
// refresh token live from the sign-in.
const refreshLifetime = 90 * 24 * time.Hour

// refreshEnd is when c's refresh token ends: the expiry the org told, else
// 90 days from the sign-in, which is the org's time too (the ID token's
// iat); zero when neither is known.
func refreshEnd(c *store.Connection) time.Time {
	switch {
	case c.Auth == store.AuthService:
		return time.Time{}
	case !c.RefreshTokenExpiresAt.IsZero():
		return c.RefreshTokenExpiresAt
	case !c.AuthorizedAt.IsZero():
		return c.AuthorizedAt.Add(refreshLifetime)
	}
	return time.Time{}
}

// expiredReason names the 90-day limit and the sign-in that started it.
func expiredReason(c *store.Connection) string {
	signIn := "the last sign-in"
	if !c.AuthorizedAt.IsZero() {
		signIn = "the sign-in on " + c.AuthorizedAt.UTC().Format(dateFormat)
		if c.AuthorizedLogin != "" {
			signIn += " (as " + c.AuthorizedLogin + ")"
		}
	}
	return fmt.Sprintf("the refresh token expired on %s: Okta gives a refresh token 90 days from %s, and refreshing does not extend it",
		refreshEnd(c).UTC().Format(dateFormat), signIn)
}

// expiredRemedy is the remedy of a connection whose refresh token expired.
func expiredRemedy(nickname string) string {
	return problem.Reauthorize(nickname) + ": a new sign-in starts a new 90 days; for unattended flows consider a service connection (auth \"service\"), which has no 90-day limit"
}

// expire marks c needs_reauthorization because its refresh token reached
// its expiry, and returns the problem to report. Of several callers that
// read c while it was active (every server's expiry check, card runs
// starting together), the one whose update moves it records the audit
// event.
func (m *Manager) expire(ctx context.Context, c *store.Connection) error {
	reason := expiredReason(c)
	moved := false
	stored := m.updateIfToken(ctx, c.ID, c.SealedRefreshToken, func(cur *store.Connection) {
		// A connection waiting for its account's admin role waits no
		// more: no role brings back a refresh token that ended.
		moved = cur.Status != store.StatusNeedsReauthorization || awaitsRole(cur)
		if !moved {
			return // another caller was first; its reason stays
		}
		cur.Status, cur.StatusReason, cur.Remedy, cur.StatusReasonCode = store.StatusNeedsReauthorization, reason, expiredRemedy(c.Nickname), store.ReasonRefreshTokenExpired
		cur.RefreshStartedAt = time.Time{}
	})
	if stored != nil && moved {
		m.log.WarnContext(ctx, "connection needs reauthorization", "connection", c.ID, "reason", reason)
		m.audit(ctx, store.AuditEvent{Actor: store.ServerActor, Action: store.ActionConnectionExpired, ConnectionID: c.ID, ActingAs: c.AuthorizedLogin,
			InputSummary: "refresh token expired " + timetext.Format(refreshEnd(c))}, nil)
	}
	return problem.New(problem.NeedsReauthorization, "%s", problem.NeedsReauthorizationMessage(c.Nickname, reason)).
		WithRemedy("%s", expiredRemedy(c.Nickname)).WithDetail("status", store.StatusNeedsReauthorization).WithDetail("connection", c.ID)
}

// introspectExpiry asks the org when refresh token rt expires (RFC 7662;
// Okta answers exp for refresh tokens). It returns the zero time when the
// org answers without an exp. Whatever the answer, its Date tells the
// org's clock (seen, when ok; see OrgClockOffset).
func (m *Manager) introspectExpiry(ctx context.Context, c *store.Connection, secret, rt string) (exp time.Time, seen orgClockSeen, ok bool, err error) {
	ictx, cancel := context.WithTimeout(ctx, tokenCallTimeout)
	defer cancel()
	sent := m.now()
	resp, err := m.postIntrospect(ictx, c.Domain, c.ClientID, secret, rt, "refresh_token")
	if err != nil {
		return time.Time{}, seen, false, errors.New(transportCause(err))
	}
	seen, ok = seeOrgClock(resp.Header, sent, m.now())
	defer func() { _ = resp.Body.Close() }()
	body, _ := ReadCapped(resp.Body, 64<<10)
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, seen, ok, fmt.Errorf("introspection answered HTTP %d", resp.StatusCode)
	}
	var v struct {
		Active bool  `json:"active"`
		Exp    int64 `json:"exp"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return time.Time{}, seen, ok, errors.New("introspection answered something that is not JSON")
	}
	if !v.Active {
		return time.Time{}, seen, ok, errors.New("introspection says the refresh token is not active")
	}
	if v.Exp <= 0 {
		return time.Time{}, seen, ok, nil
	}
	return time.Unix(v.Exp, 0).UTC(), seen, ok, nil
}

// noteRefreshExpiry reads the expiry of the refresh token just committed to
// connection id and stores it (best effort: a failure is logged and the
// previous value stays, which rotation does not change anyway; when there
// is none, learnExpiry asks again).
func (m *Manager) noteRefreshExpiry(ctx context.Context, id string, sealedRT []byte, secret, rt string) {
	c, err := m.Store.GetConnection(ctx, id)
	if err != nil {
		return
	}
	m.askExpiry(ctx, c, sealedRT, secret, rt)
}

// askExpiry introspects refresh token rt, stored sealed as sealedRT in c,
// and stores the expiry the org answers while c still holds that token.
// When the org does not say and c has no expiry yet, the question is
// asked again later (learnExpiry), after a wait that grows with each
// unanswered one.
func (m *Manager) askExpiry(ctx context.Context, c *store.Connection, sealedRT []byte, secret, rt string) {
	exp, seen, ok, err := m.introspectExpiry(ctx, c, secret, rt)
	if ok {
		m.noteOrgClock(ctx, c.ID, c.OrgClockOffset, seen)
	}
	if err != nil || exp.IsZero() {
		if err != nil {
			m.log.WarnContext(ctx, "could not read the refresh token's expiry", "connection", c.ID, "error", err)
		}
		if c.RefreshTokenExpiresAt.IsZero() {
			m.expiryUnanswered(c.ID)
		}
		return
	}
	m.expiryReset(c.ID)
	if exp.Equal(c.RefreshTokenExpiresAt) {
		return
	}
	m.updateIfToken(ctx, c.ID, sealedRT, func(c *store.Connection) {
		if !exp.Equal(c.RefreshTokenExpiresAt) {
			c.RefreshTokenExpiresAt, c.ExpiryNotifiedAt = exp, time.Time{}
		}
	})
}

// Asking the org again for a refresh token's expiry it did not tell (at
// the sign-in or after a refresh: introspection failed): the first time
// at the connection's next use or expiry check, then after
// expiryRetryFirst, doubling up to expiryRetryMax.
const (
	expiryRetryFirst = time.Minute
	expiryRetryMax   = time.Hour
	// expiryAskTimeout bounds the question when a card run is waiting.
	expiryAskTimeout = 5 * time.Second
)

// expiryRetry is when an unknown expiry may be asked for again, and how
// long the wait after the next unanswered question is.
type expiryRetry struct {
	next time.Time
	wait time.Duration
}

// expiryUnanswered records that the org did not tell connection id's
// refresh token expiry.
func (m *Manager) expiryUnanswered(id string) {
	m.expiryMu.Lock()
	defer m.expiryMu.Unlock()
	if m.expiryRetry == nil {
		m.expiryRetry = map[string]expiryRetry{}
	}
	wait := max(m.expiryRetry[id].wait, expiryRetryFirst)
	m.expiryRetry[id] = expiryRetry{next: m.now().Add(wait), wait: min(2*wait, expiryRetryMax)}
}

// expiryReset forgets the waits of connection id's expiry question: it
// was answered, or a new sign-in left it unanswered, to be asked at the
// connection's next use.
func (m *Manager) expiryReset(id string) {
	m.expiryMu.Lock()
	delete(m.expiryRetry, id)
	m.expiryMu.Unlock()
}

// expiryDue reports whether c is an active user connection whose refresh
// token expiry is unknown and may be asked for now.
func (m *Manager) expiryDue(c *store.Connection) bool {
	if c.Auth == store.AuthService || c.Status != store.StatusActive || !c.RefreshTokenExpiresAt.IsZero() || len(c.SealedRefreshToken) == 0 {
		return false
	}
	m.expiryMu.Lock()
	r := m.expiryRetry[c.ID]
	m.expiryMu.Unlock()
	return !m.now().Before(r.next)
}

// learnExpiry asks the org, when due (expiryDue), for the expiry of c's
// refresh token that it did not tell at the sign-in or the last refresh,
// and stores it. It introspects the stored refresh token, which neither
// spends nor rotates it; it never presents it to the token endpoint.
// Concurrent callers share one question.
func (m *Manager) learnExpiry(ctx context.Context, c *store.Connection, timeout time.Duration) {
	if !m.expiryDue(c) {
		return
	}
	_, _, _ = m.flights.Do(c.ID+"/expiry", func() (any, error) {
		c, err := m.Store.GetConnection(ctx, c.ID)
		if err != nil || !m.expiryDue(c) {
			return nil, nil // learnt or asked meanwhile, or gone
		}
		rt, err := m.Keyring.Open(c.SealedRefreshToken, sealedAAD(c.ID, fieldRefreshToken))
		if err != nil {
			return nil, nil // the refresh says so
		}
		secret, err := m.Keyring.Open(c.SealedClientSecret, sealedAAD(c.ID, fieldClientSecret))
		if err != nil {
			return nil, nil
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		m.askExpiry(actx, c, c.SealedRefreshToken, string(secret), string(rt))
		return nil, nil
	})
}

// CheckExpiries looks at every user connection's refresh token expiry:
// an expired active one becomes needs_reauthorization (with the reason and
// remedy), one expiring within the warning window gets one
// connection.expiring notification per sign-in, sent by whichever server
// records it first, and one whose expiry the org did not tell is asked
// for it again (learnExpiry). Call it periodically (the server does every minute).
func (m *Manager) CheckExpiries(ctx context.Context) error {
	m.init()
	cs, err := m.Store.ListConnections(ctx)
	if err != nil {
		return internal("list connections", err)
	}
	for _, c := range cs {
		switch {
		case c.Status != store.StatusActive:
		case m.expiryDue(c):
			m.learnExpiry(ctx, c, tokenCallTimeout)
		case m.refreshExpired(c):
			_ = m.expire(ctx, c)
		case m.expiresSoon(c) && c.ExpiryNotifiedAt.IsZero():
			m.notifyExpiring(ctx, c)
		}
	}
	return nil
}

// timeLeft says how long d, the time left before a refresh token ends,
// is: in whole days, or in hours when under two days are left.
func timeLeft(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("in %d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("in %d hours", int(d.Hours()))
	}
	return "within two hours"
}

// errAlreadyNotified: another server recorded the warning first.
var errAlreadyNotified = errors.New("the expiry warning already went out")

// notifyExpiring records that c's warning went out (in the connection's
// locked update, so of several servers only one sends it) and sends it.
func (m *Manager) notifyExpiring(ctx context.Context, c *store.Connection) {
	err := m.Store.UpdateConnection(ctx, c.ID, func(cur *store.Connection) error {
		if !cur.ExpiryNotifiedAt.IsZero() || !cur.RefreshTokenExpiresAt.Equal(c.RefreshTokenExpiresAt) {
			return errAlreadyNotified
		}
		cur.ExpiryNotifiedAt = m.now()
		return nil
	})
	if err != nil {
		if !errors.Is(err, errAlreadyNotified) && !errors.Is(err, store.ErrNotFound) {
			m.log.ErrorContext(ctx, "cannot record the expiry warning", "connection", c.ID, "error", err)
		}
		return
	}
	n := Notification{Kind: "connection.expiring", ConnectionID: c.ID, Nickname: c.Nickname, Domain: c.Domain, ExpiresAt: c.RefreshTokenExpiresAt.UTC(),
		Message: fmt.Sprintf("connection %q stops working on %s (%s): Okta's refresh tokens end 90 days after the sign-in on %s",
			c.Nickname, c.RefreshTokenExpiresAt.UTC().Format(dateFormat), timeLeft(c.RefreshTokenExpiresAt.Sub(m.orgNow(c))), c.AuthorizedAt.UTC().Format(dateFormat)),
		Remedy: problem.Reauthorize(c.Nickname) + " before then; a new sign-in starts a new 90 days"}
	m.log.WarnContext(ctx, "connection expiring", "connection", c.ID, "expiresAt", n.ExpiresAt)
	m.audit(ctx, store.AuditEvent{Actor: store.ServerActor, Action: store.ActionConnectionExpiring, ConnectionID: c.ID, ActingAs: c.AuthorizedLogin,
		InputSummary: "refresh token expires " + timetext.Format(n.ExpiresAt)}, nil)
	if m.Notifier != nil {
		if err := m.Notifier.Notify(ctx, n); err != nil {
			m.log.ErrorContext(ctx, "cannot queue the expiry notification", "connection", c.ID, "error", err)
		}
	}
}
