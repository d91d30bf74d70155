package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// Server serves cardflow's HTTP surface. Fill in the fields, then serve
// Handler(). A nil service field leaves its endpoints answering 404; a nil
// APIToken refuses every API token. Safe for concurrent use once
// Handler has been called; the fields must not change afterwards.
type Server struct {
	// Connections manages connections (internal/connection.Manager).
	Connections Connections
	// Cards lists connectors and runs cards (internal/card).
	Cards Cards
	// Flows stores, validates, plans and runs flows.
	Flows Flows
	// History reads run history and the audit log (the store).
	History History
	// EventHolds, when set, says why the events that wait in the inbox
	// wait (the events list's waitingCode and waitingReason).
	EventHolds EventHolds
	// Events reads the event inbox (the store); nil answers 404.
	Events Events
	// DefaultDelivery is the delivery of an event trigger that names none
	// (flow.DeliveryHookPoll or flow.DeliveryPoll); empty means poll. The
	// flows list reads from it whether such a flow still gets events while
	// its connection's System Log polls fail.
	DefaultDelivery string
	// Notifications tests the notification receivers; nil answers 404.
	Notifications Notifications
	// Hooks serves the Okta event hook endpoint under /hooks/okta/
	// (outside the API token: Okta authenticates with the hook's own
	// secret); nil answers 404.
	Hooks http.Handler

	// APIToken checks the API token (the bootstrap admin's). Requests to
	// /api/ (and to /metrics unless PublicMetrics) must send
	// "Authorization: Bearer TOKEN" with it or a personal API token.
	APIToken *access.APIToken
	// Tokens checks and manages personal API tokens; nil accepts only the
	// API token and leaves /api/v1/tokens answering 404.
	Tokens *access.Tokens
	// People lists who has access and ends a person's access at once
	// (/api/v1/people); nil, or a nil Tokens, leaves it answering 404.
	People *access.People
	// SSO, when set, lets cardflow login exchange a single sign-on for a
	// personal API token (/api/v1/auth/...); it needs Tokens.
	SSO SSO
	// Limiter slows down guessing of API tokens per client address; nil
	// means 20 failures a minute per address.
	Limiter *access.Limiter
	// Metrics serves /metrics (a promhttp handler); nil answers 404.
	Metrics http.Handler
	// PublicMetrics lets /metrics be scraped without the API token.
	PublicMetrics bool
	// Health reports whether the server can do its work (store reachable,
	// keyring sealing); nil means always healthy.
	Health func(ctx context.Context) error
	// Console serves the web console at "/" (everything outside /api/,
	// /oauth/callback, /metrics and /healthz); nil answers 404.
	Console http.Handler

	// Logger receives request and error logs; nil discards them. Every line
	// logged through it with a request's context carries the request id.
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies; 0 means 1 MiB.
	MaxBodyBytes int64
	// BodyTimeout bounds the time from a request's headers to the end of
	// its body, so that a client sending its body slowly, or never, does
	// not hold a connection for as long as it likes; 0 means
	// DefaultBodyTimeout.
	BodyTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	log *slog.Logger
	api *Mux
}

// DefaultBodyTimeout is the time a client has to send a request's body
// (1 MiB at 300 kbit/s).
const DefaultBodyTimeout = 30 * time.Second

// apiMethods are tried to tell "405 method not allowed" from "404".
var apiMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// Handler returns the server's root handler. Call it once.
func (s *Server) Handler() http.Handler {
	lg := s.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	if _, ok := lg.Handler().(ContextHandler); !ok {
		lg = slog.New(ContextHandler{lg.Handler()})
	}
	s.log = lg

	if s.Limiter == nil {
		s.Limiter = &access.Limiter{}
	}
	s.api = NewMux()
	s.routes(s.api)

	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", s.healthz)
	root.HandleFunc("GET /metrics", s.metrics)
	if s.Connections != nil {
		root.HandleFunc("GET /oauth/callback", s.oauthCallback)
	}
	root.Handle("/api/", s.authAPI(apiFallback(s.api.ServeMux, s)))
	if s.Hooks != nil {
		root.Handle("/hooks/okta/", s.Hooks)
	}
	if s.Console != nil {
		root.Handle("/", s.Console)
	}
	return s.middleware(root)
}

