// Package pgtest gives tests a fresh PostgreSQL database on the server
// named by CARDFLOW_TEST_POSTGRES. A test that needs PostgreSQL fails,
// never skips, when the variable is unset: `.ci/run` always sets it, and
// `source .ci/postgres.sh` sets it for a local shell.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Env names the environment variable holding the server's DSN, a
// postgres:// URL whose user may create databases.
const Env = "CARDFLOW_TEST_POSTGRES"

// NewDatabase creates an empty database with a random name, drops it when
// the test ends, and returns its DSN.
func NewDatabase(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		t.Fatalf("%s is not set: these tests need PostgreSQL 15. Start a throwaway cluster with "+
			"`source .ci/postgres.sh` (or `eval \"$(.ci/postgres.sh)\"`), or set it to a postgres:// URL "+
			"of a server where the user may create databases", Env)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", Env)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "cardflow_test_" + hex.EncodeToString(b)

	admin := func(stmt string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", base)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, stmt)
		return err
	}
	if err := admin(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("create test database on %s://%s: %v", u.Scheme, u.Host, err)
	}
	t.Cleanup(func() {
		if err := admin(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
