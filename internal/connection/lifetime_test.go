package connection

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// TestExpiryIsRecordedOnce: servers that find the same connection past its
// refresh token's 90 days at the same moment (each read it while it was
// still active: the minute's expiry check of every server, or card runs
// starting together) report it each, but the connection.expired audit
// event is recorded once, by whichever moved the connection.
func TestExpiryIsRecordedOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	other := e.manager(t, e.openStore(t), "process-2")
	e.emu.AdvanceClock(t, 91*24*time.Hour)

	// Both read the connection before either wrote.
	seen := e.conn(t, v.ID)
	if seen.Status != store.StatusActive || !e.m.refreshExpired(seen) {
		t.Fatalf("day 91: status %s, expiry %v; want an active connection past its expiry", seen.Status, seen.RefreshTokenExpiresAt)
	}
	for _, m := range []*Manager{e.m, other} {
		m.init()
		wantProblem(t, m.expire(ctx, seen), problem.NeedsReauthorization, "90 days")
	}
	events := e.audit(t, v.ID)
	if n := countExpired(events); n != 1 {
		t.Errorf("%d connection.expired audit events; want 1", n)
	}
	for _, ev := range events {
		if want := "refresh token expired " + timetext.Format(seen.RefreshTokenExpiresAt); ev.Action == store.ActionConnectionExpired && ev.InputSummary != want {
			t.Errorf("connection.expired summary %q; want %q, the time as people read it", ev.InputSummary, want)
		}
	}
	c := e.conn(t, v.ID)
	if c.Status != store.StatusNeedsReauthorization || c.StatusReasonCode != store.ReasonRefreshTokenExpired {
		t.Errorf("status %s (code %q); want needs_reauthorization, %s", c.Status, c.StatusReasonCode, store.ReasonRefreshTokenExpired)
	}
	if want := `cardflow connections reauthorize "Prod"): a new sign-in starts a new 90 days; for unattended flows`; !strings.Contains(c.Remedy, want) {
		t.Errorf("remedy %q; want it to read on as one sentence: %s", c.Remedy, want)
	}
}

// TestExpiryByTheOrgsClock: a host whose clock fell behind the org's
// since the org last answered the connection (so that, as far as cardflow
// knows, the clocks agree) presents the refresh token after its 90 days
// have ended by the org's clock but not yet by its own. The org refuses it
// (invalid_grant), and the connection's reason is the 90-day end with the
// sign-in date, as when cardflow sees the expiry first, not an unexplained
// refusal ("revoked, expired, or reused"): the answer's Date is the org's
// time, the expiry's clock.
func TestExpiryByTheOrgsClock(t *testing.T) {
	e := newEnv(t)
	v := e.connect(t, "Prod")
	e.m.Now = func() time.Time { return e.emu.Now().Add(-time.Minute) }
	e.emu.AdvanceClock(t, 90*24*time.Hour+30*time.Second)
	if c := e.conn(t, v.ID); e.m.refreshExpired(c) {
		t.Fatalf("refresh token expiry %v is past already by the clock %v the connection knows of; the test needs it ahead", c.RefreshTokenExpiresAt, e.m.orgNow(c))
	}

	_, err := e.m.Token(context.Background(), v.ID)
	wantProblem(t, err, problem.NeedsReauthorization, "90 days", "the sign-in on ")
	c := e.conn(t, v.ID)
	if c.Status != store.StatusNeedsReauthorization || c.StatusReasonCode != store.ReasonRefreshTokenExpired {
		t.Errorf("status %s (code %q, %q); want needs_reauthorization, %s", c.Status, c.StatusReasonCode, c.StatusReason, store.ReasonRefreshTokenExpired)
	}
	if !strings.Contains(c.Remedy, "service connection") {
		t.Errorf("remedy %q; want the 90-day remedy, which names service connections", c.Remedy)
	}
	if n := countExpired(e.audit(t, v.ID)); n != 1 {
		t.Errorf("%d connection.expired audit events; want 1", n)
	}
}

