package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/storetest"
)

func openFile(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	return storetest.Opened(t, s, err)
}

// TestConformance runs the suite on a new file per test; its second
// handles are further Opens of the same file.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.PerTest(
		func(t *testing.T) string { return filepath.Join(t.TempDir(), "cardflow.db") },
		openFile))
}
