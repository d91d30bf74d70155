package connection

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// withServiceRoles gives the demo API Services app the admin roles roles.
func withServiceRoles(roles ...string) envOption {
	return func(s *envSetup) {
		fx := oktaemu.DemoFixture(3)
		for i := range fx.Apps {
			if fx.Apps[i].ID == oktaemu.DemoServiceAppID {
				fx.Apps[i].Roles = roles
			}
		}
		s.cfg = oktaemu.Config{Fixture: fx}
	}
}

// activeService creates a service connection of the demo API Services app
// with its key added to the app, and gets its first token: the org issues
// it whatever the app's roles, so the connection is active.
func (e *env) activeService(t *testing.T) *View {
	t.Helper()
	ctx := context.Background()
	v, jwk, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "Robot", Domain: e.emu.URL,
		ClientID: oktaemu.DemoServiceClientID}, tester)
	if err != nil {
		t.Fatal(err)
	}
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if _, err := e.m.Token(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusActive {
		t.Fatalf("service connection after its first token: %s; want active", c.Status)
	}
	return v
}

// TestCardForbiddenServiceWithoutRole: a card's E0000006 on an active
// service connection whose app no longer has an admin role at all (taken
// away through Okta's role assignment API after its token was issued)
// puts it in error as connections test does (no_admin_role, the test's
// reason and remedy, connection.failing), since the read-only device call
// is refused too; a connection no longer active is left alone.
func TestCardForbiddenServiceWithoutRole(t *testing.T) {
	e := newEnv(t)
	var notices []string
	e.m.ServiceStatusNotice = func(prev, c *store.Connection) ([]*store.Notification, error) {
		notices = append(notices, prev.Status+">"+c.Status+" "+c.StatusReasonCode)
		return nil, nil
	}
	ctx := context.Background()
	v := e.activeService(t)
	if got, stopped := e.m.CardForbidden(ctx, v.ID); stopped || got != nil {
		t.Fatalf("CardForbidden while the app is a super admin: %+v, %v; want the connection left active", got, stopped)
	}
	e.emu.AdvanceClock(t, time.Minute)
	tokens := e.tokenPosts(t)
	e.emu.UnassignClientRole(t, oktaemu.DemoServiceClientID, "SUPER_ADMIN")
	got, stopped := e.m.CardForbidden(ctx, v.ID)
	if !stopped || got == nil || got.Status != store.StatusError || got.StatusReasonCode != store.ReasonNoAdminRole {
		t.Fatalf("CardForbidden: %+v, %v; want the connection stopped in error, %s", got, stopped, store.ReasonNoAdminRole)
	}
	c := e.conn(t, v.ID)
	if c.Status != store.StatusError || c.StatusReasonCode != store.ReasonNoAdminRole || !strings.Contains(c.StatusReason, "no admin role") ||
		!strings.Contains(c.Remedy, "Admin Roles") || c.Remedy != got.Remedy {
		t.Errorf("stored: %s (%s; %s; code %q); want error naming the missing admin role and its fix, %s", c.Status, c.StatusReason, c.Remedy, c.StatusReasonCode, store.ReasonNoAdminRole)
	}
	if strings.Join(notices, ",") != "active>error "+store.ReasonNoAdminRole {
		t.Errorf("status notices %q; want one active>error %s", notices, store.ReasonNoAdminRole)
	}
	if n := e.tokenPosts(t) - tokens; n != 0 {
		t.Errorf("%d token requests for the check; want none (the token issued before the role went away is refused)", n)
	}
	// As the test would: the background test leaves it in error, the org
	// still refusing its device reads.
	res, err := e.m.Test(ctx, v.ID, tester)
	if err != nil || res.OK || res.Status != store.StatusError || res.StatusReasonCode != store.ReasonNoAdminRole {
		t.Errorf("connections test after: %+v, %v; want it failing alike", res, err)
	}
	e.emu.AdvanceClock(t, 2*time.Minute)
	if got, stopped := e.m.CardForbidden(ctx, v.ID); stopped || got != nil {
		t.Errorf("CardForbidden of a connection in error: %+v, %v; want nothing done", got, stopped)
	}
	if len(notices) != 1 {
		t.Errorf("status notices %q; want only the first", notices)
	}
}

