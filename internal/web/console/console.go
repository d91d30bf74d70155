package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/web"
)

//go:embed static
var staticFS embed.FS

// Connections is what the console needs of connections;
// *connection.Manager satisfies it.
type Connections interface {
	Create(ctx context.Context, in connection.CreateInput, actor store.Actor) (*connection.View, string, error)
	Reauthorize(ctx context.Context, idOrNickname string, sel *connection.ScopeSelection, actor store.Actor) (string, error)
	Get(ctx context.Context, idOrNickname string) (*connection.View, error)
	List(ctx context.Context) ([]*connection.View, error)
	// ListPage returns one page of the connections by nickname ignoring
	// case, then id.
	ListPage(ctx context.Context, p store.NamePage) ([]*connection.View, error)
	Test(ctx context.Context, idOrNickname string, actor store.Actor) (*connection.TestResult, error)
	DeleteWithResult(ctx context.Context, idOrNickname string, actor store.Actor) (*connection.DeleteResult, error)
	CreateService(ctx context.Context, in connection.ServiceInput, actor store.Actor) (*connection.View, json.RawMessage, error)
	Update(ctx context.Context, idOrNickname string, in connection.UpdateInput, actor store.Actor) (*connection.View, error)
	RotateKey(ctx context.Context, idOrNickname, alg string, actor store.Actor) (*connection.View, json.RawMessage, error)
}

// ConnectionUsers names the enabled flows that use a connection: they run
// on their own, so deleting the connection breaks them unnoticed. The app
// implements it with the rule the API's deletion warning uses.
type ConnectionUsers interface {
	// EnabledFlowsUsing lists the enabled flows whose event trigger or
	// steps name the connection (by id or nickname), by name.
	EnabledFlowsUsing(ctx context.Context, connectionID string) ([]FlowUse, error)
}

// FlowUse is an enabled flow that uses a connection, and what of it does.
type FlowUse struct {
	ID, Name string
	// Trigger is true when the flow's event trigger names the connection.
	Trigger bool
	// Steps are the ids of the flow's steps that name the connection.
	Steps []string
}

// Runs reads card-run history; store.Store satisfies it.
type Runs interface {
	GetRun(ctx context.Context, id string) (*store.Run, error)
	ListRuns(ctx context.Context, f store.RunFilter) ([]*store.Run, error)
}

// Audit records and lists audit events; store.Store satisfies it.
type Audit interface {
	AppendAudit(ctx context.Context, e *store.AuditEvent) error
	ListAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditEvent, error)
}

// Sealer seals and opens small secrets (the PKCE verifiers of pending
// sign-ins); *keyring.Keyring satisfies it.
type Sealer interface {
	Seal(plaintext []byte, aad string) ([]byte, error)
	Open(ciphertext []byte, aad string) ([]byte, error)
}

