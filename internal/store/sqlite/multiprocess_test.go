package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// The test binary doubles as the child process of TestMultiProcess: with
// childEnv set it runs one child's part and exits.
const childEnv = "CARDFLOW_SQLITE_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := child(mode, os.Getenv("CARDFLOW_SQLITE_TEST_DB")); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const (
	childIncrements = 40
	childAudits     = 40
	seededRuns      = 30
)

func child(mode, path string) error {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		return err
	}
	defer s.Close()
	if mode == "open" {
		return nil
	}
	for range childIncrements {
		err := s.UpdateConnection(ctx, "shared", func(c *store.Connection) error {
			n, _ := strconv.Atoi(c.StatusReason)
			c.StatusReason = strconv.Itoa(n + 1)
			return nil
		})
		if err != nil {
			return err
		}
	}
	for i := range childAudits {
		if err := s.AppendAudit(ctx, &store.AuditEvent{Action: "card.run", Actor: store.Actor{Type: store.ActorUser, Login: mode}, InputSummary: strconv.Itoa(i)}); err != nil {
			return err
		}
	}
	for {
		r, err := s.ClaimFlowRun(ctx, mode, time.Hour, time.Now())
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Println("claimed", r.ID)
	}
}

// runChildren starts one child per mode on the database at path, all at
// once, and returns each child's standard output.
func runChildren(t *testing.T, path string, modes ...string) []string {
	t.Helper()
	outs := make([]string, len(modes))
	var wg sync.WaitGroup
	for i, mode := range modes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+mode, "CARDFLOW_SQLITE_TEST_DB="+path)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Errorf("child %s: %v\n%s", mode, err, stderr.String())
			}
			outs[i] = stdout.String()
		}()
	}
	wg.Wait()
	return outs
}

func TestMultiProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")

	// Several processes create and migrate one new file at once.
	runChildren(t, path, "open", "open", "open")
	if t.Failed() {
		t.FailNow()
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("database file mode = %v; want 0600", got)
	}

	s := openFile(t, path)
	ctx := t.Context()
	if err := s.CreateConnection(ctx, &store.Connection{ID: "shared", Connector: "okta-devices", Nickname: "shared", StatusReason: "0"}); err != nil {
		t.Fatal(err)
	}
	for i := range seededRuns {
		if err := s.CreateFlowRun(ctx, &store.FlowRun{ID: fmt.Sprintf("run%02d", i), Status: "queued", CreatedAt: time.Unix(int64(i+1), 0)}); err != nil {
			t.Fatal(err)
		}
	}

	// SQLite gives the WAL and shared-memory files the database's mode.
	for _, suffix := range []string{"-wal", "-shm"} {
		st, err := os.Stat(path + suffix)
		if err != nil {
			t.Fatalf("stat %s: %v", suffix, err)
		}
		if got := st.Mode().Perm(); got != 0o600 {
			t.Errorf("%s file mode = %v; want 0600", suffix, got)
		}
	}

	modes := []string{"p1", "p2", "p3"}
	outs := runChildren(t, path, modes...)

	c, err := s.GetConnection(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	want := len(modes) * childIncrements
	if c.StatusReason != strconv.Itoa(want) || c.Version != int64(want+1) {
		t.Errorf("counter = %s at version %d; want %d at version %d (no lost update)", c.StatusReason, c.Version, want, want+1)
	}

	events, err := s.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != len(modes)*childAudits {
		t.Errorf("%d audit events; want %d", len(events), len(modes)*childAudits)
	}
	for i := 1; i < len(events); i++ {
		if events[i].ID >= events[i-1].ID {
			t.Fatalf("audit ids not strictly decreasing newest-first: %d then %d", events[i-1].ID, events[i].ID)
		}
	}

	claimedBy := map[string][]string{}
	for i, out := range outs {
		for _, line := range strings.Fields(strings.ReplaceAll(out, "claimed ", "")) {
			claimedBy[line] = append(claimedBy[line], modes[i])
		}
	}
	if len(claimedBy) != seededRuns {
		t.Errorf("%d runs claimed; want %d", len(claimedBy), seededRuns)
	}
	for id, by := range claimedBy {
		if len(by) != 1 {
			t.Errorf("run %s claimed by %v; want exactly one process", id, by)
		}
	}
}

// TestPreparedReadsSeeOtherHandles reads a connection through the
// prepared statements of one handle while another handle of the same file
// (as another server process would) changes it: every read sees the last
// commit, on whichever pooled connection it runs. A prepared SELECT that
// kept its read transaction open would go on returning an older version.
func TestPreparedReadsSeeOtherHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardflow.db")
	reader, writer := openFile(t, path), openFile(t, path)
	ctx := t.Context()
	c := &store.Connection{ID: "shared", Connector: "okta-devices", Nickname: "Prod", Status: store.StatusActive, StatusReason: "0"}
	if err := writer.CreateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 1; i <= 50; i++ {
		err := writer.UpdateConnection(ctx, "shared", func(c *store.Connection) error {
			c.StatusReason = strconv.Itoa(i)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Several readers at once, so that the reads spread over the
		// handle's pooled connections.
		for range 4 {
			wg.Go(func() {
				byID, err := reader.GetConnection(ctx, "shared")
				if err != nil {
					t.Error(err)
					return
				}
				byName, err := reader.GetConnectionByNickname(ctx, "okta-devices", "prod")
				if err != nil {
					t.Error(err)
					return
				}
				for _, got := range []*store.Connection{byID, byName} {
					if got.StatusReason != strconv.Itoa(i) {
						t.Errorf("read %q after the other handle committed %d", got.StatusReason, i)
					}
				}
			})
		}
		wg.Wait()
	}
}
