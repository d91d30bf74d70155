package console_test

import (
	"context"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/web/console"
)

// cardCatalog is the card registry as console.Catalog.
type cardCatalog struct{}

func (cardCatalog) Connectors() []console.Connector {
	var out []console.Connector
	for _, k := range card.Connectors() {
		c := console.Connector{ID: k.ID, Name: k.Name, Description: k.Description, DefaultScopes: k.DefaultScopes}
		for _, s := range k.Scopes {
			c.Scopes = append(c.Scopes, console.ScopeInfo{Name: s.Name, Description: s.Description})
		}
		for _, cd := range k.Cards {
			cc := console.Card{ID: cd.ID, Ref: cd.Ref, Name: cd.Name, Description: cd.Description, Scope: cd.Scope, Mode: cd.Mode}
			for _, in := range cd.Inputs {
				cc.Inputs = append(cc.Inputs, console.Input{Name: in.Name, Type: in.Type, Required: in.Required,
					Description: in.Description, Enum: in.Enum, Default: in.Default})
			}
			c.Cards = append(c.Cards, cc)
		}
		out = append(out, c)
	}
	return out
}

// executorCards is the card executor as console.Cards.
type executorCards struct{ e *card.Executor }

func (c executorCards) Run(ctx context.Context, req console.RunRequest) (*console.RunResult, error) {
	res, err := c.e.Run(ctx, card.Request{Card: req.Card, Connection: req.Connection, Input: req.Input, Caller: req.Caller})
	if err != nil {
		return nil, err
	}
	return &console.RunResult{RunID: res.RunID, Status: res.Status, Output: res.Output, Error: res.Error}, nil
}

func (c executorCards) Preflight(ctx context.Context, cardRef, connection string) error {
	return c.e.Preflight(ctx, cardRef, connection)
}
