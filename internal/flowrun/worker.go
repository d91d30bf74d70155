package flowrun

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/counttext"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// Work claims queued runs (and runs whose owner's lease expired, such as
// runs of a crashed server) and executes up to MaxRuns at once, until ctx
// ends. Then no run and no item starts, and the card calls in flight go
// on until they end or calls ends (see flow.WithCallContext): their
// outcome is recorded, not cut off unknown, and a call still waiting for
// the org's rate limit is not sent (okta.WithStopWaiting). Runs still
// executing are then handed back (their lease released at once) so that
// the next server resumes them.
func (s *Service) Work(ctx, calls context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, s.maxRuns)
	poll := time.NewTicker(s.leaseTTL / 3)
	defer poll.Stop()
	for {
		for len(slots) < cap(slots) && !s.isUnfit() {
			run, err := s.store.ClaimFlowRun(ctx, s.owner, s.leaseTTL, s.now())
			if ctx.Err() != nil {
				break
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				s.outage.Fail(ctx, "claim a flow run", err)
				break
			}
			s.outage.OK(ctx, "claim a flow run")
			if err != nil {
				break // none queued
			}
			if s.executing(run.ID) {
				// Its lease ran out while this server executes it (a slow
				// renewal) and the claim renewed it: it is still running
				// here, and must not run twice.
				continue
			}
			s.mu.Lock()
			s.canceled[run.ID] = !run.CancelRequestedAt.IsZero()
			s.mu.Unlock()
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					<-slots
					// A run queued while every slot was taken waits for
					// this one; look again now rather than at the next tick.
					s.Wake()
				}()
				s.execute(ctx, calls, run)
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		case <-s.wake:
		}
	}
}

// isUnfit reports whether Config.Unfit says this server cannot execute
// runs now; what it cannot do is logged where it is found out.
func (s *Service) isUnfit() bool { return s.unfit != nil && s.unfit() != nil }

// execute runs (or resumes) one claimed run while renewing its lease. The
// run stops when ctx ends; its card calls in flight end with calls (see
// Work), and the lease is renewed until they have.
func (s *Service) execute(ctx, calls context.Context, run *store.FlowRun) {
	log := s.log.With(slog.String("flow_run", run.ID), slog.String("flow", run.FlowName))
	rctx, cancelRun := context.WithCancelCause(ctx)
	cancel := func() { cancelRun(nil) }
	defer cancel()
	cctx, endCalls := context.WithCancel(context.WithoutCancel(rctx))
	defer context.AfterFunc(calls, endCalls)()
	defer endCalls()
	// The run's card calls stop waiting for the rate limit (their calls
	// not sent) once it is asked to stop or stops here.
	waits, stopWaits := context.WithCancelCause(context.WithoutCancel(rctx))
	defer context.AfterFunc(rctx, func() {
		if errors.Is(context.Cause(rctx), errRunTaken) {
			stopWaits(stopTaken)
		} else {
			stopWaits(stopShutdown)
		}
	})()
	s.mu.Lock()
	s.stopWaits[run.ID] = func() { stopWaits(stopCanceled(run.ID)) }
	s.mu.Unlock()
	lease := s.renewLease(context.WithoutCancel(rctx), run.ID, log, cancelRun)
	defer func() {
		lease.stop()
		cancel()
		s.mu.Lock()
		delete(s.progress, run.ID)
		delete(s.canceled, run.ID)
		delete(s.stopWaits, run.ID)
		s.mu.Unlock()
		stopWaits(nil)
	}()

	resumed, ok := s.markRunning(rctx, run, log)
	if !ok {
		return
	}
	var res *flow.RunResult
	var err error
	if s.isCanceled(run.ID) {
		err = flow.ErrCanceled // asked to stop before it started (or while its server was down)
	} else {
		res, err = s.Resume(flow.WithCallContext(rctx, card.StopWaiting(cctx, waits)), run)
	}
	if lease.wasLost() || s.leaveUnfinished(ctx, run, err, lease, log) {
		return
	}
	s.setOutcome(run, res, err, resumed, log)
	s.storeOutcome(context.WithoutCancel(ctx), run, res, err, log)
}

// leaseRenewal renews the lease of a run executing here until it is
// stopped or another server takes the run over.
type leaseRenewal struct {
	lost     chan struct{} // closed once another server holds the lease
	finished chan struct{} // closed to end the renewals
	done     chan struct{} // closed once the renewals have ended
	stopOnce sync.Once
}

