package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

const flowCols = `id, name, source, created_at, updated_at, trigger_spec, enabled, next_run_at,
	enabled_by_type, enabled_by_login, enabled_by_token, version, stored_by_type, stored_by_login, stored_by_token`

func scanFlow(sc scanner) (*store.Flow, error) {
	var f store.Flow
	var created, updated, enabled, next int64
	var trigger string
	if err := sc.Scan(&f.ID, &f.Name, &f.Source, &created, &updated, &trigger, &enabled, &next,
		&f.EnabledBy.Type, &f.EnabledBy.Login, &f.EnabledBy.TokenName,
		&f.Version, &f.StoredBy.Type, &f.StoredBy.Login, &f.StoredBy.TokenName); err != nil {
		return nil, err
	}
	f.Source = fromBlob(f.Source)
	f.CreatedAt, f.UpdatedAt = fromTS(created), fromTS(updated)
	if trigger != "" {
		f.Trigger = []byte(trigger)
	}
	f.Enabled, f.NextRunAt = enabled != 0, fromTS(next)
	return &f, nil
}

// PutFlow stores f.Source as a new flow's version 1, or as the next
// version of the flow with the same name unless it is byte for byte the
// latest one's. The upsert's conditional update locks the flow's row, so
// concurrent stores of one name get consecutive versions; the flows row
// and its version row are written in one transaction. On a new version
// the stored ID and CreatedAt win, and the stored Enabled and NextRunAt
// too when the trigger is unchanged (else the flow is stored disabled).
// A new flow whose name folds as another's (name_key) is ErrConflict.
func (s *Store) PutFlow(ctx context.Context, f *store.Flow) (bool, error) {
	fillID(&f.ID)
	op := fmt.Sprintf("put flow %q", f.Name)
	in := *f
	added, err := s.putFlow(ctx, f)
	if err != nil && s.d.IsUniqueViolation != nil && s.d.IsUniqueViolation(err) {
		*f = in
		// On PostgreSQL the upsert checks its own key (name) before it
		// inserts and the others (name_key) as it does: two stores of one
		// new name at once may both find the name free, and the second
		// then fail on name_key once the first commits. Again, it finds
		// the first's flow and adds a version to it; a name that only
		// folds as another's fails again.
		added, err = s.putFlow(ctx, f)
	}
	if err != nil && s.d.IsUniqueViolation != nil && s.d.IsUniqueViolation(err) {
		return false, fmt.Errorf("store: %s: another flow has that name in other capitals: %w", op, store.ErrConflict)
	}
	if err != nil {
		return false, s.fail(op, err)
	}
	return added, nil
}

