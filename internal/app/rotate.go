package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/events"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/store"
)

// RotateReport says what RotateKeys did.
type RotateReport struct {
	NewKeyID    string
	KeyIDs      []string // every key of the new keyring, the primary first
	KeyringFile string   // the file written, "" when the key came from CARDFLOW_KEY
	Connections int      // connections with at least one value re-sealed
	Values      int      // values re-sealed, event hook secrets included
	Unchanged   int      // values already sealed with the new key
	EventHooks  int      // event hook secrets re-sealed
}

// RotateKeys adds a new primary key and re-seals every connection's secrets,
// its event hook secret and the keyring check value with it. The old keys stay in the
// keyring: values sealed with them keep opening, also for servers still
// running with the old keyring. With cfg.Key set, newKey is the new key (the
// operator keeps it); otherwise a key is generated and the keyring file is
// rewritten before anything is sealed with it.
func RotateKeys(ctx context.Context, cfg Config, newKey keyring.Secret) (*RotateReport, error) {
	st, old, err := openKeyed(ctx, &cfg, "rotating keys")
	if err != nil {
		return nil, err
	}
	defer st.Close()

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

	counts, err := resealAll(ctx, &cfg, st, kr, "keys-rotate")
	rep.Connections, rep.Values, rep.Unchanged, rep.EventHooks = counts.Connections, counts.Values, counts.Unchanged, counts.EventHooks
	if err != nil {
		return rep, err
	}
	check, err := kr.Seal([]byte(keyCheckValue), keyCheckAAD)
	if err != nil {
		return rep, err
	}
	// Stored before the move, so that keys remove never misses a move.
	if err := st.PutSetting(ctx, settingKeyRotated, []byte(cfg.now().UTC().Format(time.RFC3339Nano))); err != nil {
		return rep, fmt.Errorf("store the time of the rotation: %w", err)
	}
	if err := st.PutSetting(ctx, settingKeyCheck, check); err != nil {
		return rep, fmt.Errorf("store the keyring check value: %w", err)
	}
	return rep, nil
}

// ResealReport says what ResealKeys did.
type ResealReport struct {
	KeyID       string // the database's current key, which re-sealed them
	Connections int    // connections with at least one value re-sealed
	Values      int    // values re-sealed, event hook secrets included
	Unchanged   int    // connection values the current key sealed already
	EventHooks  int    // event hook secrets re-sealed
}

// ResealKeys re-seals with the database's current key (the one that
// sealed the keyring check value, which every server seals with) every
// connection secret and event hook secret that another key sealed, and
// adds no key: a server may seal a refreshed token with the old key in the
// seconds before it sees a rotation, and keys remove refuses a key that
// still seals anything. Like RotateKeys it is safe while servers run.
func ResealKeys(ctx context.Context, cfg Config) (*ResealReport, error) {
	st, kr, err := openKeyed(ctx, &cfg, "re-sealing")
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rep, err := resealAll(ctx, &cfg, st, kr, "keys-reseal")
	rep.KeyID = kr.PrimaryID()
	return rep, err
}

// resealAll re-seals with kr's primary key every connection secret and
// event hook secret another key sealed, under each connection's refresh
// lease (taken as cfg.Owner, or as owner). It reports what it did up to a
// failure.
func resealAll(ctx context.Context, cfg *Config, st store.Store, kr *keyring.Keyring, owner string) (*ResealReport, error) {
	rep := &ResealReport{}
	conns, err := st.ListConnections(ctx)
	if err != nil {
		return rep, fmt.Errorf("list connections: %w", err)
	}
	if cfg.Owner != "" {
		owner = cfg.Owner
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
		resealed, err := resealEventSecret(ctx, st, kr, c.ID)
		if err != nil {
			return rep, err
		}
		if resealed {
			rep.EventHooks++
			rep.Values++
		}
	}
	return rep, nil
}

// resealEventSecret re-seals the event hook secret of connection id with
// kr's primary key, if it has one sealed with another key. A hook
// reconciler of a running server may replace the secret meanwhile: the
// swap then fails and the new value is read and re-sealed in its turn.
func resealEventSecret(ctx context.Context, st store.Store, kr *keyring.Keyring, id string) (bool, error) {
	for {
		src, err := st.GetEventSource(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("read the event source of connection %s: %w", id, err)
		case len(src.SealedSecret) == 0 || !kr.NeedsReseal(src.SealedSecret):
			return false, nil
		}
		aad := events.SecretAAD(id)
		plain, err := kr.Open(src.SealedSecret, aad)
		if err != nil {
			return false, fmt.Errorf("the event hook secret of connection %s: %w", id, err)
		}
		resealed, err := kr.Seal(plain, aad)
		if err != nil {
			return false, err
		}
		switch err := st.ReplaceEventSecret(ctx, id, src.SealedSecret, resealed); {
		case err == nil:
			return true, nil
		case errors.Is(err, store.ErrConflict):
			continue
		case errors.Is(err, store.ErrNotFound):
			return false, nil
		default:
			return false, fmt.Errorf("re-seal the event hook secret of connection %s: %w", id, err)
		}
	}
}

// openKeyed opens the store of cfg and its keyring, for the keys commands,
// which run beside the servers: the database must have been started once,
// and it must have this binary's schema. Only a server's start migrates
// it: the keys commands of a newer binary would change the schema under
// the servers of the older version still running on it. what names the
// command in the errors that say so.
func openKeyed(ctx context.Context, cfg *Config, what string) (store.Store, *keyring.Keyring, error) {
	if cfg.DataDir == "" {
		return nil, nil, errors.New("the data directory is required (-data-dir)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DB == "" {
		if err := checkDataDir(cfg.DataDir); err != nil {
			return nil, nil, err
		}
		// Opening would create an empty database: a mistyped data
		// directory would get one.
		path := filepath.Join(cfg.DataDir, "cardflow.db")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s does not exist: check -data-dir (the server's data directory), or start the server once before %s", path, what)
		}
	}
	st, err := openStoreWith(ctx, cfg, cfg.Logger, false)
	if behind := (*store.SchemaBehindError)(nil); errors.As(err, &behind) {
		return nil, nil, fmt.Errorf("the database's schema is at version %d and this cardflow needs version %d: "+
			"upgrade the servers to this version and restart them first (each server brings the database up to date as it starts), "+
			"then run it again; or use the cardflow binary of the servers' version for %s", behind.Have, behind.Want, what)
	}
	if err != nil {
		return nil, nil, err
	}
	if _, err := st.GetSetting(ctx, settingKeyCheck); errors.Is(err, store.ErrNotFound) {
		st.Close()
		return nil, nil, fmt.Errorf("this database has no keyring check value: start the server once before %s", what)
	}
	kr, err := loadKeyring(ctx, cfg, st, cfg.Logger)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, kr, nil
}
