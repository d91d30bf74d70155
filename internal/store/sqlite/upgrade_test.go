package sqlite

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/storetest"
)

// TestUpgradeKeepsFlowsAndEndsStrandedRuns opens a database as the
// version before flow versions and card run leases left it (without
// migrations 0010 and 0011, holding a flow and a direct card run left
// running by a crash): after the upgrade the flow is its own version 1,
// and the card run, which has no lease, is ended by the first sweep.
func TestUpgradeKeepsFlowsAndEndsStrandedRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	src := []byte("name: old\nsteps: []\n")
	for _, q := range []string{
		// Undo migrations 0010 and 0011 (later ones stay applied, 0015
		// runs again).
		`DROP TABLE flow_versions`,
		`ALTER TABLE flows DROP COLUMN version`,
		`ALTER TABLE flows DROP COLUMN stored_by_type`,
		`ALTER TABLE flows DROP COLUMN stored_by_login`,
		`ALTER TABLE flows DROP COLUMN stored_by_token`,
		`ALTER TABLE flow_runs DROP COLUMN flow_version`,
		`ALTER TABLE flow_runs DROP COLUMN rerun_of`,
		`DROP INDEX runs_running`,
		`ALTER TABLE runs DROP COLUMN owner`,
		`ALTER TABLE runs DROP COLUMN lease_until`,
		`DELETE FROM schema_migrations WHERE version IN (10, 11, 15)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := db.Exec(`INSERT INTO flows (id, name, source, created_at, updated_at) VALUES ('f1', 'old', ?, 100, 200)`, src); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO runs (id, card, connection_id, connection_nickname, caller, acting_as, status,
		error_code, error_message, remedy, okta_request_ids, flow_run_id, step_id, item_index, started_at, finished_at,
		actor_type, actor_login, actor_token) VALUES ('stranded', 'okta-devices/suspend-device', 'c1', 'Prod', '', '', 'running',
		'', '', '', 'null', '', '', 0, 100, 0, '', '', '')`); err != nil {
		t.Fatal(err)
	}
	// A run interrupted before interrupted runs had an error code.
	if _, err := db.Exec(`INSERT INTO runs (id, card, connection_id, connection_nickname, caller, acting_as, status,
		error_code, error_message, remedy, okta_request_ids, flow_run_id, step_id, item_index, started_at, finished_at,
		actor_type, actor_login, actor_token) VALUES ('old-interrupted', 'okta-devices/suspend-device', 'c1', 'Prod', '', '', 'interrupted',
		'', ?, ?, 'null', '', '', 0, 100, 150, '', '', '')`, store.InterruptedDirectMessage, store.InterruptedDirectRemedy); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open after the upgrade: %v", err)
	}
	defer s.Close()
	ctx := t.Context()
	f, err := s.GetFlow(ctx, "old")
	if err != nil || f.Version != 1 || string(f.Source) != string(src) {
		t.Fatalf("the flow after the upgrade: %+v, %v; want version 1 with its source", f, err)
	}
	vs, err := s.ListFlowVersions(ctx, "f1")
	sum := sha256.Sum256(src)
	if err != nil || len(vs) != 1 || vs[0].Version != 1 || vs[0].Size != len(src) || vs[0].SHA256 != hex.EncodeToString(sum[:]) ||
		!vs[0].StoredAt.Equal(time.Unix(0, 200)) {
		t.Fatalf("versions after the upgrade: %+v, %v; want version 1, stored when the flow was last updated, with its size and hash", vs, err)
	}
	v, err := s.GetFlowVersion(ctx, "f1", 1)
	if err != nil || string(v.Source) != string(src) {
		t.Errorf("version 1's source: %v %q", err, v.Source)
	}
	// Storing it again unchanged adds nothing; a change is version 2.
	if added, err := s.PutFlow(ctx, &store.Flow{Name: "old", Source: src}); err != nil || added {
		t.Errorf("storing the upgraded flow's source again: added %t, %v; want unchanged", added, err)
	}
	next := &store.Flow{Name: "old", Source: []byte("name: old\nsteps: [] # 2\n")}
	if _, err := s.PutFlow(ctx, next); err != nil || next.Version != 2 {
		t.Errorf("storing a change: version %d, %v; want 2", next.Version, err)
	}

	ids, err := s.InterruptLapsedRuns(ctx, time.Now())
	if err != nil || len(ids) != 1 || ids[0] != "stranded" {
		t.Fatalf("the first sweep after the upgrade ended %v (%v); want the stranded run", ids, err)
	}
	r, err := s.GetRun(ctx, "stranded")
	if err != nil || r.Status != store.RunInterrupted || r.ErrorCode != store.InterruptedCode {
		t.Errorf("the stranded run: %+v, %v; want interrupted, with code %q", r, err, store.InterruptedCode)
	}
	r, err = s.GetRun(ctx, "old-interrupted")
	if err != nil || r.ErrorCode != store.InterruptedCode || r.ErrorMessage != store.InterruptedDirectMessage {
		t.Errorf("a run interrupted before the upgrade: %+v, %v; want code %q and its message kept", r, err, store.InterruptedCode)
	}
}

