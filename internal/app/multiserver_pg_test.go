package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/ratebudget"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/postgres"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// pgServers starts two in-process servers, "server-a" and "server-b", on
// one new PostgreSQL database, with one sealing key and one public URL
// (server A's, as behind a load balancer), against emu. edit, if set,
// changes both configurations. It returns them and the database's DSN.
func pgServers(t *testing.T, emu *emutest.Server, edit func(*Config)) (a, b *harness, dsn string) {
	t.Helper()
	return pgServersWithKey(t, emu, keyring.Secret(b64key(t)), edit)
}

// pgServersWithKey is pgServers with key as both servers' CARDFLOW_KEY.
func pgServersWithKey(t *testing.T, emu *emutest.Server, key keyring.Secret, edit func(*Config)) (a, b *harness, dsn string) {
	t.Helper()
	dsn = pgtest.NewDatabase(t)
	config := func(owner, publicURL string) func(*Config) {
		return func(c *Config) {
			c.DB, c.Key, c.Owner, c.PublicURL = dsn, key, owner, publicURL
			if edit != nil {
				edit(c)
			}
		}
	}
	a = startServer(t, emu, t.TempDir(), config("server-a", ""))
	b = startServer(t, emu, t.TempDir(), config("server-b", a.url))
	return a, b, dsn
}

