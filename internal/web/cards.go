package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/cardflow/cardflow/internal/api"
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
	writeJSON(w, http.StatusOK, api.ConnectorList{Connectors: connectorsJSON(s.Cards.Connectors())})
}

// connectorsJSON converts the card catalogue to its public shape. Lists
// stay null where the catalogue has none, as they were always served.
func connectorsJSON(cs []card.Connector) []api.Connector {
	if cs == nil {
		return nil
	}
	out := make([]api.Connector, 0, len(cs))
	for _, cn := range cs {
		c := api.Connector{ID: cn.ID, Name: cn.Name, Description: cn.Description, DefaultScopes: cn.DefaultScopes}
		if cn.Scopes != nil {
			c.Scopes = make([]api.ScopeInfo, 0, len(cn.Scopes))
		}
		for _, sc := range cn.Scopes {
			c.Scopes = append(c.Scopes, api.ScopeInfo{Name: sc.Name, Description: sc.Description})
		}
		if cn.Cards != nil {
			c.Cards = make([]api.Card, 0, len(cn.Cards))
		}
		for _, cd := range cn.Cards {
			c.Cards = append(c.Cards, cardJSON(cd))
		}
		out = append(out, c)
	}
	return out
}

func cardJSON(cd card.Card) api.Card {
	out := api.Card{ID: cd.ID, Ref: cd.Ref, Name: cd.Name, Description: cd.Description, Kind: cd.Kind, Scope: cd.Scope,
		Mode: cd.Mode, Outputs: cd.Outputs, EventType: cd.EventType, DeliveryScopes: cd.DeliveryScopes}
	if cd.Inputs != nil {
		out.Inputs = make([]api.CardInput, 0, len(cd.Inputs))
	}
	for _, in := range cd.Inputs {
		out.Inputs = append(out.Inputs, api.CardInput{Name: in.Name, Type: in.Type, Required: in.Required,
			Description: in.Description, Enum: in.Enum, Default: in.Default})
	}
	return out
}

func (s *Server) createRun(w http.ResponseWriter, r *http.Request) {
	var req api.RunRequest
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
func resultJSON(cardRef string, res *card.Result) api.Run {
	out := api.Run{ID: res.RunID, Card: cardRef, Status: res.Status, OktaRequestIDs: res.RequestIDs}
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
