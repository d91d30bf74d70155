package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

// TestFailedHealthCheckSaysItOnce: after a Test that fails on a broken
// connection, its page gives the reason and the fix once, in the status
// banner that stays, with the flash answering the click and pointing
// there, where the flash repeated both above the banner.
func TestFailedHealthCheckSaysItOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	const reason, remedy = "Okta refused the refresh token (invalid_grant)", "reauthorize the connection"
	if err := e.store.UpdateConnection(context.Background(), prod.ID, func(c *store.Connection) error {
		c.Status, c.StatusReason, c.Remedy = store.StatusNeedsReauthorization, reason, remedy
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c, _, csrf := signInHTTP(t, e.url, "/connections")
	resp, _ := post(t, c, e.url+"/connections/"+prod.ID+"/test", url.Values{"csrf": {csrf}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("Test: status %d; want 303", resp.StatusCode)
	}
	_, body := get(t, c, e.url+"/connections/"+prod.ID)
	if !strings.Contains(body, "Health check failed") {
		t.Errorf("after Test the page does not say the health check failed:\n%s", body)
	}
	// The remedy reads as the console writes one: a sentence.
	for _, s := range []string{reason, "Reauthorize the connection"} {
		if n := strings.Count(body, s); n != 1 {
			t.Errorf("after Test the page says %q %d times; want once:\n%s", s, n, body)
		}
	}
}
