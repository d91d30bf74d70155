package app

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestKeysCommandsLeaveAnOlderSchema: the keys commands of a newer
// cardflow, run on a database a server of the version before still uses,
// apply no migration (that server would run on a schema it does not know)
// and say which versions they found and need, and what to do. On a
// database of their own version, they work.
func TestKeysCommandsLeaveAnOlderSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	h.stop()

	// The database as the version before left it: its newest migration
	// not recorded.
	// Waiting for locks as the server's own connections do.
	db, err := sql.Open("sqlite", filepath.Join(h.dataDir, "cardflow.db")+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	newest := func() int64 {
		t.Helper()
		var v int64
		if err := db.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	want := newest()
	var name string
	var appliedAt int64
	if err := db.QueryRow(`SELECT name, applied_at FROM schema_migrations WHERE version = ?`, want).Scan(&name, &appliedAt); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM schema_migrations WHERE version = ?`, want); err != nil {
		t.Fatal(err)
	}
	have := newest()

	cmds := map[string]func() error{
		"list":   func() error { _, err := ListKeys(ctx, Config{DataDir: h.dataDir}); return err },
		"rotate": func() error { _, err := RotateKeys(ctx, Config{DataDir: h.dataDir}, ""); return err },
		"remove": func() error { _, err := RemoveKey(ctx, Config{DataDir: h.dataDir}, "k1"); return err },
	}
	for name, run := range cmds {
		err := run()
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema is at version %d and this cardflow needs version %d", have, want)) ||
			!strings.Contains(err.Error(), "upgrade the servers to this version and restart them first") {
			t.Errorf("keys %s on a database of the version before: %v; want a refusal naming versions %d and %d and saying to upgrade and restart the servers first", name, err, have, want)
		}
		if got := newest(); got != have {
			t.Fatalf("keys %s brought the database to schema version %d; want it left at %d", name, got, have)
		}
	}

	// Once the servers are upgraded (and have migrated the database: its
	// newest migration's objects are still there, so it is recorded as
	// their start would), the keys commands work, and the servers too.
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, want, name, appliedAt); err != nil {
		t.Fatal(err)
	}
	if _, err := ListKeys(ctx, Config{DataDir: h.dataDir}); err != nil {
		t.Errorf("keys list on a database of this version: %v", err)
	}
	if _, err := RotateKeys(ctx, Config{DataDir: h.dataDir}, ""); err != nil {
		t.Errorf("keys rotate on a database of this version: %v", err)
	}
	startServer(t, h.emu, h.dataDir, nil).stop()
}
