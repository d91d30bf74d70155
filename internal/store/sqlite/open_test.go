package sqlite

import (
	"database/sql"
	"encoding/json"
	"github.com/cardflow/cardflow/internal/store"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		path    string
		wantErr string
	}{
		{name: "empty", path: "", wantErr: "must be non-empty"},
		{name: "question mark", path: filepath.Join(dir, "a?b.db"), wantErr: "must not contain '?'"},
		{name: "missing directory", path: filepath.Join(dir, "nope", "cardflow.db"), wantErr: "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.Context(), tt.path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded; want an error", tt.path)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open error = %v; want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestMigrationsApplyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	count := func() int {
		t.Helper()
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var first int
	for i := range 3 {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		s.Close()
		if i == 0 {
			first = count()
		}
	}
	if first < 2 {
		t.Errorf("schema_migrations holds %d rows after the first open; want every migration (at least 2)", first)
	}
	if n := count(); n != first {
		t.Errorf("schema_migrations holds %d rows after three opens; want %d, as after the first", n, first)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var journal string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&journal); err != nil {
		t.Fatal(err)
	}
	if journal != "wal" {
		t.Errorf("journal_mode = %q; want wal", journal)
	}

	// A database migrated by a newer cardflow is refused, not damaged.
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
	if err == nil {
		s.Close()
		t.Fatalf("Open of a newer schema succeeded; want an error")
	}
	if !strings.Contains(err.Error(), "newer than this cardflow") {
		t.Errorf("Open error = %v; want it to say the schema is newer", err)
	}
}

func TestConnectionSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	db, err := sql.Open("sqlite", path+dsnOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct {
		pragma string
		want   string
	}{
		{pragma: "journal_mode", want: "wal"},
		{pragma: "synchronous", want: "2"}, // FULL
		{pragma: "busy_timeout", want: "10000"},
		{pragma: "foreign_keys", want: "1"},
	}
	for _, tt := range tests {
		var got string
		if err := db.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %q; want %q", tt.pragma, got, tt.want)
		}
	}
}

// TestItemOutputStoredOnce: a flow item whose output is its card run's
// (a big search result) is kept once, in the run.
func TestItemOutputStoredOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	s := openFile(t, path)
	ctx := t.Context()
	big := json.RawMessage(`{"devices":[` + strings.Repeat(`{"id":"guo1","status":"ACTIVE"},`, 10000) + `{"id":"guo2"}]}`)
	if err := s.CreateFlowRun(ctx, &store.FlowRun{ID: "fr", Status: "running"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRun(ctx, &store.Run{ID: "search", Status: "succeeded", Output: big, FlowRunID: "fr", StepID: "find"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFlowItem(ctx, "", &store.FlowItem{RunID: "fr", StepID: "find", Status: "succeeded", Output: big, RunRef: "search"}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path+dsnOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var items, runs int
	if err := db.QueryRow(`SELECT COALESCE(SUM(LENGTH(output)), 0) FROM flow_items`).Scan(&items); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COALESCE(SUM(LENGTH(output)), 0) FROM runs`).Scan(&runs); err != nil {
		t.Fatal(err)
	}
	if runs != len(big) || items != 0 {
		t.Errorf("output bytes stored: %d in card runs, %d in flow items; want %d and 0 (once)", runs, items, len(big))
	}
}
