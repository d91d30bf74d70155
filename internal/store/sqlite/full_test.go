package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlstore"
)

// TestFullDatabaseIsErrFull: a write that finds no room (SQLite's
// max_page_count stands in for a full disk: both answer SQLITE_FULL) fails
// with store.ErrFull, so that callers can say the disk is full instead of
// "internal error"; what was written before stays readable.
func TestFullDatabaseIsErrFull(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "cardflow.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	var pages int
	probe, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if err := probe.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	probe.Close()
	db, err := sql.Open("sqlite", path+dsnOptions+fmt.Sprintf("&_pragma=max_page_count(%d)", pages+2))
	if err != nil {
		t.Fatal(err)
	}
	full, err := sqlstore.Open(ctx, db, Dialect)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	var werr error
	written := 0
	for i := range 10000 {
		werr = full.AppendAudit(ctx, &store.AuditEvent{Time: time.Unix(int64(i), 0), Action: store.ActionCardRun, Outcome: "success",
			InputSummary: fmt.Sprintf("%0500d", i)})
		if werr != nil {
			break
		}
		written++
	}
	if !errors.Is(werr, store.ErrFull) {
		t.Fatalf("after %d writes: %v; want store.ErrFull", written, werr)
	}
	if events, err := full.ListAudit(ctx, store.AuditFilter{Limit: 1000}); err != nil || len(events) != written {
		t.Errorf("reading back: %d events, %v; want the %d written", len(events), err, written)
	}
}

// TestReadOnlyDatabaseIsErrReadOnly: a write to a database that refuses
// writes (query_only stands in for a file or mount made read-only: both
// answer SQLITE_READONLY) fails with store.ErrReadOnly, so that callers
// can say so instead of "internal error"; reads still work.
func TestReadOnlyDatabaseIsErrReadOnly(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "cardflow.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, &store.AuditEvent{Time: time.Unix(1, 0), Action: store.ActionCardRun, Outcome: "success"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// One connection, made read-only once the store is open (opening
	// begins a write transaction).
	db, err := sql.Open("sqlite", path+dsnOptions)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	ro, err := sqlstore.OpenCurrent(ctx, db, Dialect)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := db.ExecContext(ctx, `PRAGMA query_only = 1`); err != nil {
		t.Fatal(err)
	}
	err = ro.AppendAudit(ctx, &store.AuditEvent{Time: time.Unix(2, 0), Action: store.ActionCardRun, Outcome: "success"})
	if !errors.Is(err, store.ErrReadOnly) || errors.Is(err, store.ErrFull) {
		t.Fatalf("a write: %v; want store.ErrReadOnly", err)
	}
	if events, err := ro.ListAudit(ctx, store.AuditFilter{Limit: 10}); err != nil || len(events) != 1 {
		t.Errorf("reading back: %d events, %v; want the one written before", len(events), err)
	}
}
