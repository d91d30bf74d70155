package sqlite

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

// TestConnectionReadsSeeOtherProcesses: a store that read a connection
// before returns what another store (another server) changed or deleted
// since, by id and by nickname, and what a caller does to a connection it
// got does not change what the next caller gets.
func TestConnectionReadsSeeOtherProcesses(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "cardflow.db")
	a, b := openFile(t, path), openFile(t, path)
	c := &store.Connection{
		ID: "conn1", Connector: "okta-devices", Nickname: "Prod", Domain: "example.okta.com",
		Status: store.StatusActive, ScopeMode: "default", ClientID: "0oaclient",
		RequestedScopes: []string{"okta.devices.read"}, GrantedScopes: []string{"okta.devices.read"},
		SealedAccessToken: []byte("sealed-1"),
	}
	if err := a.CreateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	get := func(s store.Store) *store.Connection {
		t.Helper()
		got, err := s.GetConnection(ctx, "conn1")
		if err != nil {
			t.Fatalf("GetConnection: %v", err)
		}
		return got
	}
	first := get(a)
	first.GrantedScopes[0] = "changed by a caller"
	first.SealedAccessToken[0] = 'X'
	first.Status = store.StatusError
	if again := get(a); again.Status != store.StatusActive || !slices.Equal(again.GrantedScopes, []string{"okta.devices.read"}) ||
		string(again.SealedAccessToken) != "sealed-1" {
		t.Fatalf("second read = %q %q %q; want what the database holds, not what the first caller changed",
			again.Status, again.GrantedScopes, again.SealedAccessToken)
	}

	err := b.UpdateConnection(ctx, "conn1", func(c *store.Connection) error {
		c.Status, c.StatusReason = store.StatusError, "revoked elsewhere"
		c.Nickname = "Production"
		c.SealedAccessToken = []byte("sealed-2")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := get(a)
	if got.Status != store.StatusError || got.StatusReason != "revoked elsewhere" || string(got.SealedAccessToken) != "sealed-2" || got.Version != 2 {
		t.Fatalf("after another store's update: %q %q %q version %d; want error, its reason, sealed-2, version 2",
			got.Status, got.StatusReason, got.SealedAccessToken, got.Version)
	}
	byName, err := a.GetConnectionByNickname(ctx, "okta-devices", "production")
	if err != nil || byName.ID != "conn1" || byName.Version != 2 {
		t.Fatalf("by the new nickname: %+v, %v; want conn1 at version 2", byName, err)
	}
	if _, err := a.GetConnectionByNickname(ctx, "okta-devices", "prod"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("by the old nickname: %v; want ErrNotFound", err)
	}

	if err := b.DeleteConnection(ctx, "conn1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetConnection(ctx, "conn1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after another store deleted it: %v; want ErrNotFound", err)
	}
}
