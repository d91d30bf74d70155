package console

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/store"
)

// newTokenCookie carries a token just created on the Tokens page to the
// page the form redirects to (Post/Redirect/Get), which shows it once and
// deletes the cookie. It holds the token sealed with the keyring for the
// session that created it (newTokenAAD), is sent only to /tokens and
// lives a few minutes. The browser keeps it, not the database, so that no
// token secret is stored beside its hash, even sealed.
const newTokenCookie = "cardflow_new_token"

// newTokenLifetime bounds how long a new token waits for its page.
const newTokenLifetime = 5 * time.Minute

// createdToken is what newTokenCookie seals.
type createdToken struct {
	ID, Name, Role string
	ExpiresAt      time.Time
	Token          string
}

// newTokenAAD binds a sealed new token to the session that created it.
func newTokenAAD(sessionID string) string { return "session/" + sessionID + "/new-token" }

// keepNewToken seals tok into newTokenCookie for the session's next
// Tokens page.
func (c *Console) keepNewToken(w http.ResponseWriter, r *http.Request, s *reqState, tok *access.NewToken) error {
	b, err := json.Marshal(createdToken{ID: tok.ID, Name: tok.Name, Role: tok.Role, ExpiresAt: tok.ExpiresAt, Token: tok.Token})
	if err != nil {
		return err
	}
	sealed, err := c.Keyring.Seal(b, newTokenAAD(s.session.ID))
	if err != nil {
		return err
	}
	c.setPathCookie(w, r, newTokenCookie, "/tokens", base64.RawURLEncoding.EncodeToString(sealed), int(newTokenLifetime.Seconds()))
	return nil
}

// takeNewToken returns the token newTokenCookie carries, opened, and
// deletes the cookie; nil without one, or when it cannot be opened (not
// this session's, or from before a key rotation).
func (c *Console) takeNewToken(w http.ResponseWriter, r *http.Request, s *reqState) *access.NewToken {
	ck, err := r.Cookie(newTokenCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	c.setPathCookie(w, r, newTokenCookie, "/tokens", "", -1)
	sealed, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		c.log.WarnContext(r.Context(), "console: a new token's cookie is not base64url; ignoring it", slog.Any("cause", err))
		return nil
	}
	b, err := c.Keyring.Open(sealed, newTokenAAD(s.session.ID))
	if err != nil {
		c.log.WarnContext(r.Context(), "console: a new token's cookie does not open for this session; ignoring it", slog.Any("cause", err))
		return nil
	}
	var t createdToken
	if err := json.Unmarshal(b, &t); err != nil {
		c.log.ErrorContext(r.Context(), "console: a new token's cookie holds no token", slog.Any("cause", err))
		return nil
	}
	return &access.NewToken{APIToken: &store.APIToken{ID: t.ID, Name: t.Name, Role: t.Role, ExpiresAt: t.ExpiresAt}, Token: t.Token}
}
