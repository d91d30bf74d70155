package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
)

// defaultKeyCheckEvery is how often a server reads the keyring check value
// to learn of a rotation (Config.keyCheckEvery overrides it in tests).
const defaultKeyCheckEvery = 10 * time.Second

// keySource names where cfg's keyring comes from, for messages.
func keySource(cfg *Config) string {
	if cfg.Key != "" {
		return "CARDFLOW_KEY"
	}
	return filepath.Join(cfg.DataDir, keyringFile)
}

// followCheckKey makes kr seal with the key that sealed the database's
// check value, which kr has opened: that is the key `keys rotate` last
// moved the database to, which every server seals with, whatever the
// order of the keys in its keyring. It reports whether kr changed key.
func followCheckKey(kr *keyring.Keyring, check []byte) (bool, error) {
	id := sealedBy(check)
	if id == kr.PrimaryID() && kr.SealErr() == nil {
		return false, nil
	}
	if err := kr.SealWith(id); err != nil {
		return false, err
	}
	return true, nil
}

// watchSealingKey checks the sealing key (checkSealingKey) every
// keyCheckEvery until ctx ends; failures go to the keyring outage log,
// which logs the first at ERROR and counts each. Serve checks it once
// before (a rotation since New loaded the keyring), before it serves.
func (a *App) watchSealingKey(ctx context.Context) {
	ticks(ctx, a.keyCheckEvery(), func() bool {
		a.checkKey(ctx)
		return true
	})
}

// keyCheckEvery is how often the server checks the sealing key.
func (a *App) keyCheckEvery() time.Duration {
	if a.cfg.keyCheckEvery <= 0 {
		return defaultKeyCheckEvery
	}
	return a.cfg.keyCheckEvery
}

// ticks calls fn every d until ctx ends or fn returns false.
func ticks(ctx context.Context, d time.Duration, fn func() bool) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !fn() {
			return
		}
	}
}

// checkKey checks the sealing key (checkSealingKey), one check at a time;
// failures go to the keyring outage log, which logs the first at ERROR and
// counts each.
func (a *App) checkKey(ctx context.Context) {
	a.keyCheck.Lock()
	defer a.keyCheck.Unlock()
	switch err := a.checkSealingKey(ctx); {
	case ctx.Err() != nil:
	case err != nil:
		a.keyOutage.Fail(ctx, "check the sealing key", err)
	default:
		a.keyOutage.OK(ctx, "check the sealing key")
	}
}

// keyringBehind reports whether err, which a card run met (getting its
// connection's access token, or in a flow run), comes of this server's
// keyring being behind the database's: a value sealed with a key it lacks,
// or sealing stopped. It checks the sealing key at once rather than at the
// next tick, so that the server stops sealing (and claiming flow runs) as
// soon as a rotation past it shows; the card run is then refused before
// it starts (connection.Manager.KeyringBehind: the API answers 503 naming
// the key), and a flow run is handed back to a server that has the key
// (flowrun.Cards.HandBack). A value that no server could open (a key
// removed from every keyring) is not this server's fault: it fails the
// run as before.
func (a *App) keyringBehind(ctx context.Context, err error) bool {
	if !errors.Is(err, keyring.ErrUnknownKey) && !errors.Is(err, keyring.ErrSealingStopped) {
		return false
	}
	a.checkKey(ctx)
	return a.Keyring.SealErr() != nil
}

// sealErrIfBehind is keyringBehind for the console: the keyring's error
// (naming the key it lacks) when err comes of this server's keyring being
// behind the database's, else nil.
func (a *App) sealErrIfBehind(ctx context.Context, err error) error {
	if a.keyringBehind(ctx, err) {
		return a.Keyring.SealErr()
	}
	return nil
}

// checkSealingKey reads the database's keyring check value and keeps the
// server sealing with the key that sealed it: after a `keys rotate`, a
// server whose keyring has the new key seals with it from then on; a
// server whose keyring lacks it stops sealing (keyring.StopSealing), so
// that it seals nothing the other servers, restarted without its key,
// could not open, and reports itself unhealthy until it is restarted with
// the current keyring, or until its keyring file gains the key (read
// again at the next check: no restart). A read that
// fails changes nothing. One small read per call: no seal reads the
// database.
func (a *App) checkSealingKey(ctx context.Context) error {
	check, err := a.Store.GetSetting(ctx, settingKeyCheck)
	if err != nil {
		return fmt.Errorf("read the keyring check value: %w", err)
	}
	kr := a.Keyring
	was, stopped := kr.PrimaryID(), kr.SealErr() != nil
	id := sealedBy(check)
	if id == was && !stopped {
		return nil
	}
	source := keySource(&a.cfg)
	if verr := verifyKeyring(kr, check, source); verr != nil {
		// A keyring file is read again when it meets a key it lacks, as
		// here at every check: copied in, the key needs no restart.
		fix := fmt.Sprintf("restart it with the current keyring: CARDFLOW_KEY holding key %s", id)
		if a.cfg.Key == "" {
			fix = fmt.Sprintf("copy the keyring file the rotation wrote (it holds key %s) over %s: this server reads it again within %s and seals with the new key, with no restart",
				id, source, a.keyCheckEvery())
		}
		kr.StopSealing(id, fmt.Sprintf("this server has stopped sealing secrets: the database's are now sealed with key %s "+
			"(cardflow keys rotate moved it there since this server started), which its keyring from %s (keys %s) cannot open; %s",
			id, source, strings.Join(kr.IDs(), ", "), fix))
		return kr.SealErr()
	}
	if _, err := followCheckKey(kr, check); err != nil {
		return err
	}
	a.log.InfoContext(ctx, "sealing with the database's current key", slog.String("key_id", id), slog.String("was", was),
		slog.Bool("had_stopped", stopped))
	return nil
}
