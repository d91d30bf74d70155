package postgres

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

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
	storetest.NotificationsUpgrade(t,
		func(t *testing.T) store.Store {
			s, err := Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		func(t *testing.T, q string) error {
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				return err
			}
			defer db.Close()
			_, err = db.ExecContext(t.Context(), q)
			return err
		})
}
