package app

import (
	"context"
	"database/sql"
	"log/slog"
	"net/url"
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
	dsn := pgtest.NewDatabase(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	database := strings.TrimPrefix(u.Path, "/")
	user := "cardflow_test_user_" + strings.TrimPrefix(database, "cardflow_test_")
	super, err := sql.Open("pgx", pgtest.ServerDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = super.Close() })
	if _, err := super.ExecContext(t.Context(), `CREATE ROLE `+user+` LOGIN`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := super.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+database+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database: %v", err)
		}
		if _, err := super.ExecContext(context.Background(), `DROP ROLE IF EXISTS `+user); err != nil {
			t.Errorf("drop test role: %v", err)
		}
	})
	u.User = url.User(user)
	st, err := openStore(t.Context(), &Config{DB: u.String(), DataDir: t.TempDir()}, slog.New(slog.DiscardHandler))
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
