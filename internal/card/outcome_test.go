package card

import "testing"

// TestOutcome: each card's output in a few words.
func TestOutcome(t *testing.T) {
	for _, tt := range []struct{ output, want string }{
		{`{"deviceId":"guo1","status":"SUSPENDED","changed":true,"basis":"known"}`, "now SUSPENDED"},
		{`{"deviceId":"guo1","status":"SUSPENDED","changed":false,"basis":"read"}`, "already SUSPENDED: no change"},
		{`{"deviceId":"guo1","deleted":true,"deactivated":true,"basis":"known"}`, "deactivated, then deleted"},
		{`{"deviceId":"guo1","deleted":true,"deactivated":false,"basis":"known"}`, "deleted"},
		{`{"devices":[{"id":"guo1"}],"count":1}`, "1 device"},
		{`{"count":357}`, "357 devices"},
		{`{"users":[],"count":0}`, "0 users"},
		{`{"device":{"id":"guo1","status":"ACTIVE"}}`, "ACTIVE"},
		{`{"status":204,"headers":{},"body":null}`, "HTTP 204"},
		{``, ""},
		{`not json`, ""},
		{`{"something":"else"}`, ""},
	} {
		if got := Outcome([]byte(tt.output)); got != tt.want {
			t.Errorf("Outcome(%s) = %q; want %q", tt.output, got, tt.want)
		}
	}
}
