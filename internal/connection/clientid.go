package connection

import (
	"fmt"
	"strings"
	"unicode"
)

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
