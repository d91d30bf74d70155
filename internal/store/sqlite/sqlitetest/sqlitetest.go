// Package sqlitetest gives tests a new SQLite database file that already
// holds the current schema. Migrating an empty file runs every migration,
// which takes seconds under the race detector; a copy of a file migrated
// once per test binary opens in milliseconds. Tests of migrating itself
// start from an empty file instead.
package sqlitetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cardflow/cardflow/internal/store/sqlite"
	"github.com/cardflow/cardflow/internal/store/sqlstore"
)

// template holds the bytes of a database file that sqlite.Open migrated
// and closed: the current schema, no records.
var template = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "cardflow-sqlitetest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "cardflow.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		return nil, err
	}
	if err := s.Close(); err != nil {
		return nil, err
	}
	// Closing the last connection checkpoints the write-ahead log into
	// the file and removes the log: the file alone is the database.
	for _, suffix := range []string{"-wal", "-journal"} {
		if _, err := os.Stat(path + suffix); err == nil {
			return nil, fmt.Errorf("%s%s is left after closing the database; the file alone would not be all of it", path, suffix)
		}
	}
	return os.ReadFile(path)
})

// NewFile writes a database file holding the current schema and no
// records into t.TempDir() and returns its path, for sqlite.Open or a
// server's configuration. It fails t if the template cannot be made.
func NewFile(t testing.TB) string {
	t.Helper()
	b, err := template()
	if err != nil {
		t.Fatalf("sqlitetest: migrate the template database: %v", err)
	}
	path := filepath.Join(t.TempDir(), "cardflow.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatalf("sqlitetest: %v", err)
	}
	return path
}

// Open opens a new database (NewFile) that t closes at its end. It fails
// t if the database cannot be opened.
func Open(t testing.TB) *sqlstore.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), NewFile(t))
	if err != nil {
		t.Fatalf("sqlitetest: open the database: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}
