package app

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
)

// healthy reports whether h's /healthz answers 200.
func (h *harness) healthy() bool {
	h.t.Helper()
	code, _ := h.get(h.url + "/healthz")
	return code == http.StatusOK
}

// keyIDOf is the id of a base64 key.
func keyIDOf(t *testing.T, b64 string) string {
	t.Helper()
	k, err := keyring.FromBase64(b64)
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}

// TestRotationFollowedByTheRunningServer: a SQLite server with its keyring
// file seals with the key keys rotate adds to the file from its next look
// at the database on, not with the key it started with: so the old key can
// be removed while it runs, at once, and it seals nothing with it after.
// Started with CARDFLOW_KEY and rotated to a key it lacks, it stops
// sealing and fails /healthz until restarted with the new key, which it
// then seals with even if CARDFLOW_KEY lists it second.
func TestRotationFollowedByTheRunningServer(t *testing.T) {
	t.Parallel()
	fast := func(c *Config) { c.keyCheckEvery = 20 * time.Millisecond }
	h := startHarness(t, oktaemu.Config{Devices: 2}, fast)
	c := h.connect("Prod")
	oldID := h.app.Keyring.PrimaryID()
	rotated := time.Now()
	rep, err := RotateKeys(t.Context(), Config{DataDir: h.dataDir, Now: func() time.Time { return rotated }}, "")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the server to seal with the new key", func() bool { return h.app.Keyring.PrimaryID() == rep.NewKeyID })
	// keys remove waits as long as a server of the default check interval may take.
	if _, err := RemoveKey(t.Context(), Config{DataDir: h.dataDir, Now: func() time.Time { return rotated.Add(keyFollowWait) }}, oldID); err != nil {
		t.Fatalf("removing the old key once the server follows the rotation: %v", err)
	}
	// A token refresh after the removal seals with the new key.
	h.emu.AdvanceClock(t, 2*time.Hour)
	h.connectionWorks(c.ID, "after the removal")
	keys, err := ListKeys(t.Context(), Config{DataDir: h.dataDir})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) != 1 || keys.Keys[0].ID != rep.NewKeyID {
		t.Errorf("keys after the removal: %+v; want %s alone", keys.Keys, rep.NewKeyID)
	}
	if !h.healthy() {
		t.Errorf("the server fails its health check after following the rotation")
	}
	h.stop()
	h = startServer(t, h.emu, h.dataDir, fast)
	h.connectionWorks(c.ID, "after a restart with the new key alone")
	h.stop()

	// With CARDFLOW_KEY, a rotation to a key the server lacks stops it
	// sealing; a restart with the new key ends that.
	oldKey, newKey := b64key(t), b64key(t)
	withKey := func(key string) func(*Config) {
		return func(c *Config) { fast(c); c.Key = keyring.Secret(key) }
	}
	h = startServer(t, h.emu, t.TempDir(), withKey(oldKey))
	h.connect("Other")
	if _, err := RotateKeys(t.Context(), Config{DataDir: h.dataDir, Key: keyring.Secret(oldKey)}, keyring.Secret(newKey)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the server to fail its health check", func() bool { return !h.healthy() })
	if _, err := h.app.Keyring.Seal([]byte("x"), "c/f"); !errors.Is(err, keyring.ErrSealingStopped) {
		t.Errorf("Seal on the server without the new key: %v; want ErrSealingStopped", err)
	}
	// Given both keys, the old one first, keys list and a restarted
	// server take the one the database moved to as the primary.
	listed, err := ListKeys(t.Context(), Config{DataDir: h.dataDir, Key: keyring.Secret(oldKey + "," + newKey)})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed.Keys) != 2 || listed.Keys[0].ID != keyIDOf(t, newKey) || !listed.Keys[0].Primary || listed.Keys[1].Primary {
		t.Errorf("keys list with CARDFLOW_KEY=OLD,NEW after the rotation: %+v; want %s first, the primary", listed.Keys, keyIDOf(t, newKey))
	}
	h.stop()
	h = startServer(t, h.emu, h.dataDir, withKey(oldKey+","+newKey))
	if !h.healthy() || h.app.Keyring.PrimaryID() != keyIDOf(t, newKey) {
		t.Errorf("restarted with CARDFLOW_KEY=OLD,NEW: healthy %v, sealing with %s; want healthy, sealing with %s", h.healthy(), h.app.Keyring.PrimaryID(), keyIDOf(t, newKey))
	}
}

