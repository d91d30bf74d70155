package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// defaultSchemaCheckEvery is how often a running server reads the
// database's schema version to learn that a later cardflow has upgraded
// it (Config.schemaCheckEvery overrides it in tests).
const defaultSchemaCheckEvery = 30 * time.Second

// watchSchema reads the database's schema version every schemaCheckEvery
// until ctx ends. Once a server of a later version has migrated the
// database past what this binary knows (a rolling upgrade, or a later
// version started on the same database by mistake), this server must
// not go on: it would write rows the later version's tables do not
// expect. It logs why at ERROR and sends the reason on stop, and Serve
// shuts down as it does on a signal (flow runs handed back, card calls
// in flight recorded) and returns it. Started again, this version
// refuses the database, naming both versions.
func (a *App) watchSchema(ctx context.Context, stop chan<- error) {
	every := a.cfg.schemaCheckEvery
	if every <= 0 {
		every = defaultSchemaCheckEvery
	}
	ticks(ctx, every, func() bool {
		// A database that does not answer is reported by the work that
		// needs it; only a later schema stops the server.
		ahead := (*store.SchemaAheadError)(nil)
		if err := a.Store.CheckSchema(ctx); !errors.As(err, &ahead) {
			return true
		}
		err := fmt.Errorf("stopping: the database was upgraded while this server ran: %w", schemaAheadError{ahead})
		a.log.LogAttrs(ctx, slog.LevelError, "the database schema is newer than this server knows; stopping",
			slog.Int64("schema", ahead.Have), slog.Int64("knows", ahead.Knows),
			slog.String("remedy", "run the cardflow version that upgraded the database on this server too"))
		select {
		case stop <- err:
		default:
		}
		return false
	})
}
