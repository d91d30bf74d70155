package app

import "github.com/cardflow/cardflow/internal/connection"

// catalog describes the okta-devices connector's scopes until the card
// registry provides them.
type catalog struct{}

var deviceCards = map[string][]string{
	"okta.devices.read": {"okta-devices/search-devices", "okta-devices/read-device", "okta-devices/list-device-users"},
	"okta.devices.manage": {"okta-devices/activate-device", "okta-devices/deactivate-device", "okta-devices/suspend-device",
		"okta-devices/unsuspend-device", "okta-devices/delete-device"},
}

func (catalog) DefaultScopes(connector string) ([]string, bool) {
	if connector != "okta-devices" {
		return nil, false
	}
	return []string{"okta.devices.read", "okta.devices.manage"}, true
}

func (catalog) Scopes(string) []connection.ScopeInfo {
	return []connection.ScopeInfo{{Name: "okta.devices.read"}, {Name: "okta.devices.manage"}}
}

func (catalog) CardsNeeding(_, scope string) []string { return deviceCards[scope] }
