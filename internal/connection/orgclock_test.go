package connection

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// cardCall makes a card's one call to the org with connection id, as a
// card run does (ResolveClient, then its client).
func (e *env) cardCall(t *testing.T, m *Manager, id string) error {
	t.Helper()
	_, hc, err := m.ResolveClient(context.Background(), connector, id)
	if err != nil {
		return err
	}
	resp, err := hc.Get(e.emu.URL + "/api/v1/devices?limit=1")
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the org answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// TestExpiryGoesByTheOrgsClock: the org's clock is moved ahead of this
// server's, as the demo's POST /_emulator/clock does. 80 days after the
// sign-in by the org's clock, the connection's next call tells cardflow so
// (its answer's Date), and the connection is expiring soon: in its view,
// on another server reading the same store too, and in one
// connection.expiring notice that counts the days left by the org's
// clock. 91 days after it, a card's call is answered 401 (its access token
// ended by the org's clock), and the connection stops with the 90-day end
// without presenting the refresh token to the org. Where the expiry went
// by this server's clock, the warning never came and the org's refusal of
// the refresh token stopped the connection.
func TestExpiryGoesByTheOrgsClock(t *testing.T) {
	e := newEnv(t)
	e.m.Now = time.Now // this server's clock, which the org's leaves
	sent := &notes{}
	e.m.Notifier = sent
	ctx := context.Background()
	v := e.connect(t, "Prod")
	if c := e.conn(t, v.ID); c.OrgClockOffset != 0 || c.RefreshTokenExpiresAt.IsZero() {
		t.Fatalf("after the sign-in: org clock offset %v, expiry %v; want the clocks to agree and the expiry known", c.OrgClockOffset, c.RefreshTokenExpiresAt)
	}
	end := v.RefreshTokenExpiresAt.UTC()

	const ahead = 80*24*time.Hour + time.Hour // 9 days and 23 hours before the end
	e.emu.AdvanceClock(t, ahead)
	if err := e.cardCall(t, e.m, v.ID); err != nil {
		t.Fatalf("a card's call on day 80: %v", err)
	}
	c := e.conn(t, v.ID)
	if d := c.OrgClockOffset - ahead; d < -2*time.Second || d > time.Second {
		t.Errorf("org clock offset %v; want %v, to within Date's second", c.OrgClockOffset, ahead)
	}
	if got, err := e.m.Get(ctx, v.ID); err != nil || !got.ExpiresSoon {
		t.Errorf("day 80: expiresSoon %v (%v); want true, 9 days before the end by the org's clock", got != nil && got.ExpiresSoon, err)
	}
	other := e.manager(t, e.openStore(t), "process-2")
	other.Now = time.Now
	if got, err := other.Get(ctx, v.ID); err != nil || !got.ExpiresSoon {
		t.Errorf("day 80 on another server: expiresSoon %v (%v); want true", got != nil && got.ExpiresSoon, err)
	}
	for range 2 {
		if err := e.m.CheckExpiries(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(sent.sent) != 1 {
		t.Fatalf("%d notifications on day 80; want one connection.expiring", len(sent.sent))
	}
	if n := sent.sent[0]; n.Kind != "connection.expiring" || !strings.Contains(n.Message, end.Format(dateFormat)+" (in 9 days)") {
		t.Errorf("notification %+v; want connection.expiring on %s, in 9 days", n, end.Format(dateFormat))
	}

	// Day 91: the access token refreshed on day 80 ended an hour after.
	e.emu.AdvanceClock(t, 11*24*time.Hour)
	posts := e.tokenPosts(t)
	err := e.cardCall(t, e.m, v.ID)
	wantProblem(t, err, problem.NeedsReauthorization, "the refresh token expired on "+end.Format(dateFormat), "90 days from the sign-in on "+v.AuthorizedAt.UTC().Format(dateFormat))
	if n := e.tokenPosts(t) - posts; n != 0 {
		t.Errorf("%d token requests on day 91; want none: the org's clock says the refresh token ended", n)
	}
	c = e.conn(t, v.ID)
	if c.Status != store.StatusNeedsReauthorization || c.StatusReasonCode != store.ReasonRefreshTokenExpired {
		t.Errorf("status %s (code %q, %q); want needs_reauthorization, %s", c.Status, c.StatusReasonCode, c.StatusReason, store.ReasonRefreshTokenExpired)
	}
	if n := countExpired(e.audit(t, v.ID)); n != 1 {
		t.Errorf("%d connection.expired audit events; want 1", n)
	}
}

// TestExpiryCheckedBeforeACardCallsByTheOrgsClock: with the org's clock
// known to be 80 days ahead, both clocks move on 11 days. The card is
// stopped before any call to the org, by the org's clock; this server's
// says 11 days have passed since the sign-in.
func TestExpiryCheckedBeforeACardCallsByTheOrgsClock(t *testing.T) {
	e := newEnv(t)
	host := emutest.NewClock(e.emu.Now())
	e.m.Now = host.Now
	v := e.connect(t, "Prod")
	e.emu.AdvanceClock(t, 80*24*time.Hour)
	if err := e.cardCall(t, e.m, v.ID); err != nil {
		t.Fatalf("a card's call on day 80: %v", err)
	}
	e.emu.AdvanceClock(t, 11*24*time.Hour)
	host.Advance(11 * 24 * time.Hour)
	before := e.emu.Stats(t)
	err := e.cardCall(t, e.m, v.ID)
	wantProblem(t, err, problem.NeedsReauthorization, "90 days")
	after := e.emu.Stats(t)
	for _, call := range []string{"GET /api/v1/devices", "POST /oauth2/v1/token"} {
		if after[call] != before[call] {
			t.Errorf("%d calls %s on day 91; want none", after[call]-before[call], call)
		}
	}
}

// TestExpiryGoesByThisServersClockWithoutDate: the org's answers carry
// no Date, so nothing tells its clock, and the expiry goes by this
// server's: not expiring soon after the org's clock moved 80 days.
func TestExpiryGoesByThisServersClockWithoutDate(t *testing.T) {
	h := &hookTransport{after: func(_ *http.Request, resp *http.Response) (*http.Response, error) {
		resp.Header.Del("Date")
		return resp, nil
	}}
	e := newEnv(t, withHook(h))
	e.m.Now = time.Now
	v := e.connect(t, "Prod")
	e.emu.AdvanceClock(t, 80*24*time.Hour)
	if err := e.cardCall(t, e.m, v.ID); err != nil {
		t.Fatalf("a card's call on day 80: %v", err)
	}
	if c := e.conn(t, v.ID); c.OrgClockOffset != 0 || e.m.expiresSoon(c) {
		t.Errorf("org clock offset %v, expiring soon %v; want none told and not expiring by this server's clock", c.OrgClockOffset, e.m.expiresSoon(c))
	}
}

// TestOrgClockSeen: what one answer's Date (whole seconds, truncated)
// tells of the org's clock.
func TestOrgClockSeen(t *testing.T) {
	sent := time.Date(2026, 3, 1, 12, 0, 0, 900_000_000, time.UTC)
	received := sent.Add(50 * time.Millisecond)
	date := func(t time.Time) http.Header { return http.Header{"Date": {t.UTC().Format(http.TimeFormat)}} }
	for _, tt := range []struct {
		name   string
		h      http.Header
		ok     bool
		offset time.Duration
	}{
		{"no Date", http.Header{}, false, 0},
		{"a Date that is not one", http.Header{"Date": {"yesterday"}}, false, 0},
		{"the same second", date(sent), true, 0},
		{"the clocks agree, Date truncated", date(sent.Truncate(time.Second)), true, 0},
		{"80 days ahead", date(received.Add(80 * 24 * time.Hour)), true, 80*24*time.Hour - 950*time.Millisecond},
		{"a minute behind", date(sent.Add(-time.Minute)), true, -time.Minute - 950*time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			seen, ok := seeOrgClock(tt.h, sent, received)
			if ok != tt.ok {
				t.Fatalf("ok %v; want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if got := seen.offset(); got != tt.offset {
				t.Errorf("offset %v; want %v", got, tt.offset)
			}
			if !seen.agrees(seen.offset()) || !seen.agrees(tt.offset+time.Second) || seen.agrees(tt.offset+3*time.Second) || seen.agrees(tt.offset-3*time.Second) {
				t.Errorf("%+v agrees with its own offset %v and a second more, not 3 s more or less: want so", seen, tt.offset)
			}
		})
	}
}
