package app

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// TestDBUserWhoOwnsNothingIsToldWhatToGrant starts on a PostgreSQL
// database its -db user does not own, where PostgreSQL 15 lets it create
// no table: the start names the statement that fixes it, not the
// unreachable server or missing database it did not meet.
func TestDBUserWhoOwnsNothingIsToldWhatToGrant(t *testing.T) {
	t.Parallel()
	dsn, database, user := pgtest.NewDatabaseNotOwned(t)
	st, err := openStore(t.Context(), &Config{DB: dsn, DataDir: t.TempDir()}, slog.New(slog.DiscardHandler))
	if err == nil {
		st.Close()
		t.Fatal("the start succeeded as a user who owns nothing in the database; want it refused")
	}
	msg := err.Error()
	if want := `ALTER DATABASE "` + database + `" OWNER TO "` + user + `"`; !strings.Contains(msg, want) {
		t.Errorf("start: %s\nwant the fix, %s", msg, want)
	}
	if strings.Contains(msg, "must be running") || strings.Contains(msg, "must exist") {
		t.Errorf("start: %s\nwant no hint about a server or database it reached", msg)
	}
}