// renewLease renews the lease of run id every third of its time to live,
// looking for a cancel request made on another server each time. When
// another server holds the lease, it cancels the run with errRunTaken.
func (s *Service) renewLease(ctx context.Context, id string, log *slog.Logger, cancelRun context.CancelCauseFunc) *leaseRenewal {
	l := &leaseRenewal{lost: make(chan struct{}), finished: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(s.leaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-l.finished:
				return
			case <-t.C:
				s.checkCanceled(ctx, id, log)
				err := s.store.RenewFlowRunLease(ctx, id, s.owner, s.leaseTTL, s.now())
				if errors.Is(err, store.ErrConflict) {
					log.Warn("lost the lease of a flow run to another server; stopping here", slog.Any("error", err))
					close(l.lost)
					cancelRun(errRunTaken)
					return
				}
				if err != nil {
					log.Warn("could not renew a flow run's lease", slog.Any("error", err))
				}
			}
		}
	}()
	return l
}

// stop ends the renewals and waits until they have ended: before the lease
// is given up, so that no renewal takes it back after (the next server
// would wait for it to lapse), and at the end.
func (l *leaseRenewal) stop() {
	l.stopOnce.Do(func() { close(l.finished) })
	<-l.done
}

// wasLost reports whether another server has taken the lease over.
func (l *leaseRenewal) wasLost() bool {
	select {
	case <-l.lost:
		return true
	default:
		return false
	}
}

// markRunning stores the run as running and, when it resumes a run another
// server was executing, the card runs that server left running as
// interrupted. It reports whether the run resumes, and ok false when the
// run is to stop here (which it has logged).
func (s *Service) markRunning(ctx context.Context, run *store.FlowRun, log *slog.Logger) (resumed, ok bool) {
	resumed = run.Status == flow.StatusRunning
	run.Status = flow.StatusRunning
	if run.StartedAt.IsZero() {
		run.StartedAt = s.now()
	}
	if err := s.store.UpdateFlowRun(ctx, run); errors.Is(err, store.ErrLeaseLost) {
		s.taken(log, err)
		return resumed, false
	} else if err != nil {
		log.Error("mark flow run running", slog.Any("error", err))
		return resumed, false
	}
	if !resumed {
		log.Info("flow run started")
		return false, true
	}
	// The card runs the previous owner left running will never be
	// finished by it: say so, and let the resumed items find them.
	n, err := s.store.InterruptRuns(ctx, run.ID, s.owner, s.now())
	if errors.Is(err, store.ErrLeaseLost) {
		s.taken(log, err)
		return true, false
	} else if err != nil {
		log.Error("mark the interrupted card runs of a resumed flow run", slog.Any("error", err))
		return true, false
	}
	log.Info("resuming an interrupted flow run", slog.Int("interrupted_card_runs", n))
	return true, true
}

// leaveUnfinished reports whether the run, which running returned err,
// stops here without an outcome: another server took it over, it is handed
// back (on shutdown, or when this server cannot go on with it), or the
// database is unavailable and its lease is left to lapse. It logs why and
// hands the run back as needed. ctx is the one Work was given.
func (s *Service) leaveUnfinished(ctx context.Context, run *store.FlowRun, err error, lease *leaseRenewal, log *slog.Logger) bool {
	if errors.Is(err, store.ErrLeaseLost) {
		// Paused past its lease (the renewals stopped too): a write of
		// the run was refused, and the run stopped at once.
		s.taken(log, err)
		return true
	}
	if err != nil && ctx.Err() != nil {
		// Shutting down: hand the run back for the next server.
		lease.stop()
		_ = s.store.RenewFlowRunLease(context.WithoutCancel(ctx), run.ID, s.owner, 0, s.now())
		log.Info("flow run interrupted by shutdown; another server resumes it at once, or this one at its next start")
		return true
	}
	if errors.Is(err, flow.ErrHandBack) {
		// This server cannot go on with the run (its keyring is behind
		// the database's) and claims no run until it can: hand the run
		// back at once for a server that can.
		lease.stop()
		_ = s.store.RenewFlowRunLease(context.WithoutCancel(ctx), run.ID, s.owner, 0, s.now())
		log.Warn("flow run handed back: this server cannot go on with it; a server that can resumes it", slog.Any("error", err))
		return true
	}
	if errors.Is(err, store.ErrUnavailable) {
		// The database dropped the connection or could not be reached
		// while the run's progress was stored: the run is not at fault.
		// Its lease lapses and a server (this one too) resumes it then, as
		// after a crash; not at once, so that a database that keeps
		// failing is not asked again in a loop.
		log.Warn("flow run interrupted: the database is unavailable; it resumes once the database answers", slog.Any("error", err))
		return true
	}
	return false
}

