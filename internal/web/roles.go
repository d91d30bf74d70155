package web

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/store"
)

// routeRoles is the one table of who may do what: every route of
// the API and of the console, by its ServeMux pattern, with the least role
// that may use it. A route missing here answers 500 (it fails closed) and
// fails TestRouteRoleMatrix; add new routes here when you add them.
var routeRoles = map[string]access.Role{
	// API: reading is for viewers.
	"GET /api/v1/connectors":                    access.Viewer,
	"GET /api/v1/connections":                   access.Viewer,
	"GET /api/v1/connections/{id}":              access.Viewer,
	"GET /api/v1/runs":                          access.Viewer,
	"GET /api/v1/runs/{id}":                     access.Viewer,
	"GET /api/v1/audit":                         access.Viewer,
	"GET /api/v1/flows":                         access.Viewer,
	"GET /api/v1/flows/{id}":                    access.Viewer,
	"GET /api/v1/flows/{id}/versions":           access.Viewer,
	"GET /api/v1/flows/{id}/versions/{n}":       access.Viewer,
	"GET /api/v1/flows/{id}/runs":               access.Viewer,
	"GET /api/v1/flow-runs":                     access.Viewer,
	"GET /api/v1/flow-runs/{id}":                access.Viewer,
	"GET /api/v1/flow-runs/{id}/items":          access.Viewer,
	"GET /api/v1/events":                        access.Viewer,
	"POST /api/v1/flows/validate":               access.Viewer, // changes nothing
	"GET /api/v1/tokens":                        access.Viewer, // one's own; ?all=true needs admin (checked by the tokens service)
	"POST /api/v1/tokens":                       access.Viewer, // for oneself, a role at most one's own
	"DELETE /api/v1/tokens/{id}":                access.Viewer, // one's own; an admin's anyone's
	"GET /api/v1/whoami":                        access.Viewer,
	"GET /api/v1/auth/config":                   access.Anyone, // how to sign in
	"POST /api/v1/auth/cli-token":               access.Anyone, // cardflow login exchanges its sign-in code
	"POST /api/v1/runs":                         access.Operator,
	"POST /api/v1/flows/{id}/plan":              access.Operator,
	"POST /api/v1/flows/plan":                   access.Operator,
	"POST /api/v1/flows/{id}/runs":              access.Operator,
	"POST /api/v1/flow-runs/{id}/cancel":        access.Operator, // stopping a run is part of running flows
	"POST /api/v1/flow-runs/{id}/rerun":         access.Operator,
	"POST /api/v1/connections":                  access.Admin,
	"PATCH /api/v1/connections/{id}":            access.Admin,
	"DELETE /api/v1/connections/{id}":           access.Admin,
	"POST /api/v1/connections/{id}/reauthorize": access.Admin,
	"POST /api/v1/connections/{id}/test":        access.Admin,
	"POST /api/v1/connections/{id}/rotate-key":  access.Admin,
	"POST /api/v1/flows":                        access.Admin,
	"POST /api/v1/flows/{id}/enable":            access.Admin,
	"POST /api/v1/flows/{id}/disable":           access.Admin,
	"DELETE /api/v1/flows/{id}":                 access.Admin,
	"GET /api/v1/people":                        access.Admin,
	"POST /api/v1/people/{login}/revoke":        access.Admin,
	"POST /api/v1/notifications/test":           access.Admin, // posts to the receivers

	// Console.
	"GET /static/":                       access.Anyone,
	"GET /signin":                        access.Anyone,
	"POST /signin":                       access.Anyone,
	"GET /signin/sso":                    access.Anyone,
	"GET /auth/callback":                 access.Anyone,
	"POST /signout":                      access.Viewer,
	"GET /{$}":                           access.Viewer,
	"/":                                  access.Viewer, // the console's "not found" page
	"GET /connections":                   access.Viewer,
	"GET /connections/{id}":              access.Viewer,
	"GET /cards":                         access.Viewer,
	"GET /runs":                          access.Viewer,
	"GET /runs/{id}":                     access.Viewer,
	"GET /flows":                         access.Viewer,
	"GET /flows/{id}":                    access.Viewer,
	"GET /flows/{id}/versions/{n}":       access.Viewer,
	"GET /flow-runs/{id}":                access.Viewer,
	"GET /audit":                         access.Viewer,
	"GET /events":                        access.Viewer,
	"GET /tokens":                        access.Viewer,
	"POST /tokens":                       access.Viewer,
	"GET /tokens/{id}/revoke":            access.Viewer,
	"POST /tokens/{id}/revoke":           access.Viewer,
	"GET /cards/{connector}/{card}":      access.Operator,
	"POST /cards/{connector}/{card}":     access.Operator,
	"POST /flows/{id}/plan":              access.Operator,
	"POST /flows/{id}/plan-scheduled":    access.Operator,
	"POST /flows/{id}/runs":              access.Operator,
	"POST /flow-runs/{id}/cancel":        access.Operator,
	"POST /flow-runs/{id}/rerun":         access.Operator,
	"POST /flows/{id}/enable":            access.Admin,
	"POST /flows/{id}/disable":           access.Admin,
	"GET /flows/{id}/delete":             access.Admin,
	"POST /flows/{id}/delete":            access.Admin,
	"GET /connections/new":               access.Admin,
	"POST /connections":                  access.Admin,
	"GET /connections/new-service":       access.Admin,
	"POST /connections/service":          access.Admin,
	"GET /connections/{id}/key":          access.Admin,
	"POST /connections/{id}/test":        access.Admin,
	"POST /connections/{id}/rotate-key":  access.Admin,
	"GET /connections/{id}/reauthorize":  access.Admin,
	"POST /connections/{id}/reauthorize": access.Admin,
	"GET /connections/{id}/edit":         access.Admin,
	"POST /connections/{id}/edit":        access.Admin,
	"GET /connections/{id}/delete":       access.Admin,
	"POST /connections/{id}/delete":      access.Admin,
	"GET /people":                        access.Admin,
	"GET /people/{login}/revoke":         access.Admin,
	"POST /people/{login}/revoke":        access.Admin,
	"POST /notifications/test":           access.Admin, // posts to the receivers
}