// Console serves the web console. Fill in the fields, then serve
// Handler(). Sessions is required; CheckToken nil refuses every API token
// sign-in; a nil Connections, Cards, Runs or Flows leaves those pages out. Safe for concurrent use once Handler has
// been called; the fields must not change afterwards.
type Console struct {
	// Connections manages connections.
	Connections Connections
	// Catalog describes the connectors, their scopes and cards.
	Catalog Catalog
	// Cards runs cards; nil hides "Run a card".
	Cards Cards
	// Runs reads run history; nil hides the run pages.
	Runs Runs
	// Flows reads flows and flow runs; nil hides the flow pages.
	Flows Flows
	// FlowRunner plans and starts flows from the console; nil shows flows
	// and their runs read-only.
	FlowRunner FlowRunner
	// Events reads the event inbox and each connection's event hook; nil
	// hides the Events page and the connections' event hook status.
	Events Events
	// EventHolds, when set, says why the events that wait in the inbox
	// wait (the Events page).
	EventHolds web.EventHolds
	// DefaultDelivery is the delivery of an event trigger that names none,
	// as web.Server.DefaultDelivery; empty means poll.
	DefaultDelivery string
	// Notifications sends a test notification to the server's receivers
	// (the Flows page's Send a test notification, for admins); nil hides
	// it.
	Notifications web.Notifications
	// ConnectionUsers names the enabled flows that use a connection on its
	// Delete confirmation and after the deletion; nil names none.
	ConnectionUsers ConnectionUsers

	// CheckToken reports whether a string is the API token (the API's own
	// check, web.Server.CheckToken, against the hash the database holds):
	// the bootstrap admin's sign-in. Its error is the store's.
	CheckToken func(ctx context.Context, token string) (bool, error)
	// Sessions keeps sessions and pending sign-ins in the database.
	Sessions SessionStore
	// Tokens manages personal API tokens; nil hides the Tokens page. It
	// needs Keyring.
	Tokens *access.Tokens
	// People lists who has access and revokes a person's; nil hides the
	// People page (shown to admins only).
	People *access.People
	// SSO signs people in with an OpenID Connect provider ("Sign in with
	// SSO"); nil offers only the API token sign-in.
	SSO web.SSO
	// Keyring seals the PKCE verifiers of pending sign-ins and a new API
	// token on its way to the Tokens page; required with SSO or Tokens.
	Keyring Sealer
	// KeyringBehind, when set, is asked about an error of Keyring.Open
	// (a sign-in's verifier sealed with a key this server lacks): it
	// returns the keyring's error (keyring.ErrSealingStopped, answered
	// 503) when this server's keyring is behind the database's, else nil.
	KeyringBehind func(ctx context.Context, err error) error
	// Audit records sign-ins and sign-outs and fills the Audit page; nil
	// hides the page.
	Audit Audit
	// Limiter slows down wrong sign-ins per client address; nil means 20
	// failures a minute per address.
	Limiter *access.Limiter
	// SignInStarts bounds the single sign-ons one client address starts
	// (each stores a sign-in request until it is finished or 10 minutes
	// pass, so anyone could otherwise fill the database with them); nil
	// means 30 a minute per address, counted behind Limiter's proxies.
	SignInStarts *access.Limiter
	// PublicURL is cardflow's external base URL. An https:// URL makes
	// the session cookie Secure behind a TLS-terminating proxy, and its
	// origin is accepted in the Origin header of form posts.
	PublicURL string
	// SessionTTL bounds a session's life; 0 means 12 h.
	SessionTTL time.Duration
	// IdleTimeout ends a session unused for this long; 0 means
	// access.DefaultIdleTimeout (2 h).
	IdleTimeout time.Duration
	// Logger receives the console's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	once   sync.Once
	log    *slog.Logger
	pages  *pageSet
	routes []string
}

// Handler returns the console's handler, to be mounted at "/". Call it
// once.
func (c *Console) Handler() http.Handler {
	c.once.Do(func() {
		c.log = c.Logger
		if c.log == nil {
			c.log = slog.New(slog.DiscardHandler)
		}
		if c.Limiter == nil {
			c.Limiter = &access.Limiter{}
		}
		if c.SignInStarts == nil {
			c.SignInStarts = &access.Limiter{Burst: 30, TrustedProxies: c.Limiter.TrustedProxies}
		}
		c.pages = mustParsePages()
		if (c.Tokens != nil || c.SSO != nil) && c.Keyring == nil {
			panic("console: Tokens and SSO need a Keyring")
		}
	})
	mux := web.NewMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(static)))
	mux.HandleFunc("GET /signin", c.signinPage)
	mux.HandleFunc("POST /signin", c.signin)
	mux.Handle("POST /signout", c.auth(c.signout))
	if c.SSO != nil {
		mux.HandleFunc("GET /signin/sso", c.startSSO)
		mux.HandleFunc("GET /auth/callback", c.ssoCallback)
	}

	mux.Handle("GET /{$}", c.auth(func(w http.ResponseWriter, r *http.Request, s *reqState) {
		http.Redirect(w, r, "/connections", http.StatusSeeOther)
	}))
	c.connectionRoutes(mux)
	c.cardRoutes(mux)
	c.runRoutes(mux)
	c.flowRoutes(mux)
	c.eventRoutes(mux)
	c.tokenRoutes(mux)
	c.peopleRoutes(mux)
	c.auditRoutes(mux)
	c.notificationRoutes(mux)
	mux.Handle("/", c.auth(func(w http.ResponseWriter, r *http.Request, s *reqState) {
		c.notFound(w, r, s, "There is no console page at "+r.URL.Path+".")
	}))
	c.routes = mux.Patterns()
	return c.headers(c.guard(mux))
}

// Routes returns the patterns of the console's routes (after Handler).
func (c *Console) Routes() []string { return c.routes }

