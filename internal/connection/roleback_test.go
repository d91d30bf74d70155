package connection

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// roleless connects as the demo user, a mobile admin, and takes the role
// away through Okta's role assignment API: a card's refusal then stops
// the connection, needs_reauthorization with no_admin_role.
func (e *env) roleless(t *testing.T) *View {
	t.Helper()
	ctx := context.Background()
	e.emu.AssignRole(t, oktaemu.UserLogin, "MOBILE_ADMIN")
	_, u := e.create(t, "Prod", nil)
	res := e.signIn(t, u, oktaemu.UserLogin)
	if !res.OK {
		t.Fatalf("authorization as a mobile admin failed: %s; %s", res.Message, res.Remedy)
	}
	e.emu.UnassignRole(t, oktaemu.UserLogin, "MOBILE_ADMIN")
	if got, stopped := e.m.CardForbidden(ctx, res.Connection.ID); !stopped || got.StatusReasonCode != store.ReasonNoAdminRole {
		t.Fatalf("CardForbidden with the role taken away: %+v, %v; want the connection stopped, %s", got, stopped, store.ReasonNoAdminRole)
	}
	return res.Connection
}

// TestRoleBackTest: a user connection stopped for its account's admin
// role says, while the role is still missing, that connections test
// brings it back once the role is; given the role back, connections test
// makes it active again with its refresh token, no new sign-in, audited
// and woken as a reauthorization is.
func TestRoleBackTest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.roleless(t)
	var woken []string
	e.m.OnActive = func(id string) { woken = append(woken, id) }

	res, err := e.m.Test(ctx, v.ID, tester)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || res.Status != store.StatusNeedsReauthorization || res.StatusReasonCode != store.ReasonNoAdminRole ||
		!strings.Contains(res.StatusReason, "not an administrator with device permissions") ||
		!strings.Contains(res.Remedy, `cardflow connections test "Prod"`) || !strings.Contains(res.Remedy, "without a new sign-in") {
		t.Fatalf("test with the role still missing: %+v; want needs_reauthorization, %s, saying to test again once the role is given", res, store.ReasonNoAdminRole)
	}
	if c := e.conn(t, v.ID); c.Remedy != res.Remedy {
		t.Errorf("stored remedy %q; want the test's %q", c.Remedy, res.Remedy)
	}

	e.emu.AssignRole(t, oktaemu.UserLogin, "MOBILE_ADMIN")
	rt := e.open(t, e.conn(t, v.ID), "refresh_token")
	tokens := e.tokenPosts(t)
	res, err = e.m.Test(ctx, v.ID, tester)
	if err != nil || !res.OK || res.Status != store.StatusActive {
		t.Fatalf("test with the role given back: %+v, %v; want it passed, active", res, err)
	}
	c := e.conn(t, v.ID)
	if c.Status != store.StatusActive || c.StatusReason != "" || c.Remedy != "" || c.StatusReasonCode != "" {
		t.Errorf("stored: %s (%s; %s; code %q); want active with no reason", c.Status, c.StatusReason, c.Remedy, c.StatusReasonCode)
	}
	if n := e.tokenPosts(t) - tokens; n != 1 || e.open(t, c, "refresh_token") == rt {
		t.Errorf("%d token requests; want the one refresh of the kept refresh token (rotated)", n)
	}
	if len(woken) != 1 || woken[0] != v.ID {
		t.Errorf("OnActive calls %v; want one for %s", woken, v.ID)
	}
	var authorized *store.AuditEvent
	for _, ev := range e.audit(t, v.ID) {
		if ev.Action == store.ActionConnectionAuthorize && strings.Contains(ev.InputSummary, "admin role back") {
			authorized = ev
		}
	}
	if authorized == nil || authorized.Actor != tester || authorized.Outcome != "success" {
		t.Errorf("audit %+v; want a connection.authorize by the tester saying the admin role is back", authorized)
	}
	if _, err := e.m.Token(ctx, v.ID); err != nil {
		t.Errorf("Token after: %v", err)
	}
}

// TestRoleBackCardRun: a card run on a user connection stopped for its
// account's admin role checks it, at most once a minute on each server:
// once the role is back, the run goes ahead on the connection, active
// again.
func TestRoleBackCardRun(t *testing.T) {
	e := newEnv(t)
	v := e.roleless(t)
	reads := func() int { return e.emu.Stats(t)["GET /api/v1/devices"] }

	before := reads()
	for range 2 {
		if err := e.cardCall(t, e.m, v.ID); err == nil {
			t.Fatal("card call with the role still missing: want it refused")
		}
	}
	if n := reads() - before; n != 1 {
		t.Errorf("%d device checks for two card runs within a minute; want 1", n)
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusNeedsReauthorization || c.StatusReasonCode != store.ReasonNoAdminRole {
		t.Fatalf("after the card runs: %s (%s); want still needs_reauthorization, %s", c.Status, c.StatusReasonCode, store.ReasonNoAdminRole)
	}

	e.emu.AssignRole(t, oktaemu.UserLogin, "MOBILE_ADMIN")
	if err := e.cardCall(t, e.m, v.ID); err == nil {
		t.Fatal("card call within the minute: want it refused without a check")
	}
	e.emu.AdvanceClock(t, time.Minute)
	if err := e.cardCall(t, e.m, v.ID); err != nil {
		t.Fatalf("card call a minute after the role came back: %v; want it to run", err)
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusActive || c.StatusReasonCode != "" {
		t.Errorf("after: %s (%s); want active", c.Status, c.StatusReasonCode)
	}
}

// TestRoleBackRefreshTokenRevoked: with the role given back but the
// connection's refresh token revoked meanwhile, the test fails for the
// refresh token (refresh_token_refused): a sign-in is needed now.
func TestRoleBackRefreshTokenRevoked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.roleless(t)
	e.emu.AssignRole(t, oktaemu.UserLogin, "MOBILE_ADMIN")
	e.revokeAtOrg(t, e.open(t, e.conn(t, v.ID), "refresh_token"), "refresh_token")
	res, err := e.m.Test(ctx, v.ID, tester)
	if err != nil || res.OK || res.StatusReasonCode != store.ReasonRefreshTokenRefused {
		t.Fatalf("test: %+v, %v; want failed, %s", res, err, store.ReasonRefreshTokenRefused)
	}
	_, err = e.m.Token(ctx, v.ID)
	wantProblem(t, err, problem.NeedsReauthorization, "refresh token")
}