// apiFallback serves mux, answering unknown paths and methods with JSON
// errors instead of the mux's plain text.
func apiFallback(mux *http.ServeMux, s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			if err := checkQuery(pattern, r); err != nil {
				// Refused before its handler, which audits the
				// request whatever its outcome.
				if action, ok := changeAction(pattern); ok {
					if p, ok := PrincipalOf(r.Context()); ok {
						s.audit(r, RefusalEvent(r, p, action), err)
					}
				}
				s.writeError(w, r, err)
				return
			}
			mux.ServeHTTP(w, r)
			return
		}
		var allowed []string
		for _, m := range apiMethods {
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, p := mux.Handler(r2); p != "" {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, api.ErrorBody{Error: api.Error{
				Code:    string(problem.InvalidInput),
				Message: r.Method + " is not allowed on " + access.RedactTokens(r.URL.Path) + "; use " + strings.Join(allowed, " or "),
				Details: map[string]any{"remedy": "use " + strings.Join(allowed, " or ")},
			}})
			return
		}
		s.writeError(w, r, problem.New(problem.NotFound, "no API endpoint %s %s", r.Method, access.RedactTokens(r.URL.Path)).
			WithRemedy("check the path; the README lists the API's endpoints"))
	})
}

// statusWriter remembers the status code for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware gives every request an id (echoed in X-Request-Id), bounds
// the time its body takes to arrive (bodyDeadline), logs it without its
// query string (which may carry OAuth codes), and turns panics into
// internal errors.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		s.bodyDeadline(w, r)
		id := newRequestID()
		ctx := WithRequestID(r.Context(), id)
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", id)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(ctx, "panic serving request", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				if sw.status == 0 {
					s.writeError(sw, r, problem.New(problem.Internal, "panic"))
				}
			}
			s.log.InfoContext(ctx, "http request",
				slog.String("method", r.Method),
				slog.String("path", access.RedactTokens(r.URL.Path)),
				slog.Int("status", sw.status),
				slog.Duration("duration", s.now().Sub(start)))
		}()
		next.ServeHTTP(sw, r)
	})
}

// bodyDeadline gives a request with a body BodyTimeout to send it: the
// connection's read deadline, which ReadHeaderTimeout leaves unset once the
// headers are in, is set now and cleared when the body ends. Without it a
// client (signed in or not: the sign-in form, a hook's URL and every
// request the server answers without reading its body, which net/http
// reads to its end first) could send its headers and then a byte a minute
// and hold the connection forever; with as many connections, no one else
// gets one. The deadline is cleared at the body's end, not kept for the
// whole request, because net/http then reads the connection in the
// background and would cancel the request of a handler still at work (a
// flow run waited for) when it passed.
func (s *Server) bodyDeadline(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return
	}
	d := s.BodyTimeout
	if d <= 0 {
		d = DefaultBodyTimeout
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(d)) != nil {
		return
	}
	r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
}

// deadlineBody clears the connection's read deadline when its body ends.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// CheckToken reports whether token is the API token (as the database
// holds it now: one replaced on another server no longer is).
func (s *Server) CheckToken(ctx context.Context, token string) (bool, error) {
	return s.APIToken.Check(ctx, token)
}

