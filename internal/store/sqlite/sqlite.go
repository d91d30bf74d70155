package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cardflow/cardflow/internal/store/sqlstore"
)

// BusyTimeoutMillis is how long a statement waits for another connection
// or process to release the write lock before it fails.
const BusyTimeoutMillis = 10000

// Every connection waits for locks, uses WAL with full fsync, enforces
// foreign keys, and starts transactions with BEGIN IMMEDIATE so that a
// transaction never has to upgrade a read lock (which fails at once rather
// than waiting).
var dsnOptions = fmt.Sprintf("?_busy_timeout=%d&_journal_mode=WAL&_synchronous=FULL&_foreign_keys=1&_txlock=immediate", BusyTimeoutMillis)

// maxConns bounds the connections of one handle: each holds its own page
// cache, and writers queue on the file lock anyway.
const maxConns = 16

// Dialect is SQLite's flavour of SQL and its error codes.
var Dialect = sqlstore.Dialect{
	Name:   "sqlite",
	Blob:   "BLOB",
	AutoID: "INTEGER PRIMARY KEY AUTOINCREMENT",
	// Writers queue on the database's one write lock, and every commit is
	// an fsync (synchronous=FULL): committing queued writes together
	// costs one fsync for all of them.
	GroupCommit: true,
	// The busy handler polls on a timer: writers of one process take
	// turns instead.
	TakeTurns: true,
	// A migration that drops secrets zeroes their pages.
	SecureDelete:    `PRAGMA secure_delete = ON`,
	SecureDeleteOff: `PRAGMA secure_delete = OFF`,
	// ... and writes the zeroes to the file at once (WAL mode).
	Checkpoint: `PRAGMA wal_checkpoint(TRUNCATE)`,
	IsUniqueViolation: func(err error) bool {
		c := code(err)
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	IsForeignKeyViolation: func(err error) bool { return code(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY },
	IsFull:                func(err error) bool { return code(err)&0xff == sqlite3.SQLITE_FULL },
	// SQLITE_READONLY and its extended codes: a file, or a directory for
	// the -wal and -shm files, the server may not write, or a mount made
	// read-only.
	IsReadOnly: func(err error) bool { return code(err)&0xff == sqlite3.SQLITE_READONLY },
}

func code(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// Open opens the database file at path, creating it with mode 0600 if it
// does not exist, and applies pending migrations. The directory must exist.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
	return open(ctx, path, sqlstore.Open)
}

// OpenCurrent opens the database file at path, which must have every
// migration of this binary (see sqlstore.OpenCurrent): it applies none.
func OpenCurrent(ctx context.Context, path string) (*sqlstore.Store, error) {
	return open(ctx, path, sqlstore.OpenCurrent)
}

func open(ctx context.Context, path string, openStore func(context.Context, *sql.DB, sqlstore.Dialect) (*sqlstore.Store, error)) (*sqlstore.Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: database path %q must be non-empty and must not contain '?'", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, below
		}
		return nil, fmt.Errorf("sqlite: open %s: %w%s", path, err, mayNotWrite(path, err))
	}
	_ = f.Close()

	db, err := sql.Open("sqlite", path+dsnOptions)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := firstConn(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w%s", path, err, mayNotWrite(path, err))
	}
	s, err := openStore(ctx, db, Dialect)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w%s", path, err, mayNotWrite(path, err))
	}
	return s, nil
}

// mayNotWrite is the remedy for an error of a database file, or of the
// files SQLite keeps beside it, that this process may not write: "" for
// any other error.
func mayNotWrite(path string, err error) string {
	dir := filepath.Dir(path)
	switch {
	case errors.Is(err, syscall.EROFS):
		return fmt.Sprintf("; %s is on a read-only file system: give the database a directory on a writable one", dir)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("; the database must be readable and writable by the user this runs as (uid %d): give that user write access to %s and to its directory %s (chown or chmod), or run as the file's owner",
			os.Getuid(), path, dir)
	case code(err)&0xff == sqlite3.SQLITE_READONLY:
		return fmt.Sprintf("; SQLite may not write the database or the files it keeps beside it (%[1]s-wal and %[1]s-shm, created in %[2]s): give the user this runs as (uid %[3]d) write access to the directory %[2]s and to those files, or run as their owner",
			filepath.Base(path), dir, os.Getuid())
	}
	return ""
}

// firstConn opens db's first connection, trying again while SQLite answers
// SQLITE_BUSY. When several connections or processes open a new file at
// once, each switches it to WAL as it connects, and SQLite may answer one
// of them busy at once instead of waiting out the busy timeout; once the
// file is in WAL, connecting does not conflict. It gives up after the busy
// timeout.
func firstConn(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(BusyTimeoutMillis * time.Millisecond)
	wait := time.Millisecond
	for {
		conn, err := db.Conn(ctx)
		if err == nil {
			return conn.Close()
		}
		if code(err)&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}
