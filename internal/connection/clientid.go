package connection

import (
	"fmt"
	"strings"
	"unicode"
)

// orgAsked is how a refused creation's audit event names the org and app
// asked for: ", domain D, client ID C", each only when it is valid (a
// domain's normal form), since a refused one may hold what was pasted with
// it (a password in a domain's user information, the secret beside a
// client ID); "" for neither.
func (m *Manager) orgAsked(domain, clientID string) string {
	out := ""
	if d, err := ParseDomain(strings.TrimSpace(domain), m.Policy); err == nil {
		out += ", domain " + d
	}
	if id := strings.TrimSpace(clientID); clientIDFault(id) == "" {
		out += ", client ID " + id
	}
	return out
}

// maxClientID is the longest client ID accepted.
const maxClientID = 255

// clientIDFault says what is wrong with a client ID (after trimming), in
// words that name the fault itself; "" when nothing is. Okta's client IDs
// are printable ASCII without spaces, so a space inside one is a copy that
// took more than the ID (its label, or the secret beside it). The ID is
// not repeated: what was pasted with it may be the client secret.
func clientIDFault(id string) string {
	if id == "" {
		return "client ID is required"
	}
	if len(id) > maxClientID {
		return fmt.Sprintf("client ID is %d characters long; at most %d are accepted", len(id), maxClientID)
	}
	if strings.IndexFunc(id, unicode.IsSpace) >= 0 {
		return "client ID contains a space, which Okta's client IDs never do"
	}
	if i := strings.IndexFunc(id, func(r rune) bool { return r < ' ' || r > '~' }); i >= 0 {
		return fmt.Sprintf("client ID contains %q, which Okta's client IDs never do (they are printable ASCII)", []rune(id[i:])[0])
	}
	return ""
}