// openPG opens a store handle of the test's own on dsn.
func openPG(t *testing.T, dsn string) store.Store {
	t.Helper()
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("open the database: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// onServer returns u with the scheme and host of server h, as a load
// balancer would route the browser there.
func onServer(t *testing.T, u *url.URL, h *harness) string {
	t.Helper()
	base, err := url.Parse(h.url)
	if err != nil {
		t.Fatal(err)
	}
	v := *u
	v.Scheme, v.Host = base.Scheme, base.Host
	return v.String()
}

// TestMultiServerOAuthStateAcrossServers: the state made when server A
// starts an authorization is accepted by server B's callback, once.
func TestMultiServerOAuthStateAcrossServers(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	a, b, _ := pgServers(t, emu, nil)

	c, authURL := a.create("Prod", oktaemu.DemoClientSecret, nil)
	loc := emu.SignIn(t, authURL, oktaemu.AdminLogin, oktaemu.DemoPassword)
	if loc.Query().Get("code") == "" {
		t.Fatalf("sign-in redirected to %s; want a code", loc.Redacted())
	}
	code, page := b.get(onServer(t, loc, b))
	if code != http.StatusOK || !strings.Contains(page, "Connected") {
		t.Fatalf("callback on server B: status %d; want 200 Connected\n%s", code, page)
	}
	for _, h := range []*harness{a, b} {
		if got := h.connection(c.ID); got.Status != "active" || got.AuthorizedBy == nil || got.AuthorizedBy.Login != oktaemu.AdminLogin {
			t.Errorf("connection on %s: status %q, authorized by %+v; want active as %s", h.url, got.Status, got.AuthorizedBy, oktaemu.AdminLogin)
		}
	}
	// The state is spent for every server: a reload of the callback on
	// either says the authorization was completed and exchanges nothing.
	tokens := emu.Stats(t)["POST /oauth2/v1/token"]
	for _, h := range []*harness{a, b} {
		if code, page := h.get(onServer(t, loc, h)); strings.Contains(page, "Connected") || !strings.Contains(page, "completed already") {
			t.Errorf("replayed callback on %s: status %d; want the page saying it was completed already\n%s", h.url, code, page)
		}
	}
	if n := emu.Stats(t)["POST /oauth2/v1/token"] - tokens; n != 0 {
		t.Errorf("the replayed callbacks made %d token requests; want none", n)
	}
}

// shiftedClock is a clock both servers of a test share, which the test
// can move forward.
type shiftedClock struct{ offset atomic.Int64 }

func (c *shiftedClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *shiftedClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// TestMultiServerRefreshSingleFlight: 1 000 card runs started at once,
// half on each server (a hundred at a time on each), on a connection
// whose access token has expired make exactly one refresh request to the
// org, and every run succeeds. The token has expired either on the org's
// clock only (every run meets a 401) or on the servers' clocks too (every
// run sees it is due).
func TestMultiServerRefreshSingleFlight(t *testing.T) {
	t.Parallel()
	const runs = 1000
	tests := []struct {
		name       string
		serversToo bool
	}{
		{name: "expired at the org", serversToo: false},
		{name: "expired on every clock", serversToo: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The org and the servers run on a clock that moves only when
			// the test moves it, so that the refresh lease cannot lapse
			// however long a loaded machine holds up the refresh: on the
			// wall clock a refresh held up over the lease's minute would
			// be taken again by another run, a second token request. (A
			// lapsed lease is an interrupted refresh, tested on its own.)
			// The org is on that clock too, so that the tokens and client
			// assertions one signs the other checks on the same time.
			// Nothing in the servers waits for their clock to move: their
			// waits for a lease, a refresh and its retries are timers.
			clock := emutest.NewClock(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
			emu := emutest.Start(t, oktaemu.Config{Devices: 10, Now: clock.Now})
			a, b, _ := pgServers(t, emu, func(c *Config) { c.Now, c.RefreshLeaseTTL = clock.Now, time.Minute })
			a.connect("Prod")
			device := a.deviceWithStatus("Prod", "ACTIVE")

			if tt.serversToo {
				clock.Advance(2 * time.Hour) // the org's clock and the servers'
			} else {
				emu.AdvanceClock(t, 2*time.Hour) // the org's clock only
			}
			before := emu.Stats(t)["POST /oauth2/v1/token"]

			readOnBoth(t, a, b, runs, "Prod", device)
			if got := emu.Stats(t)["POST /oauth2/v1/token"] - before; got != 1 {
				t.Errorf("%d runs made %d token requests; want exactly 1", runs, got)
			}
			if got := emu.Stats(t)["GET /api/v1/devices/{deviceId}"]; got < runs {
				t.Errorf("the org served %d device reads; want at least %d", got, runs)
			}
		})
	}
}

// readOnBoth starts runs reads of device through connection conn at once,
// alternating between servers a and b, and fails t unless every run
// succeeds.
//
// Each server gets at most 100 connections, a hundred runs at a time: the
// other runs wait in the client. A thousand connections opened at once
// leave some unwritten past the server's 10 s ReadHeaderTimeout on a
// loaded machine, and the server closes them unanswered (the POST fails
// with EOF). The client's timeout only bounds a hang.
func readOnBoth(t *testing.T, a, b *harness, runs int, conn, device string) {
	t.Helper()
	const perServer = 100
	client := &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{MaxConnsPerHost: perServer, MaxIdleConnsPerHost: perServer}}
	defer client.CloseIdleConnections()
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range runs {
		h := a
		if i%2 == 1 {
			h = b
		}
		wg.Go(func() {
			<-start
			hc := *h
			hc.http = client
			code, r := hc.run("okta-devices/read-device", conn, map[string]any{"deviceId": device})
			if code != http.StatusCreated || r.Status != "succeeded" {
				if failed.Add(1) <= 3 {
					t.Errorf("run %d on %s: %d %+v", i, h.url, code, r.Error)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d runs failed; want none", n, runs)
	}
}

// rateLimited returns how many Okta responses the server counted as 429.
func rateLimited(t *testing.T, h *harness) int {
	t.Helper()
	mfs, err := h.app.Registry.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	n := 0
	for _, mf := range mfs {
		if mf.GetName() != "cardflow_okta_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "status") == "429" {
				n += int(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return n
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestMultiServerSharedRateBudget: two servers read devices as fast as
// they can from an org allowing 20 calls a minute whose window ends in
// 2.5 s, wanting more than two windows' worth. Sharing the org's budget
// through the database, they fill both windows and no call is answered
// 429 (with a budget each, both would take the whole new window).
//
// The org and both servers run on one clock that stands still unless
// the servers' waits for the budget move it forward, so that how long
// anything takes on the machine does not matter; the test stops when a
// wait would reach the third window.
func TestMultiServerSharedRateBudget(t *testing.T) {
	t.Parallel()
	const (
		limit       = 20
		perServer   = 30
		concurrency = 6
	)
	// Windows end on the minute: the first one ends 2.5 s after the start.
	windowEnd := time.Now().Truncate(time.Minute).Add(time.Minute)
	clock := emutest.NewClock(windowEnd.Add(-2500 * time.Millisecond))
	thirdWindow := windowEnd.Add(time.Minute)
	emu := emutest.Start(t, oktaemu.Config{Devices: 10, RateLimitPerMinute: limit, Now: clock.Now})
	ctx, giveUp := context.WithCancel(t.Context())
	defer giveUp()
	// A wait moves the clock only once every call the budgets let through
	// has its answer: a call let through in one window must reach the org
	// in that window, as it does when time flows.
	var inFlight atomic.Int64
	sleep := func(_ context.Context, d time.Duration) error {
		wake := clock.Now().Add(max(d, 0))
		for inFlight.Load() > 0 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		if !wake.Before(thirdWindow) {
			giveUp()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if now := clock.Now(); wake.After(now) {
			clock.Advance(wake.Sub(now))
		}
		return nil
	}
	a, b, _ := pgServers(t, emu, func(c *Config) {
		c.Now = clock.Now
		c.rewire = func(a *App) {
			shared := a.Executor.Budget.(*ratebudget.Shared)
			shared.Sleep = sleep
			a.Executor.Budget = countingLimiter{shared, &inFlight}
		}
	})
	a.connect("Prod")
	// The device to read is looked up without cardflow, so that its
	// budget knows nothing of the org before the runs.
	device := activeDevice(t, emu)
	before := emu.Stats(t)["GET /api/v1/devices/{deviceId}"]

	var succeeded atomic.Int64
	var wg sync.WaitGroup
	for _, h := range []*harness{a, b} {
		work := make(chan struct{})
		for range concurrency {
			wg.Go(func() {
				for range work {
					if runWithContext(ctx, t, h, device) {
						succeeded.Add(1)
					}
				}
			})
		}
		wg.Go(func() {
			defer close(work)
			for range perServer {
				work <- struct{}{}
			}
		})
	}
	wg.Wait()

	got429 := rateLimited(t, a) + rateLimited(t, b)
	t.Logf("%d runs succeeded; the org answered %d reads, %d of them 429", succeeded.Load(),
		emu.Stats(t)["GET /api/v1/devices/{deviceId}"]-before, got429)
	if got429 != 0 {
		t.Errorf("the servers got %d 429 answers; want none", got429)
	}
	if got, want := succeeded.Load(), int64(limit+limit/2); got < want {
		t.Errorf("%d runs succeeded; want at least %d (runs in both windows)", got, want)
	}
	if got := succeeded.Load(); got >= 2*perServer {
		t.Errorf("all %d runs succeeded before the third window; want some held for it", got)
	}
}

// countingLimiter counts the calls its Limiter let through whose answers
// have not come yet.
type countingLimiter struct {
	okta.Limiter
	inFlight *atomic.Int64
}

func (l countingLimiter) Wait(ctx context.Context, key okta.Key, onWait func(time.Duration)) (func(okta.Observation), error) {
	done, err := l.Limiter.Wait(ctx, key, onWait)
	if err != nil {
		return nil, err
	}
	l.inFlight.Add(1)
	var once sync.Once
	return func(o okta.Observation) {
		done(o)
		once.Do(func() { l.inFlight.Add(-1) })
	}, nil
}

// runWithContext runs read-device on h until ctx ends and reports whether
// the run succeeded.
func runWithContext(ctx context.Context, t *testing.T, h *harness, device string) bool {
	body := strings.NewReader(`{"card":"okta-devices/read-device","connection":"Prod","input":{"deviceId":"` + device + `"}}`)
	req, err := http.NewRequestWithContext(ctx, "POST", h.url+"/api/v1/runs", body)
	if err != nil {
		t.Error(err)
		return false
	}
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.http.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var r runJSON
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return false
	}
	return resp.StatusCode == http.StatusCreated && r.Status == "succeeded"
}

// activeDevice asks the org directly, as its super admin, for the id of an
// active device.
func activeDevice(t testing.TB, emu *emutest.Server) string {
	t.Helper()
	q := url.Values{"search": {`status eq "ACTIVE"`}, "limit": {"1"}}
	req, err := http.NewRequest("GET", emu.URL+"/api/v1/devices?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "SSWS "+oktaemu.DemoAPIToken)
	req.Header.Set("Accept", "application/json")
	resp, err := emu.Client.Do(req)
	if err != nil {
		t.Fatalf("list devices: %v", err)
	}
	defer resp.Body.Close()
	var devices []struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&devices); err != nil || len(devices) == 0 {
		t.Fatalf("list devices: status %d, %d devices, %v; want an active device", resp.StatusCode, len(devices), err)
	}
	return devices[0].ID
}
