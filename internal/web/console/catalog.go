package console

import (
	"context"

	"github.com/cardflow/cardflow/internal/card"
)

// Catalog describes the connectors the console offers (the card
// registry).
type Catalog interface {
	// Connectors returns every connector with its scopes and cards.
	Connectors() []card.Connector
}

// Cards runs cards; *card.Executor satisfies it.
type Cards interface {
	// Run runs one card and records the run. A failed card is a result
	// with Error set; err is for requests that could not run at all.
	Run(ctx context.Context, req card.Request) (*card.Result, error)
	// Preflight returns the insufficient_scope problem the card would fail
	// with on the connection, before any call to the org; nil if none.
	Preflight(ctx context.Context, cardRef, connection string) error
}

// connector returns the connector with id.
func (c *Console) connector(id string) (card.Connector, bool) {
	if c.Catalog == nil {
		return card.Connector{}, false
	}
	for _, k := range c.Catalog.Connectors() {
		if k.ID == id {
			return k, true
		}
	}
	return card.Connector{}, false
}

// connectorName returns the connector's display name, or its id.
func (c *Console) connectorName(id string) string {
	if k, ok := c.connector(id); ok && k.Name != "" {
		return k.Name
	}
	return id
}

// findCard returns one card of a connector.
func findCard(k card.Connector, id string) (card.Card, bool) {
	for _, cd := range k.Cards {
		if cd.ID == id {
			return cd, true
		}
	}
	return card.Card{}, false
}
