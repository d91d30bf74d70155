package web

import (
	"context"

	"github.com/cardflow/cardflow/internal/store"
)

type ctxT = context.Context

// emptyHistory is a History with nothing in it, for routing tests that never
// reach the store.
type emptyHistory struct{}

func (emptyHistory) GetRun(context.Context, string) (*store.Run, error) {
	return nil, store.ErrNotFound
}
func (emptyHistory) ListRuns(context.Context, store.RunFilter) ([]*store.Run, error) {
	return nil, nil
}
func (emptyHistory) ListAudit(context.Context, store.AuditFilter) ([]*store.AuditEvent, error) {
	return nil, nil
}
func (emptyHistory) AppendAudit(context.Context, *store.AuditEvent) error { return nil }
