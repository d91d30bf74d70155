package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/store"
)

const tokenFile = "api-token"

// setupAPIToken stores the SHA-256 of the API token, which the API and the
// console check against the stored hash at every use
// (access.APIToken). A token given in cfg replaces the stored hash, on
// every server sharing the database. Without one, the stored hash is kept;
// on a first start a token is generated, its hash stored, the token
// written 0600 to DataDir/api-token and printed once to out.
func setupAPIToken(ctx context.Context, cfg *Config, st store.Store, out io.Writer, log *slog.Logger) error {
	if cfg.APIToken != "" {
		if len(cfg.APIToken) < 16 {
			return errors.New("CARDFLOW_API_TOKEN is too short: use at least 16 characters (e.g. from `openssl rand -base64 32`)")
		}
		hash := sha256.Sum256([]byte(cfg.APIToken.Reveal()))
		stored, err := st.GetSetting(ctx, access.APITokenSetting)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("read the API token hash: %w", err)
		}
		if !bytes.Equal(stored, hash[:]) {
			if err := st.PutSetting(ctx, access.APITokenSetting, hash[:]); err != nil {
				return fmt.Errorf("store the API token hash: %w", err)
			}
			if len(stored) > 0 {
				// Deliberate after a leak, or a server started with a
				// stale or mistyped token: either way every client of
				// every server sharing the database is refused the old
				// one from now on, which the operator must be told.
				log.Warn("CARDFLOW_API_TOKEN differs from the API token stored in the database and replaces it: the previous one stops working at once on every server sharing the database",
					slog.String("remedy", "if this was not meant, start this server with the same CARDFLOW_API_TOKEN as the others (each server that starts with a different one replaces it again); clients need the new token"))
			}
			// Consoles signed in with the old token (perhaps leaked, the
			// usual reason to replace it) are signed out with it.
			n, err := st.DeleteSessionsOf(ctx, store.Actor{Type: store.ActorBootstrap})
			if err != nil {
				return fmt.Errorf("end the console sessions of the replaced API token: %w", err)
			}
			if n > 0 {
				log.Info("CARDFLOW_API_TOKEN replaces the API token: ended the console sessions signed in with the old one", slog.Int("sessions", n))
			}
			if err := warnBootstrapTokens(ctx, cfg, st, log); err != nil {
				return err
			}
		}
		// A generated token left in the api-token file no longer works:
		// remove it, so that nobody takes it for the token.
		path := filepath.Join(cfg.DataDir, tokenFile)
		if h, ok := fileTokenHash(path); ok && h != hash {
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("remove the replaced API token file: %w", err)
			}
			log.Info("CARDFLOW_API_TOKEN replaces the generated API token: removed its file", slog.String("path", path))
		}
		return nil
	}

	stored, err := st.GetSetting(ctx, access.APITokenSetting)
	switch {
	case err == nil && len(stored) == sha256.Size:
		var hash [32]byte
		copy(hash[:], stored)
		path := filepath.Join(cfg.DataDir, tokenFile)
		if h, ok := fileTokenHash(path); ok && h == hash {
			log.Info("API token: the one printed on first start (also in the data directory's api-token file)",
				slog.String("path", path))
		} else {
			// Set with CARDFLOW_API_TOKEN, here or on another server
			// sharing the database, or generated in a data directory whose
			// api-token file was not restored with the database: no file
			// here holds it.
			log.Info("API token: the one last set with CARDFLOW_API_TOKEN (on this server or another one sharing the database), or, in a database restored from a backup, the one generated on its first start; the data directory has no file holding it: if it is lost, set CARDFLOW_API_TOKEN to a new token (at least 16 characters) to replace it")
		}
		return nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("read the API token hash: %w", err)
	}

	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return fmt.Errorf("generate the API token: %w", err)
	}
	token := "cf_" + base64.RawURLEncoding.EncodeToString(raw[:])
	path := filepath.Join(cfg.DataDir, tokenFile)
	if err := writeFile0600(path, []byte(token+"\n")); err != nil {
		return fmt.Errorf("write the API token file: %w", err)
	}
	hash := sha256.Sum256([]byte(token))
	if err := st.PutSetting(ctx, access.APITokenSetting, hash[:]); err != nil {
		return fmt.Errorf("store the API token hash: %w", err)
	}
	fmt.Fprintf(out, "cardflow: API token (shown once; also in %s): %s\n", path, token)
	return nil
}

