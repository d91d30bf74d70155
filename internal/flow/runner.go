package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
)

// Runner runs and plans flow documents. Its fields are its dependencies; a
// Runner is safe for concurrent use by several runs.
//
// Failure policy: a failed item does not stop the other items of its step
// nor the steps after it. A for_each step's outputs hold its succeeded
// items only, and later steps run with those. A step without for_each that
// fails or is skipped has no output, so every later step that uses its
// output is skipped (with a message naming it). A run is failed when any
// item or step failed.
//
// Resuming: items recorded by an interrupted Run are not run again; an item
// that was running when the run was interrupted is run again, with
// Call.Retry set. Manage cards are safe to repeat (a device already in the
// target state gives changed: false), except a delete whose first attempt
// went through: the device is gone and the repeat finds nothing. The app's
// CardRunner looks for the earlier attempt of a retried item: one that
// succeeded gives the item its output and card run without a new call;
// one left interrupted is credited with the change when the repeat finds
// nothing left to do (changed: true and a note, or for a delete answered
// not_found, deleted: true, changed: false and a note). Without such a
// record not_found stays a failure.
type Runner struct {
	// Cards runs the cards. Required.
	Cards CardRunner
	// State persists runs; required by Run, unused by Plan.
	State StateStore
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per finished step; nil means no logging.
	Logger *slog.Logger
	// Progress, when set, is called as items finish and when a card waits
	// for the rate limit; calls never overlap. It must return quickly.
	Progress func(Progress)
	// Stopped, when set, reports whether run runID was asked to stop
	// (canceled). Once it says so no new step or item starts; the items in
	// flight finish and are recorded (but for those whose card sent no
	// call that could change the org, ErrNotSent, which did not run), the
	// step they belong to is saved as StatusCanceled, and Run returns
	// ErrCanceled. It must return quickly.
	Stopped func(runID string) bool
	// CostBudget bounds the CEL cost of all the expressions of one plan or
	// run (a run resumed starts afresh); zero means RunCostBudget. Once it
	// is spent the item that spent it fails, no other item of its step
	// starts, and the steps after it do not run.
	CostBudget uint64
}

func (r *Runner) costBudget() uint64 {
	if r.CostBudget > 0 {
		return r.CostBudget
	}
	return RunCostBudget
}

func (r *Runner) stopped(runID string) bool { return r.Stopped != nil && r.Stopped(runID) }

// RunResult is a finished run: its status and each step's counts.
type RunResult struct {
	ID     string
	Status string // StatusSucceeded or StatusFailed
	Steps  []StepResult
}

// StepResult is the outcome of one step of a run.
type StepResult struct {
	ID        string
	Status    string // StatusSucceeded, StatusFailed or StatusSkipped
	Items     int
	Succeeded int
	Failed    int
	Skipped   int
	// Changed counts the items whose card changed their device; nil when
	// the outputs do not say (StepState.Changed).
	Changed *int
	// Error says why the step failed or was skipped (for people; the
	// items' own errors are in the StateStore).
	Error string
	// FirstErrorCode is the error code (problem.Code) of the step's first
	// failed item; empty when none failed or it had none.
	FirstErrorCode string
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Run runs the validated document doc as run runID with the given inputs
// (typed values, as from ParseInputs or decoded JSON). Steps run in order; a for_each step runs
// its items with the step's concurrency. Every finished item is saved
// through r.State as it completes, and items already saved for runID are
// not run again: their saved outputs are used, so calling Run again after
// an interruption resumes the run. Item and step failures are reported in
// the result (status failed), not as an error; the error is for bad inputs
// (invalid_input), a failing StateStore, or ctx ending (the run can then be
// resumed).
func (r *Runner) Run(ctx context.Context, runID string, doc *Document, inputs map[string]any) (*RunResult, error) {
	return r.RunTriggered(ctx, runID, doc, inputs, Firing{Kind: KindManual, Time: r.now()})
}

// RunTriggered is Run for a run started by f, which expressions see as
// trigger. Resuming a run passes the Firing it started with.
func (r *Runner) RunTriggered(ctx context.Context, runID string, doc *Document, inputs map[string]any, f Firing) (*RunResult, error) {
	switch {
	case doc == nil:
		return nil, problem.New(problem.InvalidInput, "no flow document to run")
	case !doc.validated:
		return nil, problem.New(problem.InvalidInput, "the flow has not been validated").
			WithRemedy("validate it (cards, connections and scopes) before running it")
	case runID == "":
		return nil, problem.New(problem.Internal, "flow run without an id")
	case r.Cards == nil || r.State == nil:
		return nil, problem.New(problem.Internal, "flow runner without Cards or State")
	}
	in, err := doc.resolveInputs(inputs)
	if err != nil {
		return nil, err
	}
	saved, err := r.State.LoadSteps(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("flow: load run %s: %w", runID, err)
	}
	x := newExecution(r, runID, doc, in, f, false)
	for _, s := range saved {
		x.savedSteps[s.StepID] = s
	}
	res := &RunResult{ID: runID, Status: StatusSucceeded, Steps: []StepResult{}}
	for _, st := range doc.Steps {
		if r.stopped(runID) {
			return nil, ErrCanceled
		}
		out, err := x.runStep(ctx, st)
		if err != nil {
			return nil, err
		}
		if out.result.Status == StatusFailed {
			res.Status = StatusFailed
		}
		res.Steps = append(res.Steps, out.result)
		r.logger().LogAttrs(ctx, slog.LevelInfo, "flow step finished",
			slog.String("run", runID), slog.String("step", st.ID), slog.String("status", out.result.Status),
			slog.Int("items", out.result.Items), slog.Int("succeeded", out.result.Succeeded),
			slog.Int("failed", out.result.Failed), slog.Int("skipped", out.result.Skipped))
	}
	return res, nil
}

// publicError returns the code and public message recorded for an error
// (problem.Public): an internal error's cause is never stored on an item,
// which the API serves.
func publicError(err error) (string, string) {
	p := problem.Public(err)
	return string(p.Code), p.Error()
}

// exprError is an expression's failure on the run's data as a problem:
// the flow's expressions, not the server, are at fault, and the item
// records the message (which names the expression).
func exprError(err error) error {
	if _, ok := problem.As(err); ok || errors.Is(err, errExprTimeout) {
		return err
	}
	return problem.New(problem.InvalidInput, "%s", err.Error()).Wrap(err)
}

type callKey struct{}

// WithCallContext returns ctx whose items call their cards under calls:
// when ctx ends the run starts no new item, while the cards already
// called go on until calls ends (a server shutting down lets the calls
// in flight finish, and records their outcome, instead of cutting them
// off with their effect unknown). An item whose card failed after ctx
// ended is not recorded (a resume runs it again); one whose card
// succeeded is. Without it, cards are called under ctx.
func WithCallContext(ctx, calls context.Context) context.Context {
	return context.WithValue(ctx, callKey{}, calls)
}

// callContext is the context the items of a run under ctx call their
// cards in (WithCallContext).
func callContext(ctx context.Context) context.Context {
	if calls, ok := ctx.Value(callKey{}).(context.Context); ok {
		return calls
	}
	return ctx
}

// isAbort reports whether err ended an item because the run is stopping
// rather than because the item failed.
func isAbort(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, errExprTimeout)
}
