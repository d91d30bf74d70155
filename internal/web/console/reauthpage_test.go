package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

// TestReauthorizePageOfABrokenConnection: the Reauthorize page of an active
// connection says that its tokens keep working until the new ones are
// stored; that of a connection whose tokens the org rejected says it runs no
// cards until the sign-in succeeds, where it promised the same.
func TestReauthorizePageOfABrokenConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	c, _, _ := signInHTTP(t, e.url, "/connections")
	const keeps = "its current tokens keep working until the new ones are stored"
	if _, body := get(t, c, e.url+"/connections/"+v.ID+"/reauthorize"); !strings.Contains(body, keeps) {
		t.Errorf("the Reauthorize page of an active connection lacks %q", keeps)
	}
	if err := e.store.UpdateConnection(context.Background(), v.ID, func(c *store.Connection) error {
		c.Status, c.StatusReason = store.StatusNeedsReauthorization, "the org rejected the refresh token"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, c, e.url+"/connections/"+v.ID+"/reauthorize")
	if strings.Contains(body, keeps) || !strings.Contains(body, "It runs no cards until the sign-in succeeds.") {
		t.Errorf("the Reauthorize page of a connection that needs reauthorization promises its tokens keep working, or does not say it runs no cards:\n%s", body)
	}
}
