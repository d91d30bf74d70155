package pgtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// binDirs are where PostgreSQL 15's server binaries are looked for before
// PATH (Debian and Ubuntu install them outside PATH).
var binDirs = []string{"/usr/lib/postgresql/15/bin"}

// cluster is a throwaway PostgreSQL server in a temporary directory.
type cluster struct {
	dsn string
	dir string
	pid int
	// hold is the write end of the reaper's stdin. The reaper stops the
	// server and removes dir when it reads EOF: when Stop closes hold, or
	// when the test process exits in any way (the kernel closes it).
	hold   *os.File
	reaper *exec.Cmd
}

var (
	clusterOnce sync.Once
	clusterMu   sync.Mutex
	theCluster  *cluster
	clusterErr  error
)

// local returns the DSN of this process's throwaway cluster, starting it
// on first use.
func local() (string, error) {
	clusterOnce.Do(func() {
		c, err := startCluster(binDirs)
		clusterMu.Lock()
		theCluster, clusterErr = c, err
		clusterMu.Unlock()
	})
	clusterMu.Lock()
	defer clusterMu.Unlock()
	if clusterErr != nil {
		return "", clusterErr
	}
	if theCluster == nil {
		return "", errors.New("pgtest: the throwaway PostgreSQL cluster was already stopped")
	}
	return theCluster.dsn, nil
}

// Stop stops the throwaway cluster this process started, if any, and
// removes its directory; it returns once the server has exited. Main calls
// it; without Main the cluster stops when the test process exits.
func Stop() {
	clusterMu.Lock()
	c := theCluster
	theCluster = nil
	if clusterErr == nil {
		clusterErr = errors.New("pgtest: the throwaway PostgreSQL cluster was already stopped")
	}
	clusterMu.Unlock()
	// Later calls to local must not start another cluster.
	clusterOnce.Do(func() {})
	if c != nil {
		c.stop()
	}
}

func (c *cluster) stop() {
	_ = c.hold.Close()
	_ = c.reaper.Wait()
}

// findBinDir returns the directory holding initdb and pg_ctl: the first of
// dirs that has both, else the directory of initdb on PATH.
func findBinDir(dirs []string) (string, error) {
	cands := append([]string(nil), dirs...)
	if p, err := exec.LookPath("initdb"); err == nil {
		cands = append(cands, filepath.Dir(p))
	}
	for _, d := range cands {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("pgtest: cannot start PostgreSQL for the tests: initdb and pg_ctl are not in %s or on PATH. "+
		"Install the PostgreSQL 15 server (Debian: apt-get install postgresql-15), or set %s to the postgres:// URL "+
		"of a server where the user may create databases", strings.Join(dirs, ", "), Env)
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// runAs is the account the server runs as: the current one, or "postgres"
// under root (initdb refuses to run as root).
type runAs struct {
	cred *syscall.Credential // nil: the current user
}

func (r runAs) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred, Setsid: true}
	return cmd
}

func serverAccount() (runAs, error) {
	if os.Geteuid() != 0 {
		return runAs{}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		out, uerr := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres").CombinedOutput()
		if uerr != nil {
			return runAs{}, fmt.Errorf("pgtest: initdb refuses to run as root and there is no postgres user; creating it failed: %v: %s", uerr, bytes.TrimSpace(out))
		}
		if u, err = user.Lookup("postgres"); err != nil {
			return runAs{}, fmt.Errorf("pgtest: look up the postgres user: %w", err)
		}
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return runAs{}, fmt.Errorf("pgtest: the postgres user has a non-numeric uid %q or gid %q", u.Uid, u.Gid)
	}
	return runAs{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}, nil
}

// startCluster initialises and starts a server, as .ci/postgres.sh does:
// a temporary directory, trust authentication, 127.0.0.1 on a free port,
// no fsync.
func startCluster(dirs []string) (_ *cluster, err error) {
	bin, err := findBinDir(dirs)
	if err != nil {
		return nil, err
	}
	as, err := serverAccount()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "cardflow-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if as.cred != nil {
		if err := os.Chown(dir, int(as.cred.Uid), int(as.cred.Gid)); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
		if err := openParents(as, dir); err != nil {
			return nil, err
		}
	}

	data := filepath.Join(dir, "data")
	if out, err := run(as.command(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")); err != nil {
		return nil, fmt.Errorf("pgtest: initdb failed: %v\n%s", err, out)
	}

	var lastErr error
	for range 6 {
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("pgtest: find a free port: %w", err)
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "+
			"-c full_page_writes=off -c max_connections=300", port, dir)
		out, err := run(as.command(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "server.log"),
			"-w", "-t", "60", "-o", opts, "start"))
		if err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			lastErr = fmt.Errorf("pgtest: pg_ctl start failed: %v\n%s\nserver log:\n%s", err, out, log)
			continue
		}
		pid, err := postmasterPID(data)
		if err != nil {
			return nil, err
		}
		c := &cluster{dsn: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), dir: dir, pid: pid}
		if err := c.startReaper(); err != nil {
			_ = syscall.Kill(pid, syscall.SIGQUIT)
			return nil, err
		}
		return c, nil
	}
	return nil, lastErr
}

// openParents makes dir's ancestors traversable by the server account if
// it cannot reach dir (os.MkdirTemp-style 0700 parents).
func openParents(as runAs, dir string) error {
	if err := as.command("test", "-w", dir).Run(); err == nil {
		return nil
	}
	for p := filepath.Dir(dir); p != "/" && p != "."; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("pgtest: let the postgres user reach %s: %w", dir, err)
			}
		}
	}
	return nil
}

// run runs cmd with its output in a temporary file rather than a pipe: the
// server that pg_ctl leaves behind must not hold a pipe the test waits on.
func run(cmd *exec.Cmd) ([]byte, error) {
	f, err := os.CreateTemp("", "cardflow-pg-out-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	out, _ := os.ReadFile(f.Name())
	return bytes.TrimSpace(out), err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func postmasterPID(data string) (int, error) {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("pgtest: read the server's pid: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pgtest: postmaster.pid starts with %q, not a pid", line)
	}
	return pid, nil
}

// reaperScript waits for EOF on stdin, then stops the server (SIGQUIT is
// PostgreSQL's immediate shutdown), waits up to 10 s for it to exit and
// removes the cluster's directory. An exited server that nobody has
// collected yet (a zombie: init may be slow to reap) counts as gone.
const reaperScript = `alive() {
  if [ -r "/proc/$1/stat" ]; then
    s=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
    [ -n "$s" ] && [ "$s" != Z ]
  else
    kill -0 "$1" 2>/dev/null
  fi
}
cat >/dev/null
kill -QUIT "$1" 2>/dev/null
i=0
while alive "$1" && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i+1)); done
kill -KILL "$1" 2>/dev/null
rm -rf "$2"`

// startReaper starts the process that stops the server once this process
// lets go of its stdin. It runs in its own session, so that an interrupt
// of the test run does not kill it before it has done its work, and with
// no inherited output, so that `go test` does not wait for it.
func (c *cluster) startReaper() error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer r.Close()
	cmd := exec.Command("/bin/sh", "-c", reaperScript, "pgtest-reaper", strconv.Itoa(c.pid), c.dir)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		_ = w.Close()
		return fmt.Errorf("pgtest: start the process that stops the server at exit: %w", err)
	}
	c.hold, c.reaper = w, cmd
	return nil
}
