package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/store"
)

const (
	// sessionCookie names the session cookie; it holds only a random id.
	sessionCookie = "cardflow_session"
	// signinCookie holds the sign-in form's anti-forgery value before a
	// session exists (double submit), so that nobody can sign a browser in
	// to their own session from another site.
	signinCookie = "cardflow_signin"
	// csrfField is the hidden form field carrying the CSRF token.
	csrfField = "csrf"
)

// flash is a one-time message shown on the next page a session sees.
type flash struct {
	Kind    string // "ok" or "error"
	Message string
	Remedy  string
	// Flows are the flows the message is about, listed under it with a
	// link to each flow's page.
	Flows []FlowUse `json:",omitempty"`
}

// SessionStore keeps console sessions and pending single sign-ons in the
// database, so that every server accepts a session and signing out ends
// it everywhere; store.Store satisfies it.
type SessionStore interface {
	CreateSession(ctx context.Context, s *store.Session) error
	GetSession(ctx context.Context, id string) (*store.Session, error)
	TouchSession(ctx context.Context, id string, at time.Time) error
	AddSessionFlash(ctx context.Context, id string, flash json.RawMessage) error
	TakeSessionFlashes(ctx context.Context, id string) ([]json.RawMessage, error)
	DeleteSession(ctx context.Context, id string) error
	// ListSessionsOf returns the stored sessions of actor, oldest first:
	// the newest has the name pages show for the person (personNamer).
	ListSessionsOf(ctx context.Context, actor store.Actor) ([]*store.Session, error)
	DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) error
	CreateSignInRequest(ctx context.Context, r *store.SignInRequest) error
	ConsumeSignInRequest(ctx context.Context, state string) (*store.SignInRequest, error)
	DeleteExpiredSignInRequests(ctx context.Context, now time.Time) error
	StartSignIn(ctx context.Context, id string, expiresAt time.Time) error
	EndSignIn(ctx context.Context, id string) error
}

// sessionKey is the stored id of a session: the hex SHA-256 of its cookie
// value, so that the table holds no usable cookie.
func sessionKey(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(h[:])
}

// startSession stores a new session for p and sets its cookie, ending the
// browser's previous session if it had one and p's sign-in in flight
// (p.SignIn; refused when a revoke ended it, or when p.Subject is not the
// subject p's login is bound to).
//
// It returns the session, with what the sign-in lowered (Lowered).
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, p access.Principal) (*store.Session, error) {
	ctx := r.Context()
	if old, err := r.Cookie(sessionCookie); err == nil && old.Value != "" {
		if err := c.Sessions.DeleteSession(ctx, sessionKey(old.Value)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	now := c.now()
	if err := c.Sessions.DeleteExpiredSessions(ctx, now, now.Add(-c.idleTimeout())); err != nil {
		c.log.WarnContext(ctx, "console: could not remove expired sessions", slog.Any("cause", err))
	}
	id := randomString(32)
	ss := &store.Session{ID: sessionKey(id), Actor: p.Actor, Name: p.Name, Role: string(p.Role), CSRF: randomString(32),
		CreatedAt: now, ExpiresAt: now.Add(c.sessionTTL()), LastSeen: now, SignIn: p.SignIn, Subject: p.Subject, Issuer: p.Issuer}
	if err := c.Sessions.CreateSession(ctx, ss); errors.Is(err, store.ErrRevoked) {
		return nil, access.RevokedMeanwhile(err)
	} else if errors.Is(err, store.ErrSubjectTaken) {
		return nil, access.SubjectTaken(p.Actor.Login, err)
	} else if err != nil {
		return nil, err
	}
	c.setCookie(w, r, sessionCookie, id, int(c.sessionTTL().Seconds()))
	return ss, nil
}

// currentSession returns the request's live session, refreshing its idle
// timer; nil without one. Sessions that expired or sat idle too long are
// deleted.
func (c *Console) currentSession(r *http.Request) *store.Session {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	ctx := r.Context()
	ss, err := c.Sessions.GetSession(ctx, sessionKey(ck.Value))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.log.ErrorContext(ctx, "console: could not read the session", slog.Any("cause", err))
		}
		return nil
	}
	now := c.now()
	if !access.SessionLive(ss, now, c.IdleTimeout) {
		if err := c.Sessions.DeleteSession(ctx, ss.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			c.log.WarnContext(ctx, "console: could not delete an expired session", slog.Any("cause", err))
		}
		return nil
	}
	// The touch writes the last-seen time alone: the session's messages
	// may have changed since it was read, by another tab's request.
	ss.LastSeen = now
	if err := c.Sessions.TouchSession(ctx, ss.ID, now); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil // signed out meanwhile
		}
		c.log.WarnContext(ctx, "console: could not refresh the session", slog.Any("cause", err))
	}
	return ss
}

