package console_test

import (
	"testing"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/web/console"
)

// testCatalog describes the okta-devices connector for both the console
// and the connection manager.
type testCatalog struct{ ks []console.Connector }

func newCatalog() *testCatalog {
	dev := console.Input{Name: "deviceId", Type: "string", Required: true, Description: "The id of the device in Okta (guo...)."}
	card := func(id, name, scope, mode string, in ...console.Input) console.Card {
		return console.Card{ID: id, Ref: "okta-devices/" + id, Name: name, Scope: scope, Mode: mode, Inputs: in}
	}
	return &testCatalog{ks: []console.Connector{{
		ID: "okta-devices", Name: "Okta Devices", Description: "Search, read and manage the devices of an Okta org.",
		Scopes: []console.ScopeInfo{
			{Name: "okta.devices.read", Description: "Read devices and their users."},
			{Name: "okta.devices.manage", Description: "Change device lifecycle."},
		},
		DefaultScopes: []string{"okta.devices.read", "okta.devices.manage"},
		Cards: []console.Card{
			card("read-device", "Read Device", "okta.devices.read", "read", dev),
			card("suspend-device", "Suspend Device", "okta.devices.manage", "manage", dev),
		},
	}}}
}

func (c *testCatalog) Connectors() []console.Connector { return c.ks }

func (c *testCatalog) DefaultScopes(id string) ([]string, bool) {
	for _, k := range c.ks {
		if k.ID == id {
			return k.DefaultScopes, true
		}
	}
	return nil, false
}

func (c *testCatalog) Scopes(id string) []connection.ScopeInfo {
	var out []connection.ScopeInfo
	for _, k := range c.ks {
		if k.ID == id {
			for _, s := range k.Scopes {
				out = append(out, connection.ScopeInfo{Name: s.Name, Description: s.Description})
			}
		}
	}
	return out
}

func (c *testCatalog) CardsNeeding(id, scope string) []string {
	var out []string
	for _, k := range c.ks {
		if k.ID == id {
			for _, cd := range k.Cards {
				if cd.Scope == scope {
					out = append(out, cd.Ref)
				}
			}
		}
	}
	return out
}

func newCards(t *testing.T, e *env, cat *testCatalog) console.Cards {
	t.Helper()
	return nil
}
