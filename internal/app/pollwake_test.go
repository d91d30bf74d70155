package app

import (
	"context"
	"errors"
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
		return s != nil && strings.Contains(s.PollError, "needs reauthorization")
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

// TestReauthorizationOnAnotherServerWakesThePoll: two servers on one
// database, server-1 holding the connection's System Log poll lease. The
// connection is reauthorized through server-2, which may not poll it:
// server-1 learns of it from the store and polls at once, and the poll
// status clears without waiting for the next poll interval (an hour here).
func TestReauthorizationOnAnotherServerWakesThePoll(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	dir := t.TempDir() // one SQLite database, one keyring
	config := func(owner string) func(*Config) {
		return func(c *Config) { c.Now, c.EventPollInterval, c.Owner = emu.Now, time.Hour, owner }
	}
	one := startServer(t, emu, dir, config("server-1"))
	conn := one.connect("Prod devices")
	storeEnabledFlow(t, one, "poll")
	err := one.app.Store.UpdateConnection(t.Context(), conn.ID, func(c *store.Connection) error {
		c.Status, c.StatusReason, c.Remedy = store.StatusNeedsReauthorization, "the refresh token was revoked", "reauthorize the connection"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Restarted, server-1 polls at once (its first round) under its
	// lease, and the poll status says the connection cannot be used.
	one.stop()
	one = startServer(t, emu, dir, config("server-1"))
	source := func() *store.EventSource {
		t.Helper()
		src, err := one.app.Store.GetEventSource(t.Context(), conn.ID)
		if errors.Is(err, store.ErrNotFound) {
			return &store.EventSource{} // not polled yet
		}
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	waitFor(t, "the poll status to say the connection cannot be used", func() bool {
		return strings.Contains(source().Poll.Error, "needs reauthorization")
	})
	two := startServer(t, emu, dir, config("server-2"))

	var re struct {
		AuthorizeURL string `json:"authorizeUrl"`
	}
	if code, data := two.call("POST", "/api/v1/connections/"+conn.ID+"/reauthorize", map[string]any{}, &re); code != http.StatusOK {
		t.Fatalf("reauthorize: %d %s", code, data)
	}
	if code, page := two.signIn(re.AuthorizeURL, oktaemu.AdminLogin); code != http.StatusOK || !strings.Contains(page, "reauthorized") {
		t.Fatalf("reauthorization callback: %d\n%s", code, page)
	}
	waitFor(t, "the poll status to clear after the reauthorization on the other server", func() bool {
		p := source().Poll
		return p.Error == "" && p.FailingSince.IsZero()
	})
	// server-1 polled, under the lease it still holds: server-2 did not
	// take the polls over.
	if ok, err := two.app.Store.TryLease(t.Context(), store.PollLease(conn.ID), "server-2", time.Minute, emu.Now()); err != nil || ok {
		t.Errorf("server-2 could take the poll lease (%v, %v); want it held by server-1", ok, err)
	}
}

// TestReauthorizationWhilePollWaitsAtOkta: a connection reauthorized while
// its System Log poll waits for Okta's answer is polled again as soon as
// that poll ends, not at the next poll interval (an hour here): the wake
// came while the connection's work at Okta ran, which kept a second poll
// from starting beside it.
func TestReauthorizationWhilePollWaitsAtOkta(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	dir := t.TempDir()
	edit := func(c *Config) { c.Now, c.EventPollInterval, c.Owner = emu.Now, time.Hour, "server-1" }
	h := startServer(t, emu, dir, edit)
	conn := h.connect("Prod devices")
	storeEnabledFlow(t, h, "poll")
	// Restarted, the server polls at once (its first round): the poll
	// waits at Okta.
	h.stop()
	hold := emu.Hold(t, "GET", "/api/v1/logs", 0)
	h = startServer(t, emu, dir, edit)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := hold.Await(ctx, 1); err != nil {
		t.Fatalf("no System Log poll came: %v", err)
	}

	var re struct {
		AuthorizeURL string `json:"authorizeUrl"`
	}
	if code, data := h.call("POST", "/api/v1/connections/"+conn.ID+"/reauthorize", map[string]any{}, &re); code != http.StatusOK {
		t.Fatalf("reauthorize: %d %s", code, data)
	}
	if code, page := h.signIn(re.AuthorizeURL, oktaemu.AdminLogin); code != http.StatusOK || !strings.Contains(page, "reauthorized") {
		t.Fatalf("reauthorization callback: %d\n%s", code, page)
	}
	waitFor(t, "the woken poll to wait for the one at Okta", func() bool {
		return len(h.logLines("events: a woken System Log poll waits for the connection's work at Okta of an earlier round")) > 0
	})
	pollNow := func() bool { return h.app.events.PollPending(conn.ID) }
	if !pollNow() {
		t.Fatal("the woken poll is not pending")
	}
	hold.Release()
	waitFor(t, "the woken poll to run once the one at Okta ended", func() bool { return !pollNow() })
}

// TestEnablingPollsAtOnce: enabling a flow with delivery poll polls its
// connection's System Log at once, not at the next poll interval (an hour
// here), so that a connection whose polls fail shows it right after the
// enabling, and one whose polls work again shows that after the next.
func TestEnablingPollsAtOnce(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now, c.EventPollInterval = emu.Now, time.Hour })
	conn := h.connect("Prod devices")
	source := func() *api.EventSource {
		t.Helper()
		var d api.ConnectionDetail
		if code, body := h.call("GET", "/api/v1/connections/"+conn.ID, nil, &d); code != http.StatusOK {
			t.Fatalf("GET the connection: %d %s", code, body)
		}
		return d.EventSource
	}
	// The server's first round (at its start) found no flow to poll for.
	// The org's System Log answers are cut short from now on.
	emu.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/api/v1/logs", Status: 200, Body: "truncated", Count: 1_000_000})
	id := storeEnabledFlow(t, h, "poll")
	waitFor(t, "the poll status to show the failing System Log after the enabling", func() bool {
		s := source()
		return s != nil && s.PollError != "" && s.PollFailingSince != nil
	})

	// Disabled and enabled again once the org answers: polled at once
	// again, the status clears.
	emu.ClearFaults(t)
	if code, body := h.call("POST", "/api/v1/flows/"+id+"/disable", nil, nil); code != http.StatusOK {
		t.Fatalf("disable: %d %s", code, body)
	}
	emu.AdvanceClock(t, time.Second)
	if code, body := h.call("POST", "/api/v1/flows/"+id+"/enable", nil, nil); code != http.StatusOK {
		t.Fatalf("enable: %d %s", code, body)
	}
	waitFor(t, "the poll status to clear after the enabling again", func() bool {
		s := source()
		return s.PollError == "" && s.PollFailingSince == nil && s.PolledAt != nil
	})
}
