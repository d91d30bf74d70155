package app

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestReauthorizationWakesThePoll: the System Log poll of a connection
// that needs reauthorization says it cannot be used; once the connection
// is reauthorized, the server polls it at once, and the status clears
// without waiting for the next poll interval (an hour here).
func TestReauthorizationWakesThePoll(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	dir := t.TempDir()
	edit := func(c *Config) { c.Now, c.EventPollInterval, c.Owner = emu.Now, time.Hour, "server-1" }
	h := startServer(t, emu, dir, edit)
	conn := h.connect("Prod devices")
	storeEnabledFlow(t, h, "poll")
	err := h.app.Store.UpdateConnection(t.Context(), conn.ID, func(c *store.Connection) error {
		c.Status, c.StatusReason, c.Remedy = store.StatusNeedsReauthorization, "the refresh token was revoked", "reauthorize the connection"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Restarted, the server polls at once (its first round), and the poll
	// status says the connection cannot be used.
	h.stop()
	h = startServer(t, emu, dir, edit)
	source := func() *api.EventSource {
		t.Helper()
		var d api.ConnectionDetail
		if code, body := h.call("GET", "/api/v1/connections/"+conn.ID, nil, &d); code != http.StatusOK {
			t.Fatalf("GET the connection: %d %s", code, body)
		}
		return d.EventSource
	}
	waitFor(t, "the poll status to say the connection cannot be used", func() bool {
		s := source()
		return s != nil && strings.Contains(s.PollError, "needs_reauthorization")
	})
	var re struct {
		AuthorizeURL string `json:"authorizeUrl"`
	}
	if code, data := h.call("POST", "/api/v1/connections/"+conn.ID+"/reauthorize", map[string]any{}, &re); code != http.StatusOK {
		t.Fatalf("reauthorize: %d %s", code, data)
	}
	if code, page := h.signIn(re.AuthorizeURL, oktaemu.AdminLogin); code != http.StatusOK || !strings.Contains(page, "reauthorized") {
		t.Fatalf("reauthorization callback: %d\n%s", code, page)
	}
	waitFor(t, "the poll status to clear after the reauthorization", func() bool {
		s := source()
		return s.PollError == "" && s.PollFailingSince == nil
	})
}