// setOutcome sets the run's end, status, error and failure from what
// running it returned, and logs it.
func (s *Service) setOutcome(run *store.FlowRun, res *flow.RunResult, err error, resumed bool, log *slog.Logger) {
	run.FinishedAt = s.now()
	if errors.Is(err, flow.ErrCanceled) {
		run.Status = flow.StatusCanceled
	} else if err != nil {
		run.Status = flow.StatusFailed
		run.Error = publicMessage(err)
		run.Failure = failureOf(err, run.Error)
		if resumed {
			// The server that stopped had run some of it: a rerun of
			// the whole would do those items again.
			run.Error += fmt.Sprintf("\n(resuming it after its server stopped; the items it had finished are kept: once this is fixed, run only the rest with cardflow flows rerun %s --failed-only)", run.ID)
		}
		log.Warn("flow run failed", slog.String("error", run.Error), slog.Any("cause", err))
	} else {
		run.Status = res.Status
		if run.Status == flow.StatusFailed {
			run.Failure = stepsFailure(res)
		}
		log.Info("flow run finished", slog.String("status", res.Status))
	}
}

// storeOutcome ends the steps of a run that did not succeed, then stores
// its outcome with its audit event and notifications, and tells those
// waiting for it. A failed event run whose connection stopped it waits
// for the connection to be rerun (waitsFor, RerunWaiting); its
// notification says so. runErr is what running it returned.
func (s *Service) storeOutcome(ctx context.Context, run *store.FlowRun, res *flow.RunResult, runErr error, log *slog.Logger) {
	if run.Status != flow.StatusSucceeded {
		s.closeSteps(ctx, run, log)
	}
	// Notifications are stored with the outcome, by the run's owner
	// only: a server that lost the run queues none.
	var notes []*store.Notification
	switch run.Status {
	case flow.StatusFailed:
		why := failureSummary(run, res) + changedNote(res)
		if c, ok := s.waitsFor(ctx, run, res, runErr); ok {
			run.RerunWhenActive, run.RerunConnection = c.ID, c.Nickname
			why += rerunNote(c.Nickname)
			log.InfoContext(ctx, "flow run failed for its connection: it runs again once the connection is active again", slog.String("connection", c.Nickname))
		}
		notes = s.notifyFailed(ctx, run, why, log)
	case flow.StatusSucceeded:
		notes = s.notifyRecovered(ctx, run, log)
	}
	// The outcome and its audit event are stored together: whoever sees
	// the run ended (a caller waiting for it) finds the audit event too,
	// which names the cancel request stored by then (the one that ended
	// it, or one made while its last items were in flight).
	if err := s.store.FinishFlowRun(ctx, run, s.runEvent, notes); errors.Is(err, store.ErrLeaseLost) {
		// This server's lease lapsed (it was paused past it) and another
		// server claimed the run: the outcome is that server's to store.
		s.taken(log, err)
		return
	} else if err != nil {
		log.Error("store the flow run's outcome and its audit event", slog.Any("error", err))
		return
	}
	if run.Status == flow.StatusCanceled {
		log.Info("flow run canceled", slog.String("by", run.CancelRequestedBy.String()), slog.String("reason", run.CancelReason))
	}
	if len(notes) > 0 {
		s.notifier.Notified()
	}
	if run.RerunOf != "" && run.Actor.Type == store.ActorServer && s.onRerunEnded != nil {
		s.onRerunEnded()
	}
	s.runEnded()
}

// taken logs that another server has taken over a run executing here,
// which stops here at once: that server goes on with it and stores its
// outcome.
func (s *Service) taken(log *slog.Logger, err error) {
	log.Warn("another server owns this flow run now (this server's lease on it lapsed); stopping it here", slog.Any("error", err))
}