// putFlow is one attempt of PutFlow; its error is the driver's.
func (s *Store) putFlow(ctx context.Context, f *store.Flow) (bool, error) {
	sum := sha256.Sum256(f.Source)
	var added bool
	err := s.inTx(ctx, func(ctx context.Context, ex execer) error {
		stored, err := scanFlow(s.queryRow(ctx, ex, `INSERT INTO flows (`+flowCols+`, name_key)
			VALUES (?, ?, ?, ?, ?, ?, 0, 0, '', '', '', 1, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET source = excluded.source, updated_at = excluded.updated_at,
				enabled = CASE WHEN flows.trigger_spec = excluded.trigger_spec THEN flows.enabled ELSE 0 END,
				next_run_at = CASE WHEN flows.trigger_spec = excluded.trigger_spec THEN flows.next_run_at ELSE 0 END,
				trigger_spec = excluded.trigger_spec, version = flows.version + 1,
				stored_by_type = excluded.stored_by_type, stored_by_login = excluded.stored_by_login,
				stored_by_token = excluded.stored_by_token
			WHERE flows.source <> excluded.source
			RETURNING `+flowCols,
			f.ID, f.Name, blob(f.Source), ts(f.CreatedAt), ts(f.UpdatedAt), string(f.Trigger),
			f.StoredBy.Type, f.StoredBy.Login, f.StoredBy.TokenName, foldName(f.Name)))
		if errors.Is(err, sql.ErrNoRows) {
			// The latest version is this very source: nothing to store.
			stored, err = scanFlow(s.queryRow(ctx, ex, `SELECT `+flowCols+` FROM flows WHERE name = ?`, f.Name))
			if err != nil {
				return err
			}
			*f = *stored
			return nil
		}
		if err != nil {
			return err
		}
		*f, added = *stored, true
		_, err = s.exec(ctx, ex, `INSERT INTO flow_versions (flow_id, version, source, source_sha256, source_size,
			stored_at, stored_by_type, stored_by_login, stored_by_token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			f.ID, f.Version, blob(f.Source), hex.EncodeToString(sum[:]), len(f.Source), ts(f.UpdatedAt),
			f.StoredBy.Type, f.StoredBy.Login, f.StoredBy.TokenName)
		if err == nil {
			if fn := store.Locked(ctx); fn != nil {
				fn()
			}
		}
		return err
	})
	return added, err
}

const flowVersionCols = `flow_id, version, source_sha256, source_size, stored_at,
	stored_by_type, stored_by_login, stored_by_token`

// scanFlowVersion reads flowVersionCols and then src, the source when it
// was selected or when its hash must be computed (versions kept from
// before hashes were stored have none).
func scanFlowVersion(sc scanner) (*store.FlowVersion, error) {
	var v store.FlowVersion
	var stored int64
	var src []byte
	if err := sc.Scan(&v.FlowID, &v.Version, &v.SHA256, &v.Size, &stored,
		&v.StoredBy.Type, &v.StoredBy.Login, &v.StoredBy.TokenName, &src); err != nil {
		return nil, err
	}
	v.StoredAt = fromTS(stored)
	v.Source = fromBlob(src)
	if v.SHA256 == "" {
		sum := sha256.Sum256(v.Source)
		v.SHA256 = hex.EncodeToString(sum[:])
	}
	return &v, nil
}

// GetFlowVersion returns one version of a flow with its source.
func (s *Store) GetFlowVersion(ctx context.Context, flowID string, version int) (*store.FlowVersion, error) {
	v, err := scanFlowVersion(s.queryRow(ctx, s.db, `SELECT `+flowVersionCols+`, source FROM flow_versions
		WHERE flow_id = ? AND version = ?`, flowID, version))
	if err != nil {
		return nil, s.fail(fmt.Sprintf("get version %d of flow %q", version, flowID), err)
	}
	return v, nil
}

// ListFlowVersions returns a flow's versions, newest first, without their
// sources.
func (s *Store) ListFlowVersions(ctx context.Context, flowID string) ([]*store.FlowVersion, error) {
	op := fmt.Sprintf("list the versions of flow %q", flowID)
	rows, err := s.query(ctx, s.db, `SELECT `+flowVersionCols+`,
		CASE WHEN source_sha256 = '' THEN source ELSE NULL END FROM flow_versions
		WHERE flow_id = ? ORDER BY version DESC`, flowID)
	if err != nil {
		return nil, s.fail(op, err)
	}
	out, err := collect(rows, scanFlowVersion)
	if err != nil {
		return nil, s.fail(op, err)
	}
	if len(out) == 0 {
		return nil, s.fail(op, store.ErrNotFound) // every flow has a version 1
	}
	for _, v := range out {
		v.Source = nil
	}
	return out, nil
}

// SetFlowEnabled turns the flow on or off while its trigger is trigger.
func (s *Store) SetFlowEnabled(ctx context.Context, id string, trigger []byte, enabled bool, nextRunAt time.Time, by store.Actor) error {
	op := fmt.Sprintf("set flow %q enabled", id)
	if !enabled {
		nextRunAt = time.Time{}
	}
	res, err := s.exec(ctx, s.db, `UPDATE flows SET enabled = ?, next_run_at = ?,
		enabled_by_type = ?, enabled_by_login = ?, enabled_by_token = ? WHERE id = ? AND trigger_spec = ?`,
		boolInt(enabled), ts(nextRunAt), by.Type, by.Login, by.TokenName, id, string(trigger))
	if err == nil {
		err = affected(res)
	}
	if errors.Is(err, store.ErrNotFound) {
		if _, gerr := s.GetFlow(ctx, id); gerr == nil {
			return fmt.Errorf("store: %s: its trigger changed: %w", op, store.ErrConflict)
		}
	}
	return s.fail(op, err)
}

// ListDueFlows returns the enabled flows whose next tick has come.
func (s *Store) ListDueFlows(ctx context.Context, now time.Time, limit int) ([]*store.Flow, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+flowCols+` FROM flows
		WHERE next_run_at > 0 AND next_run_at <= ? AND enabled = 1 ORDER BY next_run_at, id LIMIT ?`,
		ts(now), limitOr100(limit))
	if err != nil {
		return nil, s.fail("list due flows", err)
	}
	out, err := collect(rows, scanFlow)
	return out, s.fail("list due flows", err)
}

// NextDueAt is the earliest next tick of the enabled flows.
func (s *Store) NextDueAt(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := s.queryRow(ctx, s.db, `SELECT MIN(next_run_at) FROM flows WHERE next_run_at > 0`).Scan(&next); err != nil {
		return time.Time{}, s.fail("next due flow", err)
	}
	return fromTS(next.Int64), nil
}

// AdvanceSchedule moves the flow's next tick from due to next and creates
// run, of the flow's latest version, in one transaction.
func (s *Store) AdvanceSchedule(ctx context.Context, id string, due, next time.Time, run *store.FlowRun) error {
	op := fmt.Sprintf("advance the schedule of flow %q", id)
	tx, end, err := s.begin(ctx)
	if err != nil {
		return s.fail(op, err)
	}
	defer end()
	q, args := `UPDATE flows SET next_run_at = ? WHERE id = ? AND next_run_at = ? AND enabled = 1`, []any{ts(next), id, ts(due)}
	if run != nil {
		// A version stored since the run was built (its trigger the
		// same, so the tick still due) is the one the tick must run.
		q, args = q+` AND version = ?`, append(args, run.FlowVersion)
	}
	res, err := s.exec(ctx, tx, q, args...)
	if err == nil {
		err = affected(res)
	}
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("store: %s: the tick %s is no longer due (or the flow has a newer version): %w", op, timetext.Format(due), store.ErrConflict)
	}
	if err != nil {
		return s.fail(op, err)
	}
	if run != nil {
		if err := s.insertFlowRun(ctx, tx, run); err != nil {
			return s.fail(op, err)
		}
	}
	return s.fail(op, tx.Commit())
}

// GetFlow finds a flow by id, or else by name.
func (s *Store) GetFlow(ctx context.Context, idOrName string) (*store.Flow, error) {
	f, err := scanFlow(s.queryRow(ctx, s.db, `SELECT `+flowCols+` FROM flows WHERE id = ? OR name = ?
		ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END LIMIT 1`, idOrName, idOrName, idOrName))
	if err != nil {
		return nil, s.fail(fmt.Sprintf("get flow %q", idOrName), err)
	}
	return f, nil
}

// ListFlows returns every flow ordered by name.
func (s *Store) ListFlows(ctx context.Context) ([]*store.Flow, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+flowCols+` FROM flows ORDER BY name`)
	if err != nil {
		return nil, s.fail("list flows", err)
	}
	out, err := collect(rows, scanFlow)
	return out, s.fail("list flows", err)
}

// ListFlowsPage returns a page of the flows by name ignoring case, then
// id, after the cursor of p; it reads the index flows_by_name.
func (s *Store) ListFlowsPage(ctx context.Context, p store.NamePage) ([]*store.Flow, error) {
	var c conditions
	c.afterName("lower(name)", p)
	rows, err := s.query(ctx, s.db, `SELECT `+flowCols+` FROM flows`+c.where()+
		` ORDER BY lower(name), id LIMIT ?`, append(c.args, limitOr100(p.Limit))...)
	if err != nil {
		return nil, s.fail("list flows", err)
	}
	out, err := collect(rows, scanFlow)
	return out, s.fail("list flows", err)
}

// DeleteFlow removes the flow with id and its versions; its runs stay.
func (s *Store) DeleteFlow(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(ctx context.Context, ex execer) error {
		res, err := s.exec(ctx, ex, `DELETE FROM flows WHERE id = ?`, id)
		if err == nil {
			err = affected(res)
		}
		if err != nil {
			return err
		}
		_, err = s.exec(ctx, ex, `DELETE FROM flow_versions WHERE flow_id = ?`, id)
		return err
	})
	return s.fail(fmt.Sprintf("delete flow %q", id), err)
}

const flowRunCols = `id, flow_id, flow_name, source, inputs, status, caller, error,
	owner, lease_until, created_at, started_at, finished_at, trigger_info, trigger_key, cancel_requested_at,
	actor_type, actor_login, actor_token, flow_version, rerun_of, failure,
	cancel_actor_type, cancel_actor_login, cancel_actor_token, cancel_reason,
	rerun_when_active, rerun_connection, rerun_by, rerun_skipped`

func scanFlowRun(sc scanner) (*store.FlowRun, error) {
	var r store.FlowRun
	var inputs, trigger, key sql.NullString
	var lease, created, started, finished, cancel int64
	var caller string // the actor as text, kept for readers of the table
	if err := sc.Scan(&r.ID, &r.FlowID, &r.FlowName, &r.Source, &inputs, &r.Status, &caller, &r.Error,
		&r.Owner, &lease, &created, &started, &finished, &trigger, &key, &cancel, &r.Actor.Type, &r.Actor.Login, &r.Actor.TokenName,
		&r.FlowVersion, &r.RerunOf, &r.Failure,
		&r.CancelRequestedBy.Type, &r.CancelRequestedBy.Login, &r.CancelRequestedBy.TokenName, &r.CancelReason,
		&r.RerunWhenActive, &r.RerunConnection, &r.RerunBy, &r.RerunSkipped); err != nil {
		return nil, err
	}
	r.CancelRequestedAt = fromTS(cancel)
	r.Source = fromBlob(r.Source)
	r.Inputs = fromRaw(inputs)
	r.Trigger, r.TriggerKey = fromRaw(trigger), key.String
	r.LeaseUntil, r.CreatedAt = fromTS(lease), fromTS(created)
	r.StartedAt, r.FinishedAt = fromTS(started), fromTS(finished)
	return &r, nil
}

// CreateFlowRun inserts r, filling in an empty ID.
func (s *Store) CreateFlowRun(ctx context.Context, r *store.FlowRun) error {
	if r.SessionID == "" && r.TokenID == "" {
		return s.fail("create flow run", s.insertFlowRun(ctx, s.db, r))
	}
	return s.fail("create flow run", s.inTx(ctx, func(ctx context.Context, tx execer) error {
		if err := s.grantedBy(ctx, tx, "", r.Actor.Login, r.SessionID, r.TokenID); err != nil {
			return err
		}
		return s.insertFlowRun(ctx, tx, r)
	}))
}

func (s *Store) insertFlowRun(ctx context.Context, ex execer, r *store.FlowRun) error {
	fillID(&r.ID)
	var key any // NULL: runs without a key never conflict
	if r.TriggerKey != "" {
		key = r.TriggerKey
	}
	_, err := s.exec(ctx, ex, `INSERT INTO flow_runs (`+flowRunCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.FlowID, r.FlowName, blob(r.Source), raw(r.Inputs), r.Status, r.Actor.String(), r.Error,
		r.Owner, ts(r.LeaseUntil), ts(r.CreatedAt), ts(r.StartedAt), ts(r.FinishedAt), raw(r.Trigger), key,
		ts(r.CancelRequestedAt), r.Actor.Type, r.Actor.Login, r.Actor.TokenName, r.FlowVersion, r.RerunOf, r.Failure,
		r.CancelRequestedBy.Type, r.CancelRequestedBy.Login, r.CancelRequestedBy.TokenName, r.CancelReason,
		r.RerunWhenActive, r.RerunConnection, r.RerunBy, r.RerunSkipped)
	return err
}

// CreateFlowRunFrom inserts r and copies into it the items of fromRunID
// whose status is in keep, in one transaction. A copied item keeps its
// card run reference and its output, which it stores itself: the copy
// outlives a purge of the run it came from. A fromRunID waiting for its
// connection (rerun_when_active) is rerun by r, its wait ended.
func (s *Store) CreateFlowRunFrom(ctx context.Context, r *store.FlowRun, fromRunID string, keep []string) (int, error) {
	var n int
	err := s.inTx(ctx, func(ctx context.Context, ex execer) error {
		if err := s.grantedBy(ctx, ex, "", r.Actor.Login, r.SessionID, r.TokenID); err != nil {
			return err
		}
		fillID(&r.ID)
		if _, err := s.claimRerun(ctx, ex, fromRunID, r.ID); err != nil {
			return err
		}
		var err error
		n, err = s.insertFlowRunFrom(ctx, ex, r, fromRunID, keep)
		return err
	})
	return n, s.fail(fmt.Sprintf("create flow run from %q", fromRunID), err)
}

// claimRerun sets run id's rerun_by to by while it waits for its
// connection, reporting whether it did.
func (s *Store) claimRerun(ctx context.Context, ex execer, id, by string) (bool, error) {
	res, err := s.exec(ctx, ex, `UPDATE flow_runs SET rerun_by = ?
		WHERE id = ? AND rerun_when_active <> '' AND rerun_by = '' AND rerun_skipped = ''`, by, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// insertFlowRunFrom inserts r and copies into it the items of fromRunID
// whose status is in keep, returning how many it copied.
func (s *Store) insertFlowRunFrom(ctx context.Context, ex execer, r *store.FlowRun, fromRunID string, keep []string) (int, error) {
	if err := s.insertFlowRun(ctx, ex, r); err != nil {
		return 0, err
	}
	if len(keep) == 0 {
		return 0, nil
	}
	args := []any{r.ID, fromRunID}
	for _, k := range keep {
		args = append(args, k)
	}
	res, err := s.exec(ctx, ex, `INSERT INTO flow_items (run_id, step_id, item_index, status, input, output,
			error_code, error, run_ref, started_at, finished_at, output_in_run, device_name)
		SELECT ?, fi.step_id, fi.item_index, fi.status, fi.input,
			CASE WHEN fi.output_in_run = 1 THEN r.output ELSE fi.output END,
			fi.error_code, fi.error, fi.run_ref, fi.started_at, fi.finished_at, 0, fi.device_name`+flowItemJoin+`
		WHERE fi.run_id = ? AND fi.status IN `+inList(len(keep)), args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ListRerunsWaiting returns the failed runs of flowID ("": of every flow)
// waiting for their connection, oldest first, through the index
// flow_runs_rerun_waiting.
func (s *Store) ListRerunsWaiting(ctx context.Context, flowID string, after *store.FlowRun, limit int) ([]*store.FlowRun, error) {
	q, args := ``, []any{}
	if flowID != "" {
		q, args = ` AND flow_id = ?`, append(args, flowID)
	}
	if after != nil {
		q += ` AND (created_at > ? OR created_at = ? AND id > ?)`
		args = append(args, ts(after.CreatedAt), ts(after.CreatedAt), after.ID)
	}
	rows, err := s.query(ctx, s.db, `SELECT `+flowRunCols+` FROM flow_runs
		WHERE rerun_when_active <> '' AND rerun_by = '' AND rerun_skipped = ''`+q+` ORDER BY created_at, id LIMIT ?`, append(args, limitOr100(limit))...)
	if err != nil {
		return nil, s.fail("list the flow runs waiting for their connection", err)
	}
	out, err := collect(rows, scanFlowRun)
	return out, s.fail("list the flow runs waiting for their connection", err)
}

// ClaimRerun creates r, the automatic rerun of fromRunID, once: the
// conditional update of fromRunID's rerun_by decides between servers
// (PostgreSQL's row lock makes a second claim wait, then find it set).
func (s *Store) ClaimRerun(ctx context.Context, r *store.FlowRun, fromRunID string, keep []string, event func(*store.FlowRun) *store.AuditEvent) (int, error) {
	op := fmt.Sprintf("rerun flow run %q", fromRunID)
	var n int
	err := s.inTx(ctx, func(ctx context.Context, ex execer) error {
		var enabled bool
		switch err := s.queryRow(ctx, ex, `SELECT enabled FROM flows WHERE id = ?`+s.d.ForShare, r.FlowID).Scan(&enabled); {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("store: %s: the flow was deleted: %w", op, store.ErrFlowChanged)
		case err != nil:
			return err
		case !enabled:
			return fmt.Errorf("store: %s: the flow was disabled: %w", op, store.ErrFlowChanged)
		}
		fillID(&r.ID)
		switch ok, err := s.claimRerun(ctx, ex, fromRunID, r.ID); {
		case err != nil:
			return err
		case !ok:
			return fmt.Errorf("store: %s: it was rerun or skipped already, or waits for nothing: %w", op, store.ErrConflict)
		}
		var err error
		if n, err = s.insertFlowRunFrom(ctx, ex, r, fromRunID, keep); err != nil {
			return err
		}
		if event != nil {
			return s.insertAudit(ctx, ex, event(r))
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return 0, err
	}
	return n, s.fail(op, err)
}

// PendingReruns returns, by flow id, a run waiting for its connection
// or an automatic rerun not finished yet.
func (s *Store) PendingReruns(ctx context.Context) (map[string]string, error) {
	rows, err := s.query(ctx, s.db, `SELECT flow_id, id FROM flow_runs
			WHERE rerun_when_active <> '' AND rerun_by = '' AND rerun_skipped = ''
		UNION ALL SELECT flow_id, id FROM flow_runs
			WHERE status IN ('queued', 'running') AND rerun_of <> '' AND actor_type = ?`, store.ActorServer)
	if err != nil {
		return nil, s.fail("read the flow runs to run again", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var flowID, id string
		if err := rows.Scan(&flowID, &id); err != nil {
			return nil, s.fail("read the flow runs to run again", err)
		}
		if out[flowID] == "" {
			out[flowID] = id
		}
	}
	return out, s.fail("read the flow runs to run again", rows.Err())
}

// SkipRerun sets run id's rerun_skipped to why while it waits for its
// connection.
func (s *Store) SkipRerun(ctx context.Context, id, why string) error {
	res, err := s.exec(ctx, s.db, `UPDATE flow_runs SET rerun_skipped = ?
		WHERE id = ? AND rerun_when_active <> '' AND rerun_by = '' AND rerun_skipped = ''`, why, id)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = fmt.Errorf("flow run %q waits for no connection: %w", id, store.ErrConflict)
		}
	}
	return s.fail(fmt.Sprintf("skip the rerun of flow run %q", id), err)
}

// FindFlowRun returns the run of flowID started by triggerKey.
func (s *Store) FindFlowRun(ctx context.Context, flowID, triggerKey string) (*store.FlowRun, error) {
	r, err := scanFlowRun(s.queryRow(ctx, s.db, `SELECT `+flowRunCols+` FROM flow_runs WHERE flow_id = ? AND trigger_key = ?`,
		flowID, triggerKey))
	if err != nil {
		return nil, s.fail(fmt.Sprintf("find flow run %q of flow %q", triggerKey, flowID), err)
	}
	return r, nil
}

// LatestScheduleRun returns the run flowID's schedule started last. It
// reads the flow's runs newest first through flow_runs_flow (flow_id,
// created_at) and stops at the first schedule run.
func (s *Store) LatestScheduleRun(ctx context.Context, flowID string) (*store.FlowRun, error) {
	r, err := scanFlowRun(s.queryRow(ctx, s.db, `SELECT `+flowRunCols+` FROM flow_runs
		WHERE flow_id = ? AND trigger_key LIKE 'schedule:%' ORDER BY created_at DESC LIMIT 1`, flowID))
	if err != nil {
		return nil, s.fail(fmt.Sprintf("find the latest schedule run of flow %q", flowID), err)
	}
	return r, nil
}

// FailureStreak counts the failed runs of f.FlowID since its last run
// that ran well. Both parts walk the flow's runs by creation time from
// the newest back, so the work is bounded by the streak's length.
func (s *Store) FailureStreak(ctx context.Context, f store.StreakFilter) (store.Streak, error) {
	breaks, counts := `status = 'succeeded'`, `status = 'failed'`
	var same []any
	if f.SameFailure != nil {
		breaks = `(status = 'succeeded' OR (status = 'failed' AND failure <> ?))`
		counts = `status = 'failed' AND failure = ?`
		same = []any{*f.SameFailure}
	}
	of := []any{f.FlowID, ts(f.CreatedBefore), f.ExcludeID}
	args := append(append(append(append([]any{}, of...), same...), of...), same...)
	var n, first, last int64
	err := s.queryRow(ctx, s.db, `SELECT COUNT(*), COALESCE(MIN(finished_at), 0), COALESCE(MAX(finished_at), 0) FROM flow_runs
		WHERE flow_id = ? AND created_at < ? AND id <> ? AND finished_at > 0 AND `+counts+`
		AND created_at > COALESCE((SELECT created_at FROM flow_runs
			WHERE flow_id = ? AND created_at < ? AND id <> ? AND finished_at > 0 AND `+breaks+`
			ORDER BY created_at DESC LIMIT 1), 0)`, args...).Scan(&n, &first, &last)
	if err != nil {
		return store.Streak{}, s.fail(fmt.Sprintf("read the failed runs of flow %q", f.FlowID), err)
	}
	return store.Streak{Runs: int(n), First: fromTS(first), Last: fromTS(last)}, nil
}

// UpdateFlowRun writes every field of r except Owner and LeaseUntil, which
// only ClaimFlowRun and RenewFlowRunLease change; when r.Owner is set,
// only while that owner still holds the run (ErrLeaseLost).
func (s *Store) UpdateFlowRun(ctx context.Context, r *store.FlowRun) error {
	return s.fail(fmt.Sprintf("update flow run %q", r.ID), s.updateFlowRun(ctx, s.db, r))
}

// FinishFlowRun stores an ended run's outcome with its audit event and
// notifications, and ends its lease; when r.Owner is set, only while that
// owner still holds the run. The cancel request is read into r after the
// run's row is written: on PostgreSQL the write locks the row, so a
// request committed before is seen and one made after waits for the
// commit and finds the run ended; SQLite's writers take turns.
func (s *Store) FinishFlowRun(ctx context.Context, r *store.FlowRun, event func(*store.FlowRun) *store.AuditEvent, ns []*store.Notification) error {
	err := s.write(ctx, func(ctx context.Context, ex execer) error {
		if err := s.updateFlowRun(ctx, ex, r); err != nil {
			return err
		}
		// An ended run is claimed by no one: its lease ends with it.
		if _, err := s.exec(ctx, ex, `UPDATE flow_runs SET lease_until = 0 WHERE id = ?`, r.ID); err != nil {
			return err
		}
		r.LeaseUntil = time.Time{}
		var asked int64
		if err := s.queryRow(ctx, ex, `SELECT cancel_requested_at, cancel_actor_type, cancel_actor_login, cancel_actor_token, cancel_reason
			FROM flow_runs WHERE id = ?`, r.ID).Scan(&asked, &r.CancelRequestedBy.Type, &r.CancelRequestedBy.Login,
			&r.CancelRequestedBy.TokenName, &r.CancelReason); err != nil {
			return err
		}
		r.CancelRequestedAt = fromTS(asked)
		if err := s.insertAudit(ctx, ex, event(r)); err != nil {
			return err
		}
		return s.insertNotifications(ctx, ex, ns)
	})
	return s.fail(fmt.Sprintf("finish flow run %q", r.ID), err)
}

// updateFlowRun writes r, fenced by r.Owner when it is set: a server
// whose lease lapsed and whose run another server has claimed since must
// not overwrite what that server is doing. The condition on the owner is
// checked again on PostgreSQL after a concurrent claim commits.
func (s *Store) updateFlowRun(ctx context.Context, ex execer, r *store.FlowRun) error {
	q := `UPDATE flow_runs SET flow_id = ?, flow_name = ?, source = ?, inputs = ?,
		status = ?, caller = ?, error = ?, created_at = ?, started_at = ?, finished_at = ?,
		actor_type = ?, actor_login = ?, actor_token = ?, flow_version = ?, rerun_of = ?, failure = ?,
		rerun_when_active = ?, rerun_connection = ? WHERE id = ?`
	args := []any{r.FlowID, r.FlowName, blob(r.Source), raw(r.Inputs), r.Status, r.Actor.String(), r.Error,
		ts(r.CreatedAt), ts(r.StartedAt), ts(r.FinishedAt), r.Actor.Type, r.Actor.Login, r.Actor.TokenName,
		r.FlowVersion, r.RerunOf, r.Failure, r.RerunWhenActive, r.RerunConnection, r.ID}
	if r.Owner != "" {
		q += ` AND owner = ?`
		args = append(args, r.Owner)
	}
	res, err := s.exec(ctx, ex, q, args...)
	if err == nil {
		err = affected(res)
	}
	if errors.Is(err, store.ErrNotFound) && r.Owner != "" {
		return s.notHeld(ctx, ex, r.ID)
	}
	return err
}

// heldBy is the SQL condition that the flow run of the first argument is
// held by the owner of the second: the fence of a write made for a run's
// owner. On PostgreSQL it keeps the run's row from changing until the
// transaction ends (FOR SHARE), so that no claim commits between the
// check and the commit of the write it guards; a claim committed before
// is seen (the check waits for it). SQLite's writers take turns.
func (s *Store) heldBy() string {
	return `EXISTS (SELECT 1 FROM flow_runs WHERE id = ? AND owner = ?` + s.d.ForShare + `)`
}

// notHeld is the error of a fenced write of flow run runID that wrote
// nothing: ErrLeaseLost when the run is held by another owner,
// ErrNotFound when there is no such run.
func (s *Store) notHeld(ctx context.Context, ex execer, runID string) error {
	var owner string
	if err := s.queryRow(ctx, ex, `SELECT owner FROM flow_runs WHERE id = ?`, runID).Scan(&owner); err != nil {
		return err
	}
	return fmt.Errorf("flow run %q is held by %q now: %w", runID, owner, store.ErrLeaseLost)
}

// GetFlowRun returns the flow run with id.
func (s *Store) GetFlowRun(ctx context.Context, id string) (*store.FlowRun, error) {
	r, err := scanFlowRun(s.queryRow(ctx, s.db, `SELECT `+flowRunCols+` FROM flow_runs WHERE id = ?`, id))
	if err != nil {
		return nil, s.fail(fmt.Sprintf("get flow run %q", id), err)
	}
	return r, nil
}

// ListFlowRuns returns the runs of flowID (of every flow when empty),
// newest first (by CreatedAt, then ID); limit 0 means 100.
func (s *Store) ListFlowRuns(ctx context.Context, flowID string, limit int) ([]*store.FlowRun, error) {
	return s.ListFlowRunsPage(ctx, store.FlowRunFilter{FlowID: flowID, Limit: limit})
}

// ListFlowRunsPage lists flow runs newest first, after a cursor.
func (s *Store) ListFlowRunsPage(ctx context.Context, f store.FlowRunFilter) ([]*store.FlowRun, error) {
	var c conditions
	if f.FlowID != "" {
		c.add("flow_id = ?", f.FlowID)
	}
	if f.FlowName != "" {
		c.add("flow_name = ?", f.FlowName)
	}
	if f.Unfinished {
		c.sql = append(c.sql, "status IN ('queued', 'running')")
	}
	if f.Status != "" {
		c.add("status = ?", f.Status)
	}
	if !f.Before.IsZero() {
		c.add("created_at <= ?", ts(f.Before))
		c.sql = append(c.sql, "(created_at < ? OR id < ?)")
		c.args = append(c.args, ts(f.Before), f.BeforeID)
	}
	rows, err := s.query(ctx, s.db, `SELECT `+flowRunCols+` FROM flow_runs`+c.where()+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, append(c.args, limitOr100(f.Limit))...)
	if err != nil {
		return nil, s.fail("list flow runs", err)
	}
	out, err := collect(rows, scanFlowRun)
	return out, s.fail("list flow runs", err)
}

// ClaimFlowRun leases the oldest claimable run to owner in one statement.
// A run is claimable when it is "queued" or "running" and nobody holds an
// unexpired lease on it. On PostgreSQL the sub-select locks the chosen row
// and skips rows other claimers hold; SQLite runs one writer at a time.
func (s *Store) ClaimFlowRun(ctx context.Context, owner string, ttl time.Duration, now time.Time) (*store.FlowRun, error) {
	r, err := scanFlowRun(s.queryRow(ctx, s.db, `UPDATE flow_runs SET owner = ?, lease_until = ?
		WHERE id = (SELECT id FROM flow_runs
			WHERE status IN ('queued', 'running') AND lease_until <= ?
			ORDER BY created_at, id LIMIT 1`+s.d.SkipLocked+`)
		AND status IN ('queued', 'running') AND lease_until <= ?
		RETURNING `+flowRunCols,
		owner, ts(now.Add(ttl)), ts(now), ts(now)))
	if err != nil {
		return nil, s.fail("claim flow run", err)
	}
	return r, nil
}

// RenewFlowRunLease extends the lease while owner still holds it (even
// past its expiry, as long as nobody else claimed the run).
func (s *Store) RenewFlowRunLease(ctx context.Context, runID, owner string, ttl time.Duration, now time.Time) error {
	op := fmt.Sprintf("renew lease of flow run %q", runID)
	res, err := s.exec(ctx, s.db, `UPDATE flow_runs SET lease_until = ? WHERE id = ? AND owner = ?`,
		ts(now.Add(ttl)), runID, owner)
	if err == nil {
		err = affected(res)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return s.fail(op, err)
	}
	var holder string
	if err := s.queryRow(ctx, s.db, `SELECT owner FROM flow_runs WHERE id = ?`, runID).Scan(&holder); err != nil {
		return s.fail(op, err)
	}
	return fmt.Errorf("store: %s: %q holds it now: %w", op, holder, store.ErrConflict)
}

// CancelFlowRun asks the run to stop in one statement: a queued run that
// no server holds ends canceled at once, its owner cleared; otherwise the
// request (when, by whom, why) is noted for the run's owner, the first
// request kept. A run already canceled comes back as it is, read in the
// same transaction. The request's audit event (asked's), and that of a
// run it ended (ended's), are stored in that transaction.
func (s *Store) CancelFlowRun(ctx context.Context, id string, by store.Actor, reason string, now time.Time, asked, ended func(*store.FlowRun) *store.AuditEvent) (*store.FlowRun, error) {
	op := fmt.Sprintf("cancel flow run %q", id)
	var r *store.FlowRun
	requested := false // the run was queued or running: the statement asked it to stop
	err := s.write(ctx, func(ctx context.Context, ex execer) error {
		// Every SET expression reads the row as it was before the
		// statement.
		var err error
		r, err = scanFlowRun(s.queryRow(ctx, ex, `UPDATE flow_runs SET
			status = CASE WHEN status = 'queued' AND lease_until <= ? THEN 'canceled' ELSE status END,
			finished_at = CASE WHEN status = 'queued' AND lease_until <= ? THEN ? ELSE finished_at END,
			owner = CASE WHEN status = 'queued' AND lease_until <= ? THEN '' ELSE owner END,
			cancel_requested_at = CASE WHEN cancel_requested_at = 0 THEN ? ELSE cancel_requested_at END,
			cancel_actor_type = CASE WHEN cancel_requested_at = 0 THEN ? ELSE cancel_actor_type END,
			cancel_actor_login = CASE WHEN cancel_requested_at = 0 THEN ? ELSE cancel_actor_login END,
			cancel_actor_token = CASE WHEN cancel_requested_at = 0 THEN ? ELSE cancel_actor_token END,
			cancel_reason = CASE WHEN cancel_requested_at = 0 THEN ? ELSE cancel_reason END
		WHERE id = ? AND status IN ('queued', 'running')
		RETURNING `+flowRunCols,
			ts(now), ts(now), ts(now), ts(now), ts(now), by.Type, by.Login, by.TokenName, reason, id))
		requested = err == nil
		if errors.Is(err, sql.ErrNoRows) {
			// It ended before (an ended run stays as it ended), or is
			// unknown.
			r, err = scanFlowRun(s.queryRow(ctx, ex, `SELECT `+flowRunCols+` FROM flow_runs WHERE id = ?`, id))
			if errors.Is(err, sql.ErrNoRows) {
				r = nil
				return nil
			}
		}
		if err != nil {
			return err
		}
		if !requested && r.Status != store.FlowRunCanceled {
			return nil // it ended otherwise: refused, and not audited
		}
		if asked != nil {
			if e := asked(r); e != nil {
				if err := s.insertAudit(ctx, ex, e); err != nil {
					return err
				}
			}
		}
		// Canceled now, by this statement.
		if requested && r.Status == store.FlowRunCanceled && ended != nil {
			if e := ended(r); e != nil {
				return s.insertAudit(ctx, ex, e)
			}
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, s.fail(op, err)
	case r == nil:
		return nil, s.fail(op, sql.ErrNoRows)
	case !requested && r.Status != store.FlowRunCanceled:
		return r, fmt.Errorf("store: %s: it already ended %s: %w", op, r.Status, store.ErrConflict)
	}
	return r, nil
}

const flowStepCols = `run_id, step_id, status, items, succeeded, failed, skipped,
	output, error, started_at, finished_at, changed`

// PutFlowStep creates or replaces the step's state, fenced by owner
// (unless ""). Steps keep the order in which they were first put.
func (s *Store) PutFlowStep(ctx context.Context, owner string, step *store.FlowStep) error {
	cond, fence := s.fence(owner, step.RunID)
	// The row is a SELECT's, so that the fence's condition can keep it
	// from being written: an upsert writes nothing then.
	res, err := s.exec(ctx, s.db, `INSERT INTO flow_steps (`+flowStepCols+`, seq)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			(SELECT COALESCE(MAX(seq), 0) + 1 FROM flow_steps WHERE run_id = ?)
		WHERE `+cond+`
		ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, items = excluded.items,
			succeeded = excluded.succeeded, failed = excluded.failed, skipped = excluded.skipped,
			output = excluded.output, error = excluded.error,
			started_at = excluded.started_at, finished_at = excluded.finished_at, changed = excluded.changed`,
		append([]any{step.RunID, step.StepID, step.Status, step.Items, step.Succeeded, step.Failed, step.Skipped,
			raw(step.Output), step.Error, ts(step.StartedAt), ts(step.FinishedAt), nullInt(step.Changed), step.RunID}, fence...)...)
	if err == nil && owner != "" {
		if err = affected(res); errors.Is(err, store.ErrNotFound) {
			err = s.notHeld(ctx, s.db, step.RunID)
		}
	}
	return s.fail(fmt.Sprintf("put flow step %q", step.StepID), err)
}

// nullInt is n as a column value: NULL for nil.
func nullInt(n *int) any {
	if n == nil {
		return nil
	}
	return *n
}

// fence is the condition (and its arguments) that a write for owner of
// flow run runID is made while owner holds it; with no owner, none.
func (s *Store) fence(owner, runID string) (string, []any) {
	if owner == "" {
		return "1 = 1", nil
	}
	return s.heldBy(), []any{runID, owner}
}

// ListFlowSteps returns the run's steps in the order they were first put.
func (s *Store) ListFlowSteps(ctx context.Context, runID string) ([]*store.FlowStep, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+flowStepCols+` FROM flow_steps WHERE run_id = ?
		ORDER BY seq, step_id`, runID)
	if err != nil {
		return nil, s.fail("list flow steps", err)
	}
	out, err := collect(rows, func(sc scanner) (*store.FlowStep, error) {
		var step store.FlowStep
		var output sql.NullString
		var started, finished int64
		var changed sql.NullInt64
		if err := sc.Scan(&step.RunID, &step.StepID, &step.Status, &step.Items, &step.Succeeded, &step.Failed, &step.Skipped,
			&output, &step.Error, &started, &finished, &changed); err != nil {
			return nil, err
		}
		if changed.Valid {
			n := int(changed.Int64)
			step.Changed = &n
		}
		step.Output = fromRaw(output)
		step.StartedAt, step.FinishedAt = fromTS(started), fromTS(finished)
		return &step, nil
	})
	return out, s.fail("list flow steps", err)
}

// qInsertFlowItem stores an item whose output is byte for byte its card
// run's output once: the item keeps NULL and output_in_run = 1, and reads
// take the run's (the comparison happens in the database).
const qInsertFlowItem = `INSERT INTO flow_items (run_id, step_id, item_index, status, input, output,
		error_code, error, run_ref, started_at, finished_at, output_in_run, device_name)
	VALUES (?, ?, ?, ?, ?,
		CASE WHEN EXISTS (SELECT 1 FROM runs WHERE id = ? AND output = ?) THEN NULL ELSE ? END,
		?, ?, ?, ?, ?,
		CASE WHEN EXISTS (SELECT 1 FROM runs WHERE id = ? AND output = ?) THEN 1 ELSE 0 END, ?)`

// qInsertFlowItemHeld is qInsertFlowItem for the flow run's owner, to be
// followed by the condition heldBy (see Store.queries): the row is a
// SELECT's, which the condition keeps from being written.
const qInsertFlowItemHeld = `INSERT INTO flow_items (run_id, step_id, item_index, status, input, output,
		error_code, error, run_ref, started_at, finished_at, output_in_run, device_name)
	SELECT ?, ?, ?, ?, ?,
		CASE WHEN EXISTS (SELECT 1 FROM runs WHERE id = ? AND output = ?) THEN NULL ELSE ? END,
		?, ?, ?, ?, ?,
		CASE WHEN EXISTS (SELECT 1 FROM runs WHERE id = ? AND output = ?) THEN 1 ELSE 0 END, ?
	WHERE `

// flowItemCols reads an item, its output from its card run when it is
// kept there (fi is flow_items, r the LEFT JOINed runs of flowItemJoin).
const flowItemCols = `fi.run_id, fi.step_id, fi.item_index, fi.status, fi.input,
	CASE WHEN fi.output_in_run = 1 THEN r.output ELSE fi.output END, fi.error_code, fi.error,
	fi.run_ref, fi.started_at, fi.finished_at, fi.device_name`

const flowItemJoin = ` FROM flow_items fi LEFT JOIN runs r ON fi.output_in_run = 1 AND r.id = fi.run_ref `

// PutFlowItem records a finished item once, fenced by owner (unless ""); a
// second record of the same (run, step, index) is ErrConflict.
func (s *Store) PutFlowItem(ctx context.Context, owner string, it *store.FlowItem) error {
	err := s.write(ctx, func(ctx context.Context, ex execer) error { return s.insertFlowItem(ctx, ex, owner, it) })
	return s.fail(fmt.Sprintf("put flow item %s/%d", it.StepID, it.Index), err)
}

// PutFlowItems records items in one transaction, all or none; one of
// them recorded before is ErrConflict.
func (s *Store) PutFlowItems(ctx context.Context, owner string, items []*store.FlowItem) error {
	err := s.write(ctx, func(ctx context.Context, ex execer) error {
		for _, it := range items {
			if err := s.insertFlowItem(ctx, ex, owner, it); err != nil {
				return err
			}
		}
		return nil
	})
	return s.fail(fmt.Sprintf("put %d flow items", len(items)), err)
}

// insertFlowItem inserts it, fenced by owner (unless ""): the fence is a
// condition of the insert itself, no statement of its own.
func (s *Store) insertFlowItem(ctx context.Context, ex execer, owner string, it *store.FlowItem) error {
	out := raw(it.Output)
	args := []any{it.RunID, it.StepID, it.Index, it.Status, raw(it.Input), it.RunRef, out, out, it.ErrorCode, it.Error,
		it.RunRef, ts(it.StartedAt), ts(it.FinishedAt), it.RunRef, out, it.DeviceName}
	if owner == "" {
		_, err := s.exec(ctx, ex, qInsertFlowItem, args...)
		return err
	}
	res, err := s.exec(ctx, ex, s.q.insertFlowItemHeld, append(args, it.RunID, owner)...)
	if err == nil {
		err = affected(res)
	}
	if errors.Is(err, store.ErrNotFound) {
		return s.notHeld(ctx, ex, it.RunID)
	}
	return err
}

// FinishFlowItem is FinishRun and PutFlowItem, fenced by r.Owner, in one
// transaction.
func (s *Store) FinishFlowItem(ctx context.Context, it *store.FlowItem, r *store.Run, e *store.AuditEvent) error {
	err := s.write(ctx, func(ctx context.Context, ex execer) error {
		if err := s.insertFlowItem(ctx, ex, r.Owner, it); err != nil {
			return err
		}
		if err := s.finishRun(ctx, ex, r); err != nil {
			return err
		}
		return s.insertAudit(ctx, ex, e)
	})
	return s.fail(fmt.Sprintf("finish flow item %s/%d with run %q", it.StepID, it.Index, r.ID), err)
}

// ListFlowItems returns the step's items by index.
func (s *Store) ListFlowItems(ctx context.Context, runID, stepID string) ([]*store.FlowItem, error) {
	return s.listFlowItems(ctx, `SELECT `+flowItemCols+flowItemJoin+`
		WHERE fi.run_id = ? AND fi.step_id = ? ORDER BY fi.item_index`, runID, stepID)
}

// ListFlowItemsPage returns at most limit of the step's items after index
// after, by index; it reads the primary key.
func (s *Store) ListFlowItemsPage(ctx context.Context, runID, stepID string, after, limit int) ([]*store.FlowItem, error) {
	return s.listFlowItems(ctx, `SELECT `+flowItemCols+flowItemJoin+`
		WHERE fi.run_id = ? AND fi.step_id = ? AND fi.item_index > ? ORDER BY fi.item_index LIMIT ?`,
		runID, stepID, after, limitOr100(limit))
}

// CountFlowItems counts the step's recorded items by status.
func (s *Store) CountFlowItems(ctx context.Context, runID, stepID string) (map[string]int, error) {
	rows, err := s.query(ctx, s.db, `SELECT status, COUNT(*) FROM flow_items
		WHERE run_id = ? AND step_id = ? GROUP BY status`, runID, stepID)
	if err != nil {
		return nil, s.fail("count flow items", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, s.fail("count flow items", err)
		}
		out[st] = n
	}
	return out, s.fail("count flow items", rows.Err())
}

func (s *Store) listFlowItems(ctx context.Context, q string, args ...any) ([]*store.FlowItem, error) {
	rows, err := s.query(ctx, s.db, q, args...)
	if err != nil {
		return nil, s.fail("list flow items", err)
	}
	out, err := collect(rows, func(sc scanner) (*store.FlowItem, error) {
		var it store.FlowItem
		var input, output sql.NullString
		var started, finished int64
		if err := sc.Scan(&it.RunID, &it.StepID, &it.Index, &it.Status, &input, &output, &it.ErrorCode, &it.Error,
			&it.RunRef, &started, &finished, &it.DeviceName); err != nil {
			return nil, err
		}
		it.Input, it.Output = fromRaw(input), fromRaw(output)
		it.StartedAt, it.FinishedAt = fromTS(started), fromTS(finished)
		return &it, nil
	})
	return out, s.fail("list flow items", err)
}
