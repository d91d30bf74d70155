package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// execution is the state of one Run or Plan while it goes through the
// steps.
type execution struct {
	r          *Runner
	runID      string
	doc        *Document
	plan       bool
	planOf     PlanRef // of a plan: the flow planned (Call.Plan)
	inputs     map[string]any
	actor      Actor             // Firing.Actor
	trigger    map[string]any    // the "trigger" name of expressions
	steps      map[string]any    // the "steps" name of expressions
	missing    map[string]string // steps without output: why
	savedSteps map[string]StepState
	// devices names the devices the finished steps' outputs hold (id →
	// display name); written between steps, read by the next step's items.
	devices map[string]string
	// changed holds the devices the finished steps changed (id → the
	// status they left it in, noteChanges); written between steps, read
	// by the next step's items (asChanged).
	changed map[string]changedDevice
	// kept says that the run is a rerun (Firing.Rerun) that found items
	// of a step saved when it came to it: kept from the run it reruns
	// (failed-only), whose outputs give statuses from then. Its lifecycle
	// and delete cards read the devices first from then on
	// (Call.ReadDevice). Written before a step's items start.
	kept bool
	// rerun is Firing.Rerun.
	rerun bool
	// budget is what the expressions have left to spend (Runner.CostBudget).
	budget *exprBudget

	progressMu sync.Mutex
}

func newExecution(r *Runner, runID string, doc *Document, inputs map[string]any, f Firing, plan bool) *execution {
	return &execution{
		r: r, runID: runID, doc: doc, plan: plan, inputs: inputs, actor: f.Actor, trigger: f.activation(), rerun: f.Rerun,
		steps:      map[string]any{},
		missing:    map[string]string{},
		savedSteps: map[string]StepState{},
		devices:    map[string]string{},
		changed:    map[string]changedDevice{},
		budget:     newExprBudget(r.costBudget()),
	}
}

// itemOutcome is one finished item.
type itemOutcome struct {
	status string
	input  map[string]any
	output any
	// outputJSON is output as JSON: what the item's record stores.
	outputJSON json.RawMessage
	change     *Change
	code       string
	msg        string
	runRef     string        // the card run's id (CardResult.RunRef)
	pending    PendingRecord // CardResult.Pending
	// called says that the item invoked its card (whatever came of it);
	// an item that did not changed nothing anywhere.
	called bool
	// deviceName is the display name of the device the item acts on, when
	// the flow knows it (execution.deviceName).
	deviceName string
	started    time.Time
	finished   time.Time
	// stop, when set, is the error that stops the run instead of the
	// item failing (ErrStateUnavailable, ErrHandBack, ErrRunTaken).
	stop error
}

// stepOutcome is one finished step.
type stepOutcome struct {
	result StepResult
	items  []*itemOutcome // nil entries for items never run
}

// counter tracks a step's items for progress reports.
type counter struct {
	total, succeeded, failed, skipped int
}

func (c *counter) add(status string) {
	switch status {
	case StatusSucceeded:
		c.succeeded++
	case StatusFailed:
		c.failed++
	case StatusSkipped:
		c.skipped++
	}
}

// report sends a progress report for st; when done is not empty it first
// counts one more item with that status.
func (x *execution) report(st *Step, c *counter, done string, wait time.Duration) {
	x.progressMu.Lock()
	defer x.progressMu.Unlock()
	c.add(done)
	if x.r.Progress == nil {
		return
	}
	x.r.Progress(Progress{
		RunID: x.runID, StepID: st.ID, Total: c.total,
		Done:      c.succeeded + c.failed + c.skipped,
		Succeeded: c.succeeded, Failed: c.failed, Skipped: c.skipped, Wait: wait,
	})
}

func (x *execution) activation() map[string]any {
	return map[string]any{"inputs": x.inputs, "steps": x.steps, "trigger": x.trigger}
}

