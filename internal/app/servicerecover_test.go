package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestServiceConnectionRecoversByItself: a service connection whose key was
// removed at the org fails its card runs and goes to error, which is
// notified (connection.failing, ending with the fix); once the key is
// added back, the server's background test makes it active again, with
// nobody running a test, its cards run, and that is notified too
// (connection.recovered).
func TestServiceConnectionRecoversByItself(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	received := make(chan map[string]any, 16)
	receiver := notificationReceiver(t, received)
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.Now, c.ExpiryCheckInterval = emu.Now, 20*time.Millisecond
		c.NotifyURLs, c.NotifySecret = []string{receiver}, "a-long-random-notification-secret"
	})
	c, jwk := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	var key struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(jwk, &key)
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	emu.GenerateAppKey(t, oktaemu.DemoServiceAppID, "spare")
	if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, nil); code != http.StatusOK {
		t.Fatalf("test: %d %s", code, data)
	}
	if code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("card run: %d %s %+v", code, r.Status, r.Error)
	}
	emu.RemoveAppKey(t, oktaemu.DemoServiceAppID, key.Kid)
	emu.AdvanceClock(t, time.Hour)
	if _, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); r.Status == "succeeded" {
		t.Fatal("card run with the key removed at the org succeeded")
	}
	failed := h.serviceConn(c.ID)
	if failed.Status != "error" {
		t.Fatalf("status %s; want error", failed.Status)
	}
	m := waitNotification(t, received)
	conn, _ := m["connection"].(map[string]any)
	if msg := fmt.Sprint(m["message"]); m["type"] != "connection.failing" || conn["id"] != c.ID || conn["status"] != "error" ||
		!strings.Contains(msg, "Robot") || !strings.Contains(msg, failed.StatusReason) || !strings.HasSuffix(msg, failed.Remedy) {
		t.Fatalf("notification %v; want connection.failing for %s with its reason and, at the end, its fix (%q)", m, c.ID, failed.Remedy)
	}
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	// The server's first test is due a minute after its background check
	// first saw the connection failed, which on a busy machine may come
	// after any one step of the clock: the clock moves a minute at a time
	// until the connection is active.
	waitFor(t, "the connection to be active again", func() bool {
		if h.serviceConn(c.ID).Status == "active" {
			return true
		}
		emu.AdvanceClock(t, time.Minute)
		return false
	})
	if code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("card run after the recovery: %d %s %+v", code, r.Status, r.Error)
	}
	checkServerActed(t, h.audit("connection="+c.ID), "connection.authorize")
	m = waitNotification(t, received)
	conn, _ = m["connection"].(map[string]any)
	if msg := fmt.Sprint(m["message"]); m["type"] != "connection.recovered" || conn["id"] != c.ID || conn["status"] != "active" ||
		!strings.Contains(msg, "works again") || !strings.Contains(msg, failed.StatusReason) {
		t.Fatalf("notification %v; want connection.recovered for %s naming what failed", m, c.ID)
	}
	ns, err := h.app.Store.ListNotifications(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, n := range ns {
		types = append(types, n.Type)
	}
	if slices.Sort(types); strings.Join(types, " ") != "connection.failing connection.recovered" {
		t.Errorf("outbox %v; want one connection.failing and one connection.recovered", types)
	}
}

