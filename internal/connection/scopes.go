package connection

import (
	"slices"
	"strings"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/spelling"
)

// AutoGrantedScopes returns the seven OIDC scopes an Okta OAuth app grants
// by default; every authorization requests all of them and fails
// if one is no longer granted. The slice is the caller's.
func AutoGrantedScopes() []string { return slices.Clone(autoGrantedScopes) }

var autoGrantedScopes = []string{"openid", "profile", "email", "phone", "address", "groups", "offline_access"}

// Scope modes.
const (
	ScopeModeDefault = "default"
	ScopeModeCustom  = "custom"
)

// ScopeInfo is one Okta API scope in a connector's catalogue.
type ScopeInfo struct {
	Name        string
	Description string
}

// Catalog describes the connectors' scopes. Implementations are safe for
// concurrent use.
type Catalog interface {
	// DefaultScopes returns the Okta API scopes the connector's cards need;
	// ok is false for an unknown connector.
	DefaultScopes(connector string) (scopes []string, ok bool)
	// Scopes returns the catalogue an administrator picks custom scopes from.
	Scopes(connector string) []ScopeInfo
	// CardsNeeding returns the cards of the connector that fail without scope.
	CardsNeeding(connector, scope string) []string
	// Name returns the connector's name as people know it ("Okta
	// Devices"); the id itself for an unknown connector.
	Name(connector string) string
}

func isAutoGranted(s string) bool { return slices.Contains(autoGrantedScopes, s) }

// apiScopes returns the Okta API scopes of a list (everything that is not
// auto-granted), in order.
func apiScopes(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if !isAutoGranted(s) {
			out = append(out, s)
		}
	}
	return out
}

// selectScopes turns a scope selection into the mode and the full list to
// request: the auto-granted scopes, then the default or the chosen Okta API
// scopes in catalogue order. custom nil means the default scopes.
func (m *Manager) selectScopes(connector string, custom *[]string) (string, []string, error) {
	defaults, ok := m.Connectors.DefaultScopes(connector)
	if !ok {
		return "", nil, problem.New(problem.InvalidInput, "unknown connector %q", connector).
			WithRemedy("use one of the connectors cardflow lists (e.g. okta-devices)").WithDetail("field", "connector")
	}
	if custom == nil {
		return ScopeModeDefault, dedupe(append(slices.Clone(autoGrantedScopes), defaults...)), nil
	}
	catalogue := m.Connectors.Scopes(connector)
	var valid []string
	for _, s := range catalogue {
		valid = append(valid, s.Name)
	}
	chosen := map[string]bool{}
	for _, s := range *custom {
		s = strings.TrimSpace(s)
		switch {
		case s == "" || isAutoGranted(s):
			continue
		case !slices.Contains(valid, s):
			pe := problem.New(problem.InvalidInput, "unknown scope %q for connector %s", s, connector).
				WithRemedy("choose from %s (the auto-granted scopes %s are always requested)",
					strings.Join(valid, ", "), strings.Join(autoGrantedScopes, " ")).
				WithDetail("field", "scopes").WithDetail("validScopes", valid)
			if near := spelling.Closest(s, valid); len(near) > 0 {
				pe.WithRemedy("did you mean %s? The scopes: %s (the auto-granted scopes %s are always requested)",
					near[0], strings.Join(valid, ", "), strings.Join(autoGrantedScopes, " ")).WithDetail("suggestion", near[0])
			}
			return "", nil, pe
		}
		chosen[s] = true
	}
	if len(chosen) == 0 {
		return "", nil, problem.New(problem.InvalidInput, "custom scopes must include at least one Okta API scope").
			WithRemedy("tick at least one of %s, or use the default scopes", strings.Join(valid, ", ")).
			WithDetail("field", "scopes").WithDetail("validScopes", valid)
	}
	req := slices.Clone(autoGrantedScopes)
	for _, s := range valid {
		if chosen[s] {
			req = append(req, s)
		}
	}
	return ScopeModeCustom, dedupe(req), nil
}

// missingScopes returns the Okta API scopes requested but not granted.
func missingScopes(requested, granted []string) []string {
	var out []string
	for _, s := range apiScopes(requested) {
		if !slices.Contains(granted, s) {
			out = append(out, s)
		}
	}
	return out
}

// parseScopes splits an OAuth scope string (RFC 6749 §3.3) into its
// distinct scopes, in order.
func parseScopes(s string) []string {
	return dedupe(strings.Fields(s))
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// hasDeviceRead reports whether granted lets the org answer a devices read
// (okta.devices.manage also satisfies okta.devices.read).
func hasDeviceRead(granted []string) bool {
	return slices.Contains(granted, "okta.devices.read") || slices.Contains(granted, "okta.devices.manage")
}
