package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestKeyringFileGainsTheKey: a running server whose keyring file lacks
// the key keys rotate moved the database to (another server's copy of the
// keyring, rotated elsewhere) stops sealing at its check of the sealing
// key; once the rotated keyring file is copied over its own, its next
// check reads the file again and it seals with the new key and is healthy,
// with no restart, as keys rotate's advice says.
func TestKeyringFileGainsTheKey(t *testing.T) {
	t.Parallel()
	// The checks are made here, one at a time (checkKey), not by the clock.
	h := startHarness(t, oktaemu.Config{Devices: 2}, func(c *Config) { c.keyCheckEvery = time.Hour })
	c := h.connect("Prod")
	path := filepath.Join(h.dataDir, keyringFile)
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := RotateKeys(t.Context(), Config{DataDir: h.dataDir}, "")
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The server's own keyring file is the one from before the rotation,
	// as another server's copy would be.
	tmp := path + ".old"
	if err := os.WriteFile(tmp, old, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	h.app.checkKey(t.Context())
	if h.healthy() || h.app.Keyring.SealErr() == nil {
		t.Fatalf("the server whose keyring file lacks key %s: healthy %v, sealing error %v; want it stopped sealing", rep.NewKeyID, h.healthy(), h.app.Keyring.SealErr())
	}
	if why := h.app.Keyring.SealErr().Error(); !strings.Contains(why, "copy the keyring file the rotation wrote (it holds key "+rep.NewKeyID+") over "+path) || !strings.Contains(why, "with no restart") {
		t.Errorf("why it stopped sealing: %q; want the keyring file to copy in, with no restart", why)
	}
	// Copied over its keyring file, as the advice says.
	if err := os.WriteFile(path, rotated, 0o600); err != nil {
		t.Fatal(err)
	}
	h.app.checkKey(t.Context())
	if !h.healthy() || h.app.Keyring.SealErr() != nil || h.app.Keyring.PrimaryID() != rep.NewKeyID {
		t.Fatalf("after the rotated keyring file was copied in: healthy %v, sealing error %v, sealing with %s; want healthy, sealing with %s",
			h.healthy(), h.app.Keyring.SealErr(), h.app.Keyring.PrimaryID(), rep.NewKeyID)
	}
	// It seals with it: a token refresh stores the new tokens.
	h.emu.AdvanceClock(t, 2*time.Hour)
	h.connectionWorks(c.ID, "after the keyring file gained the key")
}
