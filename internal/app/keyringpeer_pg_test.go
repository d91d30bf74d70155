package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// TestSecondServerWithoutKeyringFileSaysToCopyAPeers starts a server with
// a keyring file on a PostgreSQL database, then a second one whose data
// directory has none: it refuses to start, creates no keyring of its own,
// and says to copy the first server's file, which it has no backup of.
func TestSecondServerWithoutKeyringFileSaysToCopyAPeers(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	dsn := pgtest.NewDatabase(t)
	first := Config{DB: dsn, DataDir: t.TempDir()}
	st, err := openStore(t.Context(), &first, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := loadKeyring(t.Context(), &first, st, log); err != nil {
		t.Fatal(err)
	}

	second := Config{DB: dsn, DataDir: t.TempDir()}
	_, err = loadKeyring(t.Context(), &second, st, log)
	if err == nil {
		t.Fatal("a server without the keyring started; want a refusal")
	}
	path := filepath.Join(second.DataDir, "keyring")
	for _, want := range []string{"no keyring", "copy the keyring file of one of them, 0600, to " + path, "CARDFLOW_KEY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q; want it to say %q", err, want)
		}
	}
	if _, serr := os.Stat(path); serr == nil {
		t.Errorf("%s was created; want no keyring of its own", path)
	}
}
