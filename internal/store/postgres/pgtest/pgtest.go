// Package pgtest gives tests a fresh PostgreSQL database or schema. The server is the
// one named by CARDFLOW_TEST_POSTGRES (`.ci/run` sets it with
// .ci/postgres.sh); when the variable is unset, pgtest starts a throwaway
// PostgreSQL 15 cluster of its own on first use, in a temporary directory,
// and stops it when the test process exits (or, with Main, when the
// package's tests end). A test that needs PostgreSQL fails, never skips,
// when neither works.
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

// Main runs the package's tests and then stops the throwaway cluster, if
// pgtest started one. Call it from TestMain: os.Exit is left to it.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// ServerDSN returns the DSN of the server tests use: CARDFLOW_TEST_POSTGRES,
// or else the throwaway cluster, started on first use. It fails t if there
// is neither.
func ServerDSN(t testing.TB) string {
	t.Helper()
	if dsn := os.Getenv(Env); dsn != "" {
		return dsn
	}
	dsn, err := local()
	if err != nil {
		t.Fatalf("%v\n(%s is unset, so the tests start their own PostgreSQL; alternatively run `source .ci/postgres.sh` first)", err, Env)
	}
	return dsn
}

// NewDatabase creates an empty database with a random name, drops it when
// the test ends, and returns its DSN.
func NewDatabase(t testing.TB) string {
	t.Helper()
	base, u := serverURL(t)
	name := randomName()
	if err := admin(base, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create test database on %s://%s: %v", u.Scheme, u.Host, err)
	}
	t.Cleanup(func() {
		if err := admin(base, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// NewSchema creates an empty schema with a random name in the server's
// database, drops it with all it holds when the test ends, and returns a
// DSN whose connections see only that schema (search_path). To the store
// it is an empty database, made in milliseconds where CREATE DATABASE
// copies a whole catalog; but schemas share their database's advisory
// locks, so tests that must not serialize on those need NewDatabase.
func NewSchema(t testing.TB) string {
	t.Helper()
	base, u := serverURL(t)
	name := randomName()
	if err := admin(base, `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("create test schema on %s://%s: %v", u.Scheme, u.Host, err)
	}
	t.Cleanup(func() {
		if err := admin(base, `DROP SCHEMA IF EXISTS `+name+` CASCADE`); err != nil {
			t.Errorf("drop test schema %s: %v", name, err)
		}
	})
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// serverURL returns ServerDSN and its parsed form; it fails t unless the
// DSN is a postgres:// URL.
func serverURL(t testing.TB) (string, *url.URL) {
	t.Helper()
	base := ServerDSN(t)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", Env)
	}
	return base, u
}

func randomName() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "cardflow_test_" + hex.EncodeToString(b)
}

// admin runs stmt on the server's database over a connection of its own.
func admin(dsn, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}