// guard refuses routes that have no role in the role table (they fail
// closed), before any handler runs.
func (c *Console) guard(mux *web.Mux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			if _, ok := web.RoleFor(pattern); !ok {
				c.log.ErrorContext(r.Context(), "console: route has no role in the role table; refusing it", slog.String("route", pattern))
				http.Error(w, "internal error: this page has no role; the server log says more", http.StatusInternalServerError)
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// staticHandler serves the embedded assets with a short cache lifetime.
func staticHandler(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}

// headers sets the security headers of every console response. The strict
// Referrer-Policy keeps authorize URLs and ids out of other sites' logs;
// there is no form-action directive because Create and Reauthorize end in
// a redirect to the org's sign-in page.
func (c *Console) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// reqState is what a signed-in request carries to its page.
type reqState struct {
	session   *store.Session
	csrf      string
	principal access.Principal
}

// actor is who the request acts as, for the audit.
func (s *reqState) actor() store.Actor { return s.principal.Actor }

// starter is who starts a flow run with the request: the person and the
// console session they act with.
func (s *reqState) starter() flowrun.Starter {
	return flowrun.Starter{Actor: s.principal.Actor, SessionID: s.principal.SessionID, TokenID: s.principal.TokenID}
}

// authedFunc is a handler for signed-in requests.
type authedFunc func(w http.ResponseWriter, r *http.Request, s *reqState)

// auth requires a live session whose role may use the route (the role
// table, web.RoleFor, by the route's pattern). A GET without a session goes
// to the sign-in page; any other method is refused (403), and a
// state-changing request must come from the console's origin and carry the
// session's CSRF token.
func (c *Console) auth(h authedFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss := c.currentSession(r)
		safe := r.Method == http.MethodGet || r.Method == http.MethodHead
		if ss == nil {
			if safe {
				next := r.URL.Path
				if r.URL.RawQuery != "" {
					next += "?" + r.URL.RawQuery
				}
				to := "/signin?next=" + url.QueryEscape(next)
				if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
					// A session this browser held has ended (expired, idle,
					// signed out elsewhere, revoked): the sign-in page says
					// so, where it came up without a word.
					c.setCookie(w, r, sessionCookie, "", -1)
					to += "&ended=1"
				}
				http.Redirect(w, r, to, http.StatusSeeOther)
				return
			}
			if r.Pattern == "POST /signout" {
				// Nothing to end. Still refused, and no cookie is touched: a
				// post from another site comes without the session cookie
				// too, and must not sign anyone out.
				c.render(w, r, nil, http.StatusForbidden, "message", "Signed out", messageData{
					Heading:  "Signed out",
					Message:  "Your console session has ended, so there was nothing to sign out of: you are signed out.",
					Link:     "/signin",
					LinkText: "Sign in again",
				})
				return
			}
			c.render(w, r, nil, http.StatusForbidden, "message", "Forbidden", messageData{
				Heading:  "Request refused",
				Message:  "Your console session has ended, so the form was not sent.",
				Remedy:   "Sign in again, then repeat the action.",
				Link:     "/signin?next=" + url.QueryEscape(formPage(r.URL.Path)),
				LinkText: "Sign in again",
			})
			return
		}
		s := &reqState{session: ss, csrf: ss.CSRF, principal: access.Principal{Actor: ss.Actor, Role: access.Role(ss.Role), Name: ss.Name, SessionID: ss.ID}}
		r = r.WithContext(web.WithPrincipal(r.Context(), s.principal))
		if need, ok := web.RoleFor(r.Pattern); !ok || !s.principal.Role.Allows(need) {
			if action, ok := web.ActionFor(r.Pattern); ok && !safe && c.consoleForm(w, r, s) {
				c.audit(r, web.RefusalEvent(r, s.principal, action), web.Forbidden(s.principal, need))
			}
			c.refuseRole(w, r, s, need)
			return
		}
		if !safe {
			if !c.sameOrigin(r) {
				c.log.WarnContext(r.Context(), "console: cross-origin form post refused", slog.String("path", r.URL.Path), slog.String("origin", r.Header.Get("Origin")), slog.String("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")))
				c.forbidden(w, r, "The form was sent from another site.")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				if mb := (*http.MaxBytesError)(nil); errors.As(err, &mb) {
					c.render(w, r, s, http.StatusRequestEntityTooLarge, "message", "Form too large", messageData{
						Heading:  "Form too large",
						Message:  "The form is larger than 1 MB, far more than any console form needs, so it was not sent: a field holds more than it asks for (a pasted file, or a paste repeated).",
						Remedy:   "Go back, put only what the field asks for in it, and send the form again.",
						Link:     formPage(r.URL.Path),
						LinkText: "Back to the form",
					})
					return
				}
				c.forbidden(w, r, "The form could not be read.")
				return
			}
			if !equalSecret(r.PostForm.Get(csrfField), s.csrf) {
				c.log.WarnContext(r.Context(), "console: form post without a valid CSRF token refused", slog.String("path", r.URL.Path))
				c.forbidden(w, r, "The form's security token is missing or out of date.")
				return
			}
		}
		h(w, r, s)
	})
}

