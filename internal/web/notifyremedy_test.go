package web

import (
	"errors"
	"strings"
	"testing"
)

// TestNotificationTestRemedy: a receiver that did not take a test message
// is told to change its -notify-url only when its answer says the request
// was wrong; one that failed on its side, limits its requests, refused
// cardflow's signed JSON as unauthorized, did not answer in time or could
// not be reached gets the fix of that, its URL being likely right.
func TestNotificationTestRemedy(t *testing.T) {
	fail := errors.New("failed")
	tests := []struct {
		name          string
		res           NotificationResult
		want, wantNot string
	}{
		{"not found", NotificationResult{Body: "cardflow", Err: fail, Status: 404}, "fix the receiver's -notify-url", ""},
		{"slack refuses the body", NotificationResult{Body: "slack", Err: fail, Status: 400}, "BODY=URL", ""},
		{"a chat webhook revoked", NotificationResult{Body: "slack", Err: fail, Status: 403}, "fix the receiver's -notify-url", "CARDFLOW_NOTIFY_SECRET"},
		{"failed on its side", NotificationResult{Body: "cardflow", Err: fail, Status: 500}, "see the receiver's logs", "fix the receiver's -notify-url"},
		{"bad gateway", NotificationResult{Body: "teams", Err: fail, Status: 502}, "server error", "restart the server"},
		{"rate limited", NotificationResult{Body: "cardflow", Err: fail, Status: 429}, "test again later", "restart the server"},
		{"signature refused", NotificationResult{Body: "cardflow", Err: fail, Status: 401}, "X-Cardflow-Signature with this server's CARDFLOW_NOTIFY_SECRET", ""},
		{"timed out", NotificationResult{Body: "cardflow", Err: fail, Unreached: true, TimedOut: true}, "answer within 30 s", "restart the server"},
		{"down", NotificationResult{Body: "cardflow", Err: fail, Unreached: true}, "start the receiver", "restart the server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.res.Remedy()
			if !strings.Contains(got, tt.want) || (tt.wantNot != "" && strings.Contains(got, tt.wantNot)) {
				t.Errorf("remedy %q; want %q in it, not %q", got, tt.want, tt.wantNot)
			}
		})
	}
}