// routeActions gives every route of the table that changes something and
// that some role may not use its audit action: a request refused for lack
// of role is audited as a failure of that action, naming who tried, as a
// request let through is audited whatever its outcome. A route that
// changes something and needs more than the viewer role must be here
// (TestRouteRoleMatrix).
var routeActions = map[string]string{
	"POST /api/v1/runs":                         store.ActionCardRun,
	"POST /api/v1/flows/{id}/plan":              store.ActionFlowPlan,
	"POST /api/v1/flows/plan":                   store.ActionFlowPlan,
	"POST /api/v1/flows/{id}/runs":              store.ActionFlowRun,
	"POST /api/v1/flow-runs/{id}/cancel":        store.ActionFlowCancel,
	"POST /api/v1/flow-runs/{id}/rerun":         store.ActionFlowRerun,
	"POST /api/v1/connections":                  store.ActionConnectionCreate,
	"PATCH /api/v1/connections/{id}":            store.ActionConnectionUpdate,
	"DELETE /api/v1/connections/{id}":           store.ActionConnectionDelete,
	"POST /api/v1/connections/{id}/reauthorize": store.ActionConnectionReauthorize,
	"POST /api/v1/connections/{id}/test":        store.ActionConnectionTest,
	"POST /api/v1/connections/{id}/rotate-key":  store.ActionConnectionRotateKey,
	"POST /api/v1/flows":                        store.ActionFlowStore,
	"POST /api/v1/flows/{id}/enable":            store.ActionFlowEnable,
	"POST /api/v1/flows/{id}/disable":           store.ActionFlowDisable,
	"DELETE /api/v1/flows/{id}":                 store.ActionFlowDelete,
	"POST /api/v1/people/{login}/revoke":        store.ActionPersonRevoke,
	"POST /api/v1/notifications/test":           store.ActionNotificationTest,

	"POST /cards/{connector}/{card}":     store.ActionCardRun,
	"POST /flows/{id}/plan":              store.ActionFlowPlan,
	"POST /flows/{id}/plan-scheduled":    store.ActionFlowPlan,
	"POST /flows/{id}/runs":              store.ActionFlowRun,
	"POST /flow-runs/{id}/cancel":        store.ActionFlowCancel,
	"POST /flow-runs/{id}/rerun":         store.ActionFlowRerun,
	"POST /flows/{id}/enable":            store.ActionFlowEnable,
	"POST /flows/{id}/disable":           store.ActionFlowDisable,
	"POST /flows/{id}/delete":            store.ActionFlowDelete,
	"POST /connections":                  store.ActionConnectionCreate,
	"POST /connections/service":          store.ActionConnectionCreate,
	"POST /connections/{id}/test":        store.ActionConnectionTest,
	"POST /connections/{id}/rotate-key":  store.ActionConnectionRotateKey,
	"POST /connections/{id}/reauthorize": store.ActionConnectionReauthorize,
	"POST /connections/{id}/edit":        store.ActionConnectionUpdate,
	"POST /connections/{id}/delete":      store.ActionConnectionDelete,
	"POST /people/{login}/revoke":        store.ActionPersonRevoke,
	"POST /notifications/test":           store.ActionNotificationTest,
}

