package sqlite

import (
	"testing"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/storetest"
)

func openFile(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	return storetest.Opened(t, s, err)
}
