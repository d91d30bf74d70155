package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// flowService stores, validates, plans and runs flows (web.Flows). Runs
// are queued in the store and executed by workers that claim them with a
// lease, so a run interrupted by a crash is resumed by whichever server
// claims it next, without repeating finished items.
type flowService struct {
	store    store.Store
	env      flow.ValidateEnv
	runner   *flow.Runner
	owner    string
	leaseTTL time.Duration
	maxRuns  int
	log      *slog.Logger
	now      func() time.Time

	wake chan struct{}

	stopOnce sync.Once
	stopping chan struct{} // closed when the server shuts down

	mu       sync.Mutex
	progress map[string]map[string]flow.Progress // run id → step id → latest progress
}

// callerKey carries a flow run's caller to the card runner adapter.
type callerKey struct{}

func newFlowService(st store.Store, env flow.ValidateEnv, cards flow.CardRunner, owner string, leaseTTL time.Duration, log *slog.Logger, now func() time.Time) *flowService {
	if leaseTTL <= 0 {
		leaseTTL = 15 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	f := &flowService{
		store: st, env: env, owner: owner, leaseTTL: leaseTTL, maxRuns: 4, log: log, now: now,
		wake: make(chan struct{}, 1), progress: map[string]map[string]flow.Progress{}, stopping: make(chan struct{}),
	}
	f.runner = &flow.Runner{Cards: cards, State: flowState{st}, Now: now, Logger: log, Progress: f.record}
	return f
}

func (f *flowService) record(p flow.Progress) {
	if p.RunID == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.progress[p.RunID]
	if m == nil {
		m = map[string]flow.Progress{}
		f.progress[p.RunID] = m
	}
	m[p.StepID] = p
}

// Progress returns the latest progress of a run executing in this process,
// by step id (nil when it is not executing here).
func (f *flowService) Progress(runID string) map[string]flow.Progress {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.progress[runID])
}

// Validate parses and validates a flow document (cards, references,
// connections and scope preflight).
func (f *flowService) Validate(ctx context.Context, src []byte) (*flow.Document, error) {
	return flow.Check(ctx, src, f.env)
}

// Put validates a flow document and stores it under its name, replacing a
// flow of the same name.
func (f *flowService) Put(ctx context.Context, src []byte) (*store.Flow, *flow.Document, error) {
	doc, err := f.Validate(ctx, src)
	if err != nil {
		return nil, doc, err
	}
	fl := &store.Flow{Name: doc.Name, Source: src, CreatedAt: f.now(), UpdatedAt: f.now()}
	if err := f.store.PutFlow(ctx, fl); err != nil {
		return nil, nil, fmt.Errorf("store flow: %w", err)
	}
	return fl, doc, nil
}

// Get returns a stored flow by id or name and its parsed document.
func (f *flowService) Get(ctx context.Context, idOrName string) (*store.Flow, *flow.Document, error) {
	fl, err := f.store.GetFlow(ctx, idOrName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, problem.New(problem.NotFound, "no flow has the id or name %q", idOrName).
			WithRemedy("store it first (POST /api/v1/flows, or cardflow flows run FILE)")
	}
	if err != nil {
		return nil, nil, err
	}
	doc, err := flow.Parse(fl.Source)
	if err != nil {
		return nil, nil, err
	}
	return fl, doc, nil
}

// List returns the stored flows.
func (f *flowService) List(ctx context.Context) ([]*store.Flow, error) {
	return f.store.ListFlows(ctx)
}

// Plan validates the stored flow again (connections and scopes may have
// changed) and dry-runs it.
func (f *flowService) Plan(ctx context.Context, idOrName string, inputs map[string]any) (*flow.PlanResult, error) {
	_, doc, in, err := f.prepare(ctx, idOrName, inputs)
	if err != nil {
		return nil, err
	}
	return f.runner.Plan(ctx, doc, in)
}

// prepare reads a stored flow, validates it again (connections and scopes
// may have changed since it was stored) and converts the inputs to its
// declared types.
func (f *flowService) prepare(ctx context.Context, idOrName string, inputs map[string]any) (*store.Flow, *flow.Document, map[string]any, error) {
	fl, doc, err := f.Get(ctx, idOrName)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := doc.Validate(ctx, f.env); err != nil {
		return nil, nil, nil, err
	}
	in, err := coerceInputs(doc, inputs)
	if err != nil {
		return nil, nil, nil, err
	}
	return fl, doc, in, nil
}

