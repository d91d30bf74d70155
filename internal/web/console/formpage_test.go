package console

import "testing"

// TestFormPage: the page to go back to after signing in again is the one
// that shows the form: its own page for a form of a page of its own, the
// object's page for an action on it, the New Connection forms for theirs.
func TestFormPage(t *testing.T) {
	for _, tc := range []struct{ name, post, want string }{
		{"token", "/tokens", "/tokens"},
		{"revoke token", "/tokens/t1/revoke", "/tokens/t1/revoke"},
		{"new connection", "/connections", "/connections/new"},
		{"new service connection", "/connections/service", "/connections/new-service"},
		{"connection delete", "/connections/c1/delete", "/connections/c1/delete"},
		{"connection test", "/connections/c1/test", "/connections/c1"},
		{"rotate key", "/connections/c1/rotate-key", "/connections/c1"},
		{"card", "/cards/okta-devices/read-device", "/cards/okta-devices/read-device"},
		{"flow run", "/flows/f1/runs", "/flows/f1"},
		{"flow plan", "/flows/f1/plan", "/flows/f1"},
		{"scheduled plan", "/flows/f1/plan-scheduled", "/flows/f1"},
		{"enable", "/flows/f1/enable", "/flows/f1"},
		{"cancel", "/flow-runs/r1/cancel", "/flow-runs/r1"},
		{"revoke person", "/people/a@example.com/revoke", "/people/a@example.com/revoke"},
	} {
		if got := formPage(tc.post); got != tc.want {
			t.Errorf("%s: formPage(%q) = %q; want %q", tc.name, tc.post, got, tc.want)
		}
	}
}