// addFlash queues a message for the session's next page. It is added on
// its own, so that a request of another tab of the session, which read
// the session before, neither drops it nor shows it twice.
func (c *Console) addFlash(ctx context.Context, ss *store.Session, f flash) {
	b, _ := json.Marshal(f) // flashes are strings, slices and bools only
	if err := c.Sessions.AddSessionFlash(ctx, ss.ID, b); err != nil {
		c.log.WarnContext(ctx, "console: could not keep a message for the next page", slog.Any("cause", err))
		return
	}
	ss.Flashes++
}

// takeFlashes returns and removes the session's queued messages; it asks
// the database only when the session had some when read (or added one
// since), so that a page without messages writes nothing more.
func (c *Console) takeFlashes(ctx context.Context, ss *store.Session) []flash {
	if ss.Flashes == 0 {
		return nil
	}
	ss.Flashes = 0
	raw, err := c.Sessions.TakeSessionFlashes(ctx, ss.ID)
	if err != nil {
		c.log.WarnContext(ctx, "console: could not take the messages for this page", slog.Any("cause", err))
		return nil
	}
	var fs []flash
	for _, b := range raw {
		var f flash
		if json.Unmarshal(b, &f) == nil {
			fs = append(fs, f)
		}
	}
	return fs
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// equalSecret compares two secrets in constant time (for equal lengths).
func equalSecret(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// sameOrigin reports whether a state-changing request comes from the
// console itself: Sec-Fetch-Site, when the browser sends it, must be
// same-origin (or none, for a typed URL); Origin, when sent, must be the
// console's own origin (the request's host, or the public URL's origin).
// Under the console's Referrer-Policy no-referrer, browsers send
// "Origin: null" even for the console's own forms, so null passes only
// together with Sec-Fetch-Site: same-origin. The CSRF token is checked
// in any case.
func (c *Console) sameOrigin(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	switch site {
	case "", "same-origin", "none":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if origin == "null" {
		return site == "same-origin"
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) && u.Scheme == c.scheme(r) {
		return true
	}
	if c.PublicURL != "" {
		pu, err := url.Parse(c.PublicURL)
		if err == nil && strings.EqualFold(pu.Host, u.Host) && pu.Scheme == u.Scheme {
			return true
		}
	}
	return false
}

// scheme is the scheme the browser used to reach the console.
func (c *Console) scheme(r *http.Request) string {
	if r.TLS != nil || strings.HasPrefix(c.PublicURL, "https://") {
		return "https"
	}
	return "http"
}

// secure reports whether cookies must carry the Secure attribute.
func (c *Console) secure(r *http.Request) bool { return c.scheme(r) == "https" }

// setCookie sets an HttpOnly, SameSite=Lax cookie valid for the whole
// console; maxAge < 0 deletes it.
func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	c.setPathCookie(w, r, name, "/", value, maxAge)
}

// setPathCookie is setCookie for the pages under path only.
func (c *Console) setPathCookie(w http.ResponseWriter, r *http.Request, name, path, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   c.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}
