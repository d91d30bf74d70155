package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a child process that starts a throwaway
// cluster and then ends as childEnv says.
const childEnv = "CARDFLOW_PGTEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode))
	}
	Main(m)
}

// child starts a cluster, proves it serves, prints "pid dir" and then
// exits without stopping it ("exit", as a failing or crashing test binary
// would) or stops it first ("stop").
func child(mode string) int {
	dsn, err := local()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := ping(dsn); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("%d %s\n", theCluster.pid, theCluster.dir)
	if mode == "stop" {
		Stop()
		return 0
	}
	return 3
}

func ping(dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var one int
	return db.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// waitGone reports whether the process pid has exited within d.
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		err := syscall.Kill(pid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return true
		}
		if stat, rerr := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); rerr == nil && isZombie(string(stat)) {
			return true // exited; only its parent has not collected it
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// isZombie reads the state field of /proc/PID/stat ("pid (comm) S ...").
func isZombie(stat string) bool {
	i := strings.LastIndexByte(stat, ')')
	return i >= 0 && strings.HasPrefix(stat[i+1:], " Z")
}

// TestThrowawayClusterStops starts a cluster in a child test process that
// then ends in different ways, and checks that no server is left running
// and its directory is gone. The reaper removes the directory last, once
// the server has exited, so the test waits for that rather than for a
// fixed time; the deadlines only bound how long a failure takes to show.
func TestThrowawayClusterStops(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		wantCode int
	}{
		{name: "Stop", mode: "stop", wantCode: 0},
		{name: "exit without Stop", mode: "exit", wantCode: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+tt.mode, Env+"=")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			code := cmd.ProcessState.ExitCode()
			if code != tt.wantCode {
				t.Fatalf("child exit code = %d (%v); want %d\nstderr:\n%s", code, err, tt.wantCode, stderr.String())
			}
			var pid int
			var dir string
			if _, err := fmt.Sscanf(string(out), "%d %s", &pid, &dir); err != nil {
				t.Fatalf("child printed %q: %v", out, err)
			}
			if tt.mode == "stop" {
				// Stop returns only after the reaper is done.
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("cluster directory %s still exists after Stop (stat: %v); want it removed", dir, err)
				}
			}
			deadline := time.Now().Add(time.Minute)
			for {
				if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
					break
				}
				if time.Now().After(deadline) {
					_ = syscall.Kill(pid, syscall.SIGQUIT)
					t.Fatalf("cluster directory %s still exists a minute after the child ended; want it removed", dir)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if !waitGone(pid, 10*time.Second) {
				_ = syscall.Kill(pid, syscall.SIGQUIT)
				t.Fatalf("postmaster %d still runs after its directory was removed; want it stopped first", pid)
			}
		})
	}
}

func TestMissingBinariesFailClearly(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := findBinDir([]string{t.TempDir()})
	if err == nil {
		t.Fatalf("findBinDir found binaries in empty directories; want an error")
	}
	for _, want := range []string{"initdb and pg_ctl", "PostgreSQL 15", Env} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestNewDatabase(t *testing.T) {
	dsn := NewDatabase(t)
	if err := ping(dsn); err != nil {
		t.Fatalf("the new database does not answer: %v", err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("got %d tables in the new database; want 0", n)
	}
}

func TestNewSchema(t *testing.T) {
	var schema string
	t.Run("use", func(t *testing.T) {
		dsn := NewSchema(t)
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx := t.Context()
		if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(schema, "cardflow_test_") {
			t.Fatalf("current_schema() = %q; want the new schema", schema)
		}
		if _, err := db.ExecContext(ctx, `CREATE TABLE t (id INT)`); err != nil {
			t.Fatal(err)
		}
		var where string
		if err := db.QueryRowContext(ctx, `SELECT schemaname FROM pg_tables WHERE tablename = 't'`).Scan(&where); err != nil {
			t.Fatal(err)
		}
		if where != schema {
			t.Errorf("an unqualified CREATE TABLE went to schema %q; want %q", where, schema)
		}
	})
	db, err := sql.Open("pgx", ServerDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("schema %s outlives its test; want it dropped", schema)
	}
}
