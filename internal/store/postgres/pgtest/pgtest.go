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
	"strings"
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
	createForTest(t, base, u, "database "+name, `CREATE DATABASE `+name, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	u.Path = "/" + name
	return u.String()
}

// NewDatabaseNotOwned creates an empty database as NewDatabase does, and a
// login role that owns nothing in it (on PostgreSQL 15 and later it may
// create no table in the public schema); both are dropped when the test
// ends. It returns the DSN that signs in as that role, the database's
// name and the role's.
func NewDatabaseNotOwned(t testing.TB) (dsn, database, user string) {
	t.Helper()
	base, u := serverURL(t)
	database = randomName()
	user = "cardflow_test_user_" + strings.TrimPrefix(database, "cardflow_test_")
	// Cleanups run last first: the database, which the test may give the
	// role, goes before the role.
	createForTest(t, base, u, "role "+user, `CREATE ROLE `+user+` LOGIN`, `DROP ROLE IF EXISTS `+user)
	createForTest(t, base, u, "database "+database, `CREATE DATABASE `+database, `DROP DATABASE IF EXISTS `+database+` WITH (FORCE)`)
	u.Path, u.User = "/"+database, url.User(user)
	return u.String(), database, user
}

// Exec runs stmt on the server as the tests' user (who may create
// databases and roles); it fails t if stmt fails.
func Exec(t testing.TB, stmt string) {
	t.Helper()
	base, _ := serverURL(t)
	if err := admin(base, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
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
	createForTest(t, base, u, "schema "+name, `CREATE SCHEMA `+name, `DROP SCHEMA IF EXISTS `+name+` CASCADE`)
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// createForTest runs create on the server base and, when the test ends,
// drop; what names the object in the failures ("schema NAME").
func createForTest(t testing.TB, base string, u *url.URL, what, create, drop string) {
	t.Helper()
	if err := admin(base, create); err != nil {
		t.Fatalf("create test %s on %s://%s: %v", what, u.Scheme, u.Host, err)
	}
	t.Cleanup(func() {
		if err := admin(base, drop); err != nil {
			t.Errorf("drop test %s: %v", what, err)
		}
	})
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