// runStep runs (or plans) one step and makes its output visible to the
// steps after it. It returns an error only when the run must stop: ctx
// ended or the StateStore failed.
func (x *execution) runStep(ctx context.Context, st *Step) (*stepOutcome, error) {
	started := x.r.now()
	if prev, ok := x.savedSteps[st.ID]; ok && !prev.StartedAt.IsZero() {
		started = prev.StartedAt
	}
	if err := x.budget.err(); err != nil {
		out := &stepOutcome{result: StepResult{ID: st.ID, Status: StatusSkipped, Error: "not run: " + err.Error()}}
		x.missing[st.ID] = "was not run"
		return out, x.saveStep(ctx, st, out, started)
	}
	x.budget.step = st.ID
	ctx = withBudget(ctx, x.budget)
	for _, d := range st.deps {
		if why, ok := x.missing[d]; ok {
			out := &stepOutcome{result: StepResult{ID: st.ID, Status: StatusSkipped,
				Error: fmt.Sprintf("not run: it uses the output of step %q, which %s", d, why)}}
			x.missing[st.ID] = "was not run"
			return out, x.saveStep(ctx, st, out, started)
		}
	}
	var saved map[int]ItemState
	if !x.plan {
		var err error
		if saved, err = x.loadItems(ctx, st); err != nil {
			return nil, err
		}
		// Items kept from the run this one reruns: from here on, the
		// statuses outputs give may be from then.
		x.kept = x.kept || x.rerun && len(saved) > 0
	}

	items := []any{nil}
	if st.forEach != nil {
		v, err := st.forEach.eval(ctx, x.activation(), "for_each")
		if err == nil {
			list, ok := v.([]any)
			if !ok {
				err = fmt.Errorf("for_each gave %s; it must give a list", kindOf(v))
			}
			items = list
		}
		if err != nil {
			if isAbort(ctx, err) {
				return nil, ctxErr(ctx)
			}
			_, msg := publicError(exprError(err))
			out := &stepOutcome{result: StepResult{ID: st.ID, Status: StatusFailed, Error: msg}}
			x.missing[st.ID] = "failed"
			return out, x.saveStep(ctx, st, out, started)
		}
	}

	if !x.plan {
		if prev, ok := x.savedSteps[st.ID]; !ok || prev.Status == StatusRunning || prev.Status == StatusPending {
			// The item count is saved with the running state: a server
			// other than the one executing the run reads it from here.
			if err := x.r.State.SaveStep(ctx, StepState{RunID: x.runID, StepID: st.ID, Status: StatusRunning, Items: len(items), StartedAt: started}); err != nil {
				return nil, fmt.Errorf("flow: save step %s: %w", st.ID, err)
			}
		}
	}

	outcomes := make([]*itemOutcome, len(items))
	c := &counter{total: len(items)}
	var pending []int
	for i := range items {
		if it, ok := saved[i]; ok {
			o, err := outcomeOf(it)
			if err != nil {
				return nil, err
			}
			outcomes[i] = o
			c.add(o.status)
			continue
		}
		pending = append(pending, i)
	}
	x.report(st, c, "", 0)
	if err := x.runItems(ctx, st, items, pending, outcomes, c); err != nil {
		return nil, err
	}
	if err := x.budget.err(); err != nil && slices.Contains(outcomes, nil) {
		// The budget was spent: the items not started are left undone.
		out := x.finish(st, outcomes)
		out.result.Status = StatusFailed
		out.result.Error = fmt.Sprintf("%s; %d of %d items were left undone", err.Error(), undone(outcomes), len(outcomes))
		return out, x.saveStep(ctx, st, out, started)
	}
	if slices.Contains(outcomes, nil) {
		// Stopped (Runner.Stopped) with items never started.
		return nil, x.saveCanceled(ctx, st, outcomes, started)
	}
	out := x.finish(st, outcomes)
	return out, x.saveStep(ctx, st, out, started)
}

