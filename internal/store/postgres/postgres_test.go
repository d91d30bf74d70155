package postgres

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
	"github.com/cardflow/cardflow/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestConformance runs the suite on a new, empty schema per test (on the
// server named by CARDFLOW_TEST_POSTGRES, else a throwaway cluster): to
// the store an empty database, made without copying a catalog. Its second
// handles are further connection pools on the same schema, as other
// servers would have.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.PerTest(
		func(t *testing.T, _ bool) string { return pgtest.NewSchema(t) },
		func(t *testing.T, dsn string) store.Store {
			s, err := Open(t.Context(), dsn)
			return storetest.Opened(t, s, err)
		}))
}

func TestOpenErrorHidesPassword(t *testing.T) {
	const password = "canary-db-Passw0rd"
	tests := []struct {
		name string
		dsn  string
	}{
		{name: "unreachable", dsn: "postgres://cardflow:" + password + "@127.0.0.1:1/cardflow?sslmode=disable&connect_timeout=2"},
		{name: "malformed", dsn: "postgres://cardflow:" + password + "@[::1/cardflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.Context(), tt.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded; want an error")
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

// TestOpenGivesUpOnASilentServer: a server that accepts the connection
// and never answers (a stopped or hung PostgreSQL, a proxy with nothing
// behind it) makes Open fail after the connect timeout, saying so, rather
// than wait for ever.
func TestOpenGivesUpOnASilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	done := make(chan error, 1)
	go func() {
		s, err := Open(context.Background(), "postgres://cardflow@"+ln.Addr().String()+"/cardflow?sslmode=disable")
		if s != nil {
			s.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "timeout") {
			t.Errorf("Open against a silent server: %v; want an error that says it timed out", err)
		}
	case <-time.After(connectTimeout + 20*time.Second):
		t.Fatalf("Open against a silent server still waits after %v", connectTimeout+20*time.Second)
	}
}

// TestDroppedSessionIsUnavailable: an error of a session the server ended
// (an administrator terminating it, as a restart or failover does) is
// store.ErrUnavailable, so that callers can tell a database that went
// away from a refused write; a refused write is not.
func TestDroppedSessionIsUnavailable(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.ListConnections(t.Context()); err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var ended int
	if err := admin.QueryRowContext(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&ended); err != nil || ended == 0 {
		t.Fatalf("terminating the store's sessions: %d ended, %v", ended, err)
	}
	_, err = s.ListConnections(t.Context())
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("ListConnections on a terminated session: %v; want store.ErrUnavailable", err)
	}
	if _, err := s.ListConnections(t.Context()); err != nil {
		t.Errorf("ListConnections after the dropped session: %v; want a new session", err)
	}
	err = s.CreateRun(t.Context(), &store.Run{ID: "r1", Status: store.RunRunning})
	if err == nil {
		err = s.CreateRun(t.Context(), &store.Run{ID: "r1", Status: store.RunRunning})
	}
	if errors.Is(err, store.ErrUnavailable) || !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second run with the same id: %v; want store.ErrConflict only", err)
	}
}

