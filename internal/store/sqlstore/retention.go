package sqlstore

import (
	"context"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// Purge deletes, in one transaction, up to limit of each: flow runs that
// ended before before (with their steps, items and card runs), direct card
// runs that finished before it, dispatched events received before it and
// published before eventsBefore (with their event_runs), the records of
// malformed events noted before both, and notifications created before it
// that no sender holds, delivered or not.
//
// An event goes only once it was received before the cutoff too, so that
// one that a System Log poll catching up on an outage reads late is kept
// as long as any other. Its UUID is what makes a second arrival start no
// second run. A hook delivery's second arrival comes within minutes (Okta
// retries once), but a System Log poll whose cursor lags (its polls failed
// for weeks while the hook delivered, or another connection to the org
// polls from further back) reads any event Okta still keeps: the caller
// passes an eventsBefore no later than that.
func (s *Store) Purge(ctx context.Context, before, eventsBefore time.Time, limit int) (store.Purged, error) {
	var p store.Purged
	if limit <= 0 {
		limit = 100
	}
	err := s.inTx(ctx, func(ctx context.Context, ex execer) error {
		ids, err := s.firstColumn(ctx, ex, `SELECT id FROM flow_runs r
			WHERE finished_at > 0 AND finished_at < ? AND status IN ('succeeded', 'failed', 'canceled')
			AND NOT (`+streakStart+`) AND NOT (`+failingSince+`)
			AND NOT (rerun_when_active <> '' AND rerun_by = '' AND rerun_skipped = '')
			ORDER BY finished_at LIMIT ?`, ts(before), limit)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			n, err := s.deleteIn(ctx, ex, `DELETE FROM runs WHERE flow_run_id IN `, ids)
			if err != nil {
				return err
			}
			p.CardRuns += n
			// Steps and items go with their run (ON DELETE CASCADE).
			if p.FlowRuns, err = s.deleteIn(ctx, ex, `DELETE FROM flow_runs WHERE id IN `, ids); err != nil {
				return err
			}
		}
		n, err := s.deleteCount(ctx, ex, `DELETE FROM runs WHERE id IN (SELECT id FROM runs
			WHERE flow_run_id = '' AND finished_at > 0 AND finished_at < ? ORDER BY finished_at LIMIT ?)`, ts(before), limit)
		if err != nil {
			return err
		}
		p.CardRuns += n

		uuids, err := s.firstColumn(ctx, ex, `SELECT uuid FROM events
			WHERE published < ? AND received_at < ? AND dispatched_at > 0 ORDER BY published, uuid LIMIT ?`,
			ts(eventsBefore), ts(before), limit)
		if err != nil {
			return err
		}
		if len(uuids) > 0 {
			if _, err := s.deleteIn(ctx, ex, `DELETE FROM event_runs WHERE event_uuid IN `, uuids); err != nil {
				return err
			}
			if p.Events, err = s.deleteIn(ctx, ex, `DELETE FROM events WHERE uuid IN `, uuids); err != nil {
				return err
			}
		}

		// The record of an event cardflow could not use goes as an event
		// would (it is not counted: there are few).
		if _, err := s.deleteCount(ctx, ex, `DELETE FROM malformed_events WHERE (connection_id, event_key) IN
			(SELECT connection_id, event_key FROM malformed_events WHERE noted_at < ? AND noted_at < ? ORDER BY noted_at LIMIT ?)`,
			ts(eventsBefore), ts(before), limit); err != nil {
			return err
		}

		// A notification not delivered in the whole retention period goes
		// too (counted apart), unless a sender holds it now: otherwise a
		// receiver that is gone for good would keep every message of the
		// server's life, each attempted every few minutes.
		const oldNotifications = `SELECT id, receiver, delivered_at FROM notifications
			WHERE created_at < ? AND (delivered_at > 0 OR lease_until < ?) ORDER BY created_at, id, receiver LIMIT ?`
		if err := s.queryRow(ctx, ex, `SELECT COUNT(*) FROM (`+oldNotifications+`) old WHERE delivered_at = 0`,
			ts(before), ts(before), limit).Scan(&p.Undelivered); err != nil {
			return err
		}
		p.Notifications, err = s.deleteCount(ctx, ex, `DELETE FROM notifications WHERE (id, receiver) IN (SELECT id, receiver FROM (`+
			oldNotifications+`) old)`, ts(before), ts(before), limit)
		return err
	})
	return p, s.fail("purge", err)
}