// closeSteps ends the steps of a canceled or failed run that are still
// recorded as running: the runner closes a step it stops in, but not one
// that a dead server left running when the run is then canceled before it
// resumes, or fails on resuming. Such a step is canceled or failed, with
// the counts of its recorded items.
func (s *Service) closeSteps(ctx context.Context, run *store.FlowRun, log *slog.Logger) {
	steps, err := s.store.ListFlowSteps(ctx, run.ID)
	if err != nil {
		log.Error("read the steps of an ended flow run", slog.Any("error", err))
		return
	}
	for _, st := range steps {
		if st.Status != flow.StatusRunning && st.Status != flow.StatusPending {
			continue
		}
		counts, err := s.store.CountFlowItems(ctx, run.ID, st.StepID)
		if err != nil {
			log.Error("count the items of an ended flow run's step", slog.String("step", st.StepID), slog.Any("error", err))
			return
		}
		st.Succeeded, st.Failed, st.Skipped = counts[flow.StatusSucceeded], counts[flow.StatusFailed], counts[flow.StatusSkipped]
		st.Items = max(st.Items, st.Succeeded+st.Failed+st.Skipped)
		st.Status, st.Error = flow.StatusCanceled, flow.StepCanceledError
		if run.Status == flow.StatusFailed {
			st.Status, st.Error = flow.StatusFailed, "the run failed before every item ran: "+run.Error
		}
		st.FinishedAt = s.now()
		if err := s.store.PutFlowStep(ctx, s.owner, st); errors.Is(err, store.ErrLeaseLost) {
			return // the outcome's write says so
		} else if err != nil {
			log.Error("end a step of an ended flow run", slog.String("step", st.StepID), slog.Any("error", err))
			return
		}
	}
}

// checkCanceled notes a cancel request made on another server for run id,
// executing here.
func (s *Service) checkCanceled(ctx context.Context, id string, log *slog.Logger) {
	if s.isCanceled(id) {
		return
	}
	r, err := s.store.GetFlowRun(ctx, id)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("could not read a flow run's cancel request", slog.Any("error", err))
		}
		return
	}
	if !r.CancelRequestedAt.IsZero() {
		s.markCanceled(id)
	}
}

// markCanceled notes that run id, executing here, was asked to stop: no
// item starts, and its card calls waiting for the rate limit are not sent.
func (s *Service) markCanceled(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, here := s.canceled[id]; !here {
		return
	}
	s.canceled[id] = true
	if stop := s.stopWaits[id]; stop != nil {
		stop()
	}
}

// errRunTaken is the cause of a run's end here when another server took
// it over.
var errRunTaken = errors.New("another server took the flow run over")

// The reasons a run's card calls stop waiting for the rate limit
// (card.StopWaiting).
var (
	stopShutdown = &card.StopReason{Why: "its server began shutting down",
		Remedy: "nothing was changed by this call; the flow run resumes by itself, with this item, when a server starts"}
	stopTaken = &card.StopReason{Why: "another server took its flow run over",
		Remedy: "nothing was changed by this call; the server that runs the flow run now runs this item again"}
)

// stopCanceled is why the calls of run id stop waiting once it is asked to
// stop.
func stopCanceled(id string) *card.StopReason {
	return &card.StopReason{Why: "its flow run was asked to stop",
		Remedy: fmt.Sprintf("nothing was changed by this call; if the change is still wanted, rerun the run's items that failed or did not run (cardflow flows rerun %s --failed-only)", id)}
}

// Resume validates a run's stored document again (connections and scopes
// may have changed since it was queued) and runs it in this goroutine,
// skipping the items it finished before. The caller holds the run's lease.
func (s *Service) Resume(ctx context.Context, run *store.FlowRun) (*flow.RunResult, error) {
	doc, err := s.parser.Parse(run.Source)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(ctx, s.env); err != nil {
		return nil, err
	}
	f, err := firingOf(run)
	if err != nil {
		return nil, err
	}
	inputs := map[string]any{}
	if len(run.Inputs) > 0 {
		if err := json.Unmarshal(run.Inputs, &inputs); err != nil {
			return nil, problem.New(problem.Internal, "the run's stored inputs are not JSON").Wrap(err)
		}
	} else if f.Kind != flow.KindManual {
		if f.Kind == flow.KindEvent {
			// The dispatcher starts an event's run also when on.event.if
			// cannot be evaluated for the event: the run fails here.
			if _, err := doc.TriggerMatches(ctx, f); err != nil {
				return nil, problem.New(problem.InvalidInput, "on.event.if could not be evaluated for event %s: %v", f.EventUUID, err).
					WithRemedy("fix the expression under on.event.if so that it gives true or false for every event (test a field with has() before reading it) and store the flow again")
			}
		}
		// A triggered run computes its inputs from on.inputs once, when it
		// first executes, and keeps them for a resumption.
		if inputs, err = s.triggerInputs(ctx, doc, f); err != nil {
			return nil, err
		}
		if run.Inputs, err = json.Marshal(inputs); err != nil {
			return nil, problem.New(problem.InvalidInput, "the inputs computed by on.inputs cannot be stored as JSON").Wrap(err)
		}
		if err := s.store.UpdateFlowRun(ctx, run); err != nil {
			return nil, fmt.Errorf("store the run's inputs: %w", err)
		}
	}
	f.Actor, f.Rerun = flow.Actor(run.Actor), run.RerunOf != ""
	return s.runner.RunTriggered(ctx, run.ID, doc, inputs, f)
}