// runItems runs the pending items with the step's concurrency. A failed
// item does not stop the others; a StateStore failure (or a card run that
// could not be recorded, ErrStateUnavailable; a card run this server
// cannot go on after, ErrHandBack; a run another server took over,
// ErrRunTaken) or ctx ending does. When ctx ends no item starts; the
// cards already called go on until their call context (WithCallContext)
// ends, and an item whose card succeeded meanwhile is saved.
func (x *execution) runItems(ctx context.Context, st *Step, items []any, pending []int, outcomes []*itemOutcome, c *counter) error {
	if len(pending) == 0 {
		return nil
	}
	calls, cancelCalls := context.WithCancel(callContext(ctx))
	defer cancelCalls()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		next  int
		fatal error
		wg    sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= len(pending) || fatal != nil || ctx.Err() != nil || x.r.stopped(x.runID) || x.budget.err() != nil {
			return 0, false
		}
		next++
		return pending[next-1], true
	}
	fail := func(err error) {
		mu.Lock()
		if fatal == nil {
			fatal = err
		}
		mu.Unlock()
		cancel()
		cancelCalls()
	}
	// Each worker saves its finished item in the background while it
	// starts its next one: the save commits with the next item's card run
	// (recorded as running before its call) instead of taking a commit of
	// its own on the worker's path. The next item's card waits for that
	// save before it acts (Call.Ready), so a crash leaves no more items
	// finished but unsaved than calls in flight, as when each worker
	// saved before it went on.
	//
	// An item that invokes no card (skipped by its if, or failed before
	// its card was called) changes nothing anywhere: a crash that loses
	// its record only makes a resume evaluate it again. Each worker saves
	// such items together, up to quietBatch in one commit, instead of
	// waiting for a commit of each.
	workers := min(max(st.Concurrency, 1), len(pending))
	for range workers {
		wg.Go(func() {
			var prev *itemSave
			var quiet []quietItem
			defer func() {
				prev.wait()
				x.saveQuiet(ctx, st, c, quiet, outcomes, fail)
			}()
			i, ok := take()
			for ok {
				o := x.runItem(ctx, calls, st, c, i, items[i], prev.ready())
				if o == nil {
					return // the run is stopping
				}
				if o.stop != nil {
					fail(o.stop)
					return // the run's state cannot be stored
				}
				next, more := take()
				if !x.plan && !o.called {
					quiet = append(quiet, quietItem{i, o})
					if len(quiet) == quietBatch {
						if !x.saveQuiet(ctx, st, c, quiet, outcomes, fail) {
							quiet = nil
							return // the run is failing
						}
						quiet = nil
					}
					i, ok = next, more
					continue
				}
				if prev.wait() != nil {
					return // the run is failing
				}
				prev = x.startSave(ctx, st, c, i, o, more, outcomes, fail)
				if more {
					<-prev.queued // the next card run commits with the save or after it
				}
				i, ok = next, more
			}
		})
	}
	wg.Wait()
	if fatal != nil {
		return fatal
	}
	return ctxErr(ctx)
}

// itemSave is an item's save in flight; a nil *itemSave is none.
type itemSave struct {
	done   chan struct{}
	queued chan struct{} // closed once the save is queued or done
	err    error
}

// wait waits for the save to end and returns its error.
func (s *itemSave) wait() error {
	if s == nil {
		return nil
	}
	<-s.done
	return s.err
}

// ready is the Call.Ready of the item run after s's.
func (s *itemSave) ready() func() error {
	if s == nil {
		return nil
	}
	return s.wait
}

// quietBatch is how many items that invoke no card a worker saves in one
// commit.
const quietBatch = 256

// quietItem is a finished item that invoked no card, not saved yet.
type quietItem struct {
	index int
	o     *itemOutcome
}

