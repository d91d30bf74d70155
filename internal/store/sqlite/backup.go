package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// BackupInfo describes a backup Backup wrote and checked.
type BackupInfo struct {
	Bytes         int64 // the backup file's size
	SchemaVersion int   // the newest migration the database has
	Connections   int
	Flows         int
}

// Backup writes a consistent copy of the cardflow database at path to the
// new file to (mode 0600), while servers may go on using the database: a
// snapshot of one moment, taken in a read transaction (SQLite's VACUUM
// INTO), which neither waits for writers nor holds them up beyond the
// busy timeout. It never overwrites: to must not exist. It syncs the copy
// to disk, then opens it and checks it (PRAGMA quick_check) before it
// reports. On any error no file is left at to. It neither migrates nor
// otherwise changes the database at path.
func Backup(ctx context.Context, path, to string) (*BackupInfo, error) {
	if path == "" || strings.ContainsRune(path, '?') || to == "" || strings.ContainsRune(to, '?') {
		return nil, fmt.Errorf("sqlite: backup paths %q and %q must be non-empty and must not contain '?'", path, to)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no database to back up: %w", err)
	}
	src, err := sql.Open("sqlite", fmt.Sprintf("%s?_busy_timeout=%d", path, BusyTimeoutMillis))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer src.Close()
	version, err := schemaVersion(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("%s is not a cardflow database: %w", path, err)
	}

	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%s already exists; a backup never overwrites a file: name a new one", to)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: create the backup: %w", err)
	}
	_ = f.Close()
	info, err := backupInto(ctx, src, to)
	if err != nil {
		_ = os.Remove(to)
		return nil, err
	}
	info.SchemaVersion = version
	return info, nil
}

// backupInto copies src into the empty file to, syncs it and checks it.
func backupInto(ctx context.Context, src *sql.DB, to string) (*BackupInfo, error) {
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, to); err != nil {
		return nil, fmt.Errorf("sqlite: write the backup: %w", err)
	}
	f, err := os.OpenFile(to, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("sqlite: sync the backup: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: sync the backup: %w", err)
	}
	st, err := os.Stat(to)
	if err != nil {
		return nil, fmt.Errorf("sqlite: check the backup: %w", err)
	}
	info := &BackupInfo{Bytes: st.Size()}

	dst, err := sql.Open("sqlite", to)
	if err != nil {
		return nil, fmt.Errorf("sqlite: check the backup: %w", err)
	}
	defer dst.Close()
	var check string
	if err := dst.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil {
		return nil, fmt.Errorf("sqlite: check the backup: %w", err)
	}
	if check != "ok" {
		return nil, fmt.Errorf("sqlite: the backup fails SQLite's check: %s", check)
	}
	for _, c := range []struct {
		table string
		n     *int
	}{{"connections", &info.Connections}, {"flows", &info.Flows}} {
		if err := dst.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+c.table).Scan(c.n); err != nil {
			return nil, fmt.Errorf("sqlite: check the backup: %w", err)
		}
	}
	return info, nil
}

// schemaVersion is the newest migration applied to db.
func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, err
	}
	if !v.Valid {
		return 0, errors.New("it has no migrations")
	}
	return int(v.Int64), nil
}
