package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cardflow/cardflow/internal/store"
)

const rateBudgetCols = `name, lim, used, window_end, estimated, last_grant, updated_at`

func scanRateBudget(sc scanner) (*store.RateBudget, error) {
	var b store.RateBudget
	var limit, used, end, estimated, last, updated int64
	if err := sc.Scan(&b.Key, &limit, &used, &end, &estimated, &last, &updated); err != nil {
		return nil, err
	}
	b.Limit, b.Used = int(limit), int(used)
	b.WindowEnd, b.Estimated = fromTS(end), estimated != 0
	b.LastGrant, b.UpdatedAt = fromTS(last), fromTS(updated)
	return &b, nil
}

// errFromFn carries fn's error through the transaction so that it comes
// back unwrapped.
type errFromFn struct{ err error }

func (e errFromFn) Error() string { return e.err.Error() }

// UpdateRateBudget reads the budget under a lock (SELECT ... FOR UPDATE on
// PostgreSQL; SQLite's immediate transactions hold the write lock from
// BEGIN), lets fn change it and writes it back in the same transaction.
func (s *Store) UpdateRateBudget(ctx context.Context, key string, fn func(b *store.RateBudget) error) error {
	op := fmt.Sprintf("update rate budget %q", key)
	err := s.updateRateBudget(ctx, key, fn)
	var fe errFromFn
	if errors.As(err, &fe) {
		return fe.err
	}
	return s.fail(op, err)
}

func (s *Store) updateRateBudget(ctx context.Context, key string, fn func(b *store.RateBudget) error) error {
	tx, end, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	sel := `SELECT ` + rateBudgetCols + ` FROM rate_budgets WHERE name = ?` + s.d.ForUpdate
	b, err := scanRateBudget(s.queryRow(ctx, tx, sel, key))
	if errors.Is(err, sql.ErrNoRows) {
		// The first update of a key: create the row, then lock it (a
		// concurrent first update may have created it meanwhile).
		if _, err := s.exec(ctx, tx, `INSERT INTO rate_budgets (`+rateBudgetCols+`) VALUES (?, 0, 0, 0, 0, 0, 0)
			ON CONFLICT (name) DO NOTHING`, key); err != nil {
			return err
		}
		b, err = scanRateBudget(s.queryRow(ctx, tx, sel, key))
	}
	if err != nil {
		return err
	}
	if err := fn(b); err != nil {
		return errFromFn{err}
	}
	if b.Key != key {
		return fmt.Errorf("the update changed the budget's key to %q", b.Key)
	}
	if _, err := s.exec(ctx, tx, `UPDATE rate_budgets SET lim = ?, used = ?, window_end = ?, estimated = ?,
		last_grant = ?, updated_at = ? WHERE name = ?`,
		int64(b.Limit), int64(b.Used), ts(b.WindowEnd), boolInt(b.Estimated), ts(b.LastGrant), ts(b.UpdatedAt), key); err != nil {
		return err
	}
	return tx.Commit()
}

// GetRateBudget returns the stored budget named key.
func (s *Store) GetRateBudget(ctx context.Context, key string) (*store.RateBudget, error) {
	b, err := scanRateBudget(s.queryRow(ctx, s.db, `SELECT `+rateBudgetCols+` FROM rate_budgets WHERE name = ?`, key))
	if err != nil {
		return nil, s.fail(fmt.Sprintf("get rate budget %q", key), err)
	}
	return b, nil
}