// BenchmarkPutEvents measures the inbox's ingest rate on PostgreSQL
// (storetest.BenchPutEvents).
//
//	go test -run '^$' -bench PutEvents ./internal/store/postgres/
func BenchmarkPutEvents(b *testing.B) {
	s, err := Open(b.Context(), pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	storetest.BenchPutEvents(b, s)
}

// TestUpgradeNamesNotificationReceiversByDigest: an outbox of before
// migration 0017, which held each row's receiver URL, keeps every message
// and holds no URL after the upgrade (storetest.NotificationsUpgrade).
func TestUpgradeNamesNotificationReceiversByDigest(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	open, exec := upgradeDB(dsn)
	storetest.NotificationsUpgrade(t, open, exec)
}

// TestTokenRevokeWaitsForCreation orders a revoke and the creation of a
// token with one of the tokens it deletes, each way round, each one
// waiting on the other's row lock (as pg_stat_activity shows) before the
// other goes on: a token created with a token being revoked is refused,
// and one created before the revoke took its locks is revoked with the
// rest. The conformance suite (TokenRevokeRacesOffspring) starts the same
// calls at the same points without waiting to see them blocked.
func TestTokenRevokeWaitsForCreation(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	open := func() store.Store {
		s, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s1, s2 := open(), open()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	ctx := t.Context()
	// blockedOrDone waits until a session of the database waits for a
	// lock, or done is closed.
	blockedOrDone := func(done <-chan struct{}) {
		for {
			select {
			case <-done:
				return
			default:
			}
			var waiting int
			if err := admin.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
				t.Error(err)
				return
			}
			if waiting > 0 {
				return
			}
		}
	}
	n := 0
	token := func(name string, parent *store.APIToken) *store.APIToken {
		n++
		tok := &store.APIToken{Name: name, Hash: "h-" + name, Role: "admin", OwnerType: store.ActorUser, OwnerLogin: "ada@example.com",
			CreatedAt: time.Unix(int64(n), 0).UTC(), ExpiresAt: time.Unix(3600, 0).UTC()}
		if parent != nil {
			tok.ParentID = parent.ID
		}
		return tok
	}
	create := func(tok *store.APIToken) *store.APIToken {
		t.Helper()
		if err := s1.CreateAPIToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		return tok
	}

	// The revoke holds laptop and ci; a token created with ci waits for
	// it, and is refused.
	laptop := create(token("laptop", nil))
	ci := create(token("ci", laptop))
	created := make(chan error, 1)
	done := make(chan struct{})
	holding := store.WithLocked(ctx, func() {
		go func() {
			defer close(done)
			created <- s2.CreateAPIToken(ctx, token("by-ci", ci))
		}()
		blockedOrDone(done)
	})
	if _, err := s1.DeleteAPIToken(holding, laptop.ID); err != nil {
		t.Fatal(err)
	}
	if err := <-created; !errors.Is(err, store.ErrRevoked) {
		t.Errorf("creating a token with ci while laptop's revoke held it: %v; want ErrRevoked", err)
	}

	// A creation holds deploy; the revoke of phone waits for it, and
	// revokes the token it created.
	phone := create(token("phone", nil))
	deploy := create(token("deploy", phone))
	type result struct {
		offspring []*store.APIToken
		err       error
	}
	revoked := make(chan result, 1)
	done = make(chan struct{})
	creating := store.WithLocked(ctx, func() {
		go func() {
			defer close(done)
			off, err := s2.DeleteAPIToken(ctx, phone.ID)
			revoked <- result{off, err}
		}()
		blockedOrDone(done)
	})
	if err := s1.CreateAPIToken(creating, token("late", deploy)); err != nil {
		t.Fatal(err)
	}
	r := <-revoked
	var names []string
	for _, tok := range r.offspring {
		names = append(names, tok.Name)
	}
	if r.err != nil || strings.Join(names, ",") != "deploy,late" {
		t.Errorf("revoking phone while a token was being created with deploy: %v, %v; want deploy and late", names, r.err)
	}
	left, err := s1.ListAPITokens(ctx, store.ActorUser, "ada@example.com")
	if err != nil || len(left) != 0 {
		t.Errorf("tokens left after the revokes: %d, %v; want none", len(left), err)
	}
}

// TestUpgradeRenamesFlowsNamedAlike: flows whose names differ only in
// case, stored before the database held the rule, are renamed but the
// first by migration 0022, which then holds it (storetest.FlowNamesUpgrade).
func TestUpgradeRenamesFlowsNamedAlike(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	open, exec := upgradeDB(dsn)
	storetest.FlowNamesUpgrade(t, open, exec)
}

// TestUpgradeDeletesTokenOrphans: tokens whose creator is gone, left by a
// revoke of an earlier version, go with their offspring in migration
// 0023 (storetest.TokenOrphansUpgrade).
func TestUpgradeDeletesTokenOrphans(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	open, exec := upgradeDB(dsn)
	storetest.TokenOrphansUpgrade(t, open, exec)
}

// TestUpgradeMovesSessionFlashes: the messages waiting in a session's old
// flashes list move to a row each in migration 0025
// (storetest.SessionFlashesUpgrade).
func TestUpgradeMovesSessionFlashes(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	open, exec := upgradeDB(dsn)
	storetest.SessionFlashesUpgrade(t, open, exec)
}

// TestReadOnlyIsRecognised: the error of a write to a server that refuses
// writes (default_transaction_read_only stands in for a standby the
// servers were failed over to: both answer 25006) is one the dialect
// names read-only, which the store reports as store.ErrReadOnly (see the
// SQLite backend's TestReadOnlyDatabaseIsErrReadOnly) so that callers can
// say so instead of "internal error"; other failures are not.
func TestReadOnlyIsRecognised(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.NewSchema(t)
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("pgx", dsn+"&default_transaction_read_only=on")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('k', 'v')`)
	if err == nil || !Dialect.IsReadOnly(err) || Dialect.IsUnavailable(err) || Dialect.IsFull(err) {
		t.Fatalf("a write to a read-only server: %v; want it recognised as read-only (and only that)", err)
	}
	_, err = db.ExecContext(ctx, `SELECT * FROM no_such_table`)
	if err == nil || Dialect.IsReadOnly(err) {
		t.Errorf("another failure (%v) is taken as read-only", err)
	}
}

// upgradeDB returns, for a storetest upgrade test of the database at dsn,
// the function that opens it (migrating it) and the one that runs a
// statement on it without migrating.
func upgradeDB(dsn string) (func(*testing.T) store.Store, func(*testing.T, string) error) {
	open := func(t *testing.T) store.Store {
		s, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exec := func(t *testing.T, q string) error {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(t.Context(), q)
		return err
	}
	return open, exec
}

// TestUpgradeKeysLogins: sessions and tokens of logins that differ only in
// case beyond ASCII, stored before migration 0027, are one person's after
// it (storetest.LoginKeysUpgrade).
func TestUpgradeKeysLogins(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	open, exec := upgradeDB(dsn)
	storetest.LoginKeysUpgrade(t, open, exec)
}

// TestUpgradeKeysAuditActors: audit events of logins that differ only in
// case beyond ASCII, stored before migration 0032, are found by the actor
// filter with any of them after it (storetest.AuditActorKeysUpgrade).
func TestUpgradeKeysAuditActors(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	open, exec := upgradeDB(dsn)
	storetest.AuditActorKeysUpgrade(t, open, exec)
}

// TestUpgradeBindsIssuers: a login bound before migration 0038 is bound
// at no issuer, and its next sign-in with its subject fills it in
// (storetest.PersonIssuersUpgrade).
func TestUpgradeBindsIssuers(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	open, exec := upgradeDB(dsn)
	storetest.PersonIssuersUpgrade(t, open, exec)
}

// TestUpgradeKeepsCancelRequests: runs asked to stop before migration
// 0039 keep when, with nobody recorded (storetest.CancelRequestsUpgrade).
func TestUpgradeKeepsCancelRequests(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	open, exec := upgradeDB(dsn)
	storetest.CancelRequestsUpgrade(t, open, exec)
}

// TestUpgradeKeepsConnectionsWithoutReasonCodes: a connection stored in
// error before migration 0040 keeps its status, reason and remedy with no
// code, and its next update stores one
// (storetest.ConnectionReasonCodesUpgrade).
func TestUpgradeKeepsConnectionsWithoutReasonCodes(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	open, exec := upgradeDB(dsn)
	storetest.ConnectionReasonCodesUpgrade(t, open, exec)
}

// TestUpgradeRedactsFlowItemHeaders: the header values of Custom API
// Action items stored before migration 0043 are redacted by it
// (storetest.FlowItemHeadersUpgrade).
func TestUpgradeRedactsFlowItemHeaders(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	open, exec := upgradeDB(dsn)
	storetest.FlowItemHeadersUpgrade(t, open, exec)
}

// TestOpenNamesTheOwnershipItNeeds opens a database its user does not own
// (on PostgreSQL 15, such a user may not create tables in its public
// schema): the error names the user and the database and gives the
// statement that lets it, which then does.
func TestOpenNamesTheOwnershipItNeeds(t *testing.T) {
	dsn, database, user := pgtest.NewDatabaseNotOwned(t)
	s, err := Open(t.Context(), dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded as a user who owns nothing in the database; want it refused")
	}
	var priv *PrivilegeError
	fix := `ALTER DATABASE "` + database + `" OWNER TO "` + user + `"`
	if !errors.As(err, &priv) || !strings.Contains(err.Error(), fix) || !strings.Contains(err.Error(), "permission denied for schema public") {
		t.Fatalf("Open: %v\nwant a PrivilegeError giving %s and PostgreSQL's reason", err, fix)
	}
	pgtest.Exec(t, fix)
	s, err = Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open after %s: %v", fix, err)
	}
	s.Close()
}

// TestOpenSaysWhyTheServerRefused opens, on a running server, a database
// that does not exist and one as a role that does not exist: each error
// is a RefusedError naming the database or role and the statement that
// creates it, with PostgreSQL's own reason.
func TestOpenSaysWhyTheServerRefused(t *testing.T) {
	base, err := url.Parse(pgtest.ServerDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	noDB, noRole := *base, *base
	noDB.Path = "/cardflow_missing_" + suffix
	noRole.User = url.User("cardflow_nobody_" + suffix)
	for _, tt := range []struct {
		name, dsn, code string
		want            []string
	}{
		{"no database", noDB.String(), "3D000", []string{`the database "cardflow_missing_` + suffix + `" does not exist`,
			`CREATE DATABASE "cardflow_missing_` + suffix + `" OWNER`, "PostgreSQL said: database"}},
		{"no role", noRole.String(), "28000", []string{`does not let the user "cardflow_nobody_` + suffix + `"`,
			`CREATE ROLE "cardflow_nobody_` + suffix + `" LOGIN`, "pg_hba.conf", `PostgreSQL said: role "cardflow_nobody_` + suffix + `" does not exist`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.Context(), tt.dsn)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded; want it refused")
			}
			var refused *RefusedError
			if !errors.As(err, &refused) || refused.Code != tt.code {
				t.Fatalf("Open: %v\nwant a RefusedError with code %s", err, tt.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Open: %v\nwant it to say %q", err, w)
				}
			}
		})
	}
}

// TestRefusedPasswordNamesWhereItComesFrom: a password the server refused
// (28P01; the tests' server trusts every local connection, so the error
// is built as Open builds it) names the user and where cardflow reads
// the password, and never holds it.
func TestRefusedPasswordNamesWhereItComesFrom(t *testing.T) {
	err := &RefusedError{Code: "28P01", User: "cardflow", Database: "cardflow", Host: "db.internal", Port: 5432,
		Err: &pgconn.PgError{Severity: "FATAL", Code: "28P01", Message: `password authentication failed for user "cardflow"`}}
	for _, w := range []string{`the password of the user "cardflow" was refused`, "PGPASSWORD", "~/.pgpass line for db.internal:5432",
		`PostgreSQL said: password authentication failed for user "cardflow"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%v\nwant it to say %q", err, w)
		}
	}
}

// TestUpgradeKeysDeletedNicknames: connections deleted before migration
// 0046 are found by their nickname after it
// (storetest.DeletedNicknamesUpgrade).
func TestUpgradeKeysDeletedNicknames(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	open, exec := upgradeDB(dsn)
	storetest.DeletedNicknamesUpgrade(t, open, exec)
}