// TestUpgradeNamesNotificationReceiversByDigest: an outbox of before
// migration 0017, which held each row's receiver URL, keeps every message
// and holds no URL after the upgrade (storetest.NotificationsUpgrade).
func TestUpgradeNamesNotificationReceiversByDigest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	opened := 0 // the second open upgrades
	storetest.NotificationsUpgrade(t,
		func(t *testing.T) store.Store {
			s, err := Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			if opened++; opened == 2 {
				// While the upgraded server runs, not only once it
				// stopped (its last connection's checkpoint).
				for _, f := range []string{path, path + "-wal"} {
					b, _ := os.ReadFile(f)
					if strings.Contains(string(b), "s3cret") {
						t.Errorf("right after the upgrade, %s still holds a receiver's URL", filepath.Base(f))
					}
				}
			}
			return s
		},
		func(t *testing.T, q string) error {
			db, err := sql.Open("sqlite", path)
			if err != nil {
				return err
			}
			defer db.Close()
			_, err = db.ExecContext(t.Context(), q)
			return err
		})
	// Nothing of the URLs is left in the file, not even in freed pages.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "s3cret") {
		t.Errorf("the database file still holds a receiver's URL")
	}
}

// TestUpgradeRenamesFlowsNamedAlike: flows whose names differ only in
// case, stored before the database held the rule, are renamed but the
// first by migration 0022, which then holds it (storetest.FlowNamesUpgrade).
func TestUpgradeRenamesFlowsNamedAlike(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	open, exec := upgradeDB(path)
	storetest.FlowNamesUpgrade(t, open, exec)
}

// TestUpgradeDeletesTokenOrphans: tokens whose creator is gone, left by a
// revoke of an earlier version, go with their offspring in migration
// 0023 (storetest.TokenOrphansUpgrade).
func TestUpgradeDeletesTokenOrphans(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	open, exec := upgradeDB(path)
	storetest.TokenOrphansUpgrade(t, open, exec)
}

// upgradeDB returns, for a storetest upgrade test of the database at path,
// the function that opens it (migrating it) and the one that runs a
// statement on it without migrating.
func upgradeDB(path string) (func(*testing.T) store.Store, func(*testing.T, string) error) {
	open := func(t *testing.T) store.Store {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exec := func(t *testing.T, q string) error {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(t.Context(), q)
		return err
	}
	return open, exec
}

// TestUpgradeMovesSessionFlashes: the messages waiting in a session's old
// flashes list move to a row each in migration 0025
// (storetest.SessionFlashesUpgrade).
func TestUpgradeMovesSessionFlashes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	open, exec := upgradeDB(path)
	storetest.SessionFlashesUpgrade(t, open, exec)
}