// APIRoutes returns the patterns of the API's routes (after Handler).
func (s *Server) APIRoutes() []string { return s.api.Patterns() }

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// authAPI authenticates the request's bearer token and checks the role
// its route needs in routeRoles: the one place where the API's
// permissions are enforced.
func (s *Server) authAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pattern := s.api.pattern(r)
		need, known := RoleFor(pattern)
		if pattern != "" && !known {
			s.log.ErrorContext(r.Context(), "route has no role in the role table; refusing it", slog.String("route", pattern))
			s.writeError(w, r, problem.New(problem.Internal, "route %s has no role", pattern))
			return
		}
		if pattern != "" && need == access.Anyone {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if pattern != "" && !p.Role.Allows(need) {
			err := Forbidden(p, need)
			if action, ok := ActionFor(pattern); ok {
				e := RefusalEvent(r, p, action)
				e.ConnectionID = s.refusedConnection(w, r, pattern, action)
				s.audit(r, e, err)
			}
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// refusedConnection returns the id of the connection a request refused
// for lack of role is about, for its audit event: the {id} of a
// connection's route, or the connection a card run's body names, read from
// the body (which, refused, is read for nothing else); a nickname is
// resolved as everywhere else. It is "" for a request about no connection,
// or about one that no connection is (an id of a deleted one stays, as its
// history does).
func (s *Server) refusedConnection(w http.ResponseWriter, r *http.Request, pattern, action string) string {
	var named string
	switch {
	case connectionRoute(pattern):
		named = pathValue(pattern, r.URL, "id")
	case action == store.ActionCardRun:
		var body struct {
			Connection string `json:"connection"`
		}
		if json.NewDecoder(http.MaxBytesReader(w, r.Body, s.maxBody())).Decode(&body) == nil {
			named = body.Connection
		}
	}
	if named == "" || s.Connections == nil {
		return ""
	}
	id, err := s.connectionFilter(r, named)
	if err != nil {
		return ""
	}
	return id
}

// Forbidden is the error for a principal whose role is below need. No
// admin can give a role: a token keeps the one it was created with, and a
// person has the one their identity provider's groups give at sign-in.
func Forbidden(p access.Principal, need access.Role) error {
	remedy := fmt.Sprintf("ask a cardflow admin to do it; to have the %s role yourself, ask your identity provider's administrator to put you in a group that gives it, then sign in again: roles come from those groups at sign-in", need)
	if p.Actor.Type == store.ActorToken {
		remedy = fmt.Sprintf("a token keeps the role it was created with: use a token of the %[1]s role, created by someone who has it (cardflow tokens create --role %[1]s), or ask a cardflow admin to do it", need)
	}
	return problem.New(problem.Forbidden, "this needs the %s role; %s has the %s role", need, describe(p), p.Role).
		WithRemedy("%s", remedy).WithDetail("requiredRole", string(need))
}

// describe names a principal in a message.
func describe(p access.Principal) string {
	if s := p.Actor.String(); s != "" {
		return s
	}
	return "the caller"
}

// allowAddr checks the request's client address against the limit on
// wrong API tokens: a refused address gets a rate_limited problem. It
// returns the address and the time to count a failure with.
func (s *Server) allowAddr(r *http.Request) (string, time.Time, error) {
	addr, now := s.Limiter.ClientAddr(r), s.now()
	if ok, wait := s.Limiter.Allow(addr, now); !ok {
		return addr, now, s.lockedOut(r, addr, now, wait, "then try again with the right token")
	}
	return addr, now, nil
}

// lockedOut is the problem of a request from addr, refused at now for wait
// more because of the failures the limiter counted against it, which it
// names (wrong API tokens, single sign-ons refused, both); then says what
// to do after the wait.
func (s *Server) lockedOut(r *http.Request, addr string, now time.Time, wait time.Duration, then string) error {
	what := s.Limiter.Refusals(addr, now)
	s.log.WarnContext(r.Context(), "too many "+what.String()+" from this address; refusing for a while", slog.String("client", addr))
	wait, until := RefusedUntil(now, wait)
	return problem.New(problem.RateLimited, "too many %s from your address", what).
		WithRemedy("wait %s (until %s): every request and sign-in from your address is refused until then, even with the right token; %s", wait, until.Format(UntilLayout), then).
		WithDetail("refusedUntil", until.Format(time.RFC3339))
}

// RefusedUntil is when an address refused for wait from now may try again,
// rounded up to the whole second as UntilLayout writes it, and the wait,
// rounded up to the second (as Retry-After gives it): rounded down, either
// would send a client that waits as told back to be refused once more.
// Rounding the wait alone wrote a time up to a second before the refusal's
// end, and another second at each request, as now's fraction of a second
// went; the wait is rounded on its own, so that a minute's refusal says to
// wait 1m0s, not the 1m1s to the rounded time.
func RefusedUntil(now time.Time, wait time.Duration) (time.Duration, time.Time) {
	until := now.Add(wait)
	if t := until.Truncate(time.Second); !t.Equal(until) {
		until = t.Add(time.Second)
	}
	if r := wait % time.Second; r != 0 {
		wait += time.Second - r
	}
	return wait, until.UTC()
}

// UntilLayout writes the time a refused address may try again.
const UntilLayout = "15:04:05 UTC"

// authenticate returns the principal of the request's bearer token: the
// API token (the bootstrap admin) or a live personal API token. Wrong
// tokens count against the client address's limit.
func (s *Server) authenticate(r *http.Request) (access.Principal, error) {
	addr, now, err := s.allowAddr(r)
	if err != nil {
		return access.Principal{}, err
	}
	tok := bearer(r)
	if tok == "" {
		return access.Principal{}, problem.New(problem.Unauthenticated, "this needs an API token").
			WithRemedy("send the header \"Authorization: Bearer <token>\" with a personal API token (cardflow login, or cardflow tokens create) or the server's API token (printed when the server first started, and in the data directory's api-token file)")
	}
	if s.Tokens != nil && strings.HasPrefix(tok, access.TokenPrefix) {
		p, err := s.Tokens.Authenticate(r.Context(), tok)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, access.ErrBadToken) {
			return access.Principal{}, err
		}
		var expired *access.ExpiredError
		if errors.As(err, &expired) {
			// A real token, not a guess: it does not count against the
			// address, and its holder learns what happened to it.
			return access.Principal{}, problem.New(problem.Unauthenticated, "the personal API token %q expired on %s",
				expired.Name, timetext.Format(expired.ExpiresAt)).
				WithRemedy("create a new token (cardflow tokens create, or Tokens in the console) or sign in again (cardflow login), and use it instead")
		}
	}
	// A personal token's prefix spares its requests this read; an API
	// token set with CARDFLOW_API_TOKEN may have any form, so a token with
	// that prefix which is no personal one is checked here too.
	ok, err := s.CheckToken(r.Context(), tok)
	if err != nil {
		return access.Principal{}, err
	}
	if ok {
		return access.Bootstrap, nil
	}
	const remedy = "send the header \"Authorization: Bearer <token>\" with a personal API token (cardflow login, or cardflow tokens create) or the server's API token (printed when the server first started, and in the data directory's api-token file)"
	if wait := s.Limiter.Fail(addr, now, access.WrongToken); wait > 0 {
		// This failure used up the address's limit: the right token is
		// refused as well until it ends.
		wait, until := RefusedUntil(now, wait)
		return access.Principal{}, problem.New(problem.Unauthenticated, "missing, wrong, expired or revoked API token, one too many from your address").
			WithRemedy("wait %s (until %s): every request from your address is refused until then, even with the right token; then %s", wait, until.Format(UntilLayout), remedy).
			WithDetail("refusedUntil", until.Format(time.RFC3339))
	}
	if s.Tokens != nil && strings.HasPrefix(tok, access.TokenPrefix) {
		// A personal token's form, and no token has it: an expired one
		// would have been found (above), so it was revoked, or mistyped.
		return access.Principal{}, problem.New(problem.Unauthenticated, "the personal API token (%s…) is not known to this server: it was revoked (by its owner, an admin, a logout or a new cardflow login), or it is mistyped", access.TokenPrefix).
			WithRemedy("create a new token (cardflow tokens create, or Tokens in the console) or sign in again (cardflow login), and use it instead; check that the token was copied whole")
	}
	return access.Principal{}, problem.New(problem.Unauthenticated, "missing, wrong, expired or revoked API token").WithRemedy("%s", remedy)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.Health != nil {
		if err := s.Health(r.Context()); err != nil {
			// The work that meets the cause logs it, once (outage.Log);
			// a load balancer's probe every few seconds would repeat it.
			s.log.DebugContext(r.Context(), "health check failed", slog.Any("cause", err))
			writeJSON(w, http.StatusServiceUnavailable, api.Health{Status: "unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.Metrics == nil {
		http.NotFound(w, r)
		return
	}
	if s.PublicMetrics {
		s.Metrics.ServeHTTP(w, r)
		return
	}
	// Any token of the API lets a scraper in, a viewer's too (metrics
	// hold no secret), so the bootstrap admin's token need not sit in a
	// scraper's configuration. Wrong tokens count against the client
	// address as on the API, so /metrics is no way around the limit on
	// guessing the token.
	if _, err := s.authenticate(r); err != nil {
		if problem.CodeOf(err) == problem.Unauthenticated {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cardflow"`)
		}
		s.writeError(w, r, err)
		return
	}
	s.Metrics.ServeHTTP(w, r)
}
