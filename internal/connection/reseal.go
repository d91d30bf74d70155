package connection

import (
	"context"
	"errors"
	"fmt"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// The sealed fields of a connection. A value is sealed with the additional
// data sealedAAD(connection id, field), so that it opens only as that field
// of that connection.
const (
	fieldClientSecret = "client_secret"
	fieldRefreshToken = "refresh_token"
	fieldAccessToken  = "access_token"
	fieldIDToken      = "id_token"
	// A service connection's private keys (JWK JSON): client auth, the
	// key being rotated in, DPoP proofs.
	fieldPrivateKey     = "private_key"
	fieldNextPrivateKey = "next_private_key"
	fieldDPoPKey        = "dpop_key"
)

// sealedAAD is the additional data that binds a value to field of
// connection id.
func sealedAAD(id, field string) string { return id + "/" + field }

// sealedFields names every sealed field of a connection.
var sealedFields = []struct {
	name string
	get  func(c *store.Connection) *[]byte
}{
	{fieldClientSecret, func(c *store.Connection) *[]byte { return &c.SealedClientSecret }},
	{fieldRefreshToken, func(c *store.Connection) *[]byte { return &c.SealedRefreshToken }},
	{fieldAccessToken, func(c *store.Connection) *[]byte { return &c.SealedAccessToken }},
	{fieldIDToken, func(c *store.Connection) *[]byte { return &c.SealedIDToken }},
	{fieldPrivateKey, func(c *store.Connection) *[]byte { return &c.SealedPrivateKey }},
	{fieldNextPrivateKey, func(c *store.Connection) *[]byte { return &c.SealedNextPrivateKey }},
	{fieldDPoPKey, func(c *store.Connection) *[]byte { return &c.SealedDPoPKey }},
}

// Reseal re-seals with m.Keyring's primary key every value of connection id
// that another key sealed, under the connection's refresh lease
// so that it never races a refresh in any process, in one store update. It
// reports the values re-sealed and those
// the primary key had already sealed; a connection deleted meanwhile has
// none. Its errors are for an operator (keys rotate), not an API response.
func (m *Manager) Reseal(ctx context.Context, id string) (resealed, unchanged int, err error) {
	unlock, err := m.lockConn(ctx, id, nil)
	if err != nil {
		// The operator needs the store's own error, not the public message.
		if p := (*problem.Error)(nil); errors.As(err, &p) && p.Err != nil {
			err = p.Err
		}
		return 0, 0, fmt.Errorf("take the lease of connection %s: %w", id, err)
	}
	defer unlock()

	err = m.Store.UpdateConnection(ctx, id, func(c *store.Connection) error {
		resealed, unchanged = 0, 0
		for _, f := range sealedFields {
			p := f.get(c)
			if len(*p) == 0 {
				continue
			}
			if !m.Keyring.NeedsReseal(*p) {
				unchanged++
				continue
			}
			aad := sealedAAD(c.ID, f.name)
			plain, err := m.Keyring.Open(*p, aad)
			if err != nil {
				return fmt.Errorf("%s of %s: %w", f.name, c.Nickname, err)
			}
			if *p, err = m.Keyring.Seal(plain, aad); err != nil {
				return err
			}
			resealed++
		}
		if resealed == 0 {
			return errNothingToReseal
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, 0, nil // deleted meanwhile
	case errors.Is(err, errNothingToReseal):
		return 0, unchanged, nil
	case err != nil:
		return 0, 0, fmt.Errorf("re-seal connection %s: %w", id, err)
	}
	return resealed, unchanged, nil
}

// errNothingToReseal: every value is sealed with the primary key already.
var errNothingToReseal = errors.New("nothing to re-seal")

// SealedValues returns every sealed value connection c holds, so that an
// operator can tell which keys are still in use (keys list, keys remove).
func SealedValues(c *store.Connection) [][]byte {
	var out [][]byte
	for _, f := range sealedFields {
		if p := f.get(c); len(*p) > 0 {
			out = append(out, *p)
		}
	}
	return out
}
