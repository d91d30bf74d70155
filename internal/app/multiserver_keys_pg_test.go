package app

import (
	"net/http"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestMultiServerKeyRotation rotates the sealing key while two servers on
// PostgreSQL keep serving, in the order the README gives: the servers
// already hold the new key as an older one (CARDFLOW_KEY=OLD,NEW), the
// rotation re-seals everything with the new key, and a server restarted
// with CARDFLOW_KEY=NEW,OLD works on.
func TestMultiServerKeyRotation(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 5})
	oldKey, newKey := b64key(t), b64key(t)
	a, b, dsn := pgServersWithKey(t, emu, keyring.Secret(oldKey+","+newKey), nil)
	a.connect("Prod")
	device := a.deviceWithStatus("Prod", "ACTIVE")
	runOn := func(what string, hs ...*harness) {
		t.Helper()
		for _, h := range hs {
			if code, r := h.run("okta-devices/read-device", "Prod", map[string]any{"deviceId": device}); code != http.StatusCreated || r.Status != "succeeded" {
				t.Fatalf("%s: read-device on %s: %d %+v", what, h.url, code, r.Error)
			}
		}
	}
	runOn("before the rotation", a, b)

	rep, err := RotateKeys(t.Context(), Config{DataDir: t.TempDir(), DB: dsn, Key: keyring.Secret(oldKey)}, keyring.Secret(newKey))
	if err != nil {
		t.Fatalf("RotateKeys: %v", err)
	}
	if rep.Values == 0 {
		t.Fatalf("the rotation re-sealed nothing: %+v", rep)
	}
	runOn("after the rotation", a, b)

	// A refresh on a running server seals the new tokens with the old key
	// until it has seen the rotation, with the new one after; servers
	// restarted with NEW,OLD open them either way.
	emu.AdvanceClock(t, 2*time.Hour)
	runOn("after a refresh", b, a)

	c := startServer(t, emu, t.TempDir(), func(cfg *Config) {
		cfg.DB, cfg.Key, cfg.Owner, cfg.PublicURL = dsn, keyring.Secret(newKey+","+oldKey), "server-c", a.url
	})
	runOn("on a server restarted with the new key first", c)
}