// TestKeyringBehindChecksAtOnce: a flow run's card error that comes of a
// key the server lacks, or of sealing stopped, makes the server check the
// database's key at once, not at its next look (an hour away here): it
// answers true (hand the run back) only when the check finds its keyring
// behind. A server whose keyring is current fails the run as before: an
// unknown key then is no other server's either.
func TestKeyringBehindChecksAtOnce(t *testing.T) {
	t.Parallel()
	oldKey, newKey := b64key(t), b64key(t)
	h := startHarness(t, oktaemu.Config{Devices: 1}, func(c *Config) {
		c.keyCheckEvery, c.Key = time.Hour, keyring.Secret(oldKey)
	})
	unknown := fmt.Errorf("open: %w", keyring.ErrUnknownKey)
	stopped := fmt.Errorf("refresh: %w", keyring.ErrSealingStopped)
	if h.app.keyringBehind(t.Context(), unknown) {
		t.Errorf("keyringBehind before any rotation = true; want false (the run fails: no server has that key)")
	}
	if _, err := RotateKeys(t.Context(), Config{DataDir: h.dataDir, Key: keyring.Secret(oldKey)}, keyring.Secret(newKey)); err != nil {
		t.Fatal(err)
	}
	if h.app.keyringBehind(t.Context(), errors.New("the org answered 500")) {
		t.Errorf("keyringBehind for an error of no key = true; want false")
	}
	if !h.healthy() {
		t.Fatalf("the server checked the key for an error of no key, or before its next look")
	}
	if !h.app.keyringBehind(t.Context(), stopped) {
		t.Errorf("keyringBehind after a rotation past the server = false; want true")
	}
	if h.healthy() {
		t.Errorf("the server is healthy after keyringBehind found its keyring behind; want it to stop sealing at once")
	}
	if !h.app.keyringBehind(t.Context(), unknown) {
		t.Errorf("keyringBehind for an unknown key on a server behind = false; want true")
	}
}

// TestStaleServerRefusesCardRunsRetryably: a server started with
// CARDFLOW_KEY=OLD when keys rotate moves the database to NEW, before its
// next look at the database (an hour away here), is asked to run a card on
// a connection whose tokens are now sealed with NEW. It refuses the run
// before it starts, as one to try again on another server (503 naming the
// key it lacks and the fix), records no failed run, and stops sealing at
// once (its /healthz fails); an expired access token, which it cannot
// refresh, is refused the same way. Restarted with CARDFLOW_KEY=OLD,NEW,
// as the README's rotation says, it runs the card. Before, it recorded the
// run as failed with an internal error, against the rotation procedure.
func TestStaleServerRefusesCardRunsRetryably(t *testing.T) {
	t.Parallel()
	oldKey, newKey := b64key(t), b64key(t)
	withKey := func(key string) func(*Config) {
		return func(c *Config) { c.keyCheckEvery, c.Key = time.Hour, keyring.Secret(key) }
	}
	h := startHarness(t, oktaemu.Config{Devices: 2}, withKey(oldKey))
	h.connect("Prod")
	device := h.deviceWithStatus("Prod", "ACTIVE")
	runs := func() int {
		t.Helper()
		var list struct {
			Runs []runJSON `json:"runs"`
		}
		if code, data := h.call("GET", "/api/v1/runs", nil, &list); code != http.StatusOK {
			t.Fatalf("GET /api/v1/runs: %d %s", code, data)
		}
		return len(list.Runs)
	}
	before := runs()
	if _, err := RotateKeys(t.Context(), Config{DataDir: h.dataDir, Key: keyring.Secret(oldKey)}, keyring.Secret(newKey)); err != nil {
		t.Fatal(err)
	}
	if !h.healthy() {
		t.Fatalf("the server fails its health check before it looked at the database again")
	}
	newID := keyIDOf(t, newKey)
	for _, when := range []string{"with a fresh access token", "with an expired access token"} {
		if when == "with an expired access token" {
			h.emu.AdvanceClock(t, 2*time.Hour)
		}
		var e struct {
			Error struct {
				Code    string         `json:"code"`
				Message string         `json:"message"`
				Details map[string]any `json:"details"`
			} `json:"error"`
		}
		code, data := h.call("POST", "/api/v1/runs", map[string]any{"card": "okta-devices/read-device", "connection": "Prod",
			"input": map[string]any{"deviceId": device}}, &e)
		remedy, _ := e.Error.Details["remedy"].(string)
		if code != http.StatusServiceUnavailable || !strings.Contains(e.Error.Message, "lacks key "+newID) ||
			!strings.Contains(remedy, "try again") || !strings.Contains(remedy, "give this server the current keyring: restart it with CARDFLOW_KEY holding the key, or copy the rotated keyring file over its own") {
			t.Errorf("a card run %s on the server without the new key: %d %s; want 503 naming key %s, to try again and the fix", when, code, data, newID)
		}
		if n := runs(); n != before {
			t.Errorf("%d run(s) recorded %s; want none (the run never started)", n-before, when)
		}
	}
	if h.healthy() {
		t.Errorf("the server is healthy after it refused a run for a key it lacks; want it to have checked the database's key at once")
	}
	h.stop()
	h = startServer(t, h.emu, h.dataDir, withKey(oldKey+","+newKey))
	if code, r := h.run("okta-devices/read-device", "Prod", map[string]any{"deviceId": device}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Errorf("read-device after a restart with CARDFLOW_KEY=OLD,NEW: %d %+v", code, r.Error)
	}
}

