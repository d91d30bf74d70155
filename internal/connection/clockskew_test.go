package connection

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// TestServiceTokenRefusedForHostClock: a service connection whose host's
// clock is off from the org's gets its client assertion (signed with
// that clock: exp five minutes ahead) or its DPoP proof (iat) refused as
// expired, or too far ahead, with Okta's invalid_client or
// invalid_dpop_proof. That is no refusal of its key: the connection is in
// error for its clock (clock_skew), saying by how much the org's answer
// says it is off and to set the clock right, not to add a key the app
// holds already; once the clock is right, its next test makes it active.
func TestServiceTokenRefusedForHostClock(t *testing.T) {
	tests := []struct {
		name          string
		clientID      string
		appID         string
		off           time.Duration // the host's clock minus the org's
		wantOff, want string
	}{
		{name: "behind: assertion expired", clientID: oktaemu.DemoServiceClientID, appID: oktaemu.DemoServiceAppID,
			off: -15 * time.Minute, wantOff: "15m0s behind", want: "The client_assertion token is expired."},
		{name: "ahead: assertion too far ahead", clientID: oktaemu.DemoServiceClientID, appID: oktaemu.DemoServiceAppID,
			off: 2 * time.Hour, wantOff: "2h0m0s ahead of", want: "too far into the future"},
		{name: "behind: DPoP proof too old", clientID: oktaemu.DemoDPoPClientID, appID: oktaemu.DemoDPoPAppID,
			off: -8 * time.Minute, wantOff: "8m0s behind", want: "more than five minutes in the past"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The org's clock moves only when the test moves it, so that
			// the emulator, which takes a client's assertion by either of
			// its two clocks, has one.
			org := emutest.NewClock(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
			e := newEnv(t, func(s *envSetup) { s.cfg.Now = org.Now })
			var notices []string
			e.m.ServiceStatusNotice = func(prev, c *store.Connection) ([]*store.Notification, error) {
				notices = append(notices, prev.Status+">"+c.Status+" "+c.StatusReasonCode)
				return nil, nil
			}
			off := time.Duration(0)
			e.m.Now = func() time.Time { return e.emu.Now().Add(off) }
			ctx := context.Background()
			v, jwk, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "Robot", Domain: e.emu.URL,
				ClientID: tt.clientID}, tester)
			if err != nil {
				t.Fatal(err)
			}
			e.emu.AddAppKey(t, tt.appID, jwk)
			if _, err := e.m.Token(ctx, v.ID); err != nil {
				t.Fatalf("first token: %v", err)
			}
			// The cached token runs out; the host's clock has drifted.
			org.Advance(2 * time.Hour)
			off = tt.off
			_, err = e.m.Token(ctx, v.ID)
			p := wantProblem(t, err, problem.UpstreamError, tt.want, "this host's clock is "+tt.wantOff+" the org's (its answer is dated "+timetext.Format(org.Now())+")")
			if !strings.Contains(p.Remedy, "set this host's clock right") || strings.Contains(p.Remedy, "Add key") {
				t.Errorf("remedy %q; want it to set the host's clock, not to add the key", p.Remedy)
			}
			c := e.conn(t, v.ID)
			if c.Status != store.StatusError || c.StatusReasonCode != store.ReasonClockSkew || c.Remedy != p.Remedy {
				t.Fatalf("status %s (code %q, remedy %q); want error, %s, with the problem's remedy", c.Status, c.StatusReasonCode, c.Remedy, store.ReasonClockSkew)
			}
			if got := strings.Join(notices, ", "); got != "active>error "+store.ReasonClockSkew {
				t.Errorf("status notices %q; want one, active>error %s", got, store.ReasonClockSkew)
			}
			// The clock set right, the background test finds it working.
			off = 0
			for range 5 {
				org.Advance(time.Minute)
				if err := e.m.RetryFailedServices(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if c := e.conn(t, v.ID); c.Status != store.StatusActive {
				t.Fatalf("status %s (%s) with the clock right; want active", c.Status, c.StatusReason)
			}
		})
	}
}

// TestSignInIDTokenExpiredByHostClock: a sign-in on a host whose clock is
// more than the ID token's hour ahead of the org's finds the org's fresh ID
// token expired. The connection fails with clock_skew, saying the host's
// clock is ahead and to set it right, where it was told to check that the
// domain is the org's own.
func TestSignInIDTokenExpiredByHostClock(t *testing.T) {
	e := newEnv(t)
	e.m.Now = func() time.Time { return e.emu.Now().Add(2 * time.Hour) }
	v, u := e.create(t, "Ahead", nil)
	res := e.signIn(t, u, oktaemu.AdminLogin)
	if res.OK {
		t.Fatal("the sign-in succeeded; want the ID token found expired by the host's clock")
	}
	if !strings.Contains(res.Message, "this host's clock") || !strings.Contains(res.Remedy, "set this host's clock right") || strings.Contains(res.Remedy, "domain") {
		t.Errorf("%s; %s\nwant the host's clock named, and the fix to set it right", res.Message, res.Remedy)
	}
	if at := regexp.MustCompile(`\(it expired at (.+?); this host's clock says (.+?)\)`).FindStringSubmatch(res.Message); at == nil || !isTimeText(at[1]) || !isTimeText(at[2]) {
		t.Errorf("%s\nwant both times written as %s", res.Message, timetext.Layout)
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusError || c.StatusReasonCode != store.ReasonClockSkew {
		t.Errorf("status %s (code %q); want error, %s", c.Status, c.StatusReasonCode, store.ReasonClockSkew)
	}
}

// isTimeText reports whether s is a time as messages write it
// (timetext.Layout), where they once wrote RFC 3339.
func isTimeText(s string) bool {
	_, err := time.Parse(timetext.Layout, s)
	return err == nil
}
