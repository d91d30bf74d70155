package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/store"
)

// Settings keys and the check value that proves the keyring matches the
// database.
const (
	settingKeyCheck = "keyring.check"
	// settingKeyRotated is when keys rotate last moved the database to a
	// new key (RFC 3339), which keys remove waits out (keyFollowWait).
	settingKeyRotated = "keyring.rotated"
	keyCheckAAD       = "settings/" + settingKeyCheck
	keyCheckValue     = "cardflow keyring check v1"
	keyringFile       = "keyring"
)

// parseKeys decodes CARDFLOW_KEY: one or more base64 keys separated by
// commas, the first of which seals; the others only open values sealed
// before a rotation.
func parseKeys(v string) (*keyring.Keyring, error) {
	keys, err := parseKeyList(v)
	if err != nil {
		return nil, err
	}
	return keyring.New(keys[0], keys[1:]...)
}

// parseKeyList decodes the keys of a CARDFLOW_KEY value, in order.
func parseKeyList(v string) ([]keyring.Key, error) {
	var keys []keyring.Key
	for i, part := range strings.Split(v, ",") {
		k, err := keyring.FromBase64(part)
		if err != nil {
			return nil, fmt.Errorf("CARDFLOW_KEY: key %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// loadKeyring returns the keyring given in cfg.Key, or the one in the data
// directory's keyring file, creating that file on a first start (when the
// database holds nothing sealed yet). It then proves that the keyring opens
// the database's check value, writing the check value on a first start.
// There is no plaintext fallback: every failure stops the start-up.
func loadKeyring(ctx context.Context, cfg *Config, st store.Store, log *slog.Logger) (*keyring.Keyring, error) {
	check, err := st.GetSetting(ctx, settingKeyCheck)
	if errors.Is(err, store.ErrNotFound) {
		check, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the keyring check value: %w", err)
	}
	path := filepath.Join(cfg.DataDir, keyringFile)

	var kr *keyring.Keyring
	source := keySource(cfg)
	switch {
	case cfg.Key != "":
		if kr, err = parseKeys(cfg.Key.Reveal()); err != nil {
			return nil, err
		}
	default:
		kr, err = keyring.LoadFile(path)
		switch {
		case err == nil:
			if fi, serr := os.Stat(path); serr == nil && fi.Mode().Perm()&0o077 != 0 {
				log.Warn("the keyring file is readable by other users; restrict it", slog.String("path", path), slog.String("fix", "chmod 600 "+path))
			}
		case errors.Is(err, fs.ErrNotExist) && check == nil:
			if kr, err = createKeyring(path); err != nil {
				return nil, err
			}
			log.Warn("created a new keyring; back it up now: without it the stored client secrets and tokens cannot be read",
				slog.String("path", path), slog.String("key_id", kr.PrimaryID()))
		case errors.Is(err, fs.ErrNotExist):
			id := sealedBy(check)
			peer := ""
			if cfg.DB != "" {
				// A server joining others on a shared database has
				// no backup of its own to restore: its peers' file is
				// the one.
				peer = fmt.Sprintf(" (a server joining others on this PostgreSQL database: copy the keyring file of one of them, 0600, to %s)", path)
			}
			return nil, fmt.Errorf("no keyring: the database holds secrets sealed with key %s, but %s does not exist and CARDFLOW_KEY is not set; "+
				"restore %s from its backup%s or set CARDFLOW_KEY to the key %s (there is no plaintext fallback)", id, path, path, peer, id)
		default:
			return nil, fmt.Errorf("load the keyring: %w", err)
		}
	}

	if check == nil {
		sealed, err := kr.Seal([]byte(keyCheckValue), keyCheckAAD)
		if err != nil {
			return nil, fmt.Errorf("seal the keyring check value: %w", err)
		}
		if err := st.PutSetting(ctx, settingKeyCheck, sealed); err != nil {
			return nil, fmt.Errorf("store the keyring check value: %w", err)
		}
		return kr, nil
	}
	if err := verifyKeyring(kr, check, source); err != nil {
		return nil, err
	}
	if moved, err := followCheckKey(kr, check); err != nil {
		return nil, err
	} else if moved {
		log.Info("sealing with the database's current key, not the keyring's first: cardflow keys rotate moved the database to it",
			slog.String("key_id", kr.PrimaryID()), slog.String("keyring", source))
	}
	return kr, nil
}

// verifyKeyring proves kr opens the check value, or says which key is
// missing and how to fix it.
func verifyKeyring(kr *keyring.Keyring, check []byte, source string) error {
	plain, err := kr.Open(check, keyCheckAAD)
	if err == nil && string(plain) == keyCheckValue {
		return nil
	}
	id := sealedBy(check)
	switch {
	case errors.Is(err, keyring.ErrUnknownKey):
		return fmt.Errorf("wrong key: the database was sealed with key %s, which is not in the keyring from %s (it has %s); "+
			"use the keyring that holds key %s (restore the data directory's keyring file from its backup, or set CARDFLOW_KEY to that key); there is no plaintext fallback",
			id, source, strings.Join(kr.IDs(), ", "), id)
	case err != nil:
		return fmt.Errorf("wrong key: key %s from %s does not open the database's check value (the key was changed or the value altered); "+
			"restore the keyring that sealed this database; there is no plaintext fallback", id, source)
	default:
		return fmt.Errorf("wrong key: the keyring check value from the database is not cardflow's; restore the database or the keyring that go together")
	}
}

// sealedBy names the key id in a ciphertext's header, for messages.
func sealedBy(ct []byte) string {
	id, err := keyring.KeyIDOf(ct)
	if err != nil || id == "" {
		return "(unreadable)"
	}
	return id
}

// createKeyring makes a new keyring file at path (mode 0600) and returns
// the keyring read back from it, so that, as one loaded at a later start,
// it learns the keys a `keys rotate` adds to the file while the server
// runs.
func createKeyring(path string) (*keyring.Keyring, error) {
	k, err := keyring.Generate()
	if err != nil {
		return nil, err
	}
	kr, err := keyring.New(k)
	if err != nil {
		return nil, err
	}
	if err := kr.WriteFile(path); err != nil {
		return nil, err
	}
	return keyring.LoadFile(path)
}
