package app

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestServerStopsWhenALaterVersionUpgradesTheDatabase: a server running
// when a cardflow of a later version migrates its database (a rolling
// upgrade) stops on its own, as on a signal, and says why at ERROR and
// in Serve's error, naming both schema versions and what to run; while
// the schema is its own it goes on serving.
func TestServerStopsWhenALaterVersionUpgradesTheDatabase(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 1})
	dir := t.TempDir()
	logs, stdout := &emutest.SyncBuffer{}, &emutest.SyncBuffer{}
	a, err := New(t.Context(), Config{
		Listen: "127.0.0.1:0", DataDir: dir, TrustedOrigins: []string{emu.URL}, APIToken: keyring.Secret(testAPIToken),
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Stdout: stdout, schemaCheckEvery: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()

	// The server writes as this test does: wait for its lock as it does.
	db, err := sql.Open("sqlite", filepath.Join(dir, "cardflow.db")+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var known int64
	if err := db.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&known); err != nil {
		t.Fatal(err)
	}
	// Many checks of its own schema stop nothing.
	waitFor(t, "the server to serve", func() bool { return strings.Contains(stdout.String(), "cardflow: serving") })
	for range 5 {
		if err := a.Store.CheckSchema(t.Context()); err != nil {
			t.Fatalf("CheckSchema of the server's own schema: %v", err)
		}
	}
	select {
	case err := <-done:
		t.Fatalf("the server stopped on its own schema: %v", err)
	default:
	}

	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	var serveErr error
	select {
	case serveErr = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the server still runs a minute after a later version upgraded its database")
	}
	if ahead := (*store.SchemaAheadError)(nil); !errors.As(serveErr, &ahead) || ahead.Have != 9999 || ahead.Knows != known {
		t.Fatalf("Serve: %v; want a *store.SchemaAheadError of versions 9999 and %d", serveErr, known)
	}
	for _, want := range []string{"the database was upgraded while this server ran", "schema is at version 9999, newer than this cardflow knows",
		"run that version (or a later one)"} {
		if !strings.Contains(serveErr.Error(), want) {
			t.Errorf("Serve: %v\nwant it to say %q", serveErr, want)
		}
	}
	if log := logs.String(); !strings.Contains(log, `"level":"ERROR","msg":"the database schema is newer than this server knows; stopping"`) ||
		!strings.Contains(log, `"schema":9999`) {
		t.Errorf("log:\n%s\nwant the stop at ERROR with the schema version", log)
	}
}
