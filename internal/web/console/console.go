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

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/web"
)

//go:embed static
var staticFS embed.FS

// Connections is what the console needs of connections;
// *connection.Manager satisfies it.
type Connections interface {
	Create(ctx context.Context, in connection.CreateInput, caller string) (*connection.View, string, error)
	Reauthorize(ctx context.Context, idOrNickname string, sel *connection.ScopeSelection, caller string) (string, error)
	Get(ctx context.Context, idOrNickname string) (*connection.View, error)
	List(ctx context.Context) ([]*connection.View, error)
	Test(ctx context.Context, idOrNickname, caller string) (*connection.TestResult, error)
	DeleteWithResult(ctx context.Context, idOrNickname, caller string) (*connection.DeleteResult, error)
	CreateService(ctx context.Context, in connection.ServiceInput, caller string) (*connection.View, json.RawMessage, error)
}

// Runs reads card-run history; store.Store satisfies it.
type Runs interface {
	GetRun(ctx context.Context, id string) (*store.Run, error)
	ListRuns(ctx context.Context, f store.RunFilter) ([]*store.Run, error)
}

// Console serves the web console. Fill in the fields, then serve
// Handler(). CheckToken is required (nil refuses every sign-in); a nil
// Connections, Cards, Runs or Flows leaves those pages out. Safe for concurrent use once Handler has
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

	// CheckToken reports whether a string is the API token (the API's own
	// constant-time check of the token hash, web.Server.CheckToken).
	CheckToken func(token string) bool
	// Caller is the audit identity of console actions (e.g. the API
	// token's fingerprint, web.Server.TokenCaller()); "" means "console".
	Caller string
	// PublicURL is cardflow's external base URL. An https:// URL makes
	// the session cookie Secure behind a TLS-terminating proxy, and its
	// origin is accepted in the Origin header of form posts.
	PublicURL string
	// SessionTTL bounds a session's life; 0 means 12 h.
	SessionTTL time.Duration
	// IdleTimeout ends a session unused for this long; 0 means 2 h.
	IdleTimeout time.Duration
	// Logger receives the console's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	once     sync.Once
	log      *slog.Logger
	sessions *sessions
	limiter  signinLimiter
	pages    *pageSet
}

// Handler returns the console's handler, to be mounted at "/". Call it
// once.
func (c *Console) Handler() http.Handler {
	c.once.Do(func() {
		c.log = c.Logger
		if c.log == nil {
			c.log = slog.New(slog.DiscardHandler)
		}
		c.sessions = newSessions()
		c.pages = mustParsePages()
	})
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(static)))
	mux.HandleFunc("GET /signin", c.signinPage)
	mux.HandleFunc("POST /signin", c.signin)
	mux.Handle("POST /signout", c.auth(c.signout))

	mux.Handle("GET /{$}", c.auth(func(w http.ResponseWriter, r *http.Request, s *reqState) {
		http.Redirect(w, r, "/connections", http.StatusSeeOther)
	}))
	c.connectionRoutes(mux)
	c.cardRoutes(mux)
	c.runRoutes(mux)
	c.flowRoutes(mux)
	c.eventRoutes(mux)
	mux.Handle("/", c.auth(func(w http.ResponseWriter, r *http.Request, s *reqState) {
		c.notFound(w, r, s, "There is no console page at "+r.URL.Path+".")
	}))
	return c.headers(mux)
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
	id      string
	session *session
	csrf    string
}

// authedFunc is a handler for signed-in requests.
type authedFunc func(w http.ResponseWriter, r *http.Request, s *reqState)

// auth requires a live session. A GET without one goes to the sign-in
// page; any other method is refused (403), and a state-changing request
// must come from the console's origin and carry the session's CSRF token.
func (c *Console) auth(h authedFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ss := c.currentSession(r)
		safe := r.Method == http.MethodGet || r.Method == http.MethodHead
		if ss == nil {
			if safe {
				next := r.URL.Path
				if r.URL.RawQuery != "" {
					next += "?" + r.URL.RawQuery
				}
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
				return
			}
			c.forbidden(w, r, "Your console session has ended, so the form was not sent.")
			return
		}
		s := &reqState{id: id, session: ss, csrf: c.sessions.csrfToken(ss)}
		if !safe {
			if !c.sameOrigin(r) {
				c.log.WarnContext(r.Context(), "console: cross-origin form post refused", slog.String("path", r.URL.Path), slog.String("origin", r.Header.Get("Origin")), slog.String("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")))
				c.forbidden(w, r, "The form was sent from another site.")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if err := r.ParseForm(); err != nil {
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

// caller is the audit identity of console actions.
func (c *Console) caller() string {
	if c.Caller != "" {
		return c.Caller
	}
	return "console"
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
	return 2 * time.Hour
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
	if p.Code != problem.Internal {
		field, _ := p.Details["field"].(string)
		missing, _ := p.Details["missing"].([]string)
		return web.HTTPStatus(p.Code), shownError{Code: string(p.Code), Message: p.Message, Remedy: p.Remedy, Field: field, Missing: missing}
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
