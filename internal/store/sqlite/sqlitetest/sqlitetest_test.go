package sqlitetest

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite"
)

// TestNewFileIsMigratedAndEmpty: a copy holds, before anything opens it,
// the schema and migrations of a freshly migrated file; it holds no
// records; copies are independent of each other.
func TestNewFileIsMigratedAndEmpty(t *testing.T) {
	ctx := context.Background()
	fresh := filepath.Join(t.TempDir(), "fresh.db")
	s0, err := sqlite.Open(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	s0.Close()
	want := dumpSchema(t, fresh)
	if !strings.Contains(want, "migration 1 ") || !strings.Contains(want, "table connections") {
		t.Fatalf("a freshly migrated file holds:\n%s\nwant the connections table and migration 1", want)
	}
	a, b := NewFile(t), NewFile(t)
	if got := dumpSchema(t, a); got != want {
		t.Errorf("the copy holds:\n%s\nwant, as a freshly migrated file:\n%s", got, want)
	}

	s, err := sqlite.Open(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if list, err := s.ListConnections(ctx); err != nil || len(list) != 0 {
		t.Fatalf("ListConnections = %d, %v; want none", len(list), err)
	}
	if err := s.CreateConnection(ctx, &store.Connection{ID: "c1", Connector: "okta-devices", Nickname: "n1"}); err != nil {
		t.Fatal(err)
	}
	s2, err := sqlite.Open(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if list, err := s2.ListConnections(ctx); err != nil || len(list) != 0 {
		t.Errorf("another copy lists %d connections, %v; want none", len(list), err)
	}
}

// dumpSchema lists the tables, indexes and triggers of the file at path
// and the migrations it records.
func dumpSchema(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out strings.Builder
	rows, err := db.Query(`SELECT type, name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, name, def string
		if err := rows.Scan(&typ, &name, &def); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "%s %s: %s\n", typ, name, def)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	vrows, err := db.Query(`SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer vrows.Close()
	for vrows.Next() {
		var v int
		var name string
		if err := vrows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "migration %d %s\n", v, name)
	}
	return out.String()
}