// TestCardForbiddenReadOnlyRole: a card's E0000006 on a service
// connection whose app may read devices but not change them concerns that
// call alone: the read-only device call works, so the connection stays
// active and nothing is notified. A server checks a connection at most
// once a minute, however many of its cards are refused meanwhile.
func TestCardForbiddenReadOnlyRole(t *testing.T) {
	e := newEnv(t, withServiceRoles("READ_ONLY_ADMIN"))
	var notices []string
	e.m.ServiceStatusNotice = func(prev, c *store.Connection) ([]*store.Notification, error) {
		notices = append(notices, prev.Status+">"+c.Status)
		return nil, nil
	}
	ctx := context.Background()
	v := e.activeService(t)
	reads := func() int { return e.emu.Stats(t)["GET /api/v1/devices"] }
	before := reads()
	for range 3 {
		if got, stopped := e.m.CardForbidden(ctx, v.ID); stopped || got != nil {
			t.Fatalf("CardForbidden with a read-only role: %+v, %v; want the connection left active", got, stopped)
		}
	}
	if n := reads() - before; n != 1 {
		t.Errorf("%d device reads for three refused cards within a minute; want 1", n)
	}
	e.emu.AdvanceClock(t, time.Minute)
	if _, stopped := e.m.CardForbidden(ctx, v.ID); stopped {
		t.Fatal("CardForbidden a minute later: want the connection left active")
	}
	if n := reads() - before; n != 2 {
		t.Errorf("%d device reads after a minute more; want 2 (checked again)", n)
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusActive || c.StatusReasonCode != "" {
		t.Errorf("stored: %s (code %q); want active", c.Status, c.StatusReasonCode)
	}
	if len(notices) != 0 {
		t.Errorf("status notices %q; want none", notices)
	}
}

// TestCardForbiddenUserConnection: a card's E0000006 on a user connection
// whose account the org then refuses the read-only device call too (its
// admin role taken away through Okta's role assignment API, the access
// token issued before it) makes it needs_reauthorization as connections
// test does (no_admin_role, connection.needs_reauthorization); while the
// device call works, it stays active.
func TestCardForbiddenUserConnection(t *testing.T) {
	e := newEnv(t)
	var notices []string
	e.m.NeedsReauthorizationNotice = func(c *store.Connection) ([]*store.Notification, error) {
		notices = append(notices, c.Status+" "+c.StatusReasonCode)
		return nil, nil
	}
	ctx := context.Background()
	e.emu.AssignRole(t, oktaemu.UserLogin, "MOBILE_ADMIN")
	_, u := e.create(t, "Prod", nil)
	res := e.signIn(t, u, oktaemu.UserLogin)
	if !res.OK {
		t.Fatalf("authorization as a mobile admin failed: %s; %s", res.Message, res.Remedy)
	}
	v := res.Connection
	if _, err := e.m.Token(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, stopped := e.m.CardForbidden(ctx, v.ID); stopped {
		t.Fatal("CardForbidden while the account may read devices: want the connection left active")
	}
	e.emu.AdvanceClock(t, time.Minute)
	tokens := e.tokenPosts(t)
	e.emu.UnassignRole(t, oktaemu.UserLogin, "MOBILE_ADMIN")
	got, stopped := e.m.CardForbidden(ctx, v.ID)
	if !stopped || got.Status != store.StatusNeedsReauthorization || got.StatusReasonCode != store.ReasonNoAdminRole {
		t.Fatalf("CardForbidden with the admin role taken away: %+v, %v; want needs_reauthorization, %s", got, stopped, store.ReasonNoAdminRole)
	}
	if n := e.tokenPosts(t) - tokens; n != 0 {
		t.Errorf("%d token requests for the check; want none (the access token issued before the role went away is refused)", n)
	}
	c := e.conn(t, v.ID)
	if c.Status != store.StatusNeedsReauthorization || !strings.Contains(c.StatusReason, "not an administrator with device permissions") ||
		!strings.Contains(c.Remedy, "super admin") || c.StatusReasonCode != store.ReasonNoAdminRole {
		t.Errorf("stored: %s (%s; %s; code %q); want needs_reauthorization as connections test says it", c.Status, c.StatusReason, c.Remedy, c.StatusReasonCode)
	}
	if strings.Join(notices, ",") != store.StatusNeedsReauthorization+" "+store.ReasonNoAdminRole {
		t.Errorf("notices %q; want one needs_reauthorization %s", notices, store.ReasonNoAdminRole)
	}
}