// triggerInputs evaluates on.inputs for f and converts them to the
// declared types.
func (s *Service) triggerInputs(ctx context.Context, doc *flow.Document, f flow.Firing) (map[string]any, error) {
	raw, err := doc.TriggerInputs(ctx, f)
	if err != nil {
		return nil, problem.New(problem.InvalidInput, "on.inputs could not be computed for this %s run: %v", f.Kind, err).
			WithRemedy("fix the expressions under on.inputs (trigger.kind, trigger.time and trigger.event are in scope) and store the flow again")
	}
	return coerceInputs(doc, raw)
}

// notifyFailed makes flow_run.failed for run, with an id derived from
// the run's so that a repeat (after a crash) is the same message. A flow
// that keeps failing with the same error (a connection waiting to be
// reauthorized fails every scheduled run) is notified of its first such
// failure and then once per repeat period while it lasts, not of every
// run: each message says how long it has been failing.
func (s *Service) notifyFailed(ctx context.Context, run *store.FlowRun, why string, log *slog.Logger) []*store.Notification {
	if s.notifier == nil {
		return nil
	}
	text := fmt.Sprintf("flow %s: run %s failed: %s", run.FlowName, run.ID, why)
	st, err := s.store.FailureStreak(ctx, store.StreakFilter{FlowID: run.FlowID, ExcludeID: run.ID, CreatedBefore: run.CreatedAt, SameFailure: &run.Failure})
	switch {
	case err != nil:
		// Better a repeat than a failure nobody hears of.
		log.WarnContext(ctx, "read the flow's earlier failures; notifying this one", slog.Any("error", err))
	case st.Runs > 0 && !s.remindAt(st, run.FinishedAt):
		log.InfoContext(ctx, "flow_run.failed not sent: the flow's runs have failed the same way since the last message",
			slog.Int("failed_runs", st.Runs+1), slog.Time("since", st.First))
		return nil
	case st.Runs > 0:
		// The purge keeps the streak's first run but not every one after
		// it: the count is of the runs still in the history.
		text += fmt.Sprintf(" (still failing the same way since %s: at least %d runs)", timetext.Format(st.First), st.Runs+1)
	}
	return s.message(ctx, run, notify.TypeFlowRunFailed, text, log)
}

// remindAt reports whether a failure at t, after the streak st of the
// same failure, falls in a later repeat period than the streak's last
// failure, periods counted from its first (which was notified).
func (s *Service) remindAt(st store.Streak, t time.Time) bool {
	return t.Sub(st.First)/s.repeat > st.Last.Sub(st.First)/s.repeat
}

// notifyRecovered makes flow_run.recovered when run succeeded after
// failed runs of its flow.
func (s *Service) notifyRecovered(ctx context.Context, run *store.FlowRun, log *slog.Logger) []*store.Notification {
	if s.notifier == nil {
		return nil
	}
	st, err := s.store.FailureStreak(ctx, store.StreakFilter{FlowID: run.FlowID, ExcludeID: run.ID, CreatedBefore: run.CreatedAt})
	if err != nil {
		log.WarnContext(ctx, "read the flow's earlier failures; flow_run.recovered not sent", slog.Any("error", err))
		return nil
	}
	if st.Runs == 0 {
		return nil
	}
	// One message per streak: runs that succeed together (the events that
	// waited for a reauthorization, started at once) each find the same
	// streak before the others' ends are stored, and their messages,
	// with the streak's id, are kept once.
	return s.messageID(ctx, run, notify.TypeFlowRunRecovered, recoveredID(run.FlowID, st), fmt.Sprintf("flow %s: run %s succeeded after %s since %s",
		run.FlowName, run.ID, counttext.Format(st.Runs, "failed run"), timetext.Format(st.First)), log)
}

