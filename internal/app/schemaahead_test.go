package app

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// TestOpenRefusesANewerSchema: a server started on a database that a
// cardflow of a later version has migrated (an operator going back a
// version) refuses it, on SQLite and on PostgreSQL alike, saying which
// versions it found and knows, that the database is never migrated
// back, and what to do; on PostgreSQL without the hint about reaching
// the database server, which it did. The database is left as it was.
func TestOpenRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name string
		cfg  func(t *testing.T) (Config, *sql.DB)
	}{
		{"sqlite", func(t *testing.T) (Config, *sql.DB) {
			dir := t.TempDir()
			db, err := sql.Open("sqlite", filepath.Join(dir, "cardflow.db"))
			if err != nil {
				t.Fatal(err)
			}
			return Config{DataDir: dir}, db
		}},
		{"postgres", func(t *testing.T) (Config, *sql.DB) {
			dsn := pgtest.NewDatabase(t)
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			return Config{DB: dsn}, db
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, db := tc.cfg(t)
			defer db.Close()
			st, err := openStore(t.Context(), &cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			var known int64
			if err := db.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&known); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
				t.Fatal(err)
			}

			st, err = openStore(t.Context(), &cfg, log)
			if err == nil {
				st.Close()
				t.Fatal("opening a database of a later version succeeded; want a refusal")
			}
			msg := err.Error()
			if ahead := (*store.SchemaAheadError)(nil); !errors.As(err, &ahead) || ahead.Have != 9999 || ahead.Knows != known {
				t.Errorf("error %v; want a *store.SchemaAheadError of versions 9999 and %d", err, known)
			}
			for _, want := range []string{"schema is at version 9999, newer than this cardflow knows", "never migrated back",
				"run that version (or a later one)", "restore the backup taken before the upgrade"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q; want it to say %q", msg, want)
				}
			}
			if strings.Contains(msg, "check -db") || strings.Contains(msg, "reachable") {
				t.Errorf("error %q; want no hint about reaching the database, which answered", msg)
			}
			var n int
			if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM schema_migrations WHERE version > %d`, known)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("%d migrations newer than %d after the refusal; want the one of the later version, and no other", n, known)
			}
		})
	}
}
