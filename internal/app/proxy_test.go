package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// getFrom calls GET /api/v1/connections with token as if through a proxy
// that forwarded the request for client.
func getFrom(t *testing.T, h *harness, token, client string) int {
	t.Helper()
	req, err := http.NewRequest("GET", h.url+"/api/v1/connections", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Forwarded-For", client)
	resp, err := h.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// guessUntilRefused sends wrong API tokens for client until the server
// answers 429, and fails the test if it never does.
func guessUntilRefused(t *testing.T, h *harness, client string) {
	t.Helper()
	for range 25 {
		if getFrom(t, h, "cf_wrong", client) == http.StatusTooManyRequests {
			return
		}
	}
	t.Fatalf("25 wrong API tokens for %s were all checked; want 429 after 20", client)
}

// TestTrustedProxyNamesTheClient: behind a reverse proxy every request
// comes from the proxy's address. With -trusted-proxy, the sign-in
// limiter counts each client by the address the proxy forwards, so one
// client guessing tokens does not lock out the administrator behind the
// same proxy; without it, X-Forwarded-For is ignored, since anyone can
// send it.
func TestTrustedProxyNamesTheClient(t *testing.T) {
	t.Parallel()
	t.Run("trusted", func(t *testing.T) {
		h := startHarness(t, oktaemu.Config{}, func(c *Config) { c.TrustedProxies = []string{"127.0.0.1"} })
		guessUntilRefused(t, h, "198.51.100.7")
		if code := getFrom(t, h, testAPIToken, "203.0.113.9"); code != http.StatusOK {
			t.Errorf("the administrator behind the same proxy got %d; want 200", code)
		}
		if code := getFrom(t, h, testAPIToken, "6.6.6.6, 198.51.100.7"); code != http.StatusTooManyRequests {
			t.Errorf("the guessing client, with a forged address left of its own, got %d; want 429", code)
		}
		if !strings.Contains(h.logs.String(), `"client":"198.51.100.7"`) {
			t.Errorf("the logs do not name the guessing client:\n%s", h.logs)
		}
	})
	t.Run("not trusted", func(t *testing.T) {
		h := startHarness(t, oktaemu.Config{}, nil)
		guessUntilRefused(t, h, "198.51.100.7")
		if code := getFrom(t, h, testAPIToken, "203.0.113.9"); code != http.StatusTooManyRequests {
			t.Errorf("a request naming another client in X-Forwarded-For got %d; want 429 (the header is not trusted)", code)
		}
	})
	t.Run("bad flag", func(t *testing.T) {
		_, err := Config{DataDir: t.TempDir(), TrustedProxies: []string{"proxy.example.com"}}.withDefaults()
		if err == nil || !strings.Contains(err.Error(), "-trusted-proxy") {
			t.Errorf("withDefaults: %v; want an error naming -trusted-proxy", err)
		}
	})
}
