package web

import (
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
)

// queryParams names the query parameters each API endpoint takes; every
// other parameter is refused, as unknown JSON fields are, so that a
// misspelled filter fails instead of silently matching everything.
var queryParams = map[string][]string{
	"GET /api/v1/connections":            {"limit", "after", "afterId"},
	"GET /api/v1/flows":                  {"limit", "after", "afterId"},
	"GET /api/v1/flows/{id}/runs":        {"limit", "status", "before", "beforeId"},
	"GET /api/v1/flow-runs":              {"limit", "flow", "status", "before", "beforeId"},
	"GET /api/v1/flows/{id}/versions":    {"limit", "before"},
	"GET /api/v1/flow-runs/{id}":         {"items", "limit"},
	"GET /api/v1/flow-runs/{id}/items":   {"step", "after", "limit"},
	"POST /api/v1/flows/{id}/runs":       {"wait"},
	"DELETE /api/v1/connections/{id}":    {"ifUnused"},
	"GET /api/v1/runs":                   {"card", "connection", "flowRun", "plans", "limit", "before", "beforeId"},
	"GET /api/v1/audit":                  {"action", "connection", "actor", "plans", "limit", "before"},
	"GET /api/v1/tokens":                 {"all", "limit", "before", "beforeId"},
	"GET /api/v1/events":                 {"connection", "waiting", "limit", "before", "beforeId"},
	"GET /api/v1/people":                 {"limit", "before", "beforeId", "boundAfter"},
	"POST /api/v1/people/{login}/revoke": {"self"},
}

// checkQuery refuses a request with a query parameter its endpoint
// (pattern) does not take.
func checkQuery(pattern string, r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	allowed := queryParams[pattern]
	var unknown []string
	for k := range r.URL.Query() {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	takes := "no query parameters"
	if len(allowed) > 0 {
		takes = "only " + strings.Join(allowed, ", ")
	}
	p := problem.New(problem.InvalidInput, "unknown query parameter %q: %s takes %s", unknown[0], pattern, takes).WithDetail("field", unknown[0])
	if near := flow.Nearest(unknown[0], allowed...); near != "" {
		return p.WithRemedy("did you mean %s?", near)
	}
	return p.WithRemedy("remove it or fix its spelling")
}

// routes registers the JSON API. Endpoints whose service is nil are not
// registered (and so answer 404).
func (s *Server) routes(mux *Mux) {
	if s.Connections != nil {
		mux.HandleFunc("POST /api/v1/connections", s.createConnection)
		mux.HandleFunc("GET /api/v1/connections", s.listConnections)
		mux.HandleFunc("GET /api/v1/connections/{id}", s.getConnection)
		mux.HandleFunc("PATCH /api/v1/connections/{id}", s.updateConnection)
		mux.HandleFunc("DELETE /api/v1/connections/{id}", s.deleteConnection)
		mux.HandleFunc("POST /api/v1/connections/{id}/reauthorize", s.reauthorizeConnection)
		mux.HandleFunc("POST /api/v1/connections/{id}/test", s.testConnection)
		mux.HandleFunc("POST /api/v1/connections/{id}/rotate-key", s.rotateKey)
	}
	if s.Cards != nil {
		mux.HandleFunc("GET /api/v1/connectors", s.listConnectors)
		mux.HandleFunc("POST /api/v1/runs", s.createRun)
	}
	if s.Flows != nil {
		mux.HandleFunc("POST /api/v1/flows", s.putFlow)
		mux.HandleFunc("GET /api/v1/flows", s.listFlows)
		mux.HandleFunc("POST /api/v1/flows/validate", s.validateFlow)
		mux.HandleFunc("POST /api/v1/flows/plan", s.planDocument)
		mux.HandleFunc("GET /api/v1/flows/{id}", s.getFlow)
		mux.HandleFunc("GET /api/v1/flows/{id}/versions", s.listFlowVersions)
		mux.HandleFunc("GET /api/v1/flows/{id}/versions/{n}", s.getFlowVersion)
		mux.HandleFunc("DELETE /api/v1/flows/{id}", s.deleteFlow)
		mux.HandleFunc("POST /api/v1/flows/{id}/plan", s.planFlow)
		mux.HandleFunc("POST /api/v1/flows/{id}/enable", s.enableFlow)
		mux.HandleFunc("POST /api/v1/flows/{id}/disable", s.disableFlow)
		mux.HandleFunc("POST /api/v1/flows/{id}/runs", s.startFlowRun)
		mux.HandleFunc("GET /api/v1/flows/{id}/runs", s.listFlowRuns)
		mux.HandleFunc("GET /api/v1/flow-runs", s.listFlowRuns)
		mux.HandleFunc("GET /api/v1/flow-runs/{id}", s.getFlowRun)
		mux.HandleFunc("GET /api/v1/flow-runs/{id}/items", s.listFlowRunItems)
		mux.HandleFunc("POST /api/v1/flow-runs/{id}/cancel", s.cancelFlowRun)
		mux.HandleFunc("POST /api/v1/flow-runs/{id}/rerun", s.rerunFlowRun)
	}
	if s.Events != nil {
		mux.HandleFunc("GET /api/v1/events", s.listEvents)
	}
	if s.History != nil {
		mux.HandleFunc("GET /api/v1/runs", s.listRuns)
		mux.HandleFunc("GET /api/v1/runs/{id}", s.getRun)
		mux.HandleFunc("GET /api/v1/audit", s.listAudit)
	}
	mux.HandleFunc("GET /api/v1/whoami", s.whoami)
	if s.Notifications != nil {
		mux.HandleFunc("POST /api/v1/notifications/test", s.testNotifications)
	}
	if s.Tokens != nil {
		mux.HandleFunc("POST /api/v1/tokens", s.createToken)
		mux.HandleFunc("GET /api/v1/tokens", s.listTokens)
		mux.HandleFunc("DELETE /api/v1/tokens/{id}", s.revokeToken)
		if s.People != nil {
			mux.HandleFunc("GET /api/v1/people", s.listPeople)
			mux.HandleFunc("POST /api/v1/people/{login}/revoke", s.revokePerson)
		}
		if s.SSO != nil {
			mux.HandleFunc("GET /api/v1/auth/config", s.authConfig)
			mux.HandleFunc("POST /api/v1/auth/cli-token", s.cliToken)
		}
	}
}
