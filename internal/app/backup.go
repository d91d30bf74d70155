package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cardflow/cardflow/internal/store/sqlite"
)

// BackupReport is what Backup wrote.
type BackupReport struct {
	From, To string
	sqlite.BackupInfo
	// Keyring is the keyring file the backup's sealed values need, ""
	// when the key comes from CARDFLOW_KEY (Config.Key).
	Keyring string
}

// Backup writes a consistent copy of the data directory's SQLite database
// to the new file to, while servers may go on using it (sqlite.Backup).
// The copy holds the stored secrets sealed, as the database does: it is
// of use only with the keyring, which it does not contain. A PostgreSQL
// database (Config.DB) is backed up with PostgreSQL's own tools.
func Backup(ctx context.Context, cfg Config, to string) (*BackupReport, error) {
	if cfg.DB != "" {
		return nil, errors.New("the database is PostgreSQL: back it up with pg_dump (e.g. pg_dump --format=custom), and keep CARDFLOW_KEY apart from it")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("the data directory is required (-data-dir)")
	}
	if err := checkDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	if dir := filepath.Dir(to); !isDir(dir) {
		return nil, fmt.Errorf("the directory %s of the backup file %s does not exist: create it first (mkdir -p %s), or name a file in a directory that exists", dir, to, dir)
	}
	from := filepath.Join(cfg.DataDir, "cardflow.db")
	info, err := sqlite.Backup(ctx, from, to)
	if err != nil {
		return nil, err
	}
	rep := &BackupReport{From: from, To: to, BackupInfo: *info}
	if cfg.Key == "" {
		rep.Keyring = filepath.Join(cfg.DataDir, keyringFile)
	}
	return rep, nil
}

// checkDataDir checks that dir, the -data-dir of a command that works on a
// server's data (backup, keys), exists; its default is relative to the
// current directory, which is easy to be elsewhere from.
func checkDataDir(dir string) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("data directory: %w: give the server's data directory with -data-dir (the default, cardflow-data, is relative to the current directory)", err)
	}
	return nil
}

// isDir reports whether path is a directory that exists.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
