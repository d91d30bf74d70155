package console

import (
	"context"

	"github.com/cardflow/cardflow/internal/problem"
)

// Catalog describes the connectors the console offers.
type Catalog interface {
	// Connectors returns every connector with its scopes and cards.
	Connectors() []Connector
}

// Connector is a connector as the console shows it.
type Connector struct {
	ID   string // "okta-devices"
	Name string // "Okta Devices"
	// Description says in a sentence what the connector automates.
	Description string
	// Scopes is the catalogue of Okta API scopes an administrator may
	// tick under "Customize scopes (advanced)".
	Scopes []ScopeInfo
	// DefaultScopes are the Okta API scopes "Use default scopes" requests.
	DefaultScopes []string
	Cards         []Card
}

// ScopeInfo is one Okta API scope and what it enables.
type ScopeInfo struct {
	Name        string
	Description string
}

// Card is one card of a connector.
type Card struct {
	ID          string // "suspend-device"
	Ref         string // "okta-devices/suspend-device"
	Name        string // "Suspend Device"
	Description string
	// Scope is the Okta API scope the card needs; "" when it depends on
	// the call (custom API action).
	Scope  string
	Mode   string // "read" or "manage"
	Inputs []Input
}

// Input is one typed input of a card; the run form is built from them.
type Input struct {
	Name string
	// Type is "string" (a choice when Enum is set), "bool", "number", or
	// "list", "object" or "any", which the form takes as JSON.
	Type        string
	Required    bool
	Description string
	Enum        []string
	// Default applies when the input is left empty; a bool input with a
	// default is a checkbox.
	Default any
}

// RunRequest asks for one card run.
type RunRequest struct {
	Card       string // "okta-devices/suspend-device"
	Connection string // id or nickname
	Input      map[string]any
	Caller     string
}

// RunResult is the outcome of a card run.
type RunResult struct {
	// RunID names the recorded run; "" when nothing was recorded.
	RunID  string
	Status string // "succeeded" or "failed"
	Output map[string]any
	Error  *problem.Error
}

// Cards runs cards.
type Cards interface {
	// Run runs one card and records the run. A failed card is a result
	// with Error set; err is for requests that could not run at all.
	Run(ctx context.Context, req RunRequest) (*RunResult, error)
	// Preflight returns the insufficient_scope problem the card would fail
	// with on the connection, before any call to the org; nil if none.
	Preflight(ctx context.Context, card, connection string) error
}

// connector returns the connector with id.
func (c *Console) connector(id string) (Connector, bool) {
	if c.Catalog == nil {
		return Connector{}, false
	}
	for _, k := range c.Catalog.Connectors() {
		if k.ID == id {
			return k, true
		}
	}
	return Connector{}, false
}

// connectorName returns the connector's display name, or its id.
func (c *Console) connectorName(id string) string {
	if k, ok := c.connector(id); ok && k.Name != "" {
		return k.Name
	}
	return id
}

// card returns one card of a connector.
func (k Connector) card(id string) (Card, bool) {
	for _, cd := range k.Cards {
		if cd.ID == id {
			return cd, true
		}
	}
	return Card{}, false
}