func countExpired(events []*store.AuditEvent) int {
	n := 0
	for _, ev := range events {
		if ev.Action == store.ActionConnectionExpired {
			n++
		}
	}
	return n
}

// TestExpiryLearnedAfterIntrospectionFailed: the org fails the
// introspection at the sign-in (a 5xx), so the refresh token's 90-day end
// is unknown. The connection's next use asks again, with the refresh
// token it holds and without presenting it to the token endpoint (no
// refresh, so nothing rotates or is spent), and shows the expiry at once.
// When the org fails the question again, the minute's expiry check asks
// after a wait that grows, not at every use.
func TestExpiryLearnedAfterIntrospectionFailed(t *testing.T) {
	const introspect = "POST /oauth2/v1/introspect"
	e := newEnv(t)
	ctx := context.Background()
	_, u := e.create(t, "Prod", nil)
	e.emu.Fault(t, "POST", "/oauth2/v1/introspect", http.StatusServiceUnavailable, 1)
	res := e.signIn(t, u, oktaemu.AdminLogin)
	if !res.OK || res.Connection.RefreshTokenExpiresAt != nil {
		t.Fatalf("sign-in: ok %v (%s), expiry %v; want a working connection whose expiry is unknown", res.OK, res.Message, res.Connection.RefreshTokenExpiresAt)
	}
	id := res.Connection.ID
	stale := e.conn(t, id)
	rt := e.open(t, stale, "refresh_token")
	posts := e.tokenPosts(t)

	// The next use: a card's one call to the org.
	_, hc, err := e.m.ResolveClient(ctx, connector, id)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(e.emu.URL + "/api/v1/devices?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	v, err := e.m.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := v.AuthorizedAt.Add(90 * 24 * time.Hour) // both the org's time
	if v.RefreshTokenExpiresAt == nil || !v.RefreshTokenExpiresAt.Equal(want) {
		t.Errorf("after the next use: expiry %v; want %v", v.RefreshTokenExpiresAt, want)
	}
	if n := e.tokenPosts(t); n != posts {
		t.Errorf("%d token requests to learn the expiry; want none", n-posts)
	}
	if got := e.open(t, e.conn(t, id), "refresh_token"); got != rt {
		t.Error("the refresh token changed; learning its expiry must not spend it")
	}
	// An expiry check that read the connection before it was learnt does
	// not ask again.
	asked := e.emu.Stats(t)[introspect]
	e.m.learnExpiry(ctx, stale, time.Second)
	if n := e.emu.Stats(t)[introspect] - asked; n != 0 {
		t.Errorf("%d questions for an expiry learnt already; want none", n)
	}

	// Once more, and the org fails the question at the use too.
	_, u = e.create(t, "Stage", nil)
	e.emu.Fault(t, "POST", "/oauth2/v1/introspect", http.StatusServiceUnavailable, 2)
	id = e.signIn(t, u, oktaemu.AdminLogin).Connection.ID
	asked = e.emu.Stats(t)[introspect]
	for range 3 {
		if _, err := e.m.Token(ctx, id); err != nil {
			t.Fatalf("Token: %v", err)
		}
	}
	if n := e.emu.Stats(t)[introspect] - asked; n != 1 {
		t.Errorf("%d questions in three uses right after the sign-in; want 1 (then a wait)", n)
	}
	if err := e.m.CheckExpiries(ctx); err != nil {
		t.Fatal(err)
	}
	if c := e.conn(t, id); !c.RefreshTokenExpiresAt.IsZero() {
		t.Fatalf("expiry %v learned before the wait ended", c.RefreshTokenExpiresAt)
	}
	e.emu.AdvanceClock(t, expiryRetryFirst)
	if err := e.m.CheckExpiries(ctx); err != nil {
		t.Fatal(err)
	}
	if c := e.conn(t, id); c.RefreshTokenExpiresAt.IsZero() {
		t.Errorf("expiry unknown after the expiry check a minute later")
	}
	if n := e.tokenPosts(t); n != posts+1 {
		t.Errorf("%d token requests besides the second sign-in's; want none", n-posts-1)
	}
}

// TestSignInDateByTheOrgsClock: with this host's clock 20 hours behind
// the org's, the sign-in's time is the org's, as the refresh token's
// expiry (introspected) is: expiry minus sign-in is Okta's 90 days, and
// the expired reason's two dates are 90 days apart, where the sign-in
// followed this host's clock and the two disagreed by the clocks'
// difference (a day, by the dates).
func TestSignInDateByTheOrgsClock(t *testing.T) {
	const behind = 20 * time.Hour
	e := newEnv(t)
	e.m.Now = func() time.Time { return e.emu.Now().Add(-behind) }
	v := e.connect(t, "Prod")
	if v.AuthorizedAt == nil || v.RefreshTokenExpiresAt == nil {
		t.Fatalf("authorized %v, expiry %v; want both", v.AuthorizedAt, v.RefreshTokenExpiresAt)
	}
	if d := v.RefreshTokenExpiresAt.Sub(*v.AuthorizedAt); d != 90*24*time.Hour {
		t.Errorf("expiry %v minus sign-in %v = %v; want 90 days", v.RefreshTokenExpiresAt, v.AuthorizedAt, d)
	}
	if d := e.emu.Now().Sub(*v.AuthorizedAt); d < 0 || d > time.Minute {
		t.Errorf("sign-in %v; want the org's time %v", v.AuthorizedAt, e.emu.Now())
	}
	c := e.conn(t, v.ID)
	reason := expiredReason(c)
	signIn, expiry := c.AuthorizedAt.UTC().Format(dateFormat), c.RefreshTokenExpiresAt.UTC().Format(dateFormat)
	if want := c.AuthorizedAt.UTC().AddDate(0, 0, 90).Format(dateFormat); expiry != want || !strings.Contains(reason, "the sign-in on "+signIn) {
		t.Errorf("reason %q; want the expiry on %s, 90 days after the sign-in on %s", reason, want, signIn)
	}

	// Reauthorized within the same second of the org's clock: the ID
	// token's iat is the same, and the authorization is new all the same.
	u, err := e.m.Reauthorize(context.Background(), v.ID, nil, tester)
	if err != nil {
		t.Fatal(err)
	}
	again := e.signIn(t, u, oktaemu.AdminLogin).Connection
	if !again.AuthorizedAt.After(*v.AuthorizedAt) {
		t.Errorf("reauthorized at %v, signed in before at %v; want it later", again.AuthorizedAt, v.AuthorizedAt)
	}
}

// TestExpiryNeverToldEndsAfter90Days: the org never answers the
// introspection, so the refresh token's expiry stays unknown. 91 days
// after the sign-in the org refuses the refresh token, and the reason is
// its 90-day end from the sign-in's date (the org's time, as the refusal's
// Date is), where it was an unexplained refusal ("revoked, expired, or
// reused") with the code refresh_token_refused.
func TestExpiryNeverToldEndsAfter90Days(t *testing.T) {
	e := newEnv(t)
	_, u := e.create(t, "Prod", nil)
	e.emu.Fault(t, "POST", "/oauth2/v1/introspect", http.StatusServiceUnavailable, 1000)
	v := e.signIn(t, u, oktaemu.AdminLogin).Connection
	e.emu.AdvanceClock(t, 91*24*time.Hour)
	_, err := e.m.Token(context.Background(), v.ID)
	end := v.AuthorizedAt.Add(90 * 24 * time.Hour).Format(dateFormat)
	wantProblem(t, err, problem.NeedsReauthorization, "expired on "+end, "90 days from the sign-in on "+v.AuthorizedAt.Format(dateFormat))
	c := e.conn(t, v.ID)
	if c.Status != store.StatusNeedsReauthorization || c.StatusReasonCode != store.ReasonRefreshTokenExpired {
		t.Errorf("status %s (code %q, %q); want needs_reauthorization, %s", c.Status, c.StatusReasonCode, c.StatusReason, store.ReasonRefreshTokenExpired)
	}
	if !c.RefreshTokenExpiresAt.IsZero() {
		t.Fatalf("expiry %v; the test needs it unknown", c.RefreshTokenExpiresAt)
	}
}