// ownActions gives the audit action of the routes that change something
// and that every role may use, on what is the caller's own.
var ownActions = map[string]string{
	"POST /api/v1/tokens":        store.ActionTokenCreate,
	"DELETE /api/v1/tokens/{id}": store.ActionTokenRevoke,
}

// changeAction returns the audit action of a route that changes
// something (ActionFor's, and those every role may use), and false for a
// route that changes nothing or audits nothing.
func changeAction(pattern string) (string, bool) {
	if a, ok := routeActions[pattern]; ok {
		return a, true
	}
	a, ok := ownActions[pattern]
	return a, ok
}

// ActionFor returns the audit action of the route with the given ServeMux
// pattern when it changes something that some role may not change, and
// false otherwise.
func ActionFor(pattern string) (string, bool) {
	a, ok := routeActions[pattern]
	return a, ok
}

// RefusalEvent is the audit event of a request of p refused for lack of
// role on a route whose action is action: a failure, with the method and
// path asked for (the path names what it was about, an id or a login).
// A request matched to its route (r.Pattern, as the console's are) about
// one connection names it too, so that the audit's connection filter
// finds the attempt: the {id} of a connection's route, or the connection
// field of a card run's form. The API names the connection itself
// (Server.refusedConnection), before its routes are matched.
func RefusalEvent(r *http.Request, p access.Principal, action string) store.AuditEvent {
	e := store.AuditEvent{Actor: p.Actor, Action: action, InputSummary: r.Method + " " + truncate(access.RedactTokens(r.URL.Path), 200)}
	switch {
	case connectionRoute(r.Pattern):
		e.ConnectionID = r.PathValue("id")
	case action == store.ActionCardRun && r.PostForm != nil:
		e.ConnectionID = r.PostForm.Get("connection")
	}
	return e
}

// connectionRoute reports whether the route with the given ServeMux
// pattern is about the connection of its path's {id}.
func connectionRoute(pattern string) bool {
	return strings.Contains(pattern, "/connections/{id}")
}

// pathValue returns the value of the wildcard {name} in the path of u,
// which the route with the given ServeMux pattern matched ("" when the
// pattern has no such wildcard).
func pathValue(pattern string, u *url.URL, name string) string {
	_, path, _ := strings.Cut(pattern, " ")
	want, got := strings.Split(path, "/"), strings.Split(u.EscapedPath(), "/")
	if len(want) != len(got) {
		return ""
	}
	for i, seg := range want {
		if seg == "{"+name+"}" {
			v, err := url.PathUnescape(got[i])
			if err != nil {
				return ""
			}
			return v
		}
	}
	return ""
}

// RoleFor returns the least role that may use the route with the given
// ServeMux pattern, and false when the table does not know the route.
func RoleFor(pattern string) (access.Role, bool) {
	r, ok := routeRoles[pattern]
	return r, ok
}

// RolePatterns returns every pattern of the table, sorted.
func RolePatterns() []string {
	out := make([]string, 0, len(routeRoles))
	for p := range routeRoles {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Mux is an http.ServeMux that remembers the patterns registered on it, so
// that tests can check every route against the role table.
type Mux struct {
	*http.ServeMux
	patterns []string
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{ServeMux: http.NewServeMux()} }

// Handle registers h for pattern.
func (m *Mux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// HandleFunc registers h for pattern.
func (m *Mux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// Patterns returns the registered patterns, sorted.
func (m *Mux) Patterns() []string {
	out := slices.Clone(m.patterns)
	sort.Strings(out)
	return out
}

// pattern returns the pattern of m's route for r ("" when none matches).
func (m *Mux) pattern(r *http.Request) string {
	_, p := m.ServeMux.Handler(r)
	return p
}
