package connection

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestFailedServiceConnectionRecovers: a service connection whose key the
// org stopped accepting goes to error; tested again in the background
// (after 1 min, then 2, 4, ... up to 30 min between tests, by one of the
// servers sharing the store at a time), it becomes active by itself once
// the key is back, audited as the app's token accepted.
func TestFailedServiceConnectionRecovers(t *testing.T) {
	e := newEnv(t)
	other := e.manager(t, e.openStore(t), "process-2")
	var activated atomic.Int32
	e.m.OnActive = func(string) { activated.Add(1) }
	other.OnActive = e.m.OnActive
	ctx := context.Background()
	v, jwk, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "Robot", Domain: e.emu.URL,
		ClientID: oktaemu.DemoServiceClientID}, tester)
	if err != nil {
		t.Fatal(err)
	}
	var key struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(jwk, &key)
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	// Another key of the app's, so that the connection's may be removed.
	e.emu.GenerateAppKey(t, oktaemu.DemoServiceAppID, "spare")
	if _, err := e.m.Token(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	e.emu.RemoveAppKey(t, oktaemu.DemoServiceAppID, key.Kid)
	e.emu.AdvanceClock(t, time.Hour)
	if _, err := e.m.Token(ctx, v.ID); err == nil {
		t.Fatal("Token with the key removed at the org: want an error")
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusError {
		t.Fatalf("status %s; want error", c.Status)
	}
	// retry runs both servers' background round and counts the token
	// requests it made.
	retry := func() int {
		t.Helper()
		before := e.tokenPosts(t)
		for _, m := range []*Manager{e.m, other} {
			if err := m.RetryFailedServices(ctx); err != nil {
				t.Fatalf("RetryFailedServices: %v", err)
			}
		}
		return e.tokenPosts(t) - before
	}
	if n := retry(); n != 0 {
		t.Fatalf("%d token requests at once; want the first test after a minute", n)
	}
	// Tests at 1, 3, 7, 15, 31, 61, 91 minutes: one request each, by
	// either server, never more.
	var at []int
	for minute := 1; minute <= 91; minute++ {
		e.emu.AdvanceClock(t, time.Minute)
		switch n := retry(); n {
		case 0:
		case 1:
			at = append(at, minute)
		default:
			t.Fatalf("minute %d: %d token requests; want at most one", minute, n)
		}
	}
	want := []int{1, 3, 7, 15, 31, 61, 91}
	if len(at) != len(want) {
		t.Fatalf("tests at minutes %v; want %v", at, want)
	}
	for i := range want {
		if at[i] != want[i] {
			t.Fatalf("tests at minutes %v; want %v", at, want)
		}
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusError {
		t.Fatalf("status %s; want error while the org refuses the key", c.Status)
	}
	// The key is back: the next test makes the connection active.
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	for i := 0; i < 30 && e.conn(t, v.ID).Status != store.StatusActive; i++ {
		e.emu.AdvanceClock(t, time.Minute)
		retry()
	}
	c := e.conn(t, v.ID)
	if c.Status != store.StatusActive || c.StatusReason != "" {
		t.Fatalf("status %s (%s); want active once the org accepts the key again", c.Status, c.StatusReason)
	}
	if n := activated.Load(); n != 2 {
		t.Errorf("OnActive called %d times; want 2 (the first token, the recovery)", n)
	}
	authorized := 0
	for _, ev := range e.audit(t, v.ID) {
		if ev.Action == store.ActionConnectionAuthorize && ev.Actor.Type == store.ActorServer {
			authorized++
		}
	}
	if authorized != 2 {
		t.Errorf("%d connection.authorize events by the server; want 2 (the first token, the recovery)", authorized)
	}
	if n := retry(); n != 0 {
		t.Errorf("%d token requests for an active connection; want none", n)
	}
}

// TestServiceWithoutRoleStaysInError: a service connection whose app has
// no admin role is put in error by a test; the background tests that
// follow get tokens from the org (which issues them whatever the app's
// roles) but leave it in error, and report no recovery, since its cards
// would still be forbidden.
func TestServiceWithoutRoleStaysInError(t *testing.T) {
	e := newEnv(t, func(s *envSetup) {
		fx := oktaemu.DemoFixture(3)
		for i := range fx.Apps {
			if fx.Apps[i].ID == oktaemu.DemoServiceAppID {
				fx.Apps[i].Roles = nil
			}
		}
		s.cfg = oktaemu.Config{Fixture: fx}
	})
	var notices []string
	e.m.ServiceStatusNotice = func(prev, c *store.Connection) ([]*store.Notification, error) {
		notices = append(notices, prev.Status+">"+c.Status)
		return nil, nil
	}
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
	if res, err := e.m.Test(ctx, v.ID, tester); err != nil || res.OK || !strings.Contains(res.StatusReason, "no admin role") || res.StatusReasonCode != store.ReasonNoAdminRole {
		t.Fatalf("test: %+v, %v; want the missing admin role (%s)", res, err, store.ReasonNoAdminRole)
	}
	before := e.tokenPosts(t)
	for range 8 {
		e.emu.AdvanceClock(t, time.Minute)
		if err := e.m.RetryFailedServices(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if e.tokenPosts(t) == before {
		t.Fatal("no background test in 8 minutes")
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusError || !strings.Contains(c.StatusReason, "no admin role") || !strings.Contains(c.Remedy, "Admin Roles") || c.StatusReasonCode != store.ReasonNoAdminRole {
		t.Errorf("after the background tests: %s (%s; %s; code %q); want error naming the missing admin role and its fix, %s", c.Status, c.StatusReason, c.Remedy, c.StatusReasonCode, store.ReasonNoAdminRole)
	}
	if strings.Join(notices, " ") != "active>error" {
		t.Errorf("status notices %v; want only active>error", notices)
	}
}

// TestPendingServiceConnectionActivates: a service connection created
// before the admin added its public key to the app is pending; the
// background tests (after 1, 3, 7 ... minutes, as for one in error) make
// it active by themselves once the key is added, audited as the app's
// token accepted, with no status notice (it never worked before).
func TestPendingServiceConnectionActivates(t *testing.T) {
	e := newEnv(t)
	var notices []string
	e.m.ServiceStatusNotice = func(prev, c *store.Connection) ([]*store.Notification, error) {
		notices = append(notices, prev.Status+">"+c.Status)
		return nil, nil
	}
	ctx := context.Background()
	v, jwk, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "Robot", Domain: e.emu.URL,
		ClientID: oktaemu.DemoServiceClientID}, tester)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != store.StatusPending || v.StatusReasonCode != store.ReasonKeyRefused {
		t.Fatalf("created with the key unknown to the org: %s (code %q); want pending, %s", v.Status, v.StatusReasonCode, store.ReasonKeyRefused)
	}
	retry := func() int {
		t.Helper()
		before := e.tokenPosts(t)
		if err := e.m.RetryFailedServices(ctx); err != nil {
			t.Fatalf("RetryFailedServices: %v", err)
		}
		return e.tokenPosts(t) - before
	}
	if n := retry(); n != 0 {
		t.Fatalf("%d token requests at once; want the first test after a minute", n)
	}
	var at []int
	for minute := 1; minute <= 7; minute++ {
		e.emu.AdvanceClock(t, time.Minute)
		if retry() > 0 {
			at = append(at, minute)
		}
	}
	if fmt.Sprint(at) != "[1 3 7]" {
		t.Fatalf("tests at minutes %v; want [1 3 7]", at)
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusPending {
		t.Fatalf("status %s; want pending while the org does not know the key", c.Status)
	}
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	for i := 0; i < 8 && e.conn(t, v.ID).Status != store.StatusActive; i++ {
		e.emu.AdvanceClock(t, time.Minute)
		retry()
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusActive || c.StatusReason != "" {
		t.Fatalf("status %s (%s); want active once the org knows the key", c.Status, c.StatusReason)
	}
	authorized := 0
	for _, ev := range e.audit(t, v.ID) {
		if ev.Action == store.ActionConnectionAuthorize && ev.Actor.Type == store.ActorServer {
			authorized++
		}
	}
	if authorized != 1 {
		t.Errorf("%d connection.authorize events by the server; want 1", authorized)
	}
	if len(notices) != 0 {
		t.Errorf("status notices %v; want none", notices)
	}
}

// TestServiceRetryBackoffIsKept: the backoff between background tests is
// kept in the store: a server started anew (or another server) goes on
// where the last test left it, rather than testing again a minute after
// it starts; and a deleted connection leaves nothing of its tests behind
// in the store.
func TestServiceRetryBackoffIsKept(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v, _, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "Robot", Domain: e.emu.URL,
		ClientID: oktaemu.DemoServiceClientID}, tester)
	if err != nil {
		t.Fatal(err)
	}
	m := e.m
	var at []int
	for minute := 0; minute <= 31; minute++ {
		if minute == 10 {
			m = e.manager(t, e.openStore(t), "restarted") // a restart
		}
		before := e.tokenPosts(t)
		if err := m.RetryFailedServices(ctx); err != nil {
			t.Fatal(err)
		}
		if e.tokenPosts(t) > before {
			at = append(at, minute)
		}
		e.emu.AdvanceClock(t, time.Minute)
	}
	if fmt.Sprint(at) != "[1 3 7 15 31]" {
		t.Fatalf("tests at minutes %v; want [1 3 7 15 31] across the restart at minute 10", at)
	}
	if err := m.Delete(ctx, v.ID, tester); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM leases WHERE name LIKE ?`, "%"+v.ID+"%").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d leases naming the deleted connection left in the store; want none", n)
	}
}

// serviceKeyRefused makes a service connection that worked (its key and
// a spare one added to the app) and is then in error because its key was
// removed at the org: the env, the connection, its public key, the
// connection as stored in error and the status notices seen so far
// (prev>new status, in order, space-separated).
func serviceKeyRefused(t *testing.T) (e *env, v *View, jwk json.RawMessage, keyless *store.Connection, notices func() string) {
	t.Helper()
	e = newEnv(t)
	var seen []string
	e.m.ServiceStatusNotice = func(prev, c *store.Connection) ([]*store.Notification, error) {
		seen = append(seen, prev.Status+">"+c.Status)
		return nil, nil
	}
	notices = func() string { return strings.Join(seen, " ") }
	ctx := context.Background()
	v, jwk, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "Robot", Domain: e.emu.URL,
		ClientID: oktaemu.DemoServiceClientID}, tester)
	if err != nil {
		t.Fatal(err)
	}
	var key struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(jwk, &key)
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	e.emu.GenerateAppKey(t, oktaemu.DemoServiceAppID, "spare")
	if _, err := e.m.Token(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	e.emu.RemoveAppKey(t, oktaemu.DemoServiceAppID, key.Kid)
	e.emu.AdvanceClock(t, time.Hour)
	if _, err := e.m.Token(ctx, v.ID); err == nil {
		t.Fatal("Token with the key removed at the org: want an error")
	}
	return e, v, jwk, e.conn(t, v.ID), notices
}

// TestServiceFailingOtherwiseNotified: a service connection in error
// whose background test fails for another kind of reason (another
// remedy) is reported again with its status notice; one that fails for
// the same kind of reason is not, whatever the org's words.
func TestServiceFailingOtherwiseNotified(t *testing.T) {
	e, v, jwk, keyless, notices := serviceKeyRefused(t)
	ctx := context.Background()
	if keyless.Status != store.StatusError || keyless.StatusReasonCode != store.ReasonKeyRefused {
		t.Fatalf("with the key removed: %s (code %q); want error, %s", keyless.Status, keyless.StatusReasonCode, store.ReasonKeyRefused)
	}
	// testedUntil runs the background tests a minute apart until cond.
	testedUntil := func(what string, cond func(*store.Connection) bool) *store.Connection {
		t.Helper()
		for range 40 {
			if c := e.conn(t, v.ID); cond(c) {
				return c
			}
			e.emu.AdvanceClock(t, time.Minute)
			if err := e.m.RetryFailedServices(ctx); err != nil {
				t.Fatal(err)
			}
		}
		t.Fatalf("no background test found %s", what)
		return nil
	}
	testedUntil("the key refused again", func(c *store.Connection) bool { return c.UpdatedAt.After(keyless.UpdatedAt) })
	if notices() != "active>error" {
		t.Fatalf("status notices %v after a test that failed as before; want only active>error", notices())
	}
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	e.emu.RevokeAppGrant(t, oktaemu.DemoServiceAppID, "okta.devices.manage")
	e.emu.RevokeAppGrant(t, oktaemu.DemoServiceAppID, "okta.devices.read")
	c := testedUntil("the scope not granted", func(c *store.Connection) bool { return c.Remedy != keyless.Remedy })
	if c.Status != store.StatusError || !strings.Contains(c.StatusReason, "invalid_scope") || c.StatusReasonCode != store.ReasonScopeNotGranted {
		t.Fatalf("status %s (%s; code %q); want error for the scope not granted, %s", c.Status, c.StatusReason, c.StatusReasonCode, store.ReasonScopeNotGranted)
	}
	if notices() != "active>error error>error" {
		t.Errorf("status notices %v; want active>error, then error>error for the scope not granted", notices())
	}
}

// TestServiceFailingAlikeInOtherWordsNotNotified: a service connection in
// error whose background test fails for the same kind of reason is not
// reported again when its stored remedy is worded otherwise (a server of
// another version stored it during a rolling upgrade): the kind is its
// StatusReasonCode. One stored in error before the codes were kept is
// told apart by its remedy, and the test stores its code.
func TestServiceFailingAlikeInOtherWordsNotNotified(t *testing.T) {
	e, v, _, keyless, notices := serviceKeyRefused(t)
	ctx := context.Background()
	if keyless.StatusReasonCode != store.ReasonKeyRefused {
		t.Fatalf("with the key removed: code %q; want %s", keyless.StatusReasonCode, store.ReasonKeyRefused)
	}
	// stored rewrites the stored connection as another server would have
	// written it, then runs the background tests a minute apart until one
	// stored its outcome.
	stored := func(what string, as func(*store.Connection)) *store.Connection {
		t.Helper()
		if err := e.store.UpdateConnection(ctx, v.ID, func(c *store.Connection) error { as(c); return nil }); err != nil {
			t.Fatal(err)
		}
		before := e.conn(t, v.ID)
		for range 40 {
			e.emu.AdvanceClock(t, time.Minute)
			if err := e.m.RetryFailedServices(ctx); err != nil {
				t.Fatal(err)
			}
			if c := e.conn(t, v.ID); c.UpdatedAt.After(before.UpdatedAt) {
				return c
			}
		}
		t.Fatalf("no background test of the connection %s", what)
		return nil
	}
	c := stored("with its remedy in another version's words", func(c *store.Connection) {
		c.Remedy = "add the public key to the app again (General tab), then test the connection"
	})
	if c.Status != store.StatusError || c.StatusReasonCode != store.ReasonKeyRefused {
		t.Fatalf("after the test: %s (code %q); want error, %s", c.Status, c.StatusReasonCode, store.ReasonKeyRefused)
	}
	if notices() != "active>error" {
		t.Fatalf("status notices %v after a test that failed as before, stored in other words; want only active>error", notices())
	}
	c = stored("stored before the codes were kept", func(c *store.Connection) { c.StatusReasonCode = "" })
	if c.StatusReasonCode != store.ReasonKeyRefused {
		t.Errorf("a connection stored without a code, tested again: code %q; want %s", c.StatusReasonCode, store.ReasonKeyRefused)
	}
	if notices() != "active>error" {
		t.Errorf("status notices %v after a test that failed as before, stored without a code; want only active>error", notices())
	}
}

// TestFailsOtherwise: another kind of failure is another StatusReasonCode;
// the remedy tells them apart only when either side has no code (stored
// before the codes were kept).
func TestFailsOtherwise(t *testing.T) {
	conn := func(auth, status, code, remedy string) *store.Connection {
		return &store.Connection{Auth: auth, Status: status, StatusReasonCode: code, Remedy: remedy}
	}
	svc, errored := store.AuthService, store.StatusError
	tests := []struct {
		name    string
		prev, c *store.Connection
		want    bool
	}{
		{"same code, same remedy", conn(svc, errored, store.ReasonKeyRefused, "add the key"), conn(svc, errored, store.ReasonKeyRefused, "add the key"), false},
		{"same code, other words", conn(svc, errored, store.ReasonKeyRefused, "add the key"), conn(svc, errored, store.ReasonKeyRefused, "add the public key, then test"), false},
		{"other code", conn(svc, errored, store.ReasonKeyRefused, "add the key"), conn(svc, errored, store.ReasonScopeNotGranted, "grant the scopes"), true},
		{"other code, same words", conn(svc, errored, store.ReasonKeyRefused, "fix the app"), conn(svc, errored, store.ReasonNoAdminRole, "fix the app"), true},
		{"no code before, other remedy", conn(svc, errored, "", "add the key"), conn(svc, errored, store.ReasonScopeNotGranted, "grant the scopes"), true},
		{"no code before, same remedy", conn(svc, errored, "", "add the key"), conn(svc, errored, store.ReasonKeyRefused, "add the key"), false},
		{"no code now, other remedy", conn(svc, errored, store.ReasonKeyRefused, "add the key"), conn(svc, errored, "", "grant the scopes"), true},
		{"pending before", conn(svc, store.StatusPending, store.ReasonKeyRefused, "add the key"), conn(svc, errored, store.ReasonScopeNotGranted, "grant"), false},
		{"active now", conn(svc, errored, store.ReasonKeyRefused, "add the key"), conn(svc, store.StatusActive, "", ""), false},
		{"user connection", conn(store.AuthUser, errored, store.ReasonAccessDenied, "a"), conn(store.AuthUser, errored, store.ReasonCodeRefused, "b"), false},
	}
	for _, tt := range tests {
		if got := failsOtherwise(tt.prev, tt.c); got != tt.want {
			t.Errorf("%s: failsOtherwise = %v; want %v", tt.name, got, tt.want)
		}
	}
}
