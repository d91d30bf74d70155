package connection

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// readCounter is a store that counts the reads of single connections.
type readCounter struct {
	store.Store
	reads atomic.Int32
}

func (r *readCounter) GetConnection(ctx context.Context, id string) (*store.Connection, error) {
	r.reads.Add(1)
	return r.Store.GetConnection(ctx, id)
}

func (r *readCounter) GetConnectionByNickname(ctx context.Context, connector, nickname string) (*store.Connection, error) {
	r.reads.Add(1)
	return r.Store.GetConnectionByNickname(ctx, connector, nickname)
}

// TestResolveClientReadsOnce: resolving a connection by nickname or id and
// making the first call with its client reads the connection once; later
// calls read it again (a token refreshed elsewhere is picked up), and a
// primed token about to expire is refreshed as Token would.
func TestResolveClientReadsOnce(t *testing.T) {
	e := newEnv(t)
	v := e.connect(t, "Prod")
	rc := &readCounter{Store: e.store}
	m := e.manager(t, rc, "process-1")
	ctx := context.Background()

	get := func(c *http.Client) {
		t.Helper()
		resp, err := c.Get(e.emu.URL + "/api/v1/devices?limit=1")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d; want 200", resp.StatusCode)
		}
	}
	for _, key := range []string{"Prod", "prod", v.ID} {
		rc.reads.Store(0)
		got, client, err := m.ResolveClient(ctx, connector, key)
		if err != nil || got.ID != v.ID {
			t.Fatalf("ResolveClient(%q) = %v, %v; want %s", key, got, err, v.ID)
		}
		get(client)
		if n := rc.reads.Load(); n != 1 {
			t.Errorf("ResolveClient(%q) and a first call read the connection %d times; want 1", key, n)
		}
		get(client)
		if n := rc.reads.Load(); n != 2 {
			t.Errorf("a second call: %d reads in all; want 2", n)
		}
	}

	// Unknown names still fail, after both lookups.
	if _, _, err := m.ResolveClient(ctx, connector, "Nope"); err == nil {
		t.Errorf("ResolveClient(Nope) succeeded; want not_found")
	}

	// A primed token with less than the skew left is not used: the first
	// call refreshes.
	_, client, err := m.ResolveClient(ctx, connector, "Prod")
	if err != nil {
		t.Fatal(err)
	}
	posts := e.tokenPosts(t)
	e.emu.AdvanceClock(t, time.Hour-30*time.Second)
	get(client)
	if n := e.tokenPosts(t) - posts; n != 1 {
		t.Errorf("token requests %d; want 1 refresh of the expiring token", n)
	}
}

// TestNotFoundSuggestsNearestNickname: a misspelt nickname is refused with
// the nearest nicknames as the remedy, with or without a connector; a name
// near none keeps the plain remedy.
func TestNotFoundSuggestsNearestNickname(t *testing.T) {
	e := newEnv(t)
	e.connect(t, "Prod devices")
	m := e.manager(t, e.store, "process-1")
	ctx := context.Background()
	for _, tt := range []struct{ connector, key, remedy string }{
		{connector, "Prod devics", `did you mean "Prod devices"?`},
		{"", "prod-devices", `did you mean "Prod devices"?`},
		{connector, "Staging", "check the name, or list them all (cardflow connections list; GET /api/v1/connections)"},
	} {
		_, err := m.Resolve(ctx, tt.connector, tt.key)
		p, ok := problem.As(err)
		if !ok || p.Code != problem.NotFound || p.Remedy != tt.remedy {
			t.Errorf("Resolve(%q, %q) = %v; want not_found with the remedy %q", tt.connector, tt.key, err, tt.remedy)
		}
	}
}
