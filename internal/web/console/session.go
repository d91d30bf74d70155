package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
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
	// maxSessions bounds the session table; the oldest sessions go first.
	maxSessions = 10000
)

// flash is a one-time message shown on the next page a session sees.
type flash struct {
	Kind    string // "ok" or "error"
	Message string
	Remedy  string
}

// session is one signed-in browser. Its fields are guarded by sessions.mu.
type session struct {
	csrf     string
	created  time.Time
	expires  time.Time
	lastSeen time.Time
	flashes  []flash
}

// sessions is the in-memory session table, keyed by the SHA-256 of the
// session id so that the map never holds a usable cookie value.
type sessions struct {
	mu sync.Mutex
	m  map[[32]byte]*session
}

func newSessions() *sessions { return &sessions{m: map[[32]byte]*session{}} }

func sessionKey(id string) [32]byte { return sha256.Sum256([]byte(id)) }

// create starts a session and returns its id (the cookie value).
func (s *sessions) create(now time.Time, ttl time.Duration) (string, *session) {
	id := randomString(32)
	ss := &session{csrf: randomString(32), created: now, expires: now.Add(ttl), lastSeen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	s.m[sessionKey(id)] = ss
	return id, ss
}

// get returns the live session with id, refreshing its idle timer; it
// forgets sessions that expired or sat idle longer than idle.
func (s *sessions) get(id string, now time.Time, idle time.Duration) *session {
	if id == "" {
		return nil
	}
	k := sessionKey(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[k]
	if ss == nil {
		return nil
	}
	if !now.Before(ss.expires) || now.Sub(ss.lastSeen) > idle {
		delete(s.m, k)
		return nil
	}
	ss.lastSeen = now
	return ss
}

// csrfToken returns the session's CSRF token.
func (s *sessions) csrfToken(ss *session) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ss.csrf
}

// delete ends the session with id.
func (s *sessions) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sessionKey(id))
}

// addFlash queues a message for the session's next page.
func (s *sessions) addFlash(ss *session, f flash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss.flashes = append(ss.flashes, f)
}

// takeFlashes returns and clears the session's queued messages.
func (s *sessions) takeFlashes(ss *session) []flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := ss.flashes
	ss.flashes = nil
	return f
}

// pruneLocked drops expired sessions and, past maxSessions, the oldest.
func (s *sessions) pruneLocked(now time.Time) {
	for k, ss := range s.m {
		if !now.Before(ss.expires) {
			delete(s.m, k)
		}
	}
	for len(s.m) >= maxSessions {
		var oldest [32]byte
		var at time.Time
		for k, ss := range s.m {
			if at.IsZero() || ss.created.Before(at) {
				oldest, at = k, ss.created
			}
		}
		delete(s.m, oldest)
	}
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
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   c.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// currentSession returns the request's live session and its id.
func (c *Console) currentSession(r *http.Request) (string, *session) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", nil
	}
	ss := c.sessions.get(ck.Value, c.now(), c.idleTimeout())
	if ss == nil {
		return "", nil
	}
	return ck.Value, ss
}

// signinLimiter slows down guessing of the API token: at most signinBurst
// failed sign-ins per window from one client address (for IPv6, one /64),
// so that someone else's guesses never lock the administrator out. Behind
// a proxy every client has the proxy's address; the limit then holds for
// all of them together. The zero value is ready to use.
type signinLimiter struct {
	mu     sync.Mutex
	byAddr map[string]*signinWindow
}

// signinWindow counts one address's failures since start.
type signinWindow struct {
	start  time.Time
	failed int
}

const (
	signinWindowLen = time.Minute
	signinBurst     = 20
	// signinMaxAddrs bounds the addresses remembered at once.
	signinMaxAddrs = 10000
)

// allow reports whether another sign-in attempt from addr may be checked
// now.
func (l *signinLimiter) allow(addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.byAddr[addr]
	return w == nil || now.Sub(w.start) >= signinWindowLen || w.failed < signinBurst
}

// fail records a failed attempt from addr.
func (l *signinLimiter) fail(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byAddr == nil {
		l.byAddr = map[string]*signinWindow{}
	}
	w := l.byAddr[addr]
	if w == nil {
		if len(l.byAddr) >= signinMaxAddrs {
			l.forget(now)
		}
		w = &signinWindow{start: now}
		l.byAddr[addr] = w
	}
	if now.Sub(w.start) >= signinWindowLen {
		w.start, w.failed = now, 0
	}
	w.failed++
}

// forget drops the windows that have ended, and when none has, one
// arbitrary address, to make room. Called with mu held.
func (l *signinLimiter) forget(now time.Time) {
	for a, w := range l.byAddr {
		if now.Sub(w.start) >= signinWindowLen {
			delete(l.byAddr, a)
		}
	}
	for a := range l.byAddr {
		if len(l.byAddr) < signinMaxAddrs {
			break
		}
		delete(l.byAddr, a)
	}
}

// clientAddr is the address the sign-in limit counts r against: the
// connection's IP address, an IPv6 address cut to its /64 (one site's
// network). Forwarding headers are not read: any client could write them.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