// recoveredID is the id of the flow_run.recovered message that ends the
// flow's streak st of failed runs: the same for every run that finds it.
func recoveredID(flowID string, st store.Streak) string {
	return "nt_flow_run_recovered_" + flowID + "_" + strconv.FormatInt(st.First.UnixNano(), 36)
}

// message is the outbox rows of a message of type typ about run, its id
// derived from the run's and the type, so that a repeat (after a crash)
// is the same message, which the outbox keeps once.
func (s *Service) message(ctx context.Context, run *store.FlowRun, typ, text string, log *slog.Logger) []*store.Notification {
	return s.messageID(ctx, run, typ, "nt_"+strings.ReplaceAll(typ, ".", "_")+"_"+run.ID, text, log)
}

// messageID is message with the message's id given.
func (s *Service) messageID(ctx context.Context, run *store.FlowRun, typ, id, text string, log *slog.Logger) []*store.Notification {
	f, _ := firingOf(run)
	ns, err := s.notifier.Notifications(notify.Message{
		ID: id, Type: typ, Time: run.FinishedAt, Message: text,
		FlowRun: &notify.FlowRunInfo{ID: run.ID, FlowID: run.FlowID, Flow: run.FlowName, Status: run.Status, Error: run.Error, Trigger: f.Kind},
	})
	if err != nil {
		log.ErrorContext(ctx, "make the "+typ+" notification", slog.Any("error", err))
	}
	return ns
}

// stepsFailure is the Failure of a run that failed because steps did:
// each failed step with its first item's error code (or, without one, the
// step's error), the same for runs whose steps failed the same way
// whichever items failed.
func stepsFailure(res *flow.RunResult) string {
	var parts []string
	for _, st := range res.Steps {
		if st.Status == flow.StatusFailed {
			parts = append(parts, stepFailure(st.ID, cmp.Or(st.FirstErrorCode, st.Error)))
		}
	}
	return strings.Join(parts, "; ")
}

// stepFailure is how a Failure names a step that failed with what: the
// same for a step stopped by a run's validation (failureOf) and by its
// own card (stepsFailure), so that the two compare equal.
func stepFailure(step, what string) string { return "step " + step + ": " + what }

// failureOf is the Failure of a run that failed with err before its
// steps ran. A connection that is not active or lacks a scope is found by
// the validation of a run queued after it changed, and by the first card
// run of a run already running: both are "step ID: code" of the first
// step it stops, as stepsFailure says it, so that the runs of a flow
// waiting for a reauthorization fail the same way whichever found it (an
// event flow's trigger names the same connection, but no step).
func failureOf(err error, public string) string {
	p, ok := problem.As(err)
	if !ok || (p.Code != problem.NeedsReauthorization && p.Code != problem.ConnectionPending && p.Code != problem.InsufficientScope) {
		return public
	}
	issues, _ := p.Details["errors"].([]flow.Issue)
	for _, i := range issues {
		if i.Step != "" {
			return stepFailure(i.Step, string(p.Code))
		}
	}
	return public
}

// failureSummary says why run failed: its error, or its first failed
// step's.
func failureSummary(run *store.FlowRun, res *flow.RunResult) string {
	if run.Error != "" {
		return truncateText(run.Error, 300)
	}
	if res != nil {
		for _, st := range res.Steps {
			if st.Status == flow.StatusFailed && st.Error != "" {
				return truncateText("step "+st.ID+": "+st.Error, 300)
			}
		}
	}
	return "one or more items failed"
}

// changedNote says, for a failed run's message, how many devices its
// items changed before it ended ("; the run changed 21 devices", "; the
// run changed no device"): what a failure left half done. It is "" when
// no step's cards say (reads alone, or no step ran).
func changedNote(res *flow.RunResult) string {
	if res == nil {
		return ""
	}
	n, known := 0, false
	for _, st := range res.Steps {
		if st.Changed != nil {
			n, known = n+*st.Changed, true
		}
	}
	switch {
	case !known:
		return ""
	case n == 0:
		return "; the run changed no device"
	}
	return "; the run changed " + counttext.Format(n, "device")
}

// publicMessage is an error's public text (problem.Public).
func publicMessage(err error) string { return problem.Public(err).Error() }

// truncateText cuts s to at most n bytes on a rune boundary, marking the
// cut with an ellipsis.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
