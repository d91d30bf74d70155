package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
	"github.com/cardflow/cardflow/internal/store/storetest"
)

// TestConformance runs the suite on a new file per test: a copy of a
// migrated file (sqlitetest), or an empty file for the tests that migrate
// one. Its second handles are further Opens of the same file.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.PerTest(
		func(t *testing.T, empty bool) string {
			if empty {
				return filepath.Join(t.TempDir(), "cardflow.db")
			}
			return sqlitetest.NewFile(t)
		},
		func(t *testing.T, path string) store.Store {
			s, err := sqlite.Open(t.Context(), path)
			return storetest.Opened(t, s, err)
		}))
}
