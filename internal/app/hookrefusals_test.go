package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/events"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestHookWrongSecretLogIsRateLimited: requests to a real hook's URL with
// a wrong secret, which anyone who can reach the URL may send, are each
// refused 401 and counted in the metric, but do not each log a line: the
// first logs at once, the rest of its minute (of the server's clock, here
// the emulator's) one summary with their count, whether another request
// comes or not; a hook quiet for a minute logs its next refusal at once.
func TestHookWrongSecretLogIsRateLimited(t *testing.T) {
	t.Parallel()
	// The org's clock, which the server uses, moves only when the test
	// moves it: on the wall clock, half a minute passing between two of
	// the test's steps (a loaded machine) would end a minute the test
	// counts as still running, with a summary it does not expect yet.
	clock := emutest.NewClock(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
	emu := emutest.Start(t, oktaemu.Config{Devices: 2, Now: clock.Now})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now, c.hookLogTick = emu.Now, 10*time.Millisecond })
	c := h.connect("Prod")
	rec := &events.Reconciler{Store: h.app.Store, Orgs: eventOrgs{m: h.app.Connections}, Keyring: h.app.Keyring, PublicURL: h.url}
	src, err := rec.Reconcile(t.Context(), c.ID, []string{"device.user.add"})
	if err != nil || src.HookStatus != store.HookActive {
		t.Fatalf("reconcile: %v %+v", err, src)
	}
	hookURL := h.url + events.HookPathPrefix + src.HookPath

	refused := 0
	wrong := func(n int) {
		t.Helper()
		for range n {
			req, _ := http.NewRequest("POST", hookURL, strings.NewReader(`{"eventType":"com.okta.event_hook","data":{"events":[]}}`))
			req.Header.Set("Authorization", "not-the-secret")
			resp, err := h.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("a request with a wrong secret: %d; want 401", resp.StatusCode)
			}
			refused++
		}
		metric := `cardflow_event_hook_unauthorized_total{connection="` + c.ID + `"}`
		if got, want := grepLines(h.metrics(), metric), fmt.Sprintf("%s %d", metric, refused); got != want {
			t.Fatalf("metric %q; want %q", got, want)
		}
	}
	type line struct {
		Msg        string    `json:"msg"`
		Connection string    `json:"connection"`
		Refused    int       `json:"refused"`
		Since      time.Time `json:"since"`
	}
	lines := func() []line {
		var out []line
		for _, l := range strings.Split(h.logs.String(), "\n") {
			var ln line
			if json.Unmarshal([]byte(l), &ln) == nil && strings.Contains(ln.Msg, "without the hook's secret") {
				out = append(out, ln)
			}
		}
		return out
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	awaitLines := func(n int) []line {
		t.Helper()
		for {
			got := lines()
			if len(got) >= n || ctx.Err() != nil {
				if len(got) != n {
					t.Fatalf("log lines about wrong secrets: %+v; want %d", got, n)
				}
				return got
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	start := emu.Now()
	wrong(40)
	if got := lines(); len(got) != 1 || got[0].Connection != c.ID || got[0].Refused != 0 {
		t.Fatalf("after 40 wrong secrets in a minute: log lines %+v; want the first alone", got)
	}
	// The minute ends with no request after it: its summary comes anyway.
	emu.AdvanceClock(t, time.Minute)
	got := awaitLines(2)
	if l := got[1]; l.Refused != 39 || l.Since.Before(start) || !l.Since.Before(start.Add(time.Minute)) || l.Connection != c.ID {
		t.Errorf("summary %+v; want 39 refused since the first, at %s", l, start)
	}
	// The flood goes on: one line a minute.
	wrong(10)
	emu.AdvanceClock(t, 30*time.Second)
	wrong(10)
	if got := lines(); len(got) != 2 {
		t.Fatalf("log lines within the second minute: %+v; want no new one", got)
	}
	emu.AdvanceClock(t, 30*time.Second)
	got = awaitLines(3)
	if l := got[2]; l.Refused != 20 || l.Since.Before(start.Add(time.Minute)) {
		t.Errorf("second summary %+v; want 20 refused since the first summary", l)
	}
	// Quiet for a minute (its summary done), then quiet for another: the
	// next refusal is logged at once, alone.
	emu.AdvanceClock(t, 2*time.Minute)
	wrong(1)
	got = awaitLines(4)
	if l := got[3]; l.Refused != 0 || !strings.Contains(l.Msg, "request without") {
		t.Errorf("a refusal after a quiet minute: %+v; want it logged alone", l)
	}
}