// TestStaleServerRefusesConnectionTestRetryably: a server whose keyring
// keys rotate left behind (before its next look at the database) is asked
// to test a user connection and a service connection whose secrets are
// now sealed with the new key: it refuses each test as it refuses a card
// run (503 naming the key it lacks, to try again, and the fix), changes
// and records nothing of the connections, and stops sealing at once. It
// answered 200 with the check failed, as if the connection were at fault.
func TestStaleServerRefusesConnectionTestRetryably(t *testing.T) {
	t.Parallel()
	oldKey, newKey := b64key(t), b64key(t)
	h := startHarness(t, oktaemu.Config{Devices: 1}, func(c *Config) { c.keyCheckEvery, c.Key = time.Hour, keyring.Secret(oldKey) })
	user := h.connect("Prod")
	robot, _ := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	if _, err := RotateKeys(t.Context(), Config{DataDir: h.dataDir, Key: keyring.Secret(oldKey)}, keyring.Secret(newKey)); err != nil {
		t.Fatal(err)
	}
	newID := keyIDOf(t, newKey)
	for _, c := range []struct{ id, nickname string }{{user.ID, "Prod"}, {robot.ID, "Robot"}} {
		before := h.serviceConn(c.id)
		var e struct {
			Error struct {
				Message string         `json:"message"`
				Details map[string]any `json:"details"`
			} `json:"error"`
		}
		code, data := h.call("POST", "/api/v1/connections/"+c.id+"/test", nil, &e)
		remedy, _ := e.Error.Details["remedy"].(string)
		if code != http.StatusServiceUnavailable || !strings.Contains(e.Error.Message, "lacks key "+newID) ||
			!strings.Contains(remedy, "try again") || !strings.Contains(remedy, "give this server the current keyring: restart it with CARDFLOW_KEY holding the key, or copy the rotated keyring file over its own") {
			t.Errorf("testing %s on the server without the new key: %d %s; want 503 naming key %s, to try again and the fix", c.nickname, code, data, newID)
		}
		if after := h.serviceConn(c.id); after.Status != before.Status || after.StatusReason != before.StatusReason {
			t.Errorf("%s after the refused test: %s %q; want it as before, %s %q", c.nickname, after.Status, after.StatusReason, before.Status, before.StatusReason)
		}
		if h.healthy() {
			t.Errorf("the server is healthy after it refused testing %s for a key it lacks; want it to have checked the database's key at once", c.nickname)
		}
	}
	var audit struct {
		Events []struct {
			Action string `json:"action"`
		} `json:"events"`
	}
	if code, data := h.call("GET", "/api/v1/audit?action=connection.test", nil, &audit); code != http.StatusOK || len(audit.Events) != 0 {
		t.Errorf("audit of connection tests: %d %s; want none recorded for the refused tests", code, data)
	}
}

// TestStaleServerRefusesSignInCallbackRetryably: a person starts a single
// sign-on on a server that has the key a rotation moved the database to,
// and the identity provider sends them back to one that lacks it (both on
// one database; the stale one has not looked since the rotation). The
// callback is answered 503 naming the key it lacks and to try again, as a
// card run is, and the server stops sealing at once: it was a plain 500.
func TestStaleServerRefusesSignInCallbackRetryably(t *testing.T) {
	t.Parallel()
	oldKey, newKey := b64key(t), b64key(t)
	stale := startHarness(t, oktaemu.Config{Devices: 1}, func(c *Config) {
		ssoConfig(c, c.TrustedOrigins[0]) // the org of the harness
		c.keyCheckEvery, c.Key = time.Hour, keyring.Secret(oldKey)
	})
	if _, err := RotateKeys(t.Context(), Config{DataDir: stale.dataDir, Key: keyring.Secret(oldKey)}, keyring.Secret(newKey)); err != nil {
		t.Fatal(err)
	}
	// The current server's public URL is the stale one's: the provider
	// sends the browser back there.
	current := startServer(t, stale.emu, stale.dataDir, func(c *Config) {
		ssoConfig(c, stale.emu.URL)
		c.Key, c.PublicURL = keyring.Secret(newKey+","+oldKey), stale.url
	})
	jar, _ := cookiejar.New(nil) // cookies are per host, not per port: both servers see them
	b := &consoleBrowser{t: t, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	code, loc, _ := b.get(current.url + "/signin/sso")
	if code != http.StatusSeeOther {
		t.Fatalf("GET /signin/sso on the current server: status %d", code)
	}
	callback := stale.emu.SignIn(t, loc, oktaemu.AdminLogin, oktaemu.DemoPassword)
	if !strings.HasPrefix(callback.String(), stale.url+"/auth/callback") {
		t.Fatalf("the org sent the browser to %s; want the stale server's callback", callback)
	}
	code, _, body := b.get(callback.String())
	newID := keyIDOf(t, newKey)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "lacks key "+newID) || !strings.Contains(body, "Try again: another server") {
		t.Errorf("the sign-in callback on the server without the new key: status %d; want 503 naming key %s and to try again\n%s", code, newID, body)
	}
	if stale.healthy() {
		t.Errorf("the stale server is healthy after the callback met a key it lacks; want it to have checked the database's key at once")
	}
}
