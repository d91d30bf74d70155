package app

import (
	"bytes"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// TestDBPasswordInURLWarns: a server whose -db URL holds a password (which
// the process list shows) warns at start, naming where the password goes
// instead and never the password; one without says nothing of it.
func TestDBPasswordInURLWarns(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "hunter2-secret") // the test cluster trusts local connections
	for _, tt := range []struct {
		db   string
		warn bool
	}{{u.String(), true}, {dsn, false}} {
		var logs bytes.Buffer
		st, err := openStore(t.Context(), &Config{DB: tt.db, DataDir: t.TempDir()}, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		out := logs.String()
		if got := strings.Contains(out, "level=WARN") && strings.Contains(out, "PGPASSWORD"); got != tt.warn {
			t.Errorf("-db with a password: %t; warned %t; want %t:\n%s", tt.warn, got, tt.warn, out)
		}
		if strings.Contains(out, "hunter2-secret") {
			t.Errorf("the log shows the password:\n%s", out)
		}
	}
}