// TestUpgradeKeysLogins: sessions and tokens of logins that differ only in
// case beyond ASCII, stored before migration 0027, are one person's after
// it (storetest.LoginKeysUpgrade).
func TestUpgradeKeysLogins(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	open, exec := upgradeDB(path)
	storetest.LoginKeysUpgrade(t, open, exec)
}

// TestUpgradeKeysAuditActors: audit events of logins that differ only in
// case beyond ASCII, stored before migration 0032, are found by the actor
// filter with any of them after it (storetest.AuditActorKeysUpgrade).
func TestUpgradeKeysAuditActors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	open, exec := upgradeDB(path)
	storetest.AuditActorKeysUpgrade(t, open, exec)
}

// TestUpgradeBindsIssuers: a login bound before migration 0038 is bound
// at no issuer, and its next sign-in with its subject fills it in
// (storetest.PersonIssuersUpgrade).
func TestUpgradeBindsIssuers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	open, exec := upgradeDB(path)
	storetest.PersonIssuersUpgrade(t, open, exec)
}

// TestUpgradeKeepsCancelRequests: runs asked to stop before migration
// 0039 keep when, with nobody recorded (storetest.CancelRequestsUpgrade).
func TestUpgradeKeepsCancelRequests(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	open, exec := upgradeDB(path)
	storetest.CancelRequestsUpgrade(t, open, exec)
}

// TestUpgradeKeepsConnectionsWithoutReasonCodes: a connection stored in
// error before migration 0040 keeps its status, reason and remedy with no
// code, and its next update stores one
// (storetest.ConnectionReasonCodesUpgrade).
func TestUpgradeKeepsConnectionsWithoutReasonCodes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	open, exec := upgradeDB(path)
	storetest.ConnectionReasonCodesUpgrade(t, open, exec)
}

// TestUpgradeRedactsFlowItemHeaders: the header values of Custom API
// Action items stored before migration 0043 are redacted by it
// (storetest.FlowItemHeadersUpgrade).
func TestUpgradeRedactsFlowItemHeaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	open, exec := upgradeDB(path)
	storetest.FlowItemHeadersUpgrade(t, open, exec)
}

// TestMigratedSaysWhatItApplied: Open reports what it applied, for the
// server's log: every migration to a new database (from 0), nothing to a
// current one, and the missing one to a database without migration 0040.
func TestMigratedSaysWhatItApplied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	fresh := s.Migrated()
	s.Close()
	if fresh.From != 0 || fresh.To < 40 || len(fresh.Applied) < 30 || fresh.Applied[0] != "0001_initial.sql" ||
		!strings.HasPrefix(fresh.Applied[len(fresh.Applied)-1], fmt.Sprintf("%04d_", fresh.To)) {
		t.Fatalf("a new database: %+v; want from 0 to the latest, every migration applied in order", fresh)
	}
	latest := fresh.To
	if s, err = Open(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	if m := s.Migrated(); len(m.Applied) != 0 || m.From != latest || m.To != latest {
		t.Errorf("a current database: %+v; want nothing applied at %d", m, latest)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		// Undo migration 0040, as a database of the release before it.
		`ALTER TABLE connections DROP COLUMN status_reason_code`,
		`ALTER TABLE connections DROP COLUMN status_reason_code_version`,
		`DELETE FROM schema_migrations WHERE version = 40`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	if s, err = Open(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if m := s.Migrated(); m.To != latest || len(m.Applied) != 1 || m.Applied[0] != "0040_connection_status_reason_codes.sql" {
		t.Errorf("a database without migration 0040: %+v; want it alone applied, up to %d", m, latest)
	}
}

// TestUpgradeKeysDeletedNicknames: connections deleted before migration
// 0046 are found by their nickname after it
// (storetest.DeletedNicknamesUpgrade).
func TestUpgradeKeysDeletedNicknames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	open, exec := upgradeDB(path)
	storetest.DeletedNicknamesUpgrade(t, open, exec)
}
