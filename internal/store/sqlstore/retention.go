package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// PurgeRuns deletes, in one transaction, up to limit flow runs that ended
// before before (with their steps, items and card runs) and up to limit
// direct card runs that finished before it.
func (s *Store) PurgeRuns(ctx context.Context, before time.Time, limit int) (store.Purged, error) {
	var p store.Purged
	if limit <= 0 {
		limit = 100
	}
	err := s.inTx(ctx, func(ctx context.Context, ex execer) error {
		rows, err := s.query(ctx, ex, `SELECT id FROM flow_runs
			WHERE finished_at > 0 AND finished_at < ? AND status IN ('succeeded', 'failed', 'canceled')
			ORDER BY finished_at LIMIT ?`, ts(before), limit)
		if err != nil {
			return err
		}
		var ids []any
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) > 0 {
			in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")"
			res, err := s.exec(ctx, ex, `DELETE FROM runs WHERE flow_run_id IN `+in, ids...)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			p.CardRuns += int(n)
			// Steps and items go with their run (ON DELETE CASCADE).
			res, err = s.exec(ctx, ex, `DELETE FROM flow_runs WHERE id IN `+in, ids...)
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
			p.FlowRuns = int(n)
		}
		res, err := s.exec(ctx, ex, `DELETE FROM runs WHERE id IN (SELECT id FROM runs
			WHERE flow_run_id = '' AND finished_at > 0 AND finished_at < ? ORDER BY finished_at LIMIT ?)`, ts(before), limit)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		p.CardRuns += int(n)
		return nil
	})
	return p, s.fail("purge runs", err)
}
