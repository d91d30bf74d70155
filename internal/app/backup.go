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
	if _, err := os.Stat(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
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
