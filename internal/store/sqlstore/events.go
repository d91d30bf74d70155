package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

const eventCols = `uuid, connection_id, event_type, published, raw, via_hook, via_poll, received_at, dispatched_at`

func scanEvent(sc scanner) (*store.Event, error) {
	var e store.Event
	var raw []byte
	var published, received, dispatched, hook, poll int64
	if err := sc.Scan(&e.UUID, &e.ConnectionID, &e.EventType, &published, &raw, &hook, &poll, &received, &dispatched); err != nil {
		return nil, err
	}
	e.Raw = fromBlob(raw)
	e.Published, e.ReceivedAt, e.DispatchedAt = fromTS(published), fromTS(received), fromTS(dispatched)
	e.ReceivedVia = []string{}
	if hook != 0 {
		e.ReceivedVia = append(e.ReceivedVia, store.ViaHook)
	}
	if poll != 0 {
		e.ReceivedVia = append(e.ReceivedVia, store.ViaPoll)
	}
	return &e, nil
}

// PutEvents stores the events that are new and marks every one as
// received via via, in one transaction.
func (s *Store) PutEvents(ctx context.Context, events []*store.Event, via string) (int, error) {
	var col string
	switch via {
	case store.ViaHook:
		col = "via_hook"
	case store.ViaPoll:
		col = "via_poll"
	default:
		return 0, fmt.Errorf("store: put events: unknown way %q", via)
	}
	// In the order of their UUIDs: a server storing the same events in
	// another order (a hook delivery and a poll, each in the order it got
	// them) waits for this one instead of holding one of them while it
	// waits for another this one holds.
	events = slices.SortedFunc(slices.Values(events), func(a, b *store.Event) int { return strings.Compare(a.UUID, b.UUID) })
	tx, end, err := s.begin(ctx)
	if err != nil {
		return 0, s.fail("put events", err)
	}
	defer end()
	n := 0
	for _, e := range events {
		if e.UUID == "" || e.ConnectionID == "" {
			return 0, fmt.Errorf("store: put events: an event needs a UUID and a connection")
		}
		res, err := s.exec(ctx, tx, `INSERT INTO events (`+eventCols+`) VALUES (?, ?, ?, ?, ?, 0, 0, ?, 0)
			ON CONFLICT (uuid) DO NOTHING`,
			e.UUID, e.ConnectionID, e.EventType, ts(e.Published), blob(e.Raw), ts(e.ReceivedAt))
		if err != nil {
			return 0, s.fail("put events", err)
		}
		if k, err := res.RowsAffected(); err == nil && k > 0 {
			n++
		}
		if _, err := s.exec(ctx, tx, `UPDATE events SET `+col+` = 1 WHERE uuid = ? AND `+col+` = 0`, e.UUID); err != nil {
			return 0, s.fail("put events", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, s.fail("put events", err)
	}
	return n, nil
}

// NoteMalformedEvents records the keys not recorded yet and appends the
// audit event of those, in one transaction.
func (s *Store) NoteMalformedEvents(ctx context.Context, connectionID string, keys []string, at time.Time, audit func(fresh []string) *store.AuditEvent) error {
	// In order, as PutEvents: two servers noting the same events wait
	// for each other rather than each holding one the other needs.
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	err := s.write(ctx, func(ctx context.Context, ex execer) error {
		var fresh []string
		for _, k := range keys {
			res, err := s.exec(ctx, ex, `INSERT INTO malformed_events (connection_id, event_key, noted_at) VALUES (?, ?, ?)
				ON CONFLICT (connection_id, event_key) DO NOTHING`, connectionID, k, ts(at))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n > 0 {
				fresh = append(fresh, k)
			}
		}
		if e := audit(fresh); e != nil {
			return s.insertAudit(ctx, ex, e)
		}
		return nil
	})
	return s.fail("note malformed events", err)
}

// ListEvents returns events newest published first, with the flow runs
// each started.
func (s *Store) ListEvents(ctx context.Context, f store.EventFilter) ([]*store.Event, error) {
	var c conditions
	if len(f.ConnectionIDs) > 0 {
		c.sql = append(c.sql, "connection_id IN "+inList(len(f.ConnectionIDs)))
		for _, id := range f.ConnectionIDs {
			c.args = append(c.args, id)
		}
	}
	if f.UUID != "" {
		c.add("uuid = ?", f.UUID)
	}
	if f.Waiting {
		c.sql = append(c.sql, "dispatched_at = 0")
	}
	if !f.Before.IsZero() {
		c.add("published <= ?", ts(f.Before))
		c.sql = append(c.sql, "(published < ? OR uuid < ?)")
		c.args = append(c.args, ts(f.Before), f.BeforeUUID)
	}
	rows, err := s.query(ctx, s.db, `SELECT `+eventCols+` FROM events`+c.where()+
		` ORDER BY published DESC, uuid DESC LIMIT ?`, append(c.args, limitOr100(f.Limit))...)
	if err != nil {
		return nil, s.fail("list events", err)
	}
	out, err := collect(rows, scanEvent)
	if err != nil {
		return nil, s.fail("list events", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	byUUID := make(map[string]*store.Event, len(out))
	args := make([]any, 0, len(out))
	for _, e := range out {
		e.FlowRuns = []string{}
		byUUID[e.UUID] = e
		args = append(args, e.UUID)
	}
	q := `SELECT event_uuid, flow_run_id FROM event_runs WHERE event_uuid IN ` + inList(len(args)) + ` ORDER BY created_at, flow_run_id`
	runs, err := s.query(ctx, s.db, q, args...)
	if err != nil {
		return nil, s.fail("list events", err)
	}
	defer runs.Close()
	for runs.Next() {
		var uuid, run string
		if err := runs.Scan(&uuid, &run); err != nil {
			return nil, s.fail("list events", err)
		}
		byUUID[uuid].FlowRuns = append(byUUID[uuid].FlowRuns, run)
	}
	return out, s.fail("list events", runs.Err())
}

// UndispatchedEvents returns a connection's events not yet dispatched,
// oldest published first.
func (s *Store) UndispatchedEvents(ctx context.Context, connectionID string, after *store.Event, limit int) ([]*store.Event, error) {
	// From the start: every published time is after math.MinInt64 (the
	// least ts), and every uuid after "".
	from, fromUUID := int64(math.MinInt64), ""
	if after != nil {
		from, fromUUID = ts(after.Published), after.UUID
	}
	rows, err := s.query(ctx, s.db, `SELECT `+eventCols+` FROM events WHERE dispatched_at = 0 AND connection_id = ?
		AND (published > ? OR (published = ? AND uuid > ?))
		ORDER BY published, uuid LIMIT ?`, connectionID, from, from, fromUUID, limitOr100(limit))
	if err != nil {
		return nil, s.fail("undispatched events", err)
	}
	out, err := collect(rows, scanEvent)
	return out, s.fail("undispatched events", err)
}

// MarkEventDispatched records that every flow the event triggers has its
// run.
func (s *Store) MarkEventDispatched(ctx context.Context, uuid string, at time.Time) error {
	res, err := s.exec(ctx, s.db, `UPDATE events SET dispatched_at = ? WHERE uuid = ?`, ts(at), uuid)
	if err == nil {
		err = affected(res)
	}
	return s.fail(fmt.Sprintf("mark event %q dispatched", uuid), err)
}

// StartEventRun creates run as the one run the event starts for flowID:
// the marker row and the run commit together, or neither does.
func (s *Store) StartEventRun(ctx context.Context, eventUUID, flowID string, run *store.FlowRun) error {
	fillID(&run.ID)
	op := fmt.Sprintf("start run of flow %q for event %q", flowID, eventUUID)
	tx, end, err := s.begin(ctx)
	if err != nil {
		return s.fail(op, err)
	}
	defer end()
	if run.FlowVersion > 0 {
		// The flow as it was read when the run was built: still enabled,
		// and that version its latest. On PostgreSQL the flow's row keeps
		// until the commit (FOR SHARE): a disable or a new version waits
		// for this run, and one committed before is seen.
		var version int
		var enabled bool
		switch err := s.queryRow(ctx, tx, `SELECT version, enabled FROM flows WHERE id = ?`+s.d.ForShare, flowID).Scan(&version, &enabled); {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("store: %s: the flow was deleted: %w", op, store.ErrFlowChanged)
		case err != nil:
			return s.fail(op, err)
		case !enabled:
			return fmt.Errorf("store: %s: the flow was disabled: %w", op, store.ErrFlowChanged)
		case version != run.FlowVersion:
			return fmt.Errorf("store: %s: the flow's latest version is %d, not %d: %w", op, version, run.FlowVersion, store.ErrFlowChanged)
		}
	}
	res, err := s.exec(ctx, tx, `INSERT INTO event_runs (event_uuid, flow_id, flow_run_id, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (event_uuid, flow_id) DO NOTHING`, eventUUID, flowID, run.ID, ts(run.CreatedAt))
	if err != nil {
		return s.fail(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.fail(op, err)
	} else if n == 0 {
		return fmt.Errorf("store: %s: the event already started a run of the flow: %w", op, store.ErrConflict)
	}
	if err := s.insertFlowRun(ctx, tx, run); err != nil {
		return s.fail(op, err)
	}
	return s.fail(op, tx.Commit())
}

const eventSourceCols = `connection_id, poll_next, polled_at, hook_path, hook_id, sealed_secret, hook_types,
	hook_status, hook_reason, hook_remedy, updated_at, poll_error, poll_remedy, poll_failing_since, poll_alerted_at,
	poll_read_to, hook_failures, hook_retry_at, hook_retry_key, hook_outages`

func scanEventSource(sc scanner) (*store.EventSource, error) {
	var e store.EventSource
	var polled, updated, failing, alerted, readTo, retryAt int64
	var types string
	var secret []byte
	if err := sc.Scan(&e.ConnectionID, &e.PollNext, &polled, &e.HookPath, &e.HookID, &secret, &types,
		&e.HookStatus, &e.HookReason, &e.HookRemedy, &updated, &e.Poll.Error, &e.Poll.Remedy, &failing, &alerted, &readTo,
		&e.HookFailures, &retryAt, &e.HookRetryKey, &e.HookOutages); err != nil {
		return nil, err
	}
	e.SealedSecret = fromBlob(secret)
	e.PolledAt, e.UpdatedAt, e.HookRetryAt = fromTS(polled), fromTS(updated), fromTS(retryAt)
	e.Poll.FailingSince, e.Poll.AlertedAt, e.Poll.ReadTo = fromTS(failing), fromTS(alerted), fromTS(readTo)
	if types != "" {
		var err error
		if e.HookTypes, err = parseList(types); err != nil {
			return nil, err
		}
	}
	return &e, nil
}

// GetEventSource returns a connection's event source.
func (s *Store) GetEventSource(ctx context.Context, connectionID string) (*store.EventSource, error) {
	e, err := scanEventSource(s.queryRow(ctx, s.db, `SELECT `+eventSourceCols+` FROM event_sources WHERE connection_id = ?`, connectionID))
	if err != nil {
		return nil, s.fail(fmt.Sprintf("get event source %q", connectionID), err)
	}
	return e, nil
}

// ListEventSources returns every event source, by connection id.
func (s *Store) ListEventSources(ctx context.Context) ([]*store.EventSource, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+eventSourceCols+` FROM event_sources ORDER BY connection_id`)
	if err != nil {
		return nil, s.fail("list event sources", err)
	}
	out, err := collect(rows, scanEventSource)
	if err != nil {
		return nil, s.fail("list event sources", err)
	}
	return out, nil
}

// GetEventSourceByHookPath returns the event source whose hook has path.
func (s *Store) GetEventSourceByHookPath(ctx context.Context, hookPath string) (*store.EventSource, error) {
	if hookPath == "" {
		return nil, fmt.Errorf("store: get event source by hook path: %w", store.ErrNotFound)
	}
	e, err := scanEventSource(s.queryRow(ctx, s.db, `SELECT `+eventSourceCols+` FROM event_sources WHERE hook_path = ?`, hookPath))
	if err != nil {
		return nil, s.fail("get event source by hook path", err)
	}
	return e, nil
}

// SetPollCursor stores a connection's System Log next link, fenced by
// owner's poll lease (unless owner is "").
func (s *Store) SetPollCursor(ctx context.Context, connectionID, owner, next string, at time.Time) error {
	err := s.pollWrite(ctx, s.db, connectionID, owner, `INSERT INTO event_sources (connection_id, poll_next, polled_at, updated_at)
		SELECT ?, ?, ?, ? WHERE `, `
		ON CONFLICT (connection_id) DO UPDATE SET poll_next = excluded.poll_next, polled_at = excluded.polled_at,
		updated_at = excluded.updated_at`, connectionID, next, ts(at), ts(at))
	return s.fail(fmt.Sprintf("set poll cursor of %q", connectionID), err)
}

// SetPollStatus stores how a connection's last System Log poll fared and
// enqueues ns with it, fenced by owner's poll lease (unless owner is "").
func (s *Store) SetPollStatus(ctx context.Context, connectionID, owner string, st store.PollStatus, at time.Time, ns []*store.Notification) error {
	err := s.inTx(ctx, func(ctx context.Context, tx execer) error {
		if err := s.pollWrite(ctx, tx, connectionID, owner, `INSERT INTO event_sources (connection_id, poll_error, poll_remedy,
			poll_failing_since, poll_alerted_at, poll_read_to, updated_at)
			SELECT ?, ?, ?, ?, ?, ?, ? WHERE `, `
			ON CONFLICT (connection_id) DO UPDATE SET poll_error = excluded.poll_error, poll_remedy = excluded.poll_remedy,
			poll_failing_since = excluded.poll_failing_since, poll_alerted_at = excluded.poll_alerted_at,
			poll_read_to = excluded.poll_read_to, updated_at = excluded.updated_at`,
			connectionID, st.Error, st.Remedy, ts(st.FailingSince), ts(st.AlertedAt), ts(st.ReadTo), ts(at)); err != nil {
			return err
		}
		return s.insertNotifications(ctx, tx, ns)
	})
	return s.fail(fmt.Sprintf("set poll status of %q", connectionID), err)
}

// pollWrite runs the upsert of a connection's poll fields insert (an
// INSERT ... SELECT of args ending in WHERE) + the condition that owner
// holds the connection's poll lease (none when owner is "") + upsert (its
// ON CONFLICT clause): one statement, so that the check and the write are
// one step. On PostgreSQL the condition keeps the lease's row from changing
// until the transaction ends (FOR SHARE): a TryLease of another owner
// waits for the write to commit, and a write after one that committed
// sees the new owner and writes nothing. SQLite's writers take turns. A
// write that stored nothing is ErrLeaseLost.
func (s *Store) pollWrite(ctx context.Context, ex execer, connectionID, owner, insert, upsert string, args ...any) error {
	cond := "1 = 1"
	if owner != "" {
		cond = `EXISTS (SELECT 1 FROM leases WHERE name = ? AND owner = ?` + s.d.ForShare + `)`
		args = append(args, store.PollLease(connectionID), owner)
	}
	res, err := s.exec(ctx, ex, insert+cond+upsert, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 || owner == "" {
		return err
	}
	var holder string
	switch err := s.queryRow(ctx, ex, `SELECT owner FROM leases WHERE name = ?`, store.PollLease(connectionID)).Scan(&holder); {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("the System Log poll of %q is no longer held by %q: %w", connectionID, owner, store.ErrLeaseLost)
	case err != nil:
		return err
	}
	return fmt.Errorf("the System Log poll of %q is held by %q now, not %q: %w", connectionID, holder, owner, store.ErrLeaseLost)
}

// PutEventHook stores a connection's event hook fields and enqueues ns
// with them.
func (s *Store) PutEventHook(ctx context.Context, e *store.EventSource, ns ...*store.Notification) error {
	types := ""
	if e.HookTypes != nil {
		types = list(e.HookTypes)
	}
	err := s.inTx(ctx, func(ctx context.Context, tx execer) error {
		if _, err := s.exec(ctx, tx, `INSERT INTO event_sources (connection_id, hook_path, hook_id, sealed_secret, hook_types,
			hook_status, hook_reason, hook_remedy, hook_failures, hook_retry_at, hook_retry_key, hook_outages, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (connection_id) DO UPDATE SET hook_path = excluded.hook_path, hook_id = excluded.hook_id,
			sealed_secret = excluded.sealed_secret, hook_types = excluded.hook_types, hook_status = excluded.hook_status,
			hook_reason = excluded.hook_reason, hook_remedy = excluded.hook_remedy, hook_failures = excluded.hook_failures,
			hook_retry_at = excluded.hook_retry_at, hook_retry_key = excluded.hook_retry_key, hook_outages = excluded.hook_outages,
			updated_at = excluded.updated_at`,
			e.ConnectionID, e.HookPath, e.HookID, blob(e.SealedSecret), types, e.HookStatus, e.HookReason, e.HookRemedy,
			e.HookFailures, ts(e.HookRetryAt), e.HookRetryKey, e.HookOutages, ts(e.UpdatedAt)); err != nil {
			return err
		}
		return s.insertNotifications(ctx, tx, ns)
	})
	return s.fail(fmt.Sprintf("put event hook of %q", e.ConnectionID), err)
}

// DeleteEventSource removes a connection's event source.
func (s *Store) DeleteEventSource(ctx context.Context, connectionID string) error {
	res, err := s.exec(ctx, s.db, `DELETE FROM event_sources WHERE connection_id = ?`, connectionID)
	if err == nil {
		err = affected(res)
	}
	return s.fail(fmt.Sprintf("delete event source %q", connectionID), err)
}

// ReplaceEventSecret sets a source's sealed secret to resealed if it is
// still old, in one statement.
func (s *Store) ReplaceEventSecret(ctx context.Context, connectionID string, old, resealed []byte) error {
	res, err := s.exec(ctx, s.db, `UPDATE event_sources SET sealed_secret = ? WHERE connection_id = ? AND sealed_secret = ?`,
		blob(resealed), connectionID, blob(old))
	if err == nil {
		if err = affected(res); errors.Is(err, store.ErrNotFound) {
			if _, gerr := s.GetEventSource(ctx, connectionID); gerr == nil {
				err = store.ErrConflict
			}
		}
	}
	return s.fail(fmt.Sprintf("replace the event hook secret of %q", connectionID), err)
}