// streakStart holds for a flow run r that is the first of the failure
// streak its flow is in now (FailureStreak with SameFailure): r failed,
// the run of its flow before it (canceled and unfinished ones aside) did
// not fail the same way, and none since succeeded or failed another way.
// The purge keeps it while the streak lasts, so that a flow that keeps
// failing longer than runs are kept is still reminded of once per repeat
// period from its first failure: with that run gone, the streak would
// seem to start a retention period ago whichever day it was, and the
// reminders stop. The run before r is read by the flow's index, newest
// first, so only a streak's first run costs a look at the runs after it.
const streakStart = `r.status = 'failed' AND EXISTS (SELECT 1 FROM flows f WHERE f.id = r.flow_id)
	AND COALESCE((SELECT CASE WHEN p.status = 'failed' AND p.failure = r.failure THEN 1 ELSE 0 END FROM flow_runs p
		WHERE p.flow_id = r.flow_id AND p.created_at < r.created_at AND p.finished_at > 0 AND p.status IN ('succeeded', 'failed')
		ORDER BY p.created_at DESC LIMIT 1), 0) = 0
	AND NOT EXISTS (SELECT 1 FROM flow_runs l WHERE l.flow_id = r.flow_id AND l.created_at > r.created_at
		AND l.finished_at > 0 AND (l.status = 'succeeded' OR (l.status = 'failed' AND l.failure <> r.failure)))`

// failingSince holds for a flow run r that is the first failed run since
// its flow last succeeded (FailureStreak without SameFailure), while the
// flow has not succeeded since: r failed, the run of its flow before it
// (canceled and unfinished ones aside) did not, and none since succeeded.
// The purge keeps it for flow_run.recovered, which says since when the
// flow failed: a flow failing in several ways by turns has a streak of
// the same failure (streakStart) no longer than one run, and with the
// first failed run gone the message would date the failures from the
// oldest one kept, a retention period ago.
const failingSince = `r.status = 'failed' AND EXISTS (SELECT 1 FROM flows f WHERE f.id = r.flow_id)
	AND COALESCE((SELECT CASE WHEN p.status = 'failed' THEN 1 ELSE 0 END FROM flow_runs p
		WHERE p.flow_id = r.flow_id AND p.created_at < r.created_at AND p.finished_at > 0 AND p.status IN ('succeeded', 'failed')
		ORDER BY p.created_at DESC LIMIT 1), 0) = 0
	AND NOT EXISTS (SELECT 1 FROM flow_runs l WHERE l.flow_id = r.flow_id AND l.created_at > r.created_at
		AND l.finished_at > 0 AND l.status = 'succeeded')`

// PurgeAudit deletes the oldest audit events older than before: the
// first limit events in id order, up to the first one that is not older.
// It reads the primary key only, so a purge that finds nothing to delete
// reads one row, however large the log.
func (s *Store) PurgeAudit(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = 100
	}
	var n int
	err := s.inTx(ctx, func(ctx context.Context, ex execer) error {
		rows, err := s.query(ctx, ex, `SELECT id, time FROM audit_events ORDER BY id LIMIT ?`, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		cutoff, last := ts(before), int64(-1)
		for rows.Next() {
			var id, t int64
			if err := rows.Scan(&id, &t); err != nil {
				return err
			}
			if t >= cutoff {
				break
			}
			last = id
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if err := rows.Close(); err != nil || last < 0 {
			return err
		}
		if _, err := s.exec(ctx, ex, `DELETE FROM deleted_connection_names WHERE audit_id <= ?`, last); err != nil {
			return err
		}
		n, err = s.deleteCount(ctx, ex, `DELETE FROM audit_events WHERE id <= ?`, last)
		return err
	})
	return n, s.fail("purge audit events", err)
}

// firstColumn runs q and returns the first column of its rows (text), as
// arguments for another statement.
func (s *Store) firstColumn(ctx context.Context, ex execer, q string, args ...any) ([]any, error) {
	vs, err := s.texts(ctx, ex, q, args...)
	return anys(vs), err
}

// anys returns vs as statement arguments.
func anys(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// texts runs q and returns the first column of its rows, which is text.
func (s *Store) texts(ctx context.Context, ex execer, q string, args ...any) ([]string, error) {
	rows, err := s.query(ctx, ex, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// deleteIn runs the DELETE q followed by a list of placeholders for keys,
// and returns how many rows it deleted.
func (s *Store) deleteIn(ctx context.Context, ex execer, q string, keys []any) (int, error) {
	return s.deleteCount(ctx, ex, q+inList(len(keys)), keys...)
}

// deleteCount runs the DELETE q and returns how many rows it deleted.
func (s *Store) deleteCount(ctx context.Context, ex execer, q string, args ...any) (int, error) {
	res, err := s.exec(ctx, ex, q, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