// saveQuiet saves items that invoked no card together (each on its own
// when one of them was recorded before) and records their outcomes. It
// reports whether they were saved; a save that fails fails the run.
func (x *execution) saveQuiet(ctx context.Context, st *Step, c *counter, quiet []quietItem, outcomes []*itemOutcome, fail func(error)) bool {
	if len(quiet) == 0 {
		return true
	}
	its := make([]ItemState, 0, len(quiet))
	for _, q := range quiet {
		it, err := x.itemState(st, q.index, q.o)
		if err != nil {
			fail(err)
			return false
		}
		its = append(its, it)
	}
	err := x.r.State.SaveItems(context.WithoutCancel(ctx), its)
	if errors.Is(err, ErrItemExists) {
		// Another worker or server recorded some: the recorded ones win.
		for _, q := range quiet {
			saved, err := x.saveItem(ctx, st, q.index, q.o, nil)
			if err != nil {
				fail(err)
				return false
			}
			outcomes[q.index] = saved
			x.report(st, c, saved.status, 0)
		}
		return true
	}
	if err != nil {
		fail(fmt.Errorf("flow: save %d items of step %s: %w", len(its), st.ID, err))
		return false
	}
	for _, q := range quiet {
		outcomes[q.index] = q.o
		x.report(st, c, q.o.status, 0)
	}
	return true
}

// startSave saves item i in the background and records its outcome; a
// save that fails fails the run.
func (x *execution) startSave(ctx context.Context, st *Step, c *counter, i int, o *itemOutcome, more bool,
	outcomes []*itemOutcome, fail func(error)) *itemSave {
	s := &itemSave{done: make(chan struct{}), queued: make(chan struct{})}
	var once sync.Once
	queued := func() { once.Do(func() { close(s.queued) }) }
	var next func()
	if more {
		next = queued
	}
	go func() {
		defer close(s.done)
		defer queued()
		saved, err := x.saveItem(ctx, st, i, o, next)
		if err != nil {
			s.err = err
			fail(err)
			return
		}
		outcomes[i] = saved
		x.report(st, c, saved.status, 0)
	}()
	return s
}

// undone counts the items left undone (nil) in outcomes.
func undone(outcomes []*itemOutcome) int {
	n := 0
	for _, o := range outcomes {
		if o == nil {
			n++
		}
	}
	return n
}

// ctxErr is the error returned when a run stops because ctx ended.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("flow: run interrupted: %w", err)
	}
	return nil
}

// itemState is the record of finished item index.
func (x *execution) itemState(st *Step, index int, o *itemOutcome) (ItemState, error) {
	it := ItemState{
		RunID: x.runID, StepID: st.ID, Index: index, Status: o.status,
		ErrorCode: o.code, Error: o.msg, RunRef: o.runRef, StartedAt: o.started, FinishedAt: o.finished,
		DeviceName: o.deviceName,
	}
	var err error
	if o.input != nil {
		in := o.input
		if rec, ok := x.r.Cards.(InputRecorder); ok {
			in = rec.RecordedInput(st.Card, in)
		}
		if it.Input, err = json.Marshal(in); err != nil {
			return it, fmt.Errorf("flow: item input of step %s: %w", st.ID, err)
		}
	}
	if o.status == StatusSucceeded {
		it.Output = o.outputJSON
	}
	if o.status == StatusSucceeded && it.Output == nil {
		if it.Output, err = json.Marshal(o.output); err != nil {
			return it, fmt.Errorf("flow: item output of step %s: %w", st.ID, err)
		}
	}
	return it, nil
}

