package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// work claims queued runs (and runs whose owner's lease expired, such as
// runs of a crashed server) and executes up to maxRuns at once, until ctx
// ends. Runs still executing then are handed back (their lease released
// at once) so that the next server resumes them.
func (f *flowService) work(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, f.maxRuns)
	poll := time.NewTicker(f.leaseTTL / 3)
	defer poll.Stop()
	for {
		for len(slots) < cap(slots) {
			run, err := f.store.ClaimFlowRun(ctx, f.owner, f.leaseTTL, f.now())
			if errors.Is(err, store.ErrNotFound) || ctx.Err() != nil {
				break
			}
			if err != nil {
				f.log.ErrorContext(ctx, "claim a flow run", slog.Any("error", err))
				break
			}
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				f.execute(ctx, run)
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		case <-f.wake:
		}
	}
}

// execute runs (or resumes) one claimed run while renewing its lease.
func (f *flowService) execute(ctx context.Context, run *store.FlowRun) {
	log := f.log.With(slog.String("flow_run", run.ID), slog.String("flow", run.FlowName))
	rctx, cancel := context.WithCancel(context.WithValue(ctx, callerKey{}, run.Caller))
	defer cancel()
	lost := make(chan struct{})
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		t := time.NewTicker(f.leaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-t.C:
				err := f.store.RenewFlowRunLease(rctx, run.ID, f.owner, f.leaseTTL, f.now())
				if errors.Is(err, store.ErrConflict) {
					log.Warn("lost the lease of a flow run to another server; stopping here", slog.Any("error", err))
					close(lost)
					cancel()
					return
				}
				if err != nil && rctx.Err() == nil {
					log.Warn("could not renew a flow run's lease", slog.Any("error", err))
				}
			}
		}
	}()
	defer func() {
		cancel()
		<-renewDone
		f.mu.Lock()
		delete(f.progress, run.ID)
		f.mu.Unlock()
	}()

	resumed := run.Status == flow.StatusRunning
	run.Status = flow.StatusRunning
	if run.StartedAt.IsZero() {
		run.StartedAt = f.now()
	}
	if err := f.store.UpdateFlowRun(rctx, run); err != nil {
		log.Error("mark flow run running", slog.Any("error", err))
		return
	}
	if resumed {
		log.Info("resuming an interrupted flow run")
	} else {
		log.Info("flow run started")
	}

	res, err := f.runOnce(rctx, run)
	select {
	case <-lost:
		return
	default:
	}
	if err != nil && ctx.Err() != nil {
		// Shutting down: hand the run back for the next server.
		_ = f.store.RenewFlowRunLease(context.WithoutCancel(ctx), run.ID, f.owner, 0, f.now())
		log.Info("flow run interrupted by shutdown; it resumes on the next start")
		return
	}
	run.FinishedAt = f.now()
	if err != nil {
		run.Status = flow.StatusFailed
		run.Error = publicMessage(err)
		log.Warn("flow run failed", slog.String("error", run.Error), slog.Any("cause", err))
	} else {
		run.Status = res.Status
		log.Info("flow run finished", slog.String("status", res.Status))
	}
	wctx := context.WithoutCancel(ctx)
	if err := f.store.UpdateFlowRun(wctx, run); err != nil {
		log.Error("store the flow run's outcome", slog.Any("error", err))
		return
	}
	_ = f.store.RenewFlowRunLease(wctx, run.ID, f.owner, 0, f.now())
	outcome := "success"
	if run.Status != flow.StatusSucceeded {
		outcome = "failure"
	}
	if err := f.store.AppendAudit(wctx, &store.AuditEvent{
		Time: f.now(), Caller: run.Caller, Action: "flow.run", Outcome: outcome, Error: run.Error,
		InputSummary: fmt.Sprintf("flow %s, run %s, inputs %s", run.FlowName, run.ID, truncateText(string(run.Inputs), 200)),
	}); err != nil {
		log.Error("audit the flow run", slog.Any("error", err))
	}
}

// runOnce validates the run's document (connections and scopes are checked
// again: they may have changed since it was queued) and runs it.
func (f *flowService) runOnce(ctx context.Context, run *store.FlowRun) (*flow.RunResult, error) {
	doc, err := flow.Parse(run.Source)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(ctx, f.env); err != nil {
		return nil, err
	}
	inputs := map[string]any{}
	if len(run.Inputs) > 0 {
		if err := json.Unmarshal(run.Inputs, &inputs); err != nil {
			return nil, problem.New(problem.Internal, "the run's stored inputs are not JSON").Wrap(err)
		}
	}
	return f.runner.Run(ctx, run.ID, doc, inputs)
}

// publicMessage is an error's public text: a Problem's message and remedy,
// or a generic text for internal errors.
func publicMessage(err error) string {
	if p, ok := problem.As(err); ok && p.Code != problem.Internal {
		return p.Error()
	}
	return "internal error; see the server log"
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// flowState adapts the store to flow.StateStore.
type flowState struct{ st store.Store }

func (s flowState) SaveStep(ctx context.Context, st flow.StepState) error {
	return s.st.PutFlowStep(ctx, &store.FlowStep{
		RunID: st.RunID, StepID: st.StepID, Status: st.Status, Items: st.Items, Succeeded: st.Succeeded,
		Failed: st.Failed, Skipped: st.Skipped, Output: st.Output, Error: st.Error,
		StartedAt: st.StartedAt, FinishedAt: st.FinishedAt,
	})
}

func (s flowState) SaveItem(ctx context.Context, it flow.ItemState) error {
	err := s.st.PutFlowItem(ctx, &store.FlowItem{
		RunID: it.RunID, StepID: it.StepID, Index: it.Index, Status: it.Status, Input: it.Input,
		Output: it.Output, ErrorCode: it.ErrorCode, Error: it.Error, RunRef: it.RunRef, StartedAt: it.StartedAt, FinishedAt: it.FinishedAt,
	})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: %w", flow.ErrItemExists, err)
	}
	return err
}

func (s flowState) LoadItems(ctx context.Context, runID, stepID string) ([]flow.ItemState, error) {
	items, err := s.st.ListFlowItems(ctx, runID, stepID)
	if err != nil {
		return nil, err
	}
	out := make([]flow.ItemState, 0, len(items))
	for _, it := range items {
		out = append(out, flow.ItemState{
			RunID: it.RunID, StepID: it.StepID, Index: it.Index, Status: it.Status, Input: it.Input,
			Output: it.Output, ErrorCode: it.ErrorCode, Error: it.Error, RunRef: it.RunRef, StartedAt: it.StartedAt, FinishedAt: it.FinishedAt,
		})
	}
	return out, nil
}

func (s flowState) LoadSteps(ctx context.Context, runID string) ([]flow.StepState, error) {
	steps, err := s.st.ListFlowSteps(ctx, runID)
	if err != nil {
		return nil, err
	}
	out := make([]flow.StepState, 0, len(steps))
	for _, st := range steps {
		out = append(out, flow.StepState{
			RunID: st.RunID, StepID: st.StepID, Status: st.Status, Items: st.Items, Succeeded: st.Succeeded,
			Failed: st.Failed, Skipped: st.Skipped, Output: st.Output, Error: st.Error,
			StartedAt: st.StartedAt, FinishedAt: st.FinishedAt,
		})
	}
	return out, nil
}
