package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestCLIBackupAndRestore backs up the database of a running server that
// has a signed-in connection, then restores the backup as the README says
// (the file as cardflow.db of a new data directory, with the keyring) and
// uses the connection through a server started on it: its sealed secret
// and tokens open, and it still works at the org.
func TestCLIBackupAndRestore(t *testing.T) {
	var dir string
	s := startServerWith(t, oktaemu.Config{Devices: 12}, func(c *app.Config) { dir = c.DataDir })
	s.connect(t, "Prod")
	if code, out, errOut := runCLI(t, s.vars, "run", "okta-devices/search-devices", "--connection", "Prod"); code != exitOK {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}

	to := filepath.Join(t.TempDir(), "cardflow-backup.db")
	code, out, errOut := runCLI(t, nil, "backup", to, "-data-dir", dir)
	if code != exitOK {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"Backed up " + filepath.Join(dir, "cardflow.db") + " to " + to, "1 connection, 0 flows",
		"SQLite's check passed", "sealed with the keyring " + filepath.Join(dir, "keyring"), "keep a copy of that too"} {
		if !strings.Contains(out, want) {
			t.Errorf("backup output lacks %q:\n%s", want, out)
		}
	}
	if code, _, errOut := runCLI(t, nil, "backup", to, "-data-dir", dir); code != exitFailure || !strings.Contains(errOut, "never overwrites") {
		t.Errorf("a second backup to the same file: exit %d, %q; want a refusal", code, errOut)
	}

	restored := t.TempDir()
	copyFile(t, to, filepath.Join(restored, "cardflow.db"))
	copyFile(t, filepath.Join(dir, "keyring"), filepath.Join(restored, "keyring"))
	s2 := startServerWith(t, oktaemu.Config{}, func(c *app.Config) {
		c.DataDir = restored
		c.TrustedOrigins = append(c.TrustedOrigins, s.emu.URL)
	})
	code, out, errOut = runCLI(t, s2.vars, "connections", "test", "Prod")
	if code != exitOK || !strings.Contains(out, "OK: the connection works") {
		t.Errorf("the restored connection: exit %d\n%s%s", code, out, errOut)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCLIBackupAndKeysSayWhatIsMissing runs backup and keys list where a
// newcomer may: in another directory than the data directory's parent, or
// into a backup directory not made yet. Each names the flag or the step.
func TestCLIBackupAndKeysSayWhatIsMissing(t *testing.T) {
	data := dataDir(t)
	missing := filepath.Join(t.TempDir(), "cardflow-data")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"backup without the data directory", []string{"backup", filepath.Join(t.TempDir(), "b.db"), "-data-dir", missing},
			"give the server's data directory with -data-dir"},
		{"keys list without the data directory", []string{"keys", "list", "-data-dir", missing},
			"give the server's data directory with -data-dir"},
		{"backup into a directory not made yet", []string{"backup", filepath.Join(t.TempDir(), "backups", "b.db"), "-data-dir", data},
			"does not exist: create it first (mkdir -p"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, tc.args...)
			if code != exitFailure || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d\n%s%s\nwant exit 1 and %q", code, out, errOut, tc.want)
			}
		})
	}
}
