package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

const runCols = `id, card, connection_id, connection_nickname, caller, acting_as, status,
	input, output, error_code, error_message, remedy, okta_request_ids,
	flow_run_id, step_id, item_index, started_at, finished_at, actor_type, actor_login, actor_token, device_name,
	plan_flow_id, plan_flow_name, owner, lease_until`

func scanRun(sc scanner) (*store.Run, error) {
	var r store.Run
	var input, output sql.NullString
	var ids string
	var started, finished, lease int64
	var caller string // the actor as text, kept for readers of the table
	err := sc.Scan(&r.ID, &r.Card, &r.ConnectionID, &r.ConnectionNickname, &caller, &r.ActingAs, &r.Status,
		&input, &output, &r.ErrorCode, &r.ErrorMessage, &r.Remedy, &ids,
		&r.FlowRunID, &r.StepID, &r.ItemIndex, &started, &finished, &r.Actor.Type, &r.Actor.Login, &r.Actor.TokenName,
		&r.DeviceName, &r.Plan.FlowID, &r.Plan.FlowName, &r.Owner, &lease)
	if err != nil {
		return nil, err
	}
	if r.OktaRequestIDs, err = parseList(ids); err != nil {
		return nil, err
	}
	r.Input, r.Output = fromRaw(input), fromRaw(output)
	r.StartedAt, r.FinishedAt, r.LeaseUntil = fromTS(started), fromTS(finished), fromTS(lease)
	return &r, nil
}

func runArgs(r *store.Run) []any {
	return []any{r.Card, r.ConnectionID, r.ConnectionNickname, r.Actor.String(), r.ActingAs, r.Status,
		raw(r.Input), raw(r.Output), r.ErrorCode, r.ErrorMessage, r.Remedy, list(r.OktaRequestIDs),
		r.FlowRunID, r.StepID, r.ItemIndex, ts(r.StartedAt), ts(r.FinishedAt), r.Actor.Type, r.Actor.Login, r.Actor.TokenName, r.DeviceName,
		r.Plan.FlowID, r.Plan.FlowName}
}

// CreateRun inserts r, filling in an empty ID; a card run of a flow run
// with an owner only while that owner holds the flow run (ErrLeaseLost).
func (s *Store) CreateRun(ctx context.Context, r *store.Run) error {
	fillID(&r.ID)
	err := s.write(ctx, func(ctx context.Context, ex execer) error { return s.insertRun(ctx, ex, r) })
	return s.fail("create run", err)
}

func (s *Store) insertRun(ctx context.Context, ex execer, r *store.Run) error {
	args := append(append([]any{r.ID}, runArgs(r)...), r.Owner, ts(r.LeaseUntil))
	if r.FlowRunID == "" || r.Owner == "" {
		_, err := s.exec(ctx, ex, qInsertRun, args...)
		return err
	}
	// The fence is a condition of the insert itself (see heldBy).
	res, err := s.exec(ctx, ex, s.q.insertRunHeld, append(args, r.FlowRunID, r.Owner)...)
	if err == nil {
		err = affected(res)
	}
	if errors.Is(err, store.ErrNotFound) {
		return s.notHeld(ctx, ex, r.FlowRunID)
	}
	return err
}

