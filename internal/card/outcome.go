package card

import (
	"encoding/json"
	"fmt"
)

// Outcome says in a few words what a card run's output tells: what a
// manage card did to its device ("now SUSPENDED", "already SUSPENDED: no
// change", "deactivated, then deleted"), what a read card found ("12
// devices", "2 users", "ACTIVE"), the status Okta answered a custom API
// action with ("HTTP 204"). It is "" for an output it cannot read (none, or
// of a card it does not know).
func Outcome(output json.RawMessage) string {
	var out map[string]any
	if len(output) == 0 || json.Unmarshal(output, &out) != nil {
		return ""
	}
	status, _ := out["status"].(string)
	if changed, ok := out["changed"].(bool); ok && status != "" {
		if changed {
			return "now " + status
		}
		return "already " + status + ": no change"
	}
	if deleted, ok := out["deleted"].(bool); ok {
		switch deactivated, _ := out["deactivated"].(bool); {
		case deleted && deactivated:
			return "deactivated, then deleted"
		case deleted:
			return "deleted"
		}
		return "not deleted"
	}
	if n, ok := out["count"].(float64); ok {
		if _, users := out["users"]; users {
			return plural(int(n), "user")
		}
		return plural(int(n), "device") // a streamed search has only its count
	}
	if dev, ok := out["device"].(map[string]any); ok {
		s, _ := dev["status"].(string)
		return s
	}
	if code, ok := out["status"].(float64); ok {
		return fmt.Sprintf("HTTP %d", int(code))
	}
	return ""
}

// plural is "1 device", "2 devices".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