// Start validates the stored flow and its inputs and queues a run; a
// worker picks it up at once.
func (f *flowService) Start(ctx context.Context, idOrName string, inputs map[string]any, caller string) (*store.FlowRun, error) {
	fl, _, in, err := f.prepare(ctx, idOrName, inputs)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, problem.New(problem.InvalidInput, "the inputs cannot be stored as JSON").Wrap(err)
	}
	run := &store.FlowRun{
		FlowID: fl.ID, FlowName: fl.Name, Source: fl.Source, Inputs: raw,
		Status: "queued", Caller: caller, CreatedAt: f.now(),
	}
	if err := f.store.CreateFlowRun(ctx, run); err != nil {
		return nil, fmt.Errorf("store flow run: %w", err)
	}
	f.log.InfoContext(ctx, "flow run queued", slog.String("flow_run", run.ID), slog.String("flow", fl.Name))
	select {
	case f.wake <- struct{}{}:
	default:
	}
	return run, nil
}

// GetRun returns a flow run.
func (f *flowService) GetRun(ctx context.Context, id string) (*store.FlowRun, error) {
	r, err := f.store.GetFlowRun(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.New(problem.NotFound, "no flow run has the id %q", id)
	}
	return r, err
}

// ListRuns returns the runs of a flow (of every flow when flowID is "").
func (f *flowService) ListRuns(ctx context.Context, flowID string, limit int) ([]*store.FlowRun, error) {
	return f.store.ListFlowRuns(ctx, flowID, limit)
}

// Steps returns a run's saved steps.
func (f *flowService) Steps(ctx context.Context, runID string) ([]*store.FlowStep, error) {
	return f.store.ListFlowSteps(ctx, runID)
}

// Items returns the finished items of a step of a run, by index.
func (f *flowService) Items(ctx context.Context, runID, stepID string) ([]*store.FlowItem, error) {
	items, err := f.store.ListFlowItems(ctx, runID, stepID)
	sort.Slice(items, func(i, j int) bool { return items[i].Index < items[j].Index })
	return items, err
}

// Wait returns the run once it has finished (polling the store, so it works
// whichever server executes the run), or ctx's error.
func (f *flowService) Wait(ctx context.Context, id string) (*store.FlowRun, error) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		r, err := f.GetRun(ctx, id)
		if err != nil {
			return nil, err
		}
		if r.Status == flow.StatusSucceeded || r.Status == flow.StatusFailed {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-f.stopping:
			return nil, problem.New(problem.Conflict, "the server is shutting down; flow run %s is not finished", id).
				WithRemedy("follow it with GET /api/v1/flow-runs/%s (or cardflow flows show-run %s); it resumes when a server runs", id, id)
		case <-t.C:
		}
	}
}

// shutdown makes Wait return: the server is stopping.
func (f *flowService) shutdown() { f.stopOnce.Do(func() { close(f.stopping) }) }

// coerceInputs converts string values given for number, bool and list
// inputs (as a command line sends them) to the declared types and checks
// that every required input is there and no unknown one is.
func coerceInputs(doc *flow.Document, inputs map[string]any) (map[string]any, error) {
	out := map[string]any{}
	text := map[string]string{}
	for k, v := range inputs {
		def, ok := doc.Input(k)
		if s, isStr := v.(string); ok && isStr && def.Type != flow.TypeString {
			text[k] = s
			continue
		}
		if !ok {
			text[k] = fmt.Sprint(v) // reported as unknown by ParseInputs
			continue
		}
		out[k] = v
	}
	if len(text) > 0 {
		conv, err := flow.ParseInputs(doc, text)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, conv)
	}
	var missing []string
	for _, def := range doc.Inputs {
		if _, ok := out[def.Name]; !ok && def.Required && !def.HasDefault {
			missing = append(missing, def.Name)
		}
	}
	if len(missing) > 0 {
		return nil, problem.New(problem.InvalidInput, "missing required input(s) %s of flow %s", strings.Join(missing, ", "), doc.Name).
			WithRemedy("give them as --input name=value (or in \"inputs\")").WithDetail("missing", missing)
	}
	return out, nil
}
