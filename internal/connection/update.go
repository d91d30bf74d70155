package connection

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// UpdateInput is what an administrator may change of a user connection
// without deleting it: the OAuth app's credentials. The domain, the
// connector, the nickname and the id stay.
type UpdateInput struct {
	// ClientSecret is the app's client secret; required (a new client
	// ID without its secret cannot work).
	ClientSecret keyring.Secret
	// ClientID, when not empty, replaces the client ID (the connection
	// moves to another OAuth app of the same org).
	ClientID string
}

// Reasons a connection needs reauthorization after Update.
const (
	updatedSecretReason = "the client secret was changed, so the tokens issued with the previous one were discarded"
	updatedClientReason = "the client ID and secret were changed, so the tokens of the previous OAuth app were discarded"
)

// Update replaces a user connection's client secret (and client ID, when
// given), sealed. Tokens issued before are no longer trusted: they are
// discarded (the refresh token revoked at the org, best effort, with the
// previous credentials or, when the org no longer takes the previous
// secret of the same client, the new one) and the connection becomes
// needs_reauthorization until someone reauthorizes it. A service
// connection has keys, not a secret: Update refuses it.
func (m *Manager) Update(ctx context.Context, idOrNickname string, in UpdateInput, actor store.Actor) (*View, error) {
	m.init()
	v, err := m.update(ctx, idOrNickname, in, actor)
	if err != nil {
		ev := store.AuditEvent{Actor: actor, Action: store.ActionConnectionUpdate, InputSummary: "connection " + truncate(idOrNickname, 100)}
		if p, ok := problem.As(err); ok {
			if id, _ := p.Details["connection"].(string); id != "" {
				ev.ConnectionID, ev.InputSummary = id, "client credentials"
			}
		}
		m.audit(ctx, ev, err)
	}
	return v, err
}

func (m *Manager) update(ctx context.Context, idOrNickname string, in UpdateInput, actor store.Actor) (*View, error) {
	c, err := m.lookup(ctx, "", idOrNickname)
	if err != nil {
		return nil, err
	}
	if c.Auth == store.AuthService {
		return nil, problem.New(problem.InvalidInput, "connection %q is a service connection: it authenticates with a private key, not a client secret", c.Nickname).
			WithRemedy("to replace its key use rotate-key (cardflow connections rotate-key %s)", c.Nickname).
			WithDetail("field", "clientSecret").WithDetail("connection", c.ID)
	}
	clientID := c.ClientID
	if in.ClientID != "" {
		clientID = strings.TrimSpace(in.ClientID)
		if fault := clientIDFault(clientID); fault != "" {
			if clientID == "" {
				fault = "client ID is blank"
			}
			return nil, problem.New(problem.InvalidInput, "%s", fault).
				WithRemedy("copy the client ID from the OAuth app's General tab in the Okta Admin Console, or leave it out to keep %s", c.ClientID).
				WithDetail("field", "clientId").WithDetail("connection", c.ID)
		}
	}
	secret := strings.TrimSpace(in.ClientSecret.Reveal())
	if p := checkClientSecret(secret, "the new client secret"); p != nil {
		return nil, p.WithRemedy("copy the client secret from the OAuth app's General tab in the Okta Admin Console").
			WithDetail("field", "clientSecret").WithDetail("connection", c.ID)
	}
	if p := m.refusedCredentials(ctx, c.Domain, clientID, secret, "; the connection was not changed"); p != nil {
		return nil, p.WithDetail("connection", c.ID)
	}

	// Under the refresh lease, so that no refresh in flight stores tokens
	// of the previous credentials after this commit.
	unlock, err := m.lockConn(ctx, c.ID, nil)
	if err != nil {
		return nil, err
	}
	var prev, cur *store.Connection
	err = m.updateConnection(ctx, c.ID, func(sc *store.Connection) error {
		cp := *sc
		prev = &cp
		sealed, err := m.Keyring.Seal([]byte(secret), sealedAAD(sc.ID, fieldClientSecret))
		if err != nil {
			return internal("seal client secret", err)
		}
		reason := updatedSecretReason
		if clientID != sc.ClientID {
			reason = updatedClientReason
		}
		sc.ClientID, sc.SealedClientSecret = clientID, sealed
		sc.SealedRefreshToken, sc.SealedAccessToken, sc.SealedIDToken = nil, nil, nil
		sc.AccessTokenExpiry, sc.RefreshStartedAt = time.Time{}, time.Time{}
		sc.RefreshTokenExpiresAt, sc.ExpiryNotifiedAt = time.Time{}, time.Time{}
		sc.AccessTokenType = ""
		sc.Status, sc.StatusReason, sc.Remedy, sc.StatusReasonCode = store.StatusNeedsReauthorization, reason, updatedRemedy(sc.Nickname), store.ReasonCredentialsChanged
		sc.UpdatedAt = m.now()
		cur = sc
		return nil
	})
	unlock()
	if err != nil {
		if _, ok := problem.As(err); ok {
			return nil, err
		}
		return nil, internal("store connection", err)
	}
	m.revokePrevious(ctx, prev, cur)

	changed := "client secret"
	if clientID != prev.ClientID {
		changed = fmt.Sprintf("client ID %s (was %s) and client secret", clientID, prev.ClientID)
	}
	m.log.InfoContext(ctx, "connection credentials changed", "connection", cur.ID, "clientIdChanged", clientID != prev.ClientID)
	m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionUpdate, ConnectionID: cur.ID, ActingAs: prev.AuthorizedLogin,
		InputSummary: "changed the " + changed + "; reauthorization needed"}, nil)
	return m.view(cur), nil
}

// revokePrevious revokes, best effort, the refresh token a connection had
// before Update discarded it, with the credentials it was issued to; when
// the org refuses the previous secret of a client that stays (the secret
// was rotated at the org and the old one deleted, the usual reason for
// the update), with the new secret cur holds: a refresh token belongs to
// the client, not to the secret.
func (m *Manager) revokePrevious(ctx context.Context, prev, cur *store.Connection) {
	if len(prev.SealedRefreshToken) == 0 {
		return
	}
	rt, err1 := m.Keyring.Open(prev.SealedRefreshToken, sealedAAD(prev.ID, fieldRefreshToken))
	secret, err2 := m.Keyring.Open(prev.SealedClientSecret, sealedAAD(prev.ID, fieldClientSecret))
	if err1 != nil || err2 != nil {
		m.log.WarnContext(ctx, "the discarded refresh token could not be revoked: it cannot be decrypted with the current keyring", "connection", prev.ID)
		return
	}
	err := m.revoke(context.WithoutCancel(ctx), prev, string(secret), string(rt))
	var oe *oauthError
	if errors.As(err, &oe) && oe.Code == "invalid_client" && cur.ClientID == prev.ClientID {
		if secret, err2 = m.Keyring.Open(cur.SealedClientSecret, sealedAAD(cur.ID, fieldClientSecret)); err2 == nil {
			err = m.revoke(context.WithoutCancel(ctx), prev, string(secret), string(rt))
		}
	}
	if err != nil {
		m.log.WarnContext(ctx, "could not revoke the discarded refresh token; it stops working when it expires", "connection", prev.ID, "error", err)
	}
}

// updatedRemedy is the remedy of a connection whose credentials Update
// replaced: its sign-in, with the command that starts it.
func updatedRemedy(nickname string) string {
	return problem.Reauthorize(nickname) + ": sign in to the org again, which the new credentials need"
}
