package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

const notificationCols = `id, receiver, type, body, attempts, next_attempt_at, delivered_at, last_error,
	owner, lease_until, created_at, thread`

func scanNotification(sc scanner) (*store.Notification, error) {
	var n store.Notification
	var body string
	var next, delivered, lease, created int64
	if err := sc.Scan(&n.ID, &n.Receiver, &n.Type, &body, &n.Attempts, &next, &delivered, &n.LastError,
		&n.Owner, &lease, &created, &n.Thread); err != nil {
		return nil, err
	}
	n.Body = []byte(body)
	n.NextAttemptAt, n.DeliveredAt = fromTS(next), fromTS(delivered)
	n.LeaseUntil, n.CreatedAt = fromTS(lease), fromTS(created)
	return &n, nil
}

// EnqueueNotifications inserts the messages, leaving those already there.
func (s *Store) EnqueueNotifications(ctx context.Context, ns []*store.Notification) error {
	return s.fail("enqueue notifications", s.insertNotifications(ctx, s.db, ns))
}

// insertNotifications stores ns with ex (the database or a transaction);
// a message already stored for its receiver is left as it is.
func (s *Store) insertNotifications(ctx context.Context, ex execer, ns []*store.Notification) error {
	for _, n := range ns {
		if _, err := s.exec(ctx, ex, `INSERT INTO notifications (`+notificationCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id, receiver) DO NOTHING`,
			n.ID, n.Receiver, n.Type, string(n.Body), n.Attempts, ts(n.NextAttemptAt), ts(n.DeliveredAt), n.LastError,
			n.Owner, ts(n.LeaseUntil), ts(n.CreatedAt), n.Thread); err != nil {
			return fmt.Errorf("notification %q: %w", n.ID, err)
		}
	}
	return nil
}

// ClaimNotification leases the oldest due message (to one of receivers,
// when there are any) to owner in one statement (see ClaimFlowRun for how
// it stays exclusive); a message of a thread waits while an older one of
// its thread to the same receiver is undelivered.
func (s *Store) ClaimNotification(ctx context.Context, owner string, receivers []string, ttl time.Duration, now time.Time) (*store.Notification, error) {
	args := []any{owner, ts(now.Add(ttl)), ts(now), ts(now)}
	only := ""
	if len(receivers) > 0 {
		only = ` AND receiver IN ` + inList(len(receivers))
		for _, r := range receivers {
			args = append(args, r)
		}
	}
	args = append(args, ts(now))
	n, err := scanNotification(s.queryRow(ctx, s.db, `UPDATE notifications SET owner = ?, lease_until = ?
		WHERE (id, receiver) = (SELECT id, receiver FROM notifications n
			WHERE delivered_at = 0 AND next_attempt_at <= ? AND lease_until <= ?`+only+`
			AND NOT EXISTS (SELECT 1 FROM notifications p WHERE n.thread <> '' AND p.thread = n.thread
				AND p.receiver = n.receiver AND p.delivered_at = 0
				AND (p.created_at < n.created_at OR p.created_at = n.created_at AND p.id < n.id))
			ORDER BY next_attempt_at, created_at, id, receiver LIMIT 1`+s.d.SkipLocked+`)
		AND delivered_at = 0 AND lease_until <= ?
		RETURNING `+notificationCols, args...))
	if err != nil {
		return nil, s.fail("claim notification", err)
	}
	return n, nil
}

// UpdateNotification stores the outcome of an attempt and frees the lease,
// if n.Owner still holds it.
func (s *Store) UpdateNotification(ctx context.Context, n *store.Notification) error {
	res, err := s.exec(ctx, s.db, `UPDATE notifications SET attempts = ?, next_attempt_at = ?, delivered_at = ?,
		last_error = ?, owner = '', lease_until = 0 WHERE id = ? AND receiver = ? AND owner = ?`,
		n.Attempts, ts(n.NextAttemptAt), ts(n.DeliveredAt), n.LastError, n.ID, n.Receiver, n.Owner)
	if err == nil {
		err = affected(res)
	}
	if errors.Is(err, store.ErrNotFound) {
		var one int
		switch e := s.queryRow(ctx, s.db, `SELECT 1 FROM notifications WHERE id = ? AND receiver = ?`, n.ID, n.Receiver).Scan(&one); {
		case e == nil:
			err = store.ErrConflict // another server claimed it
		case !errors.Is(e, sql.ErrNoRows):
			err = e
		}
	}
	return s.fail(fmt.Sprintf("update notification %q", n.ID), err)
}

// ListNotifications returns the newest messages first.
func (s *Store) ListNotifications(ctx context.Context, limit int) ([]*store.Notification, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+notificationCols+` FROM notifications
		ORDER BY created_at DESC, id DESC, receiver LIMIT ?`, limitOr100(limit))
	if err != nil {
		return nil, s.fail("list notifications", err)
	}
	out, err := collect(rows, scanNotification)
	return out, s.fail("list notifications", err)
}

// NotificationBacklogs counts the undelivered messages of each receiver
// (through notifications_due, whose rows are the undelivered ones), and
// reads the last error of each receiver's latest failed attempt: the one
// whose next attempt is due last.
func (s *Store) NotificationBacklogs(ctx context.Context) ([]store.NotificationBacklog, error) {
	const op = "read the notifications waiting for each receiver"
	rows, err := s.query(ctx, s.db, `SELECT receiver, COUNT(*), MIN(created_at) FROM notifications
		WHERE delivered_at = 0 GROUP BY receiver ORDER BY receiver`)
	if err != nil {
		return nil, s.fail(op, err)
	}
	bs, err := collect(rows, func(sc scanner) (*store.NotificationBacklog, error) {
		var b store.NotificationBacklog
		var since int64
		err := sc.Scan(&b.Receiver, &b.Waiting, &since)
		b.Since = fromTS(since)
		return &b, err
	})
	if err != nil {
		return nil, s.fail(op, err)
	}
	out := make([]store.NotificationBacklog, len(bs))
	for i, b := range bs {
		out[i] = *b
		err := s.queryRow(ctx, s.db, `SELECT last_error FROM notifications
			WHERE delivered_at = 0 AND receiver = ? AND last_error <> '' ORDER BY next_attempt_at DESC LIMIT 1`,
			b.Receiver).Scan(&out[i].LastError)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, s.fail(op, err)
		}
	}
	return out, nil
}