// warnBootstrapTokens says, when the API token is replaced, how many
// personal API tokens the bootstrap admin holds: they were made with the
// old API token (or on a console signed in with it) and stay valid, as
// the operator's scripts need them to; whoever held a leaked API token may
// have made some of them.
func warnBootstrapTokens(ctx context.Context, cfg *Config, st store.Store, log *slog.Logger) error {
	toks, err := st.ListAPITokens(ctx, store.ActorBootstrap, "")
	if err != nil {
		return fmt.Errorf("list the bootstrap admin's personal API tokens: %w", err)
	}
	now := time.Now()
	if cfg.Now != nil {
		now = cfg.Now()
	}
	live := slices.DeleteFunc(toks, func(t *store.APIToken) bool { return !now.Before(t.ExpiresAt) })
	if len(live) > 0 {
		log.Warn("CARDFLOW_API_TOKEN replaces the API token, but the personal API tokens the bootstrap admin made with the old one stay valid until they expire or are revoked; "+
			"if the old API token leaked, list them (cardflow tokens list --all, owner the bootstrap admin) and revoke those you did not make (cardflow tokens revoke ID)",
			slog.Int("tokens", len(live)))
	}
	return nil
}

// fileTokenHash returns the SHA-256 of the token in the api-token file at
// path, and false when there is no readable token there.
func fileTokenHash(path string) ([32]byte, bool) {
	data, err := os.ReadFile(path)
	tok := strings.TrimSpace(string(data))
	if err != nil || tok == "" {
		return [32]byte{}, false
	}
	return sha256.Sum256([]byte(tok)), true
}

// writeFile0600 writes data to path readable by its owner only.
func writeFile0600(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// settingSSO holds a digest of the single sign-on settings that gave the
// console sessions of people their roles.
const settingSSO = "sso.settings"

// signOutOnSSOChange ends the console sessions of people signed in with
// single sign-on when the provider, its app or the group-to-role mapping
// changed since the last start (or single sign-on was turned off): their
// roles came from the old settings, perhaps taken back on purpose. The
// bootstrap admin's sessions and personal API tokens are left alone.
func signOutOnSSOChange(ctx context.Context, cfg *Config, st store.Store, log *slog.Logger) error {
	var cur []byte
	if cfg.OIDCIssuer != "" {
		roles := slices.Sorted(slices.Values(cfg.OIDCRoles))
		sum := sha256.Sum256([]byte(strings.Join(append([]string{cfg.OIDCIssuer, cfg.OIDCClientID}, roles...), "\n")))
		cur = sum[:]
	}
	prev, err := st.GetSetting(ctx, settingSSO)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("read the single sign-on settings: %w", err)
	}
	if bytes.Equal(prev, cur) && (err == nil || cur == nil) {
		return nil
	}
	if err == nil {
		n, err := st.DeleteSessionsOf(ctx, store.Actor{Type: store.ActorUser})
		if err != nil {
			return fmt.Errorf("end the console sessions of the replaced single sign-on settings: %w", err)
		}
		if n > 0 {
			log.Info("single sign-on settings changed (-oidc-issuer, -oidc-client-id or -oidc-role): ended the console sessions people signed in with under the old ones; they sign in again. Personal API tokens stay: end the access the change should end (cardflow people list, cardflow people revoke LOGIN)",
				slog.Int("sessions", n))
		}
	}
	if err := st.PutSetting(ctx, settingSSO, cur); err != nil {
		return fmt.Errorf("store the single sign-on settings: %w", err)
	}
	return nil
}
