package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

// TestBackupWhileWriting backs a database up while another handle (a
// running server) writes to it: the copy is a consistent database with
// what was committed before it began, private to its owner, and the
// source database stays usable.
func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cardflow.db")
	s := openFile(t, path)
	ctx := t.Context()
	conn := &store.Connection{ID: "c1", Connector: "okta-devices", Nickname: "Prod", Status: store.StatusActive,
		SealedClientSecret: []byte("sealed-secret")}
	if err := s.CreateConnection(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutFlow(ctx, &store.Flow{Name: "nightly", Source: []byte("name: nightly\n")}); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.AppendAudit(context.Background(), &store.AuditEvent{Action: "card.run"}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	to := filepath.Join(dir, "backup.db")
	info, err := Backup(ctx, path, to)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if info.Connections != 1 || info.Flows != 1 || info.SchemaVersion < 14 || info.Bytes == 0 {
		t.Errorf("backup info %+v; want 1 connection, 1 flow, schema 14 or later, a size", info)
	}
	fi, err := os.Stat(to)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode %v; want 0600 (it holds sealed secrets)", fi.Mode().Perm())
	}
	if info.Bytes != fi.Size() {
		t.Errorf("backup info says %d bytes; the file has %d", info.Bytes, fi.Size())
	}

	restored := openFile(t, to)
	got, err := restored.GetConnection(ctx, "c1")
	if err != nil {
		t.Fatalf("the backup lacks the connection: %v", err)
	}
	if string(got.SealedClientSecret) != "sealed-secret" || got.Nickname != "Prod" {
		t.Errorf("backed-up connection %+v; want the original", got)
	}
	if _, err := restored.GetFlow(ctx, "nightly"); err != nil {
		t.Errorf("the backup lacks the flow: %v", err)
	}
	// The source goes on as before.
	if err := s.AppendAudit(ctx, &store.AuditEvent{Action: "after"}); err != nil {
		t.Errorf("the database after its backup: %v", err)
	}
}

// TestBackupRefuses: a backup never overwrites a file, and leaves none
// behind when there is nothing (or nothing of cardflow's) to back up.
func TestBackupRefuses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cardflow.db")
	_ = openFile(t, path)
	ctx := t.Context()

	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Backup(ctx, path, existing)
	if err == nil || !strings.Contains(err.Error(), "never overwrites") {
		t.Errorf("backup onto an existing file: %v; want a refusal", err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Errorf("the existing file now holds %q", b)
	}

	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte("not a database at all, just some text that is long enough"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, src, want string }{
		{"missing", filepath.Join(dir, "none.db"), "no database to back up"},
		{"not a database", notDB, "is not a cardflow database"},
	} {
		to := filepath.Join(dir, tt.name+".backup")
		_, err := Backup(ctx, tt.src, to)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want an error saying %q", tt.name, err, tt.want)
		}
		if _, serr := os.Stat(to); !os.IsNotExist(serr) {
			t.Errorf("%s: a file was left at %s", tt.name, to)
		}
		if _, serr := os.Stat(filepath.Join(dir, "none.db")); !os.IsNotExist(serr) {
			t.Errorf("%s: the backup created the missing database", tt.name)
		}
	}
}
