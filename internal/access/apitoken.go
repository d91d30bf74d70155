package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/cardflow/cardflow/internal/store"
)

// APITokenSetting is the setting that holds the SHA-256 of the server's
// API token (the bootstrap admin's).
const APITokenSetting = "api.token.sha256"

// SettingReader is what APIToken needs of the store.
type SettingReader interface {
	GetSetting(ctx context.Context, key string) ([]byte, error)
}

// APIToken checks the server's API token against the hash the database
// holds, read at every check: when a server sharing the database starts
// with a new CARDFLOW_API_TOKEN, the token it replaces stops working on
// every server at once, not only on those restarted since. A nil APIToken,
// or a database without the hash, refuses every token.
type APIToken struct {
	Store SettingReader
}

// Check reports whether token is the API token, comparing its SHA-256 in
// constant time. The error is the store's, when it cannot be read.
func (a *APIToken) Check(ctx context.Context, token string) (bool, error) {
	if a == nil || a.Store == nil || token == "" {
		return false, nil
	}
	stored, err := a.Store.GetSetting(ctx, APITokenSetting)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the API token's hash: %w", err)
	}
	h := sha256.Sum256([]byte(token))
	return len(stored) == len(h) && subtle.ConstantTimeCompare(h[:], stored) == 1, nil
}