// runItem evaluates an item's if and input and runs its card, under
// calls (see WithCallContext): a card already called when ctx ends goes
// on. It returns nil when the run is stopping (ctx ended; the item is
// then not recorded, so a resume runs it again), and so calls no card
// once ctx has ended; also when the run was asked to stop and its card
// sent nothing that could change the org (ErrNotSent).
func (x *execution) runItem(ctx, calls context.Context, st *Step, c *counter, index int, item any, ready func() error) *itemOutcome {
	o := &itemOutcome{started: x.r.now()}
	failed := func(err error) *itemOutcome {
		if errors.Is(err, ErrStateUnavailable) {
			return &itemOutcome{stop: fmt.Errorf("flow: item %d of step %s: %w", index, st.ID, err)}
		}
		if errors.Is(err, ErrHandBack) || errors.Is(err, ErrRunTaken) {
			if o.pending != nil {
				// Not saved: the server that resumes the run runs the
				// item again; the card run that failed here is stored.
				_ = o.pending.Store(context.WithoutCancel(ctx))
			}
			return &itemOutcome{stop: fmt.Errorf("flow: item %d of step %s: %w", index, st.ID, err)}
		}
		if isAbort(ctx, err) || errors.Is(err, ErrNotSent) && x.r.stopped(x.runID) {
			// Not saved: its card run's outcome is stored alone. An item
			// the run's cancel stopped before its card sent its call did
			// not run, as those never started: its step is saved
			// canceled, and a rerun of the failed items runs it.
			if o.pending != nil {
				_ = o.pending.Store(context.WithoutCancel(ctx))
			}
			return nil
		}
		o.status, o.finished = StatusFailed, x.r.now()
		o.code, o.msg = publicError(err)
		return o
	}
	act := x.activation()
	if st.forEach != nil {
		act["item"], act["index"] = item, int64(index)
	}
	if st.cond != nil {
		v, err := st.cond.eval(ctx, act, "if")
		if err != nil {
			return failed(exprError(err))
		}
		b, ok := v.(bool)
		if !ok {
			return failed(exprError(fmt.Errorf("if gave %s; it must give true or false", kindOf(v))))
		}
		if !b {
			o.status, o.finished = StatusSkipped, x.r.now()
			return o
		}
	}
	o.input = map[string]any{}
	if st.input != nil {
		v, err := st.input.eval(ctx, act, "input")
		if err != nil {
			return failed(exprError(err))
		}
		m, ok := v.(map[string]any)
		if !ok {
			return failed(exprError(fmt.Errorf("input gave %s; it must give a map of the card's inputs", kindOf(v))))
		}
		o.input = m
	}
	o.deviceName = x.deviceName(item, o.input, nil)
	in, cerr := x.asChanged(st, o.input)
	if cerr != nil {
		return failed(cerr)
	}
	o.input = in
	call := Call{DeviceName: o.deviceName, FlowRunID: x.runID, StepID: st.ID, Index: index, Card: st.Card, Connection: st.connection(), Input: o.input,
		Retry: !x.plan && x.savedSteps[st.ID].Status == StatusRunning, ReadDevice: x.kept && st.takesStatus, Actor: x.actor, Plan: x.planOf, Ready: ready,
		OnWait: func(d time.Duration) {
			if d > 0 {
				x.report(st, c, "", d)
			}
		}}
	if ctx.Err() != nil {
		return nil // stopping: the card is not called
	}
	var out map[string]any
	var encoded json.RawMessage
	var err error
	o.called = true
	if x.plan {
		out, o.change, err = x.r.Cards.PlanCard(calls, call)
		if err == nil && st.mode == ModeManage && out == nil {
			out = predictOutput(o.change)
		}
	} else {
		var res CardResult
		res, err = x.r.Cards.RunCard(calls, call)
		out, encoded, o.runRef, o.pending = res.Output, res.Encoded, res.RunRef, res.Pending
		if o.deviceName == "" {
			o.deviceName = res.DeviceName
		}
	}
	if err != nil {
		return failed(err)
	}
	norm, encoded, err := jsonRoundTrip(out, encoded)
	if err != nil {
		return failed(fmt.Errorf("card output: %w", err))
	}
	o.status, o.output, o.outputJSON, o.finished = StatusSucceeded, norm, encoded, x.r.now()
	if o.deviceName == "" {
		o.deviceName = x.deviceName(nil, o.input, norm)
	}
	return o
}

