package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// startServiceOrg starts a server with notifications to received, on a
// demo org whose API Services app has the admin roles roles, and an
// active service connection of that app: the org issues its tokens
// whatever its roles.
func startServiceOrg(t *testing.T, received chan map[string]any, roles ...string) (*harness, string) {
	t.Helper()
	fx := oktaemu.DemoFixture(3)
	for i := range fx.Apps {
		if fx.Apps[i].ID == oktaemu.DemoServiceAppID {
			fx.Apps[i].Roles = roles
		}
	}
	// The org's clock, which the server uses, moves only when the test
	// moves it: on the wall clock, a run slower than two minutes (a
	// loaded machine) would have the server's background test of a
	// connection in error call the org where the test counts the calls.
	clock := emutest.NewClock(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
	emu := emutest.Start(t, oktaemu.Config{Fixture: fx, Now: clock.Now})
	receiver := notificationReceiver(t, received)
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.Now = emu.Now
		c.NotifyURLs, c.NotifySecret = []string{receiver}, "a-long-random-notification-secret"
	})
	c, jwk := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if _, err := h.app.Connections.Token(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	if v := h.serviceConn(c.ID); v.Status != "active" {
		t.Fatalf("service connection with its key at the org: %s; want active", v.Status)
	}
	return h, c.ID
}

// TestCardForbiddenStopsServiceConnection: a card that Okta answers
// E0000006 on an active service connection whose app no longer has an
// admin role (an admin took it away through the role assignment API; its
// cards worked until then) fails with forbidden, and, the read-only
// device call being refused too, puts the connection in error as
// connections test does: no_admin_role, the test's reason and fix (the
// card's remedy too), and a connection.failing notification; its next
// card is refused before any call to Okta.
func TestCardForbiddenStopsServiceConnection(t *testing.T) {
	t.Parallel()
	received := make(chan map[string]any, 16)
	h, id := startServiceOrg(t, received, "SUPER_ADMIN")
	if code, r := h.run("okta-devices/search-devices", id, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("card run as a super admin app: %d %s %+v; want it to succeed", code, r.Status, r.Error)
	}
	h.emu.UnassignClientRole(t, oktaemu.DemoServiceClientID, "SUPER_ADMIN")
	code, r := h.run("okta-devices/search-devices", id, map[string]any{})
	if code != http.StatusCreated || r.Status != "failed" || r.Error == nil || r.Error.Code != "forbidden" {
		t.Fatalf("card run with no admin role: %d %s %+v; want failed, forbidden", code, r.Status, r.Error)
	}
	if msg := r.Error.Message; !strings.Contains(msg, "E0000006") || !strings.Contains(msg, `connection "Robot" is now error (no_admin_role)`) {
		t.Errorf("card error %q; want Okta's refusal and the connection's new status", msg)
	}
	v := h.serviceConn(id)
	if v.Status != "error" || v.reasonCode() != store.ReasonNoAdminRole || !strings.Contains(v.StatusReason, "no admin role") ||
		!strings.Contains(v.Remedy, "Admin Roles") {
		t.Fatalf("connection after the refused card: %s (%s; %s; code %s); want error, %s", v.Status, v.StatusReason, v.Remedy, v.reasonCode(), store.ReasonNoAdminRole)
	}
	if got := r.Error.Details["statusReasonCode"]; got != store.ReasonNoAdminRole {
		t.Errorf("card error details %v; want statusReasonCode %s", r.Error.Details, store.ReasonNoAdminRole)
	}
	m := waitNotification(t, received)
	conn, _ := m["connection"].(map[string]any)
	if msg := fmt.Sprint(m["message"]); m["type"] != "connection.failing" || conn["id"] != id || conn["statusReasonCode"] != store.ReasonNoAdminRole ||
		!strings.HasSuffix(msg, v.Remedy) {
		t.Fatalf("notification %v; want connection.failing for %s, %s, ending with the fix", m, id, store.ReasonNoAdminRole)
	}
	calls := h.emu.Stats(t)["GET /api/v1/devices"]
	if _, r := h.run("okta-devices/search-devices", id, map[string]any{}); r.Status != "failed" || r.Error == nil || r.Error.Code != "needs_reauthorization" {
		t.Errorf("the next card run: %s %+v; want refused, the connection being in error", r.Status, r.Error)
	}
	if n := h.emu.Stats(t)["GET /api/v1/devices"] - calls; n != 0 {
		t.Errorf("%d device calls for the card of a connection in error; want none", n)
	}
}

// TestCardForbiddenOnceLeavesConnection: a card that Okta answers
// E0000006 on a service connection whose app may read devices but not
// change them fails with forbidden and leaves the connection active, with
// nothing notified: the refusal concerns that call alone, and the
// connection's reads still work.
func TestCardForbiddenOnceLeavesConnection(t *testing.T) {
	t.Parallel()
	received := make(chan map[string]any, 16)
	h, id := startServiceOrg(t, received, "READ_ONLY_ADMIN")
	device := h.deviceWithStatus(id, "ACTIVE")
	code, r := h.run("okta-devices/suspend-device", id, map[string]any{"deviceId": device})
	if code != http.StatusCreated || r.Status != "failed" || r.Error == nil || r.Error.Code != "forbidden" {
		t.Fatalf("suspend with a read-only role: %d %s %+v; want failed, forbidden", code, r.Status, r.Error)
	}
	if strings.Contains(r.Error.Message, "is now") {
		t.Errorf("card error %q; want no change of the connection's status", r.Error.Message)
	}
	if v := h.serviceConn(id); v.Status != "active" || v.reasonCode() != "" {
		t.Errorf("connection after the refused suspend: %s (code %s); want active", v.Status, v.reasonCode())
	}
	if code, r := h.run("okta-devices/search-devices", id, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Errorf("a read after the refused suspend: %d %s %+v; want it to succeed", code, r.Status, r.Error)
	}
	// A status change commits its notification with it.
	ns, err := h.app.Store.ListNotifications(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		t.Errorf("notification %s %s; want none", n.Type, n.ID)
	}
}
