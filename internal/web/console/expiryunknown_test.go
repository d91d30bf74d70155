package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestConnectionPageExpiryNotKnownYet: a user connection whose refresh
// token's end the org has not told yet has its Refresh token expires row,
// saying so in the words of `cardflow connections show`, where the page
// left the row out.
func TestConnectionPageExpiryNotKnownYet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	if err := e.store.UpdateConnection(context.Background(), v.ID, func(c *store.Connection) error {
		c.RefreshTokenExpiresAt = time.Time{}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c, _, _ := signInHTTP(t, e.url, "/connections")
	_, body := get(t, c, e.url+"/connections/"+v.ID)
	const want = `<dt>Refresh token expires</dt><dd id="refresh-expiry">Not known yet: the org did not say when asked; cardflow asks again (Okta ends it 90 days after the sign-in)</dd>`
	if !strings.Contains(body, want) {
		t.Errorf("the page of a connection whose refresh token's end is not known lacks\n%s\nin:\n%s", want, body)
	}
}
