package card

import (
	"encoding/json"
	"fmt"

	"github.com/cardflow/cardflow/internal/counttext"
)

// Outcome says in a few words what a card run's output tells: what a
// manage card did to its device ("now SUSPENDED", "already SUSPENDED: no
// change", "deactivated, then deleted"), what a read card found ("12
// devices", "2 users", "ACTIVE"), the status Okta answered a custom API
// action with ("HTTP 204"). It is "" for an output it cannot read (none, or
// of a card it does not know). A search's devices are only skipped over,
// not decoded: lists show the outcome of every run they list.
func Outcome(output json.RawMessage) string {
	var out struct {
		Status      any      `json:"status"` // a device status, or a custom API action's HTTP status
		Changed     *bool    `json:"changed"`
		Deleted     *bool    `json:"deleted"`
		Deactivated bool     `json:"deactivated"`
		Count       *float64 `json:"count"`
		Users       present  `json:"users"`
		Device      *struct {
			Status string `json:"status"`
		} `json:"device"`
	}
	if len(output) == 0 || json.Unmarshal(output, &out) != nil {
		return ""
	}
	status, _ := out.Status.(string)
	switch {
	case out.Changed != nil && status != "":
		if *out.Changed {
			return "now " + status
		}
		return "already " + status + ": no change"
	case out.Deleted != nil && *out.Deleted && out.Deactivated:
		return "deactivated, then deleted"
	case out.Deleted != nil && *out.Deleted:
		return "deleted"
	case out.Deleted != nil:
		return "not deleted"
	case out.Count != nil && bool(out.Users):
		return counttext.Format(int(*out.Count), "user")
	case out.Count != nil:
		return counttext.Format(int(*out.Count), "device") // a streamed search has only its count
	case out.Device != nil:
		return out.Device.Status
	}
	if code, ok := out.Status.(float64); ok {
		return fmt.Sprintf("HTTP %d", int(code))
	}
	return ""
}

// present records that a field is there, without decoding its value.
type present bool

func (p *present) UnmarshalJSON([]byte) error {
	*p = true
	return nil
}