// formPage is the console page whose form posts to path, to go back to
// after signing in again: the page itself for the forms of a page of
// their own (delete, revoke, edit, reauthorize, a card), else the page of
// the object the action is on.
func formPage(path string) string {
	switch path {
	case "/connections":
		return "/connections/new"
	case "/connections/service":
		return "/connections/new-service"
	}
	i := strings.LastIndexByte(path, '/')
	switch path[i+1:] {
	case "runs", "plan", "plan-scheduled", "enable", "disable", "cancel", "test", "rotate-key":
		return path[:i]
	}
	return path
}

// maxFormBytes bounds a console form's body.
const maxFormBytes = 1 << 20

// consoleForm reports whether a state-changing request is a form of the
// console's own, sent from its origin with the session's CSRF token: a
// refusal is audited in the session's name only then, so that no other
// site can write to the audit log as someone.
func (c *Console) consoleForm(w http.ResponseWriter, r *http.Request, s *reqState) bool {
	if !c.sameOrigin(r) {
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	return r.ParseForm() == nil && equalSecret(r.PostForm.Get(csrfField), s.csrf)
}

// refuseRole answers 403 to a signed-in person whose role may not use the
// page or form.
func (c *Console) refuseRole(w http.ResponseWriter, r *http.Request, s *reqState, need access.Role) {
	c.log.InfoContext(r.Context(), "console: refused for lack of role", slog.String("route", r.Pattern), slog.String("role", string(s.principal.Role)), slog.String("needs", string(need)))
	c.render(w, r, s, http.StatusForbidden, "message", "Forbidden", messageData{
		Heading: "Not allowed",
		Message: "This needs the " + string(need) + " role; you have the " + string(s.principal.Role) + " role.",
		Remedy: "Ask a cardflow admin to do it. To have the " + string(need) + " role yourself, ask your identity provider's administrator to put you in a group that gives it, " +
			"then sign out and sign in again: roles come from those groups at sign-in.",
		Link:     "/connections",
		LinkText: "Back to connections",
	})
}

func (c *Console) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Console) sessionTTL() time.Duration {
	if c.SessionTTL > 0 {
		return c.SessionTTL
	}
	return 12 * time.Hour
}

func (c *Console) idleTimeout() time.Duration {
	if c.IdleTimeout > 0 {
		return c.IdleTimeout
	}
	return access.DefaultIdleTimeout
}

// shownError is an error as a page shows it.
type shownError struct {
	Code    string
	Message string
	Remedy  string
	Field   string
	Missing []string // the required inputs a flow run lacks
}

// publicError turns an error into what a person may see (problem.Public,
// with the API's status); an internal error names the request id, and its
// cause goes to the log.
func (c *Console) publicError(ctx context.Context, err error) (int, shownError) {
	if _, ok := problem.As(err); !ok && errors.Is(err, store.ErrNotFound) {
		return http.StatusNotFound, shownError{Code: string(problem.NotFound), Message: "Not found."}
	}
	p := problem.Public(err)
	if msg, remedy, ok := web.OperatorTrouble(err); ok && p.Code == problem.Internal {
		c.log.ErrorContext(ctx, "console: request failed", slog.Any("cause", err))
		return http.StatusServiceUnavailable, shownError{Code: string(problem.Internal),
			Message: msg + " (request id " + web.RequestID(ctx) + ").", Remedy: remedy}
	}
	if p.Code != problem.Internal {
		field, _ := p.Details["field"].(string)
		missing, _ := p.Details["missing"].([]string)
		return web.HTTPStatus(p.Code), shownError{Code: string(p.Code), Message: inConsole(p.Message), Remedy: inConsole(p.Remedy), Field: field, Missing: missing}
	}
	cause := err.Error()
	if ip, ok := problem.As(err); ok && ip.Err != nil {
		cause = ip.Err.Error()
	}
	id := web.RequestID(ctx)
	c.log.ErrorContext(ctx, "console: request failed", slog.String("cause", cause))
	return http.StatusInternalServerError, shownError{
		Code:    string(problem.Internal),
		Message: "Internal error; the server log has the cause under request id " + id + ".",
	}
}

// localPath returns next when it is a path on this console (so that the
// sign-in page cannot be made to redirect elsewhere), else "/connections".
func localPath(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/connections"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "/signin" {
		return "/connections"
	}
	return next
}
