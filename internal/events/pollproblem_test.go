package events

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/problem"
)

// TestPollProblem: each way a System Log poll fails is told in words that
// say what happened and what to do, and an error of cardflow's own says
// nothing of its detail.
func TestPollProblem(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("events: polling the System Log of conn_1: %w", err) }
	tests := []struct {
		name             string
		err              error
		message, remedy  string
		notInMsgOrRemedy string
	}{
		{"outage", wrap(&okta.APIError{Status: 503, Code: "E0000009", Summary: "Internal Server Error", RequestID: "req-1"}),
			"Okta answered 503 to the System Log request: Internal Server Error", "status.okta.com", "req-1"},
		{"scope", wrap(&okta.ScopeError{Scope: "okta.logs.read"}),
			"not granted okta.logs.read", "reauthorize", ""},
		{"forbidden", wrap(&okta.APIError{Status: 403, Code: okta.CodeForbidden, Summary: "You do not have permission to perform the requested action"}),
			"may not read the System Log", "read-only administrator", ""},
		{"rate limit", wrap(&okta.APIError{Status: 429, Code: okta.CodeRateLimited, Summary: "API call exceeded rate limit"}),
			"rate limit", "-event-poll-interval", ""},
		{"timeout", wrap(context.DeadlineExceeded), "did not answer", "polls again", ""},
		{"network", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}),
			"could not reach the org: connect: connection refused", "network", ""},
		{"connection", wrap(problem.New(problem.NeedsReauthorization, "connection Prod needs reauthorization").WithRemedy("reauthorize it")),
			"connection Prod needs reauthorization", "reauthorize it", ""},
		{"internal", wrap(errors.New("store: disk I/O error at /var/lib/cardflow")),
			problem.InternalMessage, "", "/var/lib"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, remedy := pollProblem(tt.err, "")
			if !strings.Contains(msg, tt.message) || !strings.Contains(remedy, tt.remedy) {
				t.Errorf("pollProblem = %q, %q; want a message with %q and a remedy with %q", msg, remedy, tt.message, tt.remedy)
			}
			if tt.notInMsgOrRemedy != "" && strings.Contains(msg+remedy, tt.notInMsgOrRemedy) {
				t.Errorf("pollProblem = %q, %q; shows %q", msg, remedy, tt.notInMsgOrRemedy)
			}
		})
	}
}
