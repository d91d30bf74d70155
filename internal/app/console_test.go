package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestConsoleMounted checks that the server serves the console at "/"
// next to the API, and that the OAuth landing page links back to it (to
// the connection's page).
func TestConsoleMounted(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	resp, err := h.http.Get(h.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Errorf("GET / without a session: %d; want a redirect to the sign-in page", resp.StatusCode)
	}
	code, page := h.get(h.url + "/signin")
	if code != http.StatusOK || !strings.Contains(page, "API token") {
		t.Errorf("GET /signin: %d; want the sign-in page\n%s", code, page)
	}
	// The API keeps answering JSON under /api/.
	if code, _ := h.call("GET", "/api/v1/nothing", nil, nil); code != http.StatusNotFound {
		t.Errorf("unknown API path: %d; want 404", code)
	}
	conn, authURL := h.create("Console", oktaemu.DemoClientSecret, nil)
	if _, page := h.signIn(authURL, oktaemu.AdminLogin); !strings.Contains(page, `href="/connections/`+conn.ID+`"`) {
		t.Errorf("the landing page does not link to the connection's page in the console:\n%s", page)
	}
}
