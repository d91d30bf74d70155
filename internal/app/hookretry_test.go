package app

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/events"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// TestUnverifiableHookBacksOff: a hook Okta cannot verify is not tried
// again at every round of the intake (every 100 ms here, 30 s by
// default), each time a call to verify it and its System Log event at the
// org: the next attempt comes after a minute, the one after that two
// minutes later, and so on; the connection's remedy says when, and the
// API's eventSource.hookRetryAt. A flow
// using the hook disabled and enabled again tries at once, and once Okta
// verifies it the hook is active and the backoff is gone. A server
// restarted at another public URL tries at once too.
func TestUnverifiableHookBacksOff(t *testing.T) {
	// The org's clock moves only when the test moves it: on the wall
	// clock, a run slower than a minute (a loaded machine) would see
	// attempts the test does not expect yet.
	clock := emutest.NewClock(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
	emu := emutest.Start(t, oktaemu.Config{Devices: 3, Now: clock.Now})
	dataDir := t.TempDir()
	cfg := func(c *Config) { c.Now, c.EventPollInterval = emu.Now, 100*time.Millisecond }
	h := startServer(t, emu, dataDir, cfg)
	conn := h.connect("Prod devices")
	const verify = "POST /api/v1/eventHooks/{eventHookId}/lifecycle/verify"
	emu.Inject(t, emutest.FaultSpec{Method: "POST", Path: "/api/v1/eventHooks/{eventHookId}/lifecycle/verify", Status: http.StatusBadRequest, Count: 1000})
	flowID := storeEnabledFlow(t, h, "hook+poll")

	source := func() *api.EventSource {
		t.Helper()
		var d api.ConnectionDetail
		if code, body := h.call("GET", "/api/v1/connections/"+conn.ID, nil, &d); code != http.StatusOK {
			t.Fatalf("GET the connection: %d %s", code, body)
		}
		if d.EventSource == nil {
			return &api.EventSource{}
		}
		return d.EventSource
	}
	attempts := func() int { return emu.Stats(t)[verify] }
	// rounds waits for n more rounds of the intake (each polls the
	// System Log) and returns the verification attempts by then.
	rounds := func(n int) int {
		t.Helper()
		polls := func() int { return emu.Stats(t)["GET /api/v1/logs"] }
		until := polls() + n
		waitFor(t, "rounds of the intake", func() bool { return polls() >= until })
		return attempts()
	}
	waitFor(t, "a first failed verification", func() bool { return source().HookStatus == store.HookError })
	if got := rounds(5); got != 1 {
		t.Fatalf("%d verification attempts in the 5 rounds after the first failed; want only the first", got)
	}
	src, err := h.app.Store.GetEventSource(t.Context(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if wait := src.HookRetryAt.Sub(emu.Now()); wait <= 0 || wait > time.Minute {
		t.Errorf("next attempt at %s, in %s; want within a minute", src.HookRetryAt, wait)
	}
	if at := source().HookRetryAt; at == nil || !at.Equal(src.HookRetryAt) {
		t.Errorf("the API's hookRetryAt is %v; want %s", at, src.HookRetryAt)
	}
	remedy := source().Remedy
	if want := "cardflow tries again at " + timetext.Format(src.HookRetryAt) + ", after a failed attempt"; !strings.Contains(remedy, want) {
		t.Errorf("remedy %q; want it to say %q", remedy, want)
	}

	// A minute on: the second attempt; then two minutes to the third.
	for i, step := range []struct {
		advance time.Duration
		want    int
	}{{time.Minute, 2}, {time.Minute, 2}, {time.Minute + time.Second, 3}} {
		emu.AdvanceClock(t, step.advance)
		if step.want > attempts() {
			waitFor(t, "the next verification attempt", func() bool { return attempts() >= step.want })
		}
		if got := rounds(5); got != step.want {
			t.Fatalf("step %d: %d verification attempts; want %d", i, got, step.want)
		}
	}
	if remedy := source().Remedy; !strings.Contains(remedy, "after 3 failed attempts in a row") {
		t.Errorf("remedy %q; want it to count 3 failed attempts", remedy)
	}

	// A server started again at another public URL (the remedy asks to
	// set -public-url, and a server without one takes -listen's port,
	// here a new one): tried at once, not after the four minutes due.
	h.stop()
	h = startServer(t, emu, dataDir, cfg)
	waitFor(t, "a verification attempt at the new public URL", func() bool { return attempts() == 4 })

	// The flow disabled and enabled again: tried at once, and verified.
	emu.ClearFaults(t)
	if code, body := h.call("POST", "/api/v1/flows/"+flowID+"/disable", nil, nil); code != http.StatusOK {
		t.Fatalf("disable: %d %s", code, body)
	}
	if code, body := h.call("POST", "/api/v1/flows/"+flowID+"/enable", nil, nil); code != http.StatusOK {
		t.Fatalf("enable: %d %s", code, body)
	}
	waitFor(t, "the hook verified after the flow was enabled again", func() bool { return source().HookStatus == store.HookActive })
	src, err = h.app.Store.GetEventSource(t.Context(), conn.ID)
	if err != nil || src.HookFailures != 0 || !src.HookRetryAt.IsZero() || src.HookRemedy != "" {
		t.Errorf("the active hook's source: %+v, %v; want no failures and no retry time", src, err)
	}
	if at := source().HookRetryAt; at != nil {
		t.Errorf("the API's hookRetryAt of the active hook is %s; want none", at)
	}
}

// TestHookOutageBacksOff: a hook whose verification meets an outage at
// Okta (503s) is not tried at every round either: the next attempt comes
// a minute later, the API's eventSource says when; a flow using it
// disabled and enabled again tries at once; and once Okta answers again
// the hook works at its next attempt, minutes later at most.
func TestHookOutageBacksOff(t *testing.T) {
	// The org's clock, which the server uses, moves only when the test
	// moves it: on the wall clock, a run slower than a minute (a loaded
	// machine) would see the next attempt fall due during the rounds in
	// which the test wants none.
	clock := emutest.NewClock(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
	emu := emutest.Start(t, oktaemu.Config{Devices: 3, Now: clock.Now})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now, c.EventPollInterval = emu.Now, 100*time.Millisecond })
	conn := h.connect("Prod devices")
	const verify = "POST /api/v1/eventHooks/{eventHookId}/lifecycle/verify"
	emu.Inject(t, emutest.FaultSpec{Method: "POST", Path: "/api/v1/eventHooks/{eventHookId}/lifecycle/verify", Status: http.StatusServiceUnavailable, Count: 100000})
	flowID := storeEnabledFlow(t, h, "hook+poll")
	source := func() *api.EventSource {
		t.Helper()
		var d api.ConnectionDetail
		if code, body := h.call("GET", "/api/v1/connections/"+conn.ID, nil, &d); code != http.StatusOK {
			t.Fatalf("GET the connection: %d %s", code, body)
		}
		if d.EventSource == nil {
			return &api.EventSource{}
		}
		return d.EventSource
	}
	attempts := func() int { return emu.Stats(t)[verify] }
	rounds := func(n int) int {
		t.Helper()
		polls := func() int { return emu.Stats(t)["GET /api/v1/logs"] }
		until := polls() + n
		waitFor(t, "rounds of the intake", func() bool { return polls() >= until })
		return attempts()
	}
	waitFor(t, "a first verification that met the outage", func() bool { return source().HookStatus == store.HookError })
	first := attempts()
	if got := rounds(5); got != first {
		t.Fatalf("%d verification attempts in the 5 rounds after the first met the outage; want none", got-first)
	}
	src := source()
	if src.HookRetryAt == nil || src.HookRetryAt.Sub(emu.Now()) > time.Minute || !strings.Contains(src.Remedy, "after an attempt Okta did not answer") {
		t.Fatalf("event source %+v; want the next attempt within a minute, and the remedy saying so", src)
	}
	emu.AdvanceClock(t, time.Minute)
	waitFor(t, "the second attempt a minute on", func() bool { return attempts() > first })
	second := attempts()
	if got := rounds(5); got != second {
		t.Fatalf("%d verification attempts in the 5 rounds after the second; want none", got-second)
	}

	// A flow using the hook disabled and enabled again: tried at once.
	for _, op := range []string{"disable", "enable"} {
		if code, body := h.call("POST", "/api/v1/flows/"+flowID+"/"+op, nil, nil); code != http.StatusOK {
			t.Fatalf("%s: %d %s", op, code, body)
		}
	}
	// The org counts the attempt when it gets it; the server records its
	// outcome (the next attempt's time) a moment later.
	waitFor(t, "an attempt once the flow was enabled again, and its outcome", func() bool {
		return attempts() > second && source().HookRetryAt != nil
	})

	// Okta answers again: the hook works at the next attempt, due within
	// minutes, not hours.
	emu.ClearFaults(t)
	at := source().HookRetryAt
	if at == nil || at.Sub(emu.Now()) > events.DefaultHookOutageRetryCap {
		t.Fatalf("next attempt at %v; want within %s", at, events.DefaultHookOutageRetryCap)
	}
	emu.AdvanceClock(t, at.Sub(emu.Now())+time.Second)
	waitFor(t, "the hook active once Okta answers", func() bool { return source().HookStatus == store.HookActive })
	if s := source(); s.HookRetryAt != nil || s.Remedy != "" {
		t.Errorf("the active hook's source %+v; want no retry time nor remedy", s)
	}
}