const (
	qInsertRun = `INSERT INTO runs (` + runCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// qInsertRunHeld is qInsertRun of a flow run's card run, to be
	// followed by the condition heldBy (see Store.queries).
	qInsertRunHeld = `INSERT INTO runs (` + runCols + `)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE `
	qUpdateRun = `UPDATE runs SET card = ?, connection_id = ?, connection_nickname = ?,
		caller = ?, acting_as = ?, status = ?, input = ?, output = ?, error_code = ?, error_message = ?,
		remedy = ?, okta_request_ids = ?, flow_run_id = ?, step_id = ?, item_index = ?,
		started_at = ?, finished_at = ?, actor_type = ?, actor_login = ?, actor_token = ?, device_name = ?,
		plan_flow_id = ?, plan_flow_name = ? WHERE id = ?`
	// qFinishRun is what the end of a run sets (store.Store.FinishRun).
	qFinishRun = `UPDATE runs SET status = ?, output = ?, error_code = ?, error_message = ?, remedy = ?,
		okta_request_ids = ?, finished_at = ?, device_name = ? WHERE id = ?`
	qInsertAudit = `INSERT INTO audit_events (time, caller, action, connection_id,
		acting_as, card, input_summary, outcome, error, okta_request_id, actor_type, actor_login, actor_token, actor_key,
		plan_flow_id, plan_flow_name)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
)

// UpdateRun replaces the stored run with r.
func (s *Store) UpdateRun(ctx context.Context, r *store.Run) error {
	err := s.write(ctx, func(ctx context.Context, ex execer) error { return s.updateRun(ctx, ex, r) })
	return s.fail(fmt.Sprintf("update run %q", r.ID), err)
}

func (s *Store) updateRun(ctx context.Context, ex execer, r *store.Run) error {
	res, err := s.exec(ctx, ex, qUpdateRun, append(runArgs(r), r.ID)...)
	if err != nil {
		return err
	}
	return affected(res)
}

// finishRun stores what the end of run r sets. It leaves the other
// columns alone, and so the indexes on them, which an update of every
// column would rewrite.
func (s *Store) finishRun(ctx context.Context, ex execer, r *store.Run) error {
	res, err := s.exec(ctx, ex, qFinishRun, r.Status, raw(r.Output), r.ErrorCode, r.ErrorMessage, r.Remedy,
		list(r.OktaRequestIDs), ts(r.FinishedAt), r.DeviceName, r.ID)
	if err != nil {
		return err
	}
	return affected(res)
}

// FinishRun stores the finished run r and appends its audit event e in
// one transaction.
func (s *Store) FinishRun(ctx context.Context, r *store.Run, e *store.AuditEvent) error {
	err := s.write(ctx, func(ctx context.Context, ex execer) error {
		if err := s.finishRun(ctx, ex, r); err != nil {
			return err
		}
		return s.insertAudit(ctx, ex, e)
	})
	return s.fail(fmt.Sprintf("finish run %q", r.ID), err)
}

// GetRun returns the run with id.
func (s *Store) GetRun(ctx context.Context, id string) (*store.Run, error) {
	r, err := scanRun(s.queryRow(ctx, s.db, `SELECT `+runCols+` FROM runs WHERE id = ?`, id))
	if err != nil {
		return nil, s.fail(fmt.Sprintf("get run %q", id), err)
	}
	return r, nil
}

// ListRuns returns runs newest first (by StartedAt, then ID).
func (s *Store) ListRuns(ctx context.Context, f store.RunFilter) ([]*store.Run, error) {
	var c conditions
	if f.ConnectionID != "" {
		c.add("connection_id = ?", f.ConnectionID)
	}
	if f.Card != "" {
		c.add("card = ?", f.Card)
	}
	if f.FlowRunID != "" {
		c.add("flow_run_id = ?", f.FlowRunID)
	}
	c.plans(f.Plans)
	switch {
	case !f.Before.IsZero() && f.BeforeID != "":
		// The <= bound lets the index start at the cursor.
		c.add("started_at <= ?", ts(f.Before))
		c.sql = append(c.sql, "(started_at < ? OR id < ?)")
		c.args = append(c.args, ts(f.Before), f.BeforeID)
	case !f.Before.IsZero():
		c.add("started_at < ?", ts(f.Before))
	}
	rows, err := s.query(ctx, s.db, `SELECT `+runCols+` FROM runs`+c.where()+
		` ORDER BY started_at DESC, id DESC LIMIT ?`, append(c.args, limitOr100(f.Limit))...)
	if err != nil {
		return nil, s.fail("list runs", err)
	}
	out, err := collect(rows, scanRun)
	return out, s.fail("list runs", err)
}

const auditCols = `id, time, caller, action, connection_id, acting_as, card,
	input_summary, outcome, error, okta_request_id, actor_type, actor_login, actor_token,
	plan_flow_id, plan_flow_name`

func scanAudit(sc scanner) (*store.AuditEvent, error) {
	var e store.AuditEvent
	var t int64
	var caller string // the actor as text, kept for readers of the table
	if err := sc.Scan(&e.ID, &t, &caller, &e.Action, &e.ConnectionID, &e.ActingAs, &e.Card,
		&e.InputSummary, &e.Outcome, &e.Error, &e.OktaRequestID, &e.Actor.Type, &e.Actor.Login, &e.Actor.TokenName,
		&e.Plan.FlowID, &e.Plan.FlowName); err != nil {
		return nil, err
	}
	e.Time = fromTS(t)
	return &e, nil
}

// AppendAudit inserts e and sets e.ID to the store-assigned id, which is
// larger than every id assigned before.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	err := s.write(ctx, func(ctx context.Context, ex execer) error {
		if err := s.insertAudit(ctx, ex, e); err != nil || e.DeletedNickname == "" {
			return err
		}
		_, err := s.exec(ctx, ex, `INSERT INTO deleted_connection_names (audit_id, nickname_key) VALUES (?, ?)`, e.ID, store.FoldCase(e.DeletedNickname))
		return err
	})
	return s.fail("append audit event", err)
}

func (s *Store) insertAudit(ctx context.Context, ex execer, e *store.AuditEvent) error {
	return s.queryRow(ctx, ex, qInsertAudit,
		ts(e.Time), e.Actor.String(), e.Action, e.ConnectionID, e.ActingAs, e.Card,
		e.InputSummary, e.Outcome, e.Error, e.OktaRequestID, e.Actor.Type, e.Actor.Login, e.Actor.TokenName, store.FoldCase(e.Actor.Login),
		e.Plan.FlowID, e.Plan.FlowName).Scan(&e.ID)
}

// ListAudit returns events newest (highest id) first.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditEvent, error) {
	var c conditions
	if f.ConnectionID != "" {
		c.add("connection_id = ?", f.ConnectionID)
	}
	if f.Action != "" {
		c.add("action = ?", f.Action)
	}
	if f.ActorLogin != "" {
		// By its key, ignoring case (store.FoldCase), as people are
		// listed and revoked; an event a server of an earlier version
		// wrote without a key, by its login as given.
		c.sql = append(c.sql, "(actor_key = ? OR actor_key = '' AND actor_login = ?)")
		c.args = append(c.args, store.FoldCase(f.ActorLogin), f.ActorLogin)
	}
	if f.Server {
		c.add("actor_type = ?", store.ActorServer)
	}
	if f.Bootstrap {
		c.sql = append(c.sql, "(actor_type = ? OR actor_type = ? AND actor_login = '')")
		c.args = append(c.args, store.ActorBootstrap, store.ActorToken)
	}
	if f.DeletedNickname != "" {
		c.add("id IN (SELECT audit_id FROM deleted_connection_names WHERE nickname_key = ?)", store.FoldCase(f.DeletedNickname))
	}
	c.plans(f.Plans)
	if f.BeforeID > 0 {
		c.add("id < ?", f.BeforeID)
	}
	rows, err := s.query(ctx, s.db, `SELECT `+auditCols+` FROM audit_events`+c.where()+
		` ORDER BY id DESC LIMIT ?`, append(c.args, limitOr100(f.Limit))...)
	if err != nil {
		return nil, s.fail("list audit events", err)
	}
	out, err := collect(rows, scanAudit)
	return out, s.fail("list audit events", err)
}

// InterruptRuns marks the card runs of flowRunID still recorded as running
// as interrupted, fenced by owner (unless "").
func (s *Store) InterruptRuns(ctx context.Context, flowRunID, owner string, at time.Time) (int, error) {
	op := fmt.Sprintf("interrupt the card runs of flow run %q", flowRunID)
	cond, fence := s.fence(owner, flowRunID)
	res, err := s.exec(ctx, s.db, `UPDATE runs SET status = ?, finished_at = ?, error_code = ?, error_message = ?
		WHERE flow_run_id = ? AND status = ? AND `+cond,
		append([]any{store.RunInterrupted, ts(at), store.InterruptedCode, store.InterruptedMessage, flowRunID, store.RunRunning}, fence...)...)
	if err != nil {
		return 0, s.fail(op, err)
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 && owner != "" {
		// None running, or the run is another server's now.
		var holder string
		if err = s.queryRow(ctx, s.db, `SELECT owner FROM flow_runs WHERE id = ?`, flowRunID).Scan(&holder); err == nil && holder != owner {
			err = fmt.Errorf("flow run %q is held by %q now: %w", flowRunID, holder, store.ErrLeaseLost)
		}
	}
	return int(n), s.fail(op, err)
}

// RenewRunLeases moves the lease of owner's running card runs ids to
// until.
func (s *Store) RenewRunLeases(ctx context.Context, owner string, ids []string, until time.Time) (int, error) {
	op := fmt.Sprintf("renew the card run leases of %q", owner)
	total := 0
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		args := []any{ts(until), store.RunRunning, owner}
		for _, id := range chunk {
			args = append(args, id)
		}
		res, err := s.exec(ctx, s.db, `UPDATE runs SET lease_until = ? WHERE status = ? AND owner = ? AND id IN `+inList(len(chunk)), args...)
		if err != nil {
			return total, s.fail(op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, s.fail(op, err)
		}
		total += int(n)
	}
	return total, nil
}

// InterruptLapsedRuns ends the direct card runs whose owner's lease
// lapsed, by the rule of InterruptRuns, in one statement: a run its owner
// finishes meanwhile is no longer running and stays as its owner wrote it.
func (s *Store) InterruptLapsedRuns(ctx context.Context, now time.Time) ([]string, error) {
	const op = "interrupt the card runs of lapsed leases"
	rows, err := s.query(ctx, s.db, `UPDATE runs SET status = ?, finished_at = ?, error_code = ?, error_message = ?, remedy = ?
		WHERE status = ? AND lease_until < ? AND flow_run_id = '' RETURNING id`,
		store.RunInterrupted, ts(now), store.InterruptedCode, store.InterruptedDirectMessage, store.InterruptedDirectRemedy,
		store.RunRunning, ts(now))
	if err != nil {
		return nil, s.fail(op, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.fail(op, err)
		}
		ids = append(ids, id)
	}
	return ids, s.fail(op, rows.Err())
}

// ListItemRuns returns the card runs of one item of a flow run, oldest
// first.
func (s *Store) ListItemRuns(ctx context.Context, flowRunID, stepID string, index int) ([]*store.Run, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+runCols+` FROM runs
		WHERE flow_run_id = ? AND step_id = ? AND item_index = ? ORDER BY started_at, id`, flowRunID, stepID, index)
	if err != nil {
		return nil, s.fail("list item runs", err)
	}
	out, err := collect(rows, scanRun)
	return out, s.fail("list item runs", err)
}
