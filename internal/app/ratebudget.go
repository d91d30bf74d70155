package app

import (
	"log/slog"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/ratebudget"
	"github.com/cardflow/cardflow/internal/store"
)

// sharedRateBudget returns the rate budget of the card executor's Okta
// calls when several servers may share the store (PostgreSQL): one kept in
// the store, so that all of them together stay within each org's limit.
// With SQLite it returns nil, and the executor keeps an in-process budget.
// The budget runs on the Okta clients' clock and reports its waits to
// flow progress.
func sharedRateBudget(cfg *Config, st store.Store, log *slog.Logger) okta.Limiter {
	if cfg.DB == "" {
		return nil
	}
	return &ratebudget.Shared{Store: st, Now: cfg.Now, Logger: log}
}
