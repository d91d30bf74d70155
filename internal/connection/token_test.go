package connection

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// hammer calls Token n times concurrently on each manager and returns the
// distinct access tokens and the failures.
func hammer(t *testing.T, id string, n int, ms ...*Manager) (map[string]int, []error) {
	t.Helper()
	var mu sync.Mutex
	tokens := map[string]int{}
	var errs []error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, m := range ms {
		for range n {
			wg.Go(func() {
				<-start
				tok, err := m.Token(context.Background(), id)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				tokens[tok.AccessToken.Reveal()]++
			})
		}
	}
	close(start)
	wg.Wait()
	return tokens, errs
}

func TestTokenRefreshIsSingleFlight(t *testing.T) {
	e := newEnv(t)
	v := e.connect(t, "Prod")
	before := e.conn(t, v.ID)
	oldAccess := e.open(t, before, "access_token")
	oldRefresh := e.open(t, before, "refresh_token")

	// A fresh token is served from the store without calling the org.
	posts := e.tokenPosts(t)
	if tokens, errs := hammer(t, v.ID, 50, e.m); len(errs) != 0 || tokens[oldAccess] != 50 {
		t.Fatalf("fresh token: tokens %d errors %v; want the stored token 50 times", len(tokens), errs)
	}
	if n := e.tokenPosts(t) - posts; n != 0 {
		t.Fatalf("%d token requests for a fresh token; want 0", n)
	}

	e.emu.AdvanceClock(t, time.Hour)
	tokens, errs := hammer(t, v.ID, 1000, e.m)
	if len(errs) != 0 {
		t.Fatalf("%d of 1000 Token calls failed; first: %v", len(errs), errs[0])
	}
	if n := e.tokenPosts(t) - posts; n != 1 {
		t.Errorf("token requests %d; want exactly 1", n)
	}
	if len(tokens) != 1 {
		t.Errorf("%d distinct access tokens; want 1", len(tokens))
	}
	after := e.conn(t, v.ID)
	if _, ok := tokens[e.open(t, after, "access_token")]; !ok || tokens[oldAccess] != 0 {
		t.Error("callers did not all get the new, stored access token")
	}
	if e.open(t, after, "refresh_token") == oldRefresh {
		t.Error("refresh token not rotated in the store")
	}
	if !after.RefreshStartedAt.IsZero() {
		t.Errorf("RefreshStartedAt %v left set after a completed refresh", after.RefreshStartedAt)
	}
	if got := after.AccessTokenExpiry.Sub(e.emu.Now()); got < 59*time.Minute || got > time.Hour {
		t.Errorf("new token expires in %v; want about 1h on the org's clock", got)
	}
}

func TestTokenRefreshIsSingleFlightAcrossProcesses(t *testing.T) {
	e := newEnv(t)
	v := e.connect(t, "Prod")
	other := e.manager(t, e.openStore(t), "process-2")
	// A lease that lapses because a loaded machine starved its renewal is
	// an interrupted refresh, tested on its own (TestRecoverInterruptedRefresh); here the
	// lease must outlast any scheduling delay.
	e.m.RefreshLeaseTTL, other.RefreshLeaseTTL = time.Minute, time.Minute
	e.emu.AdvanceClock(t, time.Hour)
	posts := e.tokenPosts(t)
	tokens, errs := hammer(t, v.ID, 500, e.m, other)
	if len(errs) != 0 {
		t.Fatalf("%d of 1000 Token calls failed; first: %v", len(errs), errs[0])
	}
	for _, m := range []*Manager{e.m, other} {
		m.semMu.Lock()
		if n := len(m.sems); n != 0 {
			t.Errorf("%d in-process connection locks kept after every refresh ended; want none", n)
		}
		m.semMu.Unlock()
	}
	if n := e.tokenPosts(t) - posts; n != 1 {
		t.Errorf("token requests %d; want exactly 1", n)
	}
	if len(tokens) != 1 {
		t.Errorf("%d distinct access tokens; want 1", len(tokens))
	}
}

