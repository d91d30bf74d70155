package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/store"
)

// RotateReport says what RotateKeys did.
type RotateReport struct {
	NewKeyID    string
	KeyIDs      []string // every key of the new keyring, the primary first
	KeyringFile string   // the file written, "" when the key came from CARDFLOW_KEY
	Connections int      // connections with at least one value re-sealed
	Values      int      // values re-sealed
	Unchanged   int      // values already sealed with the new key
}

// RotateKeys adds a new primary key and re-seals every connection's secrets
// and the keyring check value with it (SPEC C11). The old keys stay in the
// keyring: values sealed with them keep opening, also for servers still
// running with the old keyring. With cfg.Key set, newKey is the new key (the
// operator keeps it); otherwise a key is generated and the keyring file is
// rewritten before anything is sealed with it.
func RotateKeys(ctx context.Context, cfg Config, newKey keyring.Secret) (*RotateReport, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("the data directory is required (-data-dir)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if _, err := os.Stat(cfg.DataDir); err != nil && cfg.DB == "" {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := openStore(ctx, &cfg, cfg.Logger)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if _, err := st.GetSetting(ctx, settingKeyCheck); errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("this database has no keyring check value: start the server once before rotating keys")
	}
	old, err := loadKeyring(ctx, &cfg, st, cfg.Logger)
	if err != nil {
		return nil, err
	}

	rep := &RotateReport{}
	var kr *keyring.Keyring
	if cfg.Key != "" {
		if newKey == "" {
			return nil, errors.New("CARDFLOW_KEY is set, so the new key must come from CARDFLOW_NEW_KEY (base64, 32 bytes, e.g. `openssl rand -base64 32`)")
		}
		k, err := keyring.FromBase64(newKey.Reveal())
		if err != nil {
			return nil, fmt.Errorf("CARDFLOW_NEW_KEY: %w", err)
		}
		for _, id := range old.IDs() {
			if id == k.ID {
				return nil, fmt.Errorf("CARDFLOW_NEW_KEY is key %s, which the keyring already has; generate a new one", k.ID)
			}
		}
		olderKeys, err := parseKeyList(cfg.Key.Reveal())
		if err != nil {
			return nil, err
		}
		if kr, err = keyring.New(k, olderKeys...); err != nil {
			return nil, err
		}
	} else {
		if kr, err = old.Rotate(); err != nil {
			return nil, err
		}
		rep.KeyringFile = filepath.Join(cfg.DataDir, keyringFile)
		// The new key must be durable before anything is sealed with it.
		if err := kr.WriteFile(rep.KeyringFile); err != nil {
			return nil, err
		}
	}
	rep.NewKeyID, rep.KeyIDs = kr.PrimaryID(), kr.IDs()

	conns, err := st.ListConnections(ctx)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	owner := cfg.Owner
	if owner == "" {
		owner = "keys-rotate"
	}
	m := &connection.Manager{Store: st, Keyring: kr, Owner: owner, Logger: cfg.Logger}
	for _, c := range conns {
		n, unchanged, err := m.Reseal(ctx, c.ID)
		if err != nil {
			return rep, err
		}
		rep.Values += n
		rep.Unchanged += unchanged
		if n > 0 {
			rep.Connections++
		}
	}
	check, err := kr.Seal([]byte(keyCheckValue), keyCheckAAD)
	if err != nil {
		return rep, err
	}
	if err := st.PutSetting(ctx, settingKeyCheck, check); err != nil {
		return rep, fmt.Errorf("store the keyring check value: %w", err)
	}
	return rep, nil
}
