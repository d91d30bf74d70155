package flowrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// connectionCodes are the error codes of a failed item whose connection
// may be what stopped it: a connection that cannot run cards
// (needs_reauthorization, also of a service connection in error;
// connection_pending, one deleted and created again under its nickname
// whose sign-in is not finished yet), and a
// refusal the card met (forbidden: the org refused the call, and the
// connection check behind it, connection.Manager.CardForbidden, stops the
// connection when the app or account lost its role). Which it was is told
// by the connection's status after the run: only a connection no longer
// active makes a run wait for it (waitsFor). A device's own error
// (not_found, conflict) never does.
var connectionCodes = map[string]bool{
	string(problem.NeedsReauthorization): true,
	string(problem.ConnectionPending):    true,
	string(problem.Forbidden):            true,
	string(problem.Unauthenticated):      true,
}

// waitsFor returns the connection that a failed run an Okta event started
// waits for, to be rerun (its failed items) once it is active again: the
// connection of a step that failed with a connectionCodes code, or of a
// step (or the trigger) a run refused before its steps ran for a
// connection that is not active (runErr needs_reauthorization or
// connection_pending), when that
// connection is not active now. ok is false for any other run: one a
// schedule or a person started (a rerun by hand too), one that failed
// for another reason, one whose connection is active (it would fail again
// the same way).
func (s *Service) waitsFor(ctx context.Context, run *store.FlowRun, res *flow.RunResult, runErr error) (c flow.ConnInfo, ok bool) {
	f, err := firingOf(run)
	if err != nil || f.Kind != flow.KindEvent || run.RerunOf != "" && run.Actor.Type != store.ActorServer {
		return c, false
	}
	doc, err := s.parser.Parse(run.Source)
	if err != nil {
		return c, false
	}
	type conn struct{ connector, name string }
	var suspects []conn
	if runErr != nil {
		if p, isP := problem.As(runErr); !isP || p.Code != problem.NeedsReauthorization && p.Code != problem.ConnectionPending {
			return c, false
		}
		for _, st := range doc.Steps {
			suspects = append(suspects, conn{st.Connector(), st.Connection})
		}
		if doc.Trigger != nil && doc.Trigger.Event != nil {
			suspects = append(suspects, conn{doc.Trigger.Event.Connector(), doc.Trigger.Event.Connection})
		}
	} else if res != nil {
		for _, sr := range res.Steps {
			st, found := doc.Step(sr.ID)
			if found && sr.Status == flow.StatusFailed && connectionCodes[sr.FirstErrorCode] {
				suspects = append(suspects, conn{st.Connector(), st.Connection})
			}
		}
	}
	for _, sc := range suspects {
		ci, err := s.env.Connection(ctx, sc.connector, sc.name)
		if err == nil && ci.Status != store.StatusActive {
			return ci, true
		}
	}
	return c, false
}

// rerunNote is what a failed run's notification adds when the run waits
// for connection nickname.
func rerunNote(nickname string) string {
	return fmt.Sprintf("; it runs again by itself (its failed items) once connection %s is active again", nickname)
}

// rerunWaitingBatch is how many waiting runs RerunWaiting reads at once.
var rerunWaitingBatch = 100

// RerunWaiting reruns, its failed items only, each failed event run
// waiting for its connection (store.FlowRun.RerunWhenActive) whose
// connection is active now, exactly once whichever servers call it at
// once (store.ClaimRerun): the rerun acts as the server (cardflow) and is
// audited as flow.rerun by it. A run whose flow was disabled or deleted
// meanwhile, or whose connection was deleted, is not rerun: it says so
// (RerunSkipped). It returns how many runs it reran. The event intake
// calls it at each dispatch round, which a connection active again wakes.
func (s *Service) RerunWaiting(ctx context.Context) (int, error) {
	n := 0
	conns := map[string]*store.Connection{}
	flows := map[string]*store.Flow{}
	// Page by page: the runs waiting for a connection that stays
	// inactive do not hide those after them.
	var after *store.FlowRun
	for {
		runs, err := s.store.ListRerunsWaiting(ctx, "", after, rerunWaitingBatch)
		if err != nil {
			return n, err
		}
		m, err := s.rerunPage(ctx, runs, conns, flows)
		n += m
		if err != nil || len(runs) < rerunWaitingBatch {
			return n, err
		}
		after = runs[len(runs)-1]
	}
}

