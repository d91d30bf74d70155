package flowrun

import (
	"testing"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
)

// TestFailureOfARefusedRun: a run refused before its steps for a
// connection that is not active fails as "step ID: code" of its first
// step, the code a card run on the connection answers: connection_pending
// for one never authorized too, as its card runs say it once running.
func TestFailureOfARefusedRun(t *testing.T) {
	issues := []flow.Issue{{Step: ""}, {Step: "device"}}
	for _, tt := range []struct {
		code problem.Code
		want string
	}{
		{problem.NeedsReauthorization, "step device: needs_reauthorization"},
		{problem.ConnectionPending, "step device: connection_pending"},
		{problem.InsufficientScope, "step device: insufficient_scope"},
		{problem.InvalidInput, "the public error"},
	} {
		err := problem.New(tt.code, "refused").WithDetail("errors", issues)
		if got := failureOf(err, "the public error"); got != tt.want {
			t.Errorf("failureOf a %s refusal = %q; want %q", tt.code, got, tt.want)
		}
	}
}