// predictOutput is what a manage card's output will look like after the
// planned change, for the plan's later steps.
func predictOutput(ch *Change) map[string]any {
	switch {
	case ch == nil:
		return map[string]any{"changed": false}
	case ch.To == "DELETED":
		return map[string]any{"deleted": true}
	default:
		return map[string]any{"status": ch.To, "changed": true}
	}
}

// jsonRoundTrip gives a card output the exact shape it has when read back
// from the StateStore, so that a resumed run sees the same values, and
// returns it as JSON too. encoded, when set, is v as JSON already (the
// card run's recorded output, CardResult.Encoded), which spares encoding
// v again.
func jsonRoundTrip(v map[string]any, encoded json.RawMessage) (any, json.RawMessage, error) {
	if v == nil {
		return map[string]any{}, json.RawMessage("{}"), nil
	}
	if encoded == nil {
		var err error
		if encoded, err = json.Marshal(v); err != nil {
			return nil, nil, err
		}
	}
	var out any
	if err := json.Unmarshal(encoded, &out); err != nil {
		return nil, nil, err
	}
	return out, encoded, nil
}

// finish computes a step's result and publishes its output to later steps.
// Items left undone (nil: the budget was spent) count in Items alone.
func (x *execution) finish(st *Step, outcomes []*itemOutcome) *stepOutcome {
	res := StepResult{ID: st.ID, Items: len(outcomes)}
	outputs := []any{}
	var firstErr string
	for i, o := range outcomes {
		if o == nil {
			continue // left undone: the budget was spent
		}
		switch o.status {
		case StatusSucceeded:
			res.Succeeded++
			outputs = append(outputs, o.output)
			collectDevices(o.output, x.devices)
		case StatusFailed:
			res.Failed++
			if firstErr == "" {
				res.FirstErrorCode = o.code
				firstErr = o.msg
				if st.forEach != nil {
					firstErr = fmt.Sprintf("item %d: %s", i, o.msg)
				}
			}
		case StatusSkipped:
			res.Skipped++
		}
	}
	switch {
	case res.Failed > 0:
		res.Status = StatusFailed
		res.Error = firstErr
		if st.forEach != nil {
			res.Error = fmt.Sprintf("%d of %d items failed; first: %s", res.Failed, res.Items, firstErr)
		}
	case res.Items > 0 && res.Skipped == res.Items:
		res.Status = StatusSkipped
	default:
		res.Status = StatusSucceeded
	}
	res.Changed = changedItems(outcomes)
	x.noteChanges(st, outcomes)
	if st.forEach != nil {
		x.steps[st.ID] = map[string]any{"outputs": outputs}
	} else if res.Succeeded == 1 {
		x.steps[st.ID] = map[string]any{"output": outputs[0]}
	} else if res.Failed > 0 {
		x.missing[st.ID] = "failed"
	} else {
		x.missing[st.ID] = "was skipped by its if"
	}
	return &stepOutcome{result: res, items: outcomes}
}

// changedItems counts the succeeded items whose output says their card
// changed the device (changed or deleted true); nil when no succeeded
// item's output says either way (a read card, Custom API Action).
func changedItems(outcomes []*itemOutcome) *int {
	n, known := 0, false
	for _, o := range outcomes {
		if o == nil || o.status != StatusSucceeded {
			continue
		}
		out, _ := o.output.(map[string]any)
		for _, key := range []string{"changed", "deleted"} {
			if v, ok := out[key].(bool); ok {
				known = true
				if v {
					n++
				}
				break
			}
		}
	}
	if !known {
		return nil
	}
	return &n
}

