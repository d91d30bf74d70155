package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/counttext"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/store"
)

// KeyUse is one key of the keyring and how many stored values it seals.
type KeyUse struct {
	ID      string
	Primary bool
	Values  int
}

// KeysReport is the keyring of a data directory (or CARDFLOW_KEY) and the
// use of each key: the connections' secrets and tokens, the event hook
// secrets and the keyring check value.
type KeysReport struct {
	Source  string // the keyring file, or "CARDFLOW_KEY"
	Keys    []KeyUse
	Removed string // the key RemoveKey removed
}

// ListKeys reports the keyring's keys and how many stored values each
// seals.
func ListKeys(ctx context.Context, cfg Config) (*KeysReport, error) {
	st, kr, err := openKeyed(ctx, &cfg, "listing keys")
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return keyUse(ctx, &cfg, st, kr)
}

// RemoveKey removes an older key from the data directory's keyring file
// once no stored value is sealed with it (after keys rotate). It refuses
// the primary key, a key still in use, and keys given in CARDFLOW_KEY,
// which the operator edits. A running server seals with the old key until
// it next reads the database's check value (every 10 s), so the caller
// removes a key only after that; the count catches a server that has
// sealed with the old key since (ResealKeys then re-seals its values).
func RemoveKey(ctx context.Context, cfg Config, id string) (*KeysReport, error) {
	st, kr, err := openKeyed(ctx, &cfg, "removing a key")
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rep, err := keyUse(ctx, &cfg, st, kr)
	if err != nil {
		return nil, err
	}
	if cfg.Key != "" {
		return nil, errors.New("the keys come from CARDFLOW_KEY: remove the key from its value yourself once `cardflow keys list` shows that it seals nothing, and restart the servers")
	}
	if err := rotatedSince(ctx, &cfg, st, kr); err != nil {
		return nil, err
	}
	for _, k := range rep.Keys {
		if k.ID == id && !k.Primary && k.Values > 0 {
			return nil, fmt.Errorf("key %s still seals %s (a server may have sealed a refreshed token with it in the seconds before it saw the rotation): "+
				"run `cardflow keys reseal` (it re-seals them with the database's current key), then remove the key", id, counttext.Format(k.Values, "stored value"))
		}
	}
	w, err := kr.Without(id)
	if err != nil {
		return nil, err
	}
	if err := w.WriteFile(rep.Source); err != nil {
		return nil, err
	}
	if rep, err = keyUse(ctx, &cfg, st, w); err != nil {
		return nil, err
	}
	rep.Removed = id
	return rep, nil
}

// keyFollowWait is how long after a rotation every running server that
// reaches the database has read its check value again (every
// defaultKeyCheckEvery, plus a read in flight at the rotation) and seals
// with the new key, or has stopped sealing.
const keyFollowWait = defaultKeyCheckEvery + 2*time.Second

// rotatedSince refuses a key removal less than keyFollowWait after keys
// rotate moved the database to kr's primary key: a running server may
// still seal with the old key until its next look, and what it sealed
// with a removed key would not open after its restart.
func rotatedSince(ctx context.Context, cfg *Config, st store.Store, kr *keyring.Keyring) error {
	b, err := st.GetSetting(ctx, settingKeyRotated)
	if errors.Is(err, store.ErrNotFound) {
		return nil // never rotated, or rotated by a version that did not record it
	}
	if err != nil {
		return fmt.Errorf("read the time of the last rotation: %w", err)
	}
	at, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return nil
	}
	ago := cfg.now().Sub(at)
	if wait := keyFollowWait - ago; wait > 0 {
		return fmt.Errorf("keys rotate moved the database to key %s %s ago: a running server seals with its old key until it next reads the database (every %s), "+
			"and a value it sealed with a removed key would not open after its restart; run keys remove again in %s",
			kr.PrimaryID(), ago.Round(time.Second), defaultKeyCheckEvery, wait.Round(time.Second)+time.Second)
	}
	return nil
}

// keyUse counts the stored values each key of kr seals.
func keyUse(ctx context.Context, cfg *Config, st store.Store, kr *keyring.Keyring) (*KeysReport, error) {
	count := map[string]int{}
	add := func(ct []byte) {
		if id, err := keyring.KeyIDOf(ct); err == nil {
			count[id]++
		}
	}
	conns, err := st.ListConnections(ctx)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	for _, c := range conns {
		for _, v := range connection.SealedValues(c) {
			add(v)
		}
		src, err := st.GetEventSource(ctx, c.ID)
		switch {
		case err == nil:
			if len(src.SealedSecret) > 0 {
				add(src.SealedSecret)
			}
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("read the event source of connection %s: %w", c.ID, err)
		}
	}
	check, err := st.GetSetting(ctx, settingKeyCheck)
	if err != nil {
		return nil, fmt.Errorf("read the keyring check value: %w", err)
	}
	add(check)

	rep := &KeysReport{Source: "CARDFLOW_KEY"}
	if cfg.Key == "" {
		rep.Source = filepath.Join(cfg.DataDir, keyringFile)
	}
	for _, id := range kr.IDs() {
		rep.Keys = append(rep.Keys, KeyUse{ID: id, Primary: id == kr.PrimaryID(), Values: count[id]})
	}
	return rep, nil
}

// now is c.Now, or time.Now when it is nil.
func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