// revokeAtOrg revokes a token the way an administrator (or reuse
// detection) would.
func (e *env) revokeAtOrg(t *testing.T, token, hint string) {
	t.Helper()
	if code, body := e.oauthPost(t, "/oauth2/v1/revoke", url.Values{"token": {token}, "token_type_hint": {hint}}); code != http.StatusOK {
		t.Fatalf("revoke: %d %s", code, body)
	}
}

func TestInvalidGrantNeedsReauthorization(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	e.revokeAtOrg(t, e.open(t, e.conn(t, v.ID), "refresh_token"), "refresh_token")
	e.emu.AdvanceClock(t, time.Hour)

	_, err := e.m.Token(ctx, v.ID)
	wantProblem(t, err, problem.NeedsReauthorization, "invalid_grant", "reauthorize")
	got, err := e.m.Get(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusNeedsReauthorization || !strings.Contains(got.StatusReason, "invalid_grant") || got.Remedy == "" ||
		got.StatusReasonCode != store.ReasonRefreshTokenRefused {
		t.Errorf("status %q reason %q remedy %q code %q; want needs_reauthorization with the reason, a remedy and %s", got.Status, got.StatusReason, got.Remedy, got.StatusReasonCode, store.ReasonRefreshTokenRefused)
	}
	if !e.conn(t, v.ID).RefreshStartedAt.IsZero() {
		t.Error("RefreshStartedAt left set")
	}
	posts := e.tokenPosts(t)
	_, err = e.m.HTTPClient(v.ID).Get(e.emu.URL + "/api/v1/devices")
	wantProblem(t, err, problem.NeedsReauthorization, `connection "Prod" needs reauthorization: the org rejected the refresh token`, `reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Prod")`)
	if n := e.tokenPosts(t) - posts; n != 0 {
		t.Errorf("%d token requests for a connection that needs reauthorization; want 0", n)
	}

	// Reauthorizing brings it back.
	authURL, err := e.m.Reauthorize(ctx, v.ID, nil, tester)
	if err != nil {
		t.Fatal(err)
	}
	if res := e.signIn(t, authURL, "admin@example.com"); !res.OK || res.Connection.Status != store.StatusActive || res.Connection.StatusReasonCode != "" {
		t.Fatalf("reauthorization: %+v; want active without a reason code", res)
	}
}

func TestInvalidGrantUsesNewerStoredToken(t *testing.T) {
	var e *env
	var fired atomic.Bool
	var id string
	hook := &hookTransport{before: func(r *http.Request) error {
		if !isRefreshPost(r) || fired.Swap(true) {
			return nil
		}
		// Meanwhile another process stored newer tokens and the one being
		// presented was revoked.
		c := e.conn(t, id)
		e.revokeAtOrg(t, e.open(t, c, "refresh_token"), "refresh_token")
		if err := e.m.sealTokens(c, &tokenSet{Access: "newer-access", Refresh: "newer-refresh", Expiry: e.emu.Now().Add(time.Hour)}); err != nil {
			t.Error(err)
		}
		c.RefreshStartedAt = time.Time{}
		if err := e.store.UpdateConnection(context.Background(), c.ID, replaceWith(c)); err != nil {
			t.Error(err)
		}
		return nil
	}}
	e = newEnv(t, withHook(hook))
	id = e.connect(t, "Prod").ID
	e.emu.AdvanceClock(t, time.Hour)
	tok, err := e.m.Token(context.Background(), id)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.AccessToken.Reveal() != "newer-access" {
		t.Errorf("Token returned another token; want the newer stored one")
	}
	if c := e.conn(t, id); c.Status != store.StatusActive {
		t.Errorf("status %q (%s); want active", c.Status, c.StatusReason)
	}
}

func TestRefreshWithoutNewRefreshTokenKeepsOld(t *testing.T) {
	hook := &hookTransport{
		before: func(r *http.Request) error {
			if isRefreshPost(r) {
				r.Header.Set("X-Test-Grant", "refresh_token")
			}
			return nil
		},
		after: func(r *http.Request, resp *http.Response) (*http.Response, error) {
			if r.Header.Get("X-Test-Grant") != "refresh_token" || resp.StatusCode != http.StatusOK {
				return resp, nil
			}
			b, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil {
				return nil, err
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, err
			}
			delete(m, "refresh_token")
			b, _ = json.Marshal(m)
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
			return resp, nil
		},
	}
	e := newEnv(t, withHook(hook))
	v := e.connect(t, "Prod")
	before := e.conn(t, v.ID)
	e.emu.AdvanceClock(t, time.Hour)
	tok, err := e.m.Token(context.Background(), v.ID)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	after := e.conn(t, v.ID)
	if got, want := e.open(t, after, "refresh_token"), e.open(t, before, "refresh_token"); got != want {
		t.Error("the refresh token changed although the org sent none")
	}
	if tok.AccessToken.Reveal() == e.open(t, before, "access_token") || tok.AccessToken.Reveal() != e.open(t, after, "access_token") {
		t.Error("the new access token was not stored and returned")
	}
}

func TestHTTPClientRefreshesOnceOn401(t *testing.T) {
	e := newEnv(t)
	v := e.connect(t, "Prod")
	old, err := e.m.Token(context.Background(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.revokeAtOrg(t, old.AccessToken.Reveal(), "access_token")
	posts := e.tokenPosts(t)
	client := e.m.HTTPClient(v.ID)
	var wg sync.WaitGroup
	var failures atomic.Int32
	for range 20 {
		wg.Go(func() {
			resp, err := client.Get(e.emu.URL + "/api/v1/devices?limit=1")
			if err != nil {
				t.Error(err)
				failures.Add(1)
				return
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d; want 200 after the refresh", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if n := e.tokenPosts(t) - posts; n != 1 {
		t.Errorf("token requests %d; want exactly 1", n)
	}

	// A POST body is replayed on the retry.
	cur, _ := e.m.Token(context.Background(), v.ID)
	e.revokeAtOrg(t, cur.AccessToken.Reveal(), "access_token")
	devices := e.listDevices(t, v.ID)
	resp, err := client.Post(e.emu.URL+"/api/v1/devices/"+devices[0]+"/lifecycle/suspend", "application/json", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST after refresh: status %d", resp.StatusCode)
	}

	// The token never goes to another origin.
	_, err = client.Get("http://127.0.0.1:1/api/v1/devices")
	wantProblem(t, err, problem.InvalidInput, "refusing to send the connection's token")
}

func (e *env) listDevices(t *testing.T, id string) []string {
	t.Helper()
	resp, err := e.m.HTTPClient(id).Get(e.emu.URL + "/api/v1/devices?limit=3")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var ds []struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ds); err != nil || len(ds) == 0 {
		t.Fatalf("devices: %v (%d)", err, len(ds))
	}
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

func TestRecoverInterruptedRefresh(t *testing.T) {
	tests := []struct {
		name string
		// presented: the org already rotated the refresh token before the
		// process died.
		presented  bool
		age        time.Duration
		window     time.Duration
		otherLease bool
		fault      bool // the retry is answered 503
		wantStatus string
		wantPosts  int
		wantSet    bool // RefreshStartedAt still set afterwards
	}{
		{name: "died before presenting, young", age: 5 * time.Second, wantStatus: store.StatusActive, wantPosts: 1},
		{name: "died after the org rotated, young", presented: true, age: 2 * time.Second, wantStatus: store.StatusActive, wantPosts: 1},
		{name: "too old to retry", presented: true, age: 25 * time.Second, wantStatus: store.StatusNeedsReauthorization},
		{name: "retry disabled", age: time.Second, window: -1, wantStatus: store.StatusNeedsReauthorization},
		// The host's clock went back an hour (a restart after a power loss,
		// before NTP corrected the clock): how long ago the refresh started
		// is unknown, so the refresh token is not presented again.
		{name: "clock went back", presented: true, age: -time.Hour, wantStatus: store.StatusNeedsReauthorization},
		// A little behind the server that started it (clock skew between
		// servers) is still young.
		{name: "clock slightly behind", presented: true, age: -2 * time.Second, wantStatus: store.StatusActive, wantPosts: 1},
		{name: "live lease elsewhere", age: 25 * time.Second, otherLease: true, wantStatus: store.StatusActive, wantSet: true},
		// A definite failure of the retry says nothing about the
		// interrupted attempt: the marker stays, so the window still rules.
		{name: "retry answered 503", presented: true, age: 2 * time.Second, fault: true, wantStatus: store.StatusActive, wantPosts: 1, wantSet: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.m.RefreshRetryWindow = tt.window
			ctx := context.Background()
			v := e.connect(t, "Prod")
			c := e.conn(t, v.ID)
			if tt.presented {
				code, body := e.oauthPost(t, "/oauth2/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {e.open(t, c, "refresh_token")}})
				if code != http.StatusOK {
					t.Fatalf("out-of-band refresh: %d %s", code, body)
				}
			}
			if tt.age > 0 {
				e.emu.AdvanceClock(t, tt.age)
			}
			c.RefreshStartedAt = e.emu.Now().Add(-tt.age)
			if err := e.store.UpdateConnection(ctx, c.ID, replaceWith(c)); err != nil {
				t.Fatal(err)
			}
			if tt.otherLease {
				if ok, err := e.store.TryLease(ctx, leaseName(v.ID), "someone-else", time.Minute, e.emu.Now()); !ok || err != nil {
					t.Fatalf("TryLease: %v %v", ok, err)
				}
			}
			if tt.fault {
				e.emu.Fault(t, "POST", "/oauth2/v1/token", http.StatusServiceUnavailable, 1)
			}
			posts := e.tokenPosts(t)
			if err := e.m.Recover(ctx); err != nil {
				t.Fatalf("Recover: %v", err)
			}
			if n := e.tokenPosts(t) - posts; n != tt.wantPosts {
				t.Errorf("token requests %d; want %d", n, tt.wantPosts)
			}
			got := e.conn(t, v.ID)
			if got.Status != tt.wantStatus {
				t.Errorf("status %q (%s); want %q", got.Status, got.StatusReason, tt.wantStatus)
			}
			if set := !got.RefreshStartedAt.IsZero(); set != tt.wantSet {
				t.Errorf("RefreshStartedAt set %v; want %v", set, tt.wantSet)
			}
			if tt.wantStatus == store.StatusNeedsReauthorization {
				if !strings.Contains(got.StatusReason, "a token refresh started at "+timetext.Format(c.RefreshStartedAt)+" got no answer from the org or was interrupted") || got.Remedy != `to be safe, reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Prod")` {
					t.Errorf("reason %q remedy %q; want the interrupted refresh explained", got.StatusReason, got.Remedy)
				}
				if got.StatusReasonCode != store.ReasonRefreshInterrupted {
					t.Errorf("StatusReasonCode %q; want %s", got.StatusReasonCode, store.ReasonRefreshInterrupted)
				}
			}
			if tt.wantStatus == store.StatusActive && !tt.wantSet {
				resp, err := e.m.HTTPClient(v.ID).Get(e.emu.URL + "/api/v1/devices?limit=1")
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("GET devices after recovery: %v %v; want 200", resp, err)
				}
				_ = resp.Body.Close()
			}
		})
	}
}

func TestTokenRecoversLazily(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	c := e.conn(t, v.ID)
	c.RefreshStartedAt = e.emu.Now()
	if err := e.store.UpdateConnection(ctx, c.ID, replaceWith(c)); err != nil {
		t.Fatal(err)
	}
	e.emu.AdvanceClock(t, time.Hour) // the token expired long after the interrupted refresh
	posts := e.tokenPosts(t)
	_, err := e.m.Token(ctx, v.ID)
	wantProblem(t, err, problem.NeedsReauthorization, "interrupted", `to be safe, reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Prod")`)
	if n := e.tokenPosts(t) - posts; n != 0 {
		t.Errorf("token requests %d; want 0 (never reuse outside the window)", n)
	}
}

// sleeps records the waits of e.m between refresh attempts and moves the
// org's clock by each instead of sleeping.
func (e *env) sleeps(t *testing.T) *[]time.Duration {
	var mu sync.Mutex
	var waits []time.Duration
	e.m.Sleep = func(_ context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		e.emu.AdvanceClock(t, d)
		return nil
	}
	return &waits
}

func TestRefreshRetriesPassingFailures(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		count     int
		wantOK    bool
		wantPosts int
		minWait   time.Duration // of the first wait
		maxWait   time.Duration
		resetIn   string // X-Rate-Limit-Reset from the org's clock, when set
	}{
		{name: "one 503", status: http.StatusServiceUnavailable, count: 1, wantOK: true, wantPosts: 2, maxWait: refreshBackoff},
		{name: "one 500", status: http.StatusInternalServerError, count: 1, wantOK: true, wantPosts: 2, maxWait: refreshBackoff},
		// The org's X-Rate-Limit-Reset (a second ahead, by its Date) is
		// waited for, not the short backoff.
		{name: "429 until the reset", status: http.StatusTooManyRequests, count: 2, wantOK: true, wantPosts: 3, minWait: time.Second, maxWait: 3 * time.Second},
		// A concurrency 429 (limit 0) names a reset a whole window away,
		// only an estimate: a short wait gets past it.
		{name: "concurrency 429 with a far reset", status: http.StatusTooManyRequests, count: 1, resetIn: "50s", wantOK: true, wantPosts: 2, minWait: time.Second, maxWait: concurrencyWait},
		{name: "503 that does not pass", status: http.StatusServiceUnavailable, count: 100, wantPosts: refreshAttempts, maxWait: refreshBackoff},
		{name: "invalid request is final", status: http.StatusBadRequest, count: 1, wantPosts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			waits := e.sleeps(t)
			ctx := context.Background()
			v := e.connect(t, "Prod")
			e.emu.AdvanceClock(t, time.Hour)
			e.emu.Inject(t, emutest.FaultSpec{Method: "POST", Path: "/oauth2/v1/token", Status: tt.status, Count: tt.count, ResetIn: tt.resetIn})
			posts := e.tokenPosts(t)
			_, err := e.m.Token(ctx, v.ID)
			if tt.wantOK && err != nil {
				t.Fatalf("Token: %v; want the retry to succeed", err)
			}
			if !tt.wantOK {
				wantProblem(t, err, problem.UpstreamError, "did not refresh")
			}
			if n := e.tokenPosts(t) - posts; n != tt.wantPosts {
				t.Errorf("token requests %d; want %d", n, tt.wantPosts)
			}
			if len(*waits) != tt.wantPosts-1 {
				t.Fatalf("waits %v; want %d", *waits, tt.wantPosts-1)
			}
			if len(*waits) > 0 && ((*waits)[0] < tt.minWait || (*waits)[0] > tt.maxWait) {
				t.Errorf("first wait %v; want between %v and %v", (*waits)[0], tt.minWait, tt.maxWait)
			}
			c := e.conn(t, v.ID)
			if c.Status != store.StatusActive || !c.RefreshStartedAt.IsZero() {
				t.Errorf("status %q, RefreshStartedAt %v; want active and cleared", c.Status, c.RefreshStartedAt)
			}
			if !tt.wantOK {
				if _, err := e.m.Token(ctx, v.ID); err != nil && tt.count < 100 {
					t.Errorf("Token after the fault cleared: %v", err)
				}
			}
		})
	}
}

// TestRefreshRetriesLostAnswer loses the org's answer to a refresh that
// rotated the token: the retry, inside the grace window, presents the same
// refresh token and the connection stays active.
func TestRefreshRetriesLostAnswer(t *testing.T) {
	e := newEnv(t)
	waits := e.sleeps(t)
	v := e.connect(t, "Prod")
	// The org rotates the refresh token; the connection is reset before
	// its answer arrives.
	e.emu.Inject(t, emutest.FaultSpec{Method: "POST", Path: "/oauth2/v1/token", Body: "reset", After: true})
	e.emu.AdvanceClock(t, time.Hour)
	posts := e.tokenPosts(t)
	if _, err := e.m.Token(context.Background(), v.ID); err != nil {
		t.Fatalf("Token: %v; want the retry to succeed", err)
	}
	if n := e.tokenPosts(t) - posts; n != 2 || len(*waits) != 1 {
		t.Errorf("token requests %d, waits %v; want 2 and 1", n, *waits)
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusActive || !c.RefreshStartedAt.IsZero() {
		t.Errorf("status %q (%s), RefreshStartedAt %v; want active and cleared", c.Status, c.StatusReason, c.RefreshStartedAt)
	}
}

func TestRefreshInvalidGrantIsFinal(t *testing.T) {
	e := newEnv(t)
	waits := e.sleeps(t)
	v := e.connect(t, "Prod")
	e.revokeAtOrg(t, e.open(t, e.conn(t, v.ID), "refresh_token"), "refresh_token")
	e.emu.AdvanceClock(t, time.Hour)
	posts := e.tokenPosts(t)
	_, err := e.m.Token(context.Background(), v.ID)
	wantProblem(t, err, problem.NeedsReauthorization, "invalid_grant")
	if n := e.tokenPosts(t) - posts; n != 1 || len(*waits) != 0 {
		t.Errorf("token requests %d, waits %v; want 1 and none", n, *waits)
	}
}

// TestRefreshInvalidClientPointsToUpdate: when the org refuses the stored
// client secret at a refresh (the app's secret was rotated in the Admin
// Console), the remedy is to give the connection the new secret, which
// keeps its id and history, not to delete it and create it again.
func TestRefreshInvalidClientPointsToUpdate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	// The app's secret changed at the org: the stored one is now wrong.
	if err := e.store.UpdateConnection(ctx, v.ID, func(c *store.Connection) error {
		var err error
		c.SealedClientSecret, err = e.kr.Seal([]byte("rotated-away-secret"), c.ID+"/client_secret")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.emu.AdvanceClock(t, time.Hour)

	_, err := e.m.Token(ctx, v.ID)
	p := wantProblem(t, err, problem.NeedsReauthorization, "invalid_client", "cardflow connections update "+v.ID+" --client-secret-stdin", "Change secret")
	if strings.Contains(p.Remedy, "delete") {
		t.Errorf("remedy %q; want the update of the secret, not deleting the connection", p.Remedy)
	}
	got, err := e.m.Get(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusNeedsReauthorization || got.Remedy != p.Remedy || got.StatusReasonCode != store.ReasonClientSecretRefused {
		t.Errorf("status %q remedy %q code %q; want needs_reauthorization with the remedy %q and %s", got.Status, got.Remedy, got.StatusReasonCode, p.Remedy, store.ReasonClientSecretRefused)
	}
}

// TestRefreshGatewayErrorMayHaveRotated: an error page without an OAuth
// error (a proxy's 502 HTML page, a gateway's empty 504), like a reset or
// an answer cut short, does not say that the org left the refresh token
// alone: the org may have rotated it before the answer was lost. The refresh stays marked as started, so the same
// refresh token is never presented again after the grace window (which
// Okta would take for reuse and revoke every token of the grant).
func TestRefreshGatewayErrorMayHaveRotated(t *testing.T) {
	tests := []struct {
		body   string
		status int // 0: the org's own answer, cut short
	}{
		{"html", http.StatusBadGateway}, {"empty", http.StatusGatewayTimeout},
		{"reset", 0}, {"cut", 0}, {"truncated", 0},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			e := newEnv(t)
			waits := e.sleeps(t)
			ctx := context.Background()
			v := e.connect(t, "Prod")
			e.emu.AdvanceClock(t, time.Hour)
			// The org rotates the refresh token every time; every answer
			// is lost behind a gateway error.
			e.emu.Inject(t, emutest.FaultSpec{Method: "POST", Path: "/oauth2/v1/token", Status: tt.status,
				Body: tt.body, After: true, Count: refreshAttempts})
			_, err := e.m.Token(ctx, v.ID)
			p := wantProblem(t, err, problem.UpstreamError)
			if strings.Contains(p.Error(), "<") {
				t.Errorf("problem %q; want no HTML in it", p.Error())
			}
			if len(*waits) != refreshAttempts-1 {
				t.Errorf("waits %v; want %d retries inside the window", *waits, refreshAttempts-1)
			}
			if c := e.conn(t, v.ID); c.RefreshStartedAt.IsZero() {
				t.Fatalf("RefreshStartedAt cleared after a lost answer; want it kept (the org may have rotated the token)")
			}
			e.emu.AdvanceClock(t, time.Minute) // past the grace window
			posts := e.tokenPosts(t)
			_, err = e.m.Token(ctx, v.ID)
			wantProblem(t, err, problem.NeedsReauthorization, "interrupted", `to be safe, reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Prod")`)
			if n := e.tokenPosts(t) - posts; n != 0 {
				t.Errorf("token requests %d after the window; want 0 (never present a possibly rotated refresh token)", n)
			}
		})
	}
}

// fullStore is a store whose connection updates fail while full is set,
// as SQLite's do when the disk under the data directory is full.
type fullStore struct {
	store.Store
	full atomic.Bool
}

var errDiskFull = errors.New("sqlite: database or disk is full (13)")

func (s *fullStore) UpdateConnection(ctx context.Context, id string, fn func(*store.Connection) error) error {
	if s.full.Load() {
		return errDiskFull
	}
	return s.Store.UpdateConnection(ctx, id, fn)
}

func (s *fullStore) UpdateConnectionNotify(ctx context.Context, id string, fn func(*store.Connection) ([]*store.Notification, error)) error {
	if s.full.Load() {
		return errDiskFull
	}
	return s.Store.UpdateConnectionNotify(ctx, id, fn)
}

// TestRefreshKeepsTokensTheStoreRefused: the org rotates the refresh
// token, then the database refuses to store the answer (a full disk). The
// org's new tokens are the only valid ones left once the old refresh
// token's grace window has passed, so they are kept and stored when the
// database takes writes again, minutes later, without presenting the old
// refresh token again (reuse) or marking the connection as needing
// reauthorization.
func TestRefreshKeepsTokensTheStoreRefused(t *testing.T) {
	st := &fullStore{}
	var armed atomic.Bool
	h := &hookTransport{after: func(r *http.Request, resp *http.Response) (*http.Response, error) {
		if armed.Load() && r.URL.Path == "/oauth2/v1/token" && resp.StatusCode == http.StatusOK {
			st.full.Store(true) // the disk fills while the org answers
		}
		return resp, nil
	}}
	e := newEnv(t, withHook(h))
	ctx := context.Background()
	v := e.connect(t, "Prod")
	st.Store = e.store
	m := e.manager(t, st, "process-2")
	m.HTTP = e.m.HTTP

	e.emu.AdvanceClock(t, time.Hour)
	armed.Store(true)
	posts := e.tokenPosts(t)
	_, err := m.Token(ctx, v.ID)
	p := wantProblem(t, err, problem.Internal, "store refreshed tokens")
	if !strings.Contains(p.Remedy, "keeps the org's new tokens in memory") {
		t.Errorf("remedy %q; want it to say the new tokens are kept until the database takes writes", p.Remedy)
	}
	if n := e.tokenPosts(t) - posts; n != 1 {
		t.Fatalf("token requests %d; want 1", n)
	}
	if !strings.Contains(e.logs.String(), "database or disk is full") {
		t.Errorf("logs do not name the store's error:\n%s", e.logs)
	}

	// Still full well past the old refresh token's grace window.
	e.emu.AdvanceClock(t, 5*time.Minute)
	_, err = m.Token(ctx, v.ID)
	wantProblem(t, err, problem.Internal, "store refreshed tokens")
	if n := e.tokenPosts(t) - posts; n != 1 {
		t.Errorf("token requests %d while the store is full; want still 1 (the old refresh token is not presented again)", n)
	}

	armed.Store(false)
	st.full.Store(false) // space again
	tok, err := m.Token(ctx, v.ID)
	if err != nil {
		t.Fatalf("Token once the store takes writes: %v; want the kept tokens", err)
	}
	if n := e.tokenPosts(t) - posts; n != 1 {
		t.Errorf("token requests %d; want still 1", n)
	}
	c := e.conn(t, v.ID)
	if c.Status != store.StatusActive || !c.RefreshStartedAt.IsZero() || e.open(t, c, "access_token") != tok.AccessToken.Reveal() {
		t.Errorf("stored: status %q (%s), RefreshStartedAt %v; want active, cleared, holding the kept access token", c.Status, c.StatusReason, c.RefreshStartedAt)
	}
	// The stored refresh token is the org's live one: the next refresh works.
	e.emu.AdvanceClock(t, time.Hour)
	if _, err := m.Token(ctx, v.ID); err != nil {
		t.Fatalf("the next refresh: %v", err)
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusActive {
		t.Errorf("after the next refresh: status %q (%s); want active", c.Status, c.StatusReason)
	}
}

// TestRefreshOfADeletedConnection: a connection deleted while its refresh
// was at the org has nothing to store the answer in; the answer is not
// kept for later, nor logged as tokens waiting for the database.
func TestRefreshOfADeletedConnection(t *testing.T) {
	var e *env
	var id atomic.Value
	h := &hookTransport{after: func(r *http.Request, resp *http.Response) (*http.Response, error) {
		if v, _ := id.Load().(string); v != "" && r.URL.Path == "/oauth2/v1/token" {
			if err := e.store.DeleteConnection(context.Background(), v); err != nil {
				t.Errorf("delete the connection: %v", err)
			}
		}
		return resp, nil
	}}
	e = newEnv(t, withHook(h))
	v := e.connect(t, "Prod")
	e.emu.AdvanceClock(t, time.Hour)
	id.Store(v.ID)
	if _, err := e.m.Token(context.Background(), v.ID); err == nil {
		t.Fatal("Token of a connection deleted during its refresh: no error")
	}
	if strings.Contains(e.logs.String(), "keeping them in memory") {
		t.Errorf("the refresh of a deleted connection is logged as tokens kept for the database:\n%s", e.logs)
	}
	e.m.unstoredMu.Lock()
	defer e.m.unstoredMu.Unlock()
	if len(e.m.unstored) != 0 {
		t.Errorf("tokens kept for a deleted connection: %d", len(e.m.unstored))
	}
}

// TestRefreshRefusedForItsGrantType: the OAuth app's grant types no longer
// include Refresh Token (an admin unticked it), so the org answers a
// refresh unauthorized_client. The card's error says to tick it again and
// that no new sign-in is needed, where it said to try again shortly and
// check that the org is reachable; the refresh token, refused unused,
// works once the grant type is back.
func TestRefreshRefusedForItsGrantType(t *testing.T) {
	var refused atomic.Bool
	refused.Store(true)
	h := &hookTransport{answer: func(r *http.Request) *http.Response {
		if !refused.Load() || !isRefreshPost(r) {
			return nil
		}
		body := `{"error":"unauthorized_client","error_description":"The client is not authorized to use the provided grant type. Configured grant types: [authorization_code]."}`
		return &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}
	}}
	e := newEnv(t, withHook(h))
	ctx := context.Background()
	v := e.connect(t, "Prod")
	e.emu.AdvanceClock(t, time.Hour)
	_, err := e.m.Token(ctx, v.ID)
	p := wantProblem(t, err, problem.UpstreamError, "not allowed the refresh token grant", "unauthorized_client")
	if !strings.Contains(p.Remedy, "Refresh Token under Grant type") || !strings.Contains(p.Remedy, "without a new sign-in") {
		t.Errorf("remedy %q; want the grant type named, and no new sign-in", p.Remedy)
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusActive || !c.RefreshStartedAt.IsZero() {
		t.Errorf("status %s, refresh started %v; want active, no refresh pending", c.Status, c.RefreshStartedAt)
	}
	refused.Store(false)
	if _, err := e.m.Token(ctx, v.ID); err != nil {
		t.Errorf("Token once the grant type is back: %v", err)
	}
}
