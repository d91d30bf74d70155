package web

import "net/http"

// routes registers the JSON API. Endpoints whose service is nil are not
// registered (and so answer 404).
func (s *Server) routes(mux *http.ServeMux) {
	if s.Connections != nil {
		mux.HandleFunc("POST /api/v1/connections", s.createConnection)
		mux.HandleFunc("GET /api/v1/connections", s.listConnections)
		mux.HandleFunc("GET /api/v1/connections/{id}", s.getConnection)
		mux.HandleFunc("DELETE /api/v1/connections/{id}", s.deleteConnection)
		mux.HandleFunc("POST /api/v1/connections/{id}/reauthorize", s.reauthorizeConnection)
		mux.HandleFunc("POST /api/v1/connections/{id}/test", s.testConnection)
	}
	if s.Cards != nil {
		mux.HandleFunc("GET /api/v1/connectors", s.listConnectors)
		mux.HandleFunc("POST /api/v1/runs", s.createRun)
	}
	if s.Flows != nil {
		mux.HandleFunc("POST /api/v1/flows", s.putFlow)
		mux.HandleFunc("GET /api/v1/flows", s.listFlows)
		mux.HandleFunc("POST /api/v1/flows/validate", s.validateFlow)
		mux.HandleFunc("GET /api/v1/flows/{id}", s.getFlow)
		mux.HandleFunc("POST /api/v1/flows/{id}/plan", s.planFlow)
		mux.HandleFunc("POST /api/v1/flows/{id}/enable", s.enableFlow)
		mux.HandleFunc("POST /api/v1/flows/{id}/disable", s.disableFlow)
		mux.HandleFunc("POST /api/v1/flows/{id}/runs", s.startFlowRun)
		mux.HandleFunc("GET /api/v1/flows/{id}/runs", s.listFlowRuns)
		mux.HandleFunc("GET /api/v1/flow-runs", s.listFlowRuns)
		mux.HandleFunc("GET /api/v1/flow-runs/{id}", s.getFlowRun)
	}
	if s.History != nil {
		mux.HandleFunc("GET /api/v1/runs", s.listRuns)
		mux.HandleFunc("GET /api/v1/runs/{id}", s.getRun)
		mux.HandleFunc("GET /api/v1/audit", s.listAudit)
	}
}
