package app

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestMultiServerRotationPastAServer: two servers on PostgreSQL, A
// restarted with CARDFLOW_KEY=OLD,NEW as the README says, B still on OLD
// alone, when keys rotate moves the database to NEW. A seals with NEW from
// then on (its refreshed tokens open on a server that has NEW alone); B,
// which cannot open what is sealed with NEW, stops sealing: it refreshes
// no token and stores no secret (503, saying to restart it with the
// current keyring), logs it once at ERROR, counts it, and fails /healthz
// until it has the key. So no value is sealed with OLD after the
// rotation, and a server without OLD opens everything. B claims no flow
// run meanwhile: a server with NEW runs them.
func TestMultiServerRotationPastAServer(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	oldKey, newKey := b64key(t), b64key(t)
	fast := func(c *Config) { c.keyCheckEvery = 20 * time.Millisecond }
	a, a2, dsn := pgServersWithKey(t, emu, keyring.Secret(oldKey+","+newKey), fast)
	b := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.DB, c.Key, c.Owner, c.PublicURL = dsn, keyring.Secret(oldKey), "server-b-old", a.url
		fast(c)
	})
	a.connect("Prod")
	device := a.deviceWithStatus("Prod", "ACTIVE")
	read := func(h *harness) (int, runJSON) {
		t.Helper()
		return h.run("okta-devices/read-device", "Prod", map[string]any{"deviceId": device})
	}
	if code, r := read(b); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("read-device on B before the rotation: %d %+v", code, r.Error)
	}

	if _, err := RotateKeys(t.Context(), Config{DataDir: t.TempDir(), DB: dsn, Key: keyring.Secret(oldKey)}, keyring.Secret(newKey)); err != nil {
		t.Fatalf("RotateKeys: %v", err)
	}
	newID := keyIDOf(t, newKey)
	waitFor(t, "B to fail its health check", func() bool { return !b.healthy() })
	waitFor(t, "A to seal with the new key", func() bool { return a.app.Keyring.PrimaryID() == newID })
	if !a.healthy() {
		t.Errorf("A, which has the new key, fails its health check")
	}
	if _, err := b.app.Keyring.Seal([]byte("x"), "c/f"); !errors.Is(err, keyring.ErrSealingStopped) {
		t.Errorf("B seals after the rotation: %v; want ErrSealingStopped", err)
	}

	// B checks on, and says it once.
	counted := b.failures()["keyring"]
	waitFor(t, "B's further checks", func() bool { return b.failures()["keyring"] >= counted+3 })
	lines := b.logLines("check the sealing key")
	if len(lines) != 1 || lines[0]["level"] != "ERROR" || !strings.Contains(lines[0]["error"].(string), "restart it with the current keyring") ||
		!strings.Contains(lines[0]["error"].(string), newID) {
		t.Errorf("B's log of the check: %v; want one line at ERROR naming key %s and saying to restart with the current keyring", lines, newID)
	}

	// A write that needs sealing is refused on B, and says what to do.
	code, data := b.call("POST", "/api/v1/connections", map[string]any{
		"connector": "okta-devices", "nickname": "Other", "domain": emu.URL, "clientId": oktaemu.DemoClientID, "clientSecret": oktaemu.DemoClientSecret,
	}, nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(string(data), "give this server the current keyring") {
		t.Errorf("creating a connection on B: %d %s; want 503 saying to restart it with the current keyring", code, data)
	}
	// B does not refresh a token it could not store; A does, sealing
	// with the new key.
	emu.AdvanceClock(t, 2*time.Hour)
	if code, r := read(b); r.Status == "succeeded" {
		t.Errorf("read-device on B with an expired access token: %d %s; want it refused", code, r.Status)
	}
	if code, r := read(a); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("read-device on A after the rotation: %d %+v", code, r.Error)
	}

	// B claims no flow run: one started while the servers with the new
	// key are down waits for one that has it.
	flowID := a.storeFlow("stale-check")
	a.stop()
	a2.stop()
	var run flowRun
	if code, data := b.call("POST", "/api/v1/flows/"+flowID+"/runs", map[string]any{}, &run); code != http.StatusAccepted {
		t.Fatalf("start a flow run on B: %d %s", code, data)
	}

	// The old key seals nothing: a server without it opens everything.
	keys, err := ListKeys(t.Context(), Config{DataDir: t.TempDir(), DB: dsn, Key: keyring.Secret(newKey + "," + oldKey)})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys.Keys {
		if k.ID != newID && k.Values != 0 {
			t.Errorf("key %s seals %d value(s) after the rotation; want none (keys %+v)", k.ID, k.Values, keys.Keys)
		}
	}
	c := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.DB, c.Key, c.Owner, c.PublicURL = dsn, keyring.Secret(newKey), "server-c", a.url
	})
	if code, r := read(c); code != http.StatusCreated || r.Status != "succeeded" {
		t.Errorf("read-device on a server with the new key alone: %d %+v", code, r.Error)
	}
	if done := waitFlowRun(t, c, run.ID, time.Minute); done.Status != "succeeded" {
		t.Errorf("the flow run started on B: %+v; want it succeeded, run by a server with the new key", done)
	}
	if fr, err := openPG(t, dsn).GetFlowRun(t.Context(), run.ID); err != nil {
		t.Error(err)
	} else if fr.Owner != "server-c" {
		t.Errorf("the flow run started on B was run by %q; want server-c", fr.Owner)
	}
	if t.Failed() {
		t.Logf("B's logs:\n%s", b.logs)
	}
}