// rerunPage is RerunWaiting of one page of waiting runs; conns and flows
// keep the connections and flows read, by id (nil: deleted), so that the
// runs of one flow waiting for one connection read each once a round.
func (s *Service) rerunPage(ctx context.Context, runs []*store.FlowRun, conns map[string]*store.Connection, flows map[string]*store.Flow) (int, error) {
	var err error
	n := 0
	for _, run := range runs {
		c, seen := conns[run.RerunWhenActive]
		if !seen {
			c, err = s.store.GetConnection(ctx, run.RerunWhenActive)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return n, err
			}
			conns[run.RerunWhenActive] = c
		}
		fl, seen := flows[run.FlowID]
		if !seen {
			fl, err = s.store.GetFlow(ctx, run.FlowID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return n, err
			}
			flows[run.FlowID] = fl
		}
		why := rerunSkipped(run, fl, c)
		if why != "" {
			if err := s.store.SkipRerun(ctx, run.ID, why); err != nil && !errors.Is(err, store.ErrConflict) {
				return n, err
			}
			s.log.InfoContext(ctx, "flow run not rerun by itself", slog.String("flow_run", run.ID), slog.String("why", why))
			continue
		}
		if c.Status != store.StatusActive {
			continue
		}
		switch err := s.rerunWhenActive(ctx, run, c); {
		case errors.Is(err, store.ErrFlowChanged):
			// Disabled or deleted since it was read: the next round says so.
		case errors.Is(err, store.ErrConflict):
			// Another server reran it, or someone did by hand.
		case err != nil:
			return n, err
		default:
			n++
		}
	}
	return n, nil
}

// rerunSkipped says why run, of flow fl (nil: deleted) and waiting for
// connection c (nil: deleted), is not to be rerun, or "" when it is (once
// c is active).
func rerunSkipped(run *store.FlowRun, fl *store.Flow, c *store.Connection) string {
	switch {
	case fl == nil:
		return fmt.Sprintf("flow %s was deleted", run.FlowName)
	case !fl.Enabled:
		return fmt.Sprintf("flow %s was disabled", fl.Name)
	case c == nil:
		return fmt.Sprintf("connection %s was deleted", run.RerunConnection)
	}
	return ""
}

// rerunWhenActive creates the automatic rerun of run, waiting for c, now
// active: its failed items only, as Rerun with failedOnly does, with its
// flow.rerun audit event, unless another server (or a person) reran it
// first (store.ErrConflict) or its flow was disabled or deleted
// (store.ErrFlowChanged).
func (s *Service) rerunWhenActive(ctx context.Context, orig *store.FlowRun, c *store.Connection) error {
	now := s.now()
	run := rerunOf(orig, Starter{Actor: store.ServerActor}, now)
	ev := func(run *store.FlowRun) *store.AuditEvent {
		return &store.AuditEvent{
			Time: now, Actor: store.ServerActor, Action: store.ActionFlowRerun, Outcome: "success", ConnectionID: c.ID,
			InputSummary: fmt.Sprintf("flow %s version %d, run %s of run %s, by itself once connection %s was active again, failed only true",
				run.FlowName, run.FlowVersion, run.ID, orig.ID, c.Nickname),
		}
	}
	n, err := s.store.ClaimRerun(ctx, run, orig.ID, keepFailedOnly, ev)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "flow run queued again by itself: its connection is active again", slog.String("flow_run", run.ID),
		slog.String("of", orig.ID), slog.String("connection", c.Nickname), slog.Int("items_kept", n))
	s.Wake()
	return nil
}
