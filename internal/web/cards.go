package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/store"
)

// Cards lists connectors and runs cards; the app implements it over the
// card registry and executor.
type Cards interface {
	Connectors() []card.Connector
	Run(ctx context.Context, req card.Request) (*card.Result, error)
}

func (s *Server) listConnectors(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"connectors": s.Cards.Connectors()})
}

// runRequest is the body of POST /api/v1/runs.
type runRequest struct {
	Card       string         `json:"card"`
	Connection string         `json:"connection"`
	Input      map[string]any `json:"input"`
}

func (s *Server) createRun(w http.ResponseWriter, r *http.Request) {
	var req runRequest
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.Cards.Run(r.Context(), card.Request{
		Card: req.Card, Connection: req.Connection, Input: req.Input, Actor: actor(r.Context()),
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res.RunID != "" && s.History != nil {
		if run, err := s.History.GetRun(r.Context(), res.RunID); err == nil {
			out := runJSON(run)
			if out.Error != nil && res.Error != nil {
				for k, v := range res.Error.Details {
					if out.Error.Details == nil {
						out.Error.Details = map[string]any{}
					}
					out.Error.Details[k] = v
				}
			}
			w.Header().Set("Location", "/api/v1/runs/"+run.ID)
			writeJSON(w, http.StatusCreated, out)
			return
		}
	}
	writeJSON(w, http.StatusCreated, resultJSON(req.Card, res))
}

// resultJSON is a run's public shape built from the executor's result,
// when the stored run cannot be read.
func resultJSON(cardRef string, res *card.Result) RunJSON {
	out := RunJSON{ID: res.RunID, Card: cardRef, Status: res.Status, OktaRequestIDs: res.RequestIDs}
	if res.Output != nil {
		out.Output, _ = json.Marshal(res.Output)
	}
	if res.Error != nil {
		out.Error = errorFromRun(&store.Run{ErrorCode: string(res.Error.Code), ErrorMessage: res.Error.Message, Remedy: res.Error.Remedy})
		for k, v := range res.Error.Details {
			if out.Error.Details == nil {
				out.Error.Details = map[string]any{}
			}
			out.Error.Details[k] = v
		}
	}
	return out
}
