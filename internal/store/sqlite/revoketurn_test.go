package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestRevokeWithoutItsTurnRow: a database whose revoke_turn table lost its
// row (a partial restore, a hand edit) still revokes: the revoke puts the
// row back rather than fail as if the token were not there, which the API
// would have answered as revoked meanwhile, leaving the token working.
func TestRevokeWithoutItsTurnRow(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "cardflow.db")
	s := openFile(t, path)
	tok := &store.APIToken{Name: "ci", Hash: "h", Role: "admin", OwnerType: store.ActorUser, OwnerLogin: "ada@example.com",
		CreatedAt: time.Unix(0, 0).UTC(), ExpiresAt: time.Unix(3600, 0).UTC()}
	if err := s.CreateAPIToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DELETE FROM revoke_turn`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteAPIToken(ctx, tok.ID); err != nil {
		t.Fatalf("DeleteAPIToken without the turn's row: %v", err)
	}
	if _, err := s.GetAPIToken(ctx, tok.ID); err == nil {
		t.Errorf("the token is still there after its revoke")
	}
}