// TestServiceConnectionFailingForAnotherReason: a service connection in
// error whose background test finds it failing for another kind of reason
// is notified again (connection.failing, in the same thread, ending with
// the new fix), since the fix of the first failure no longer helps; one
// failing for the same kind of reason, even in other words (the org's
// error description), is not. The recovery names the last reason.
func TestServiceConnectionFailingForAnotherReason(t *testing.T) {
	t.Parallel()
	// The org's clock, which the server uses, moves only when the test
	// moves it: on the wall clock, a loaded machine could see a
	// background test fall due between two of the test's changes at the
	// org (the key added back, the admin role not yet taken away) and
	// notify a recovery the test does not expect.
	clock := emutest.NewClock(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
	emu := emutest.Start(t, oktaemu.Config{Devices: 3, Now: clock.Now})
	received := make(chan map[string]any, 16)
	receiver := notificationReceiver(t, received)
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.Now, c.ExpiryCheckInterval = emu.Now, 20*time.Millisecond
		c.NotifyURLs, c.NotifySecret = []string{receiver}, "a-long-random-notification-secret"
	})
	c, jwk := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	var key struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(jwk, &key)
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	// The app keeps a key of another once the connection's is removed
	// (Okta refuses to deactivate the only active key of an app).
	emu.GenerateAppKey(t, oktaemu.DemoServiceAppID, "spare")
	if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, nil); code != http.StatusOK {
		t.Fatalf("test: %d %s", code, data)
	}
	outbox := func() string {
		t.Helper()
		ns, err := h.app.Store.ListNotifications(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, n := range ns {
			types = append(types, n.Type)
		}
		slices.Sort(types)
		return strings.Join(types, " ")
	}
	// testedUntil moves the clock a minute at a time until the server's
	// background test has made cond true.
	testedUntil := func(what string, cond func(serviceConnJSON) bool) serviceConnJSON {
		t.Helper()
		var v serviceConnJSON
		waitFor(t, what, func() bool {
			if v = h.serviceConn(c.ID); cond(v) {
				return true
			}
			emu.AdvanceClock(t, time.Minute)
			return false
		})
		return v
	}

	// The org no longer accepts the key.
	emu.RemoveAppKey(t, oktaemu.DemoServiceAppID, key.Kid)
	emu.AdvanceClock(t, time.Hour)
	if _, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); r.Status == "succeeded" {
		t.Fatal("card run with the key removed at the org succeeded")
	}
	keyless := h.serviceConn(c.ID)
	if keyless.Status != "error" || keyless.reasonCode() != "key_refused" {
		t.Fatalf("status %s (statusReasonCode %s); want error, key_refused", keyless.Status, keyless.reasonCode())
	}
	m := waitNotification(t, received)
	conn, _ := m["connection"].(map[string]any)
	if msg := fmt.Sprint(m["message"]); m["type"] != "connection.failing" || conn["id"] != c.ID || conn["statusReasonCode"] != "key_refused" ||
		!strings.Contains(msg, keyless.StatusReason) || !strings.HasSuffix(msg, keyless.Remedy) {
		t.Fatalf("notification %v; want connection.failing for %s, key_refused, with its reason and, at the end, its fix (%q)", m, c.ID, keyless.Remedy)
	}
	firstID := m["id"]

	// Still not accepted, in the org's other words (the app is
	// deactivated too): the same fix, so no new message.
	admin := emu.ClientAs(emutest.AdminAuthorization)
	lifecycle := func(verb string) {
		t.Helper()
		resp, err := admin.Post(emu.URL+"/api/v1/apps/"+oktaemu.DemoServiceAppID+"/lifecycle/"+verb, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s the service app: %d", verb, resp.StatusCode)
		}
	}
	lifecycle("deactivate")
	inactive := testedUntil("a background test of the deactivated app", func(v serviceConnJSON) bool {
		return v.StatusReason != keyless.StatusReason
	})
	if inactive.Status != "error" || inactive.Remedy != keyless.Remedy || inactive.reasonCode() != "key_refused" {
		t.Fatalf("after the app's deactivation: %s (%s; %s; statusReasonCode %s); want error, key_refused, with the fix of the key not accepted (%s)",
			inactive.Status, inactive.StatusReason, inactive.Remedy, inactive.reasonCode(), keyless.Remedy)
	}
	if got := outbox(); got != "connection.failing" {
		t.Fatalf("outbox %q after a failure of the same kind; want the first connection.failing only", got)
	}

	// A server of another version, during a rolling upgrade, words the
	// same fix otherwise: still the same kind of failure (its code), so
	// no new message either.
	var rewordedAt time.Time
	if err := h.app.Store.UpdateConnection(context.Background(), c.ID, func(sc *store.Connection) error {
		sc.Remedy = "add the connection's public key to the API Services app again, then test the connection"
		rewordedAt = sc.UpdatedAt
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	reworded := testedUntil("a background test after another version's words", func(v serviceConnJSON) bool {
		return v.UpdatedAt.After(rewordedAt)
	})
	if reworded.Status != "error" || reworded.reasonCode() != "key_refused" {
		t.Fatalf("after another version's words: %s (statusReasonCode %s); want error, key_refused", reworded.Status, reworded.reasonCode())
	}
	if got := outbox(); got != "connection.failing" {
		t.Fatalf("outbox %q after a failure of the same kind stored in other words; want the first connection.failing only", got)
	}

	// The org accepts the key again, but the app has lost its admin role
	// (an admin took it away on its Admin Roles tab; Okta answers the
	// device call E0000006): another fix.
	lifecycle("activate")
	emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	emu.UnassignClientRole(t, oktaemu.DemoServiceClientID, "SUPER_ADMIN")
	roleless := testedUntil("a background test to find the admin role missing", func(v serviceConnJSON) bool {
		return strings.Contains(v.StatusReason, "no admin role")
	})
	if roleless.Status != "error" || roleless.Remedy == keyless.Remedy || roleless.reasonCode() != "no_admin_role" {
		t.Fatalf("without an admin role: %s (%s; %s; statusReasonCode %s); want error, no_admin_role, with another fix",
			roleless.Status, roleless.StatusReason, roleless.Remedy, roleless.reasonCode())
	}
	m = waitNotification(t, received)
	conn, _ = m["connection"].(map[string]any)
	if msg := fmt.Sprint(m["message"]); m["type"] != "connection.failing" || m["id"] == firstID || conn["id"] != c.ID || conn["status"] != "error" ||
		conn["statusReason"] != roleless.StatusReason || conn["statusReasonCode"] != "no_admin_role" || !strings.Contains(msg, "another reason: "+roleless.StatusReason) ||
		!strings.HasSuffix(msg, roleless.Remedy) {
		t.Fatalf("notification %v; want a new connection.failing for %s saying it fails for another reason (%q) and, at the end, its fix (%q)",
			m, c.ID, roleless.StatusReason, roleless.Remedy)
	}

	// The role is assigned again.
	emu.AssignClientRole(t, oktaemu.DemoServiceClientID, "SUPER_ADMIN")
	if v := testedUntil("the connection to be active again", func(v serviceConnJSON) bool { return v.Status == "active" }); v.reasonCode() != "" {
		t.Errorf("active again: statusReasonCode %s; want empty", v.reasonCode())
	}
	m = waitNotification(t, received)
	conn, _ = m["connection"].(map[string]any)
	if msg := fmt.Sprint(m["message"]); m["type"] != "connection.recovered" || conn["id"] != c.ID || !strings.Contains(msg, roleless.StatusReason) || conn["statusReasonCode"] != nil {
		t.Fatalf("notification %v; want connection.recovered for %s naming the last reason (%q)", m, c.ID, roleless.StatusReason)
	}
	if got := outbox(); got != "connection.failing connection.failing connection.recovered" {
		t.Errorf("outbox %q; want two connection.failing and one connection.recovered", got)
	}
}