// saveStep persists a finished step (nothing for a plan).
func (x *execution) saveStep(ctx context.Context, st *Step, out *stepOutcome, started time.Time) error {
	if x.plan {
		return nil
	}
	s := StepState{
		RunID: x.runID, StepID: st.ID, Status: out.result.Status,
		Items: out.result.Items, Succeeded: out.result.Succeeded, Failed: out.result.Failed, Skipped: out.result.Skipped,
		Changed: out.result.Changed, Error: out.result.Error, StartedAt: started, FinishedAt: x.r.now(),
	}
	// The step's output is not saved with it: it is its items' outputs,
	// saved with the items (a big search output is kept once).
	if err := x.r.State.SaveStep(ctx, s); err != nil {
		return fmt.Errorf("flow: save step %s: %w", st.ID, err)
	}
	return nil
}

// StepCanceledError is the error of a step that a canceled run left
// before every item ran.
const StepCanceledError = "the run was canceled before every item ran"

// saveCanceled saves a step stopped before all its items ran, counting
// the items that did, and returns ErrCanceled (or the store's error).
func (x *execution) saveCanceled(ctx context.Context, st *Step, outcomes []*itemOutcome, started time.Time) error {
	if x.plan {
		return ErrCanceled
	}
	s := StepState{RunID: x.runID, StepID: st.ID, Status: StatusCanceled, Items: len(outcomes),
		Changed: changedItems(outcomes), Error: StepCanceledError, StartedAt: started, FinishedAt: x.r.now()}
	for _, o := range outcomes {
		if o == nil {
			continue
		}
		switch o.status {
		case StatusSucceeded:
			s.Succeeded++
		case StatusFailed:
			s.Failed++
		case StatusSkipped:
			s.Skipped++
		}
	}
	if err := x.r.State.SaveStep(ctx, s); err != nil {
		return fmt.Errorf("flow: save step %s: %w", st.ID, err)
	}
	return ErrCanceled
}

// saveItem records a finished item. When the item was already recorded
// (another worker of the same run got there first), the recorded one wins.
func (x *execution) saveItem(ctx context.Context, st *Step, index int, o *itemOutcome, next func()) (*itemOutcome, error) {
	if x.plan {
		return o, nil
	}
	it, err := x.itemState(st, index, o)
	if err != nil {
		return nil, err
	}
	if o.pending != nil {
		err = o.pending.SaveItem(ctx, it, next)
	} else {
		err = x.r.State.SaveItem(ctx, it)
	}
	if err == nil {
		return o, nil
	}
	if !errors.Is(err, ErrItemExists) {
		return nil, fmt.Errorf("flow: save item %d of step %s: %w", index, st.ID, err)
	}
	items, err := x.loadItems(ctx, st)
	if err != nil {
		return nil, err
	}
	prev, ok := items[index]
	if !ok {
		return nil, fmt.Errorf("flow: item %d of step %s is recorded but cannot be read back", index, st.ID)
	}
	return outcomeOf(prev)
}

func (x *execution) loadItems(ctx context.Context, st *Step) (map[int]ItemState, error) {
	list, err := x.r.State.LoadItems(ctx, x.runID, st.ID)
	if err != nil {
		return nil, fmt.Errorf("flow: load items of step %s: %w", st.ID, err)
	}
	out := make(map[int]ItemState, len(list))
	for _, it := range list {
		out[it.Index] = it
	}
	return out, nil
}

// outcomeOf turns a recorded item back into an outcome.
func outcomeOf(it ItemState) (*itemOutcome, error) {
	o := &itemOutcome{status: it.Status, code: it.ErrorCode, msg: it.Error, runRef: it.RunRef, started: it.StartedAt, finished: it.FinishedAt,
		deviceName: it.DeviceName}
	if it.Status == StatusSucceeded {
		if len(it.Output) == 0 {
			o.output = map[string]any{}
		} else if err := json.Unmarshal(it.Output, &o.output); err != nil {
			return nil, fmt.Errorf("flow: recorded output of item %d of step %s: %w", it.Index, it.StepID, err)
		}
	}
	return o, nil
}
