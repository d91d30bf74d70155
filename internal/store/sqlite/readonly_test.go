package sqlite

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOpenWithoutWriteAccess: a database file the server's user may not
// write, or in a directory it may not write (where SQLite keeps the
// database's -wal and -shm files), is refused at open with what to change
// (the user's write access to the file or the directory), not only
// SQLite's "permission denied" or "attempt to write a readonly database".
// Permissions do not bind root: run as root, the open runs in a child
// process as nobody.
func TestOpenWithoutWriteAccess(t *testing.T) {
	tests := []struct {
		name      string
		fileMode  os.FileMode
		dirMode   os.FileMode
		wantInErr []string
	}{
		{name: "read-only file", fileMode: 0o400, dirMode: 0o700,
			wantInErr: []string{"permission denied", "give that user write access to", "cardflow.db and to its directory"}},
		{name: "read-only directory", fileMode: 0o600, dirMode: 0o500,
			wantInErr: []string{"readonly database", "cardflow.db-wal and cardflow.db-shm", "write access to the directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "cardflow.db")
			openFile(t, path).Close()
			errText := openAsOther(t, path, tt.fileMode, tt.dirMode)
			for _, want := range tt.wantInErr {
				if !strings.Contains(errText, want) {
					t.Errorf("open error:\n%s\nwant it to contain %q", errText, want)
				}
			}
		})
	}
}

// openAsOther gives path and its directory the modes, opens the database
// in a child process (as nobody when this runs as root, whom permissions
// do not bind) and returns the error it reports.
func openAsOther(t *testing.T, path string, fileMode, dirMode os.FileMode) string {
	t.Helper()
	dir := filepath.Dir(path)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), exe, "-test.run=^$")
	if os.Getuid() == 0 {
		const nobody = 65534
		// The test binary may sit in a directory only root may enter.
		bin := filepath.Join(filepath.Dir(dir), "sqlite.test")
		copyFile(t, exe, bin)
		for _, p := range []string{filepath.Dir(filepath.Dir(dir)), filepath.Dir(dir)} {
			if err := os.Chmod(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []string{dir, path} {
			if err := os.Chown(p, nobody, nobody); err != nil {
				t.Fatal(err)
			}
		}
		cmd = exec.CommandContext(t.Context(), bin, "-test.run=^$")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	if err := os.Chmod(path, fileMode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, dirMode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	cmd.Env = append(os.Environ(), childEnv+"=open", "CARDFLOW_SQLITE_TEST_DB="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatalf("opening %s (mode %v, directory %v) succeeded; want an error", path, fileMode, dirMode)
	}
	return stderr.String()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
