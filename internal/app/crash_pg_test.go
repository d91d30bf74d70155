package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// TestPGCrashAroundRefresh kills a `cardflow serve` process on PostgreSQL
// with SIGKILL before the refresh request, after Okta answered but before
// the commit, and after the commit. Another server on the same database
// then starts: the connection must work again without any refresh token
// presented twice (the org would revoke the whole family, and a later
// refresh would fail), and without a retry loop.
func TestPGCrashAroundRefresh(t *testing.T) {
	t.Parallel()
	for _, fp := range []string{fpRefreshBeforeRequest, fpRefreshAfterResponse, fpRefreshAfterCommit} {
		t.Run(fp, func(t *testing.T) {
			t.Parallel()
			emu := emutest.Start(t, oktaemu.Config{Devices: 3})
			dsn := pgtest.NewDatabase(t)
			dirA, dirB := t.TempDir(), t.TempDir()
			c1 := startChild(t, emu, dirA, fp, "-db", dsn)
			copyKeyring(t, dirA, dirB)
			conn := c1.harness(emu, dirA).connect("Crashy")
			tokenPosts := func() int { return emu.Stats(t)["POST /oauth2/v1/token"] }
			before := tokenPosts()

			// A health check refreshes the access token: the server dies.
			h1 := c1.harness(emu, dirA)
			req, _ := http.NewRequest("POST", c1.url+"/api/v1/connections/"+conn.ID+"/test", nil)
			req.Header.Set("Authorization", "Bearer "+testAPIToken)
			if resp, err := h1.http.Do(req); err == nil {
				resp.Body.Close()
				t.Fatalf("the health check got an answer (%d); want the server killed mid-refresh", resp.StatusCode)
			}
			c1.waitKilled()
			wantSent := 1
			if fp == fpRefreshBeforeRequest {
				wantSent = 0
			}
			if sent := tokenPosts() - before; sent != wantSent {
				t.Fatalf("the killed server sent %d refresh requests; want %d", sent, wantSent)
			}

			// The other server's clock is past the dead server's refresh
			// lease, as it would be after waiting for the lease to lapse.
			c2 := startChild(t, emu, dirB, "", "-db", dsn, "-clock-file", pastRefreshLease(t))
			h2 := c2.harness(emu, dirB)
			if got := h2.connection(conn.ID); got.Status != "active" {
				t.Fatalf("on the other server: status %q (%s); want active", got.Status, got.StatusReason)
			}
			for i := range 2 {
				var res struct {
					OK bool `json:"ok"`
				}
				if code, data := h2.call("POST", "/api/v1/connections/"+conn.ID+"/test", nil, &res); code != http.StatusOK || !res.OK {
					t.Fatalf("health check %d on the other server: %d %s\n%s", i+1, code, data, c2.stderr)
				}
			}
			// A card run uses the refreshed token too.
			if code, r := h2.run("okta-devices/search-devices", "Crashy", map[string]any{"resultSet": "first"}); code != http.StatusCreated || r.Status != "succeeded" {
				t.Fatalf("search-devices on the other server: %d %+v", code, r.Error)
			}
			if n := tokenPosts() - before; n > wantSent+3 {
				t.Errorf("%d token requests in all; want at most %d (no retry loop)", n, wantSent+3)
			}
			if strings.Contains(c2.stderr.String(), "reuse") {
				t.Errorf("the other server logs a refresh token reuse:\n%s", c2.stderr)
			}
		})
	}
}
