package flowrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/outage"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/spelling"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// Config is what a Service is built from.
type Config struct {
	// Store keeps flows, runs, steps and items (required).
	Store store.Store
	// Env resolves cards and connections for validation (required).
	Env flow.ValidateEnv
	// Cards runs and plans cards (required).
	Cards flow.CardRunner
	// Owner names this server in run leases (required, unique per process).
	Owner string
	// LeaseTTL is how long a claimed run stays this server's without a
	// renewal; zero means 15 s.
	LeaseTTL time.Duration
	// MaxRuns is how many runs execute at once in this process; zero
	// means 4.
	MaxRuns int
	// Logger receives the run log; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Outage logs Work's failures to claim runs (the database down):
	// once, summarised, and the recovery. Nil means one of Logger and Now.
	Outage *outage.Log
	// Notifier makes flow_run.failed and flow_run.recovered
	// notifications, stored with the run's outcome; nil sends none.
	Notifier Notifier
	// RepeatFailure is how often a flow that keeps failing with the same
	// error is notified again: its first such failure is, then the first
	// in each later period of this length; zero means 24 h.
	RepeatFailure time.Duration
	// EventFiring gives the trigger of the run the event of t (stored, or
	// given) would start of doc (an event flow): for plans of event runs.
	// Nil refuses them.
	EventFiring func(ctx context.Context, doc *flow.Document, t PlanTrigger) (*flow.Firing, error)
	// OnChange is called after a flow is enabled or disabled here (the
	// scheduler reads its next tick again); nil does nothing.
	OnChange func()
	// OnRerunEnded is called after an automatic rerun (RerunWaiting)
	// ended here: the events of its flow that waited for it can start
	// their runs. Nil does nothing.
	OnRerunEnded func()
	// Unfit, when set, says why this server cannot execute flow runs now
	// (its keyring lacks the key the database's secrets are sealed with,
	// so its cards could neither open nor refresh tokens), or nil when it
	// can. While it says so, Work claims no run: other servers, or this
	// one once fit again, execute them.
	Unfit func() error
}

// Notifier makes the outbox rows of a notification, which the run's
// outcome stores with it (store.FinishFlowRun), and is told once they are
// committed (notify.Outbox makes them; Notified may wake a sender).
type Notifier interface {
	Notifications(m notify.Message) ([]*store.Notification, error)
	Notified()
}

// Service stores, validates, plans and runs flows. Runs are queued in the
// store and executed by Work, which claims them with a lease. It is safe
// for concurrent use.
type Service struct {
	store    store.Store
	env      flow.ValidateEnv
	runner   *flow.Runner
	owner    string
	leaseTTL time.Duration
	maxRuns  int
	log      *slog.Logger
	now      func() time.Time
	parser   flow.Parser // reads documents on the time from now
	outage   *outage.Log

	wake chan struct{}

	endedMu sync.Mutex
	ended   chan struct{} // closed (and replaced) when a run executed here ends

	stopOnce sync.Once
	stopping chan struct{} // closed when the server shuts down

	mu       sync.Mutex
	progress map[string]map[string]flow.Progress // run id → step id → latest progress
	canceled map[string]bool                     // runs executing here → asked to stop
	// stopWaits ends the rate-limit waits of a run executing here.
	stopWaits map[string]func()

	notifier     Notifier
	repeat       time.Duration
	onChange     func()
	onRerunEnded func()
	eventFiring  func(ctx context.Context, doc *flow.Document, t PlanTrigger) (*flow.Firing, error)
	unfit        func() error
}

// New builds a Service from cfg.
func New(cfg Config) *Service {
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 15 * time.Second
	}
	if cfg.MaxRuns <= 0 {
		cfg.MaxRuns = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RepeatFailure <= 0 {
		cfg.RepeatFailure = 24 * time.Hour
	}
	if cfg.Outage == nil {
		cfg.Outage = &outage.Log{Logger: cfg.Logger, Now: cfg.Now}
	}
	s := &Service{
		store: cfg.Store, env: cfg.Env, owner: cfg.Owner, leaseTTL: cfg.LeaseTTL, maxRuns: cfg.MaxRuns,
		log: cfg.Logger, now: cfg.Now, outage: cfg.Outage, notifier: cfg.Notifier, repeat: cfg.RepeatFailure, onChange: cfg.OnChange, onRerunEnded: cfg.OnRerunEnded, eventFiring: cfg.EventFiring,
		wake: make(chan struct{}, 1), progress: map[string]map[string]flow.Progress{}, stopping: make(chan struct{}),
		canceled: map[string]bool{}, stopWaits: map[string]func(){}, ended: make(chan struct{}), unfit: cfg.Unfit, parser: flow.Parser{Now: cfg.Now},
	}
	s.runner = &flow.Runner{Cards: cfg.Cards, State: flowState{cfg.Store, cfg.Owner}, Now: cfg.Now, Logger: cfg.Logger,
		Progress: s.record, Stopped: s.isCanceled}
	return s
}

func (s *Service) record(p flow.Progress) {
	if p.RunID == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.progress[p.RunID]
	if m == nil {
		m = map[string]flow.Progress{}
		s.progress[p.RunID] = m
	}
	m[p.StepID] = p
}

// Progress returns the latest progress of a run executing in this process,
// by step id (nil when it is not executing here).
func (s *Service) Progress(runID string) map[string]flow.Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.progress[runID])
}

// sameNameOtherCase returns the name of a stored flow that is name in
// other capitals, or "" when there is none (or the flows cannot be read).
func (s *Service) sameNameOtherCase(ctx context.Context, name string) string {
	fls, err := s.store.ListFlows(ctx)
	if err != nil {
		return ""
	}
	for _, fl := range fls {
		if fl.Name != name && strings.EqualFold(fl.Name, name) {
			return fl.Name
		}
	}
	return ""
}

// flowNotFound is the not_found problem of a flow id or name: its remedy
// points at a stored flow of that name in other capitals when there is
// one, else at the runs of a deleted flow of that name, else at the
// stored flows whose names are nearest to it (a misspelt name), and is
// otherwise remedy.
func (s *Service) flowNotFound(ctx context.Context, idOrName, remedy string) error {
	p := problem.New(problem.NotFound, "no flow has the id or name %q", idOrName)
	fls, err := s.store.ListFlows(ctx)
	if err != nil {
		return p.WithRemedy("%s", remedy)
	}
	var names []string
	for _, fl := range fls {
		if fl.Name != idOrName && strings.EqualFold(fl.Name, idOrName) {
			return p.WithRemedy("flow names are exact: did you mean %q?", fl.Name)
		}
		names = append(names, fl.Name)
	}
	if gone := s.deletedFlow(ctx, idOrName); gone != "" {
		return p.WithRemedy("%s", gone)
	}
	if other := s.runIDGiven(ctx, idOrName); other != "" {
		return p.WithRemedy("%s", other)
	}
	if near := spelling.Closest(idOrName, names); len(near) > 0 {
		for i, n := range near {
			near[i] = strconv.Quote(n)
		}
		return p.WithRemedy("did you mean %s?", strings.Join(near, " or "))
	}
	return p.WithRemedy("%s", remedy)
}

// deletedFlow is the remedy for a name no stored flow has when runs of a
// flow of that name exist: the flow was deleted (a flow keeps its name for
// life) and its runs stay readable by its id. It is "" otherwise.
func (s *Service) deletedFlow(ctx context.Context, name string) string {
	runs, err := s.store.ListFlowRunsPage(ctx, store.FlowRunFilter{FlowName: name, Limit: 1})
	if err != nil || len(runs) == 0 {
		return ""
	}
	id := runs[0].FlowID
	return fmt.Sprintf("the flow %q was deleted; its runs stay readable by its id: cardflow flows runs %s (GET /api/v1/flow-runs?flow=%s). To run it again, store its document again (cardflow flows store FILE)", name, id, id)
}

// runIDGiven is the remedy for an id that is not a flow's but a flow
// run's or a card run's (the same shape): the command that shows it. It
// is "" otherwise.
func (s *Service) runIDGiven(ctx context.Context, id string) string {
	if run, err := s.store.GetFlowRun(ctx, id); err == nil {
		return fmt.Sprintf("%s is the id of a run of flow %q, not of a flow: show the run with cardflow flows show-run %s (GET /api/v1/flow-runs/%s); the flow's runs are listed by cardflow flows runs %s", run.ID, run.FlowName, run.ID, run.ID, run.FlowID)
	}
	if run, err := s.store.GetRun(ctx, id); err == nil {
		return fmt.Sprintf("%s is the id of a card run (%s), not of a flow: show it with cardflow runs show %s (GET /api/v1/runs/%s)", run.ID, run.Card, run.ID, run.ID)
	}
	return ""
}

// Validate parses and validates a flow document (cards, references,
// connections and scope preflight).
func (s *Service) Validate(ctx context.Context, src []byte) (*flow.Document, error) {
	return s.parser.Check(ctx, src, s.env)
}

// Get returns a stored flow by id or name and its parsed document. The
// document is nil when this version no longer accepts the stored one (a
// rule added since it was stored): such a flow can still be read, listed,
// disabled and deleted, and its runs read; what needs the document
// (parsed) answers why it is refused.
func (s *Service) Get(ctx context.Context, idOrName string) (*store.Flow, *flow.Document, error) {
	fl, doc, _, err := s.get(ctx, idOrName)
	return fl, doc, err
}

// parsed is Get for what needs the document: a stored document this
// version no longer accepts is refused with its problems.
func (s *Service) parsed(ctx context.Context, idOrName string) (*store.Flow, *flow.Document, error) {
	fl, doc, parseErr, err := s.get(ctx, idOrName)
	if err == nil {
		err = parseErr
	}
	if err != nil {
		return nil, nil, err
	}
	return fl, doc, nil
}

// get reads a stored flow by id or name and parses its document; parseErr
// is why this version does not accept the document (doc is nil then).
func (s *Service) get(ctx context.Context, idOrName string) (fl *store.Flow, doc *flow.Document, parseErr, err error) {
	fl, err = s.store.GetFlow(ctx, idOrName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, s.flowNotFound(ctx, idOrName, "store it first (POST /api/v1/flows, or cardflow flows store FILE)")
	}
	if err != nil {
		return nil, nil, nil, err
	}
	doc, parseErr = s.parser.Parse(fl.Source)
	return fl, doc, parseErr, nil
}

// Delete removes a stored flow (by id or name) on behalf of actor: its
// trigger stops with it; its runs, finished or not, stay and keep the
// document they ran.
func (s *Service) Delete(ctx context.Context, idOrName string, actor store.Actor) (*store.Flow, error) {
	fl, err := s.store.GetFlow(ctx, idOrName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, s.flowNotFound(ctx, idOrName, "list the stored flows with GET /api/v1/flows (or cardflow flows list)")
	}
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteFlow(ctx, fl.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("delete flow %s: %w", fl.Name, err)
	}
	s.log.InfoContext(ctx, "flow deleted", slog.String("flow", fl.Name), slog.String("actor", actor.String()))
	if err := s.store.AppendAudit(ctx, &store.AuditEvent{
		Time: s.now(), Actor: actor, Action: store.ActionFlowDelete, Outcome: "success",
		InputSummary: fmt.Sprintf("flow %s (%s)", fl.Name, fl.ID),
	}); err != nil {
		return nil, fmt.Errorf("audit the deletion: %w", err)
	}
	if s.onChange != nil {
		s.onChange()
	}
	return fl, nil
}

// ListPage returns one page of the stored flows by name ignoring case,
// then id (store.NamePage).
func (s *Service) ListPage(ctx context.Context, p store.NamePage) ([]*store.Flow, error) {
	return s.store.ListFlowsPage(ctx, p)
}

// Plan validates the stored flow again (connections and scopes may have
// changed) and dry-runs it. The card runs of its read steps are recorded
// as of a plan of the flow (store.PlanRef), under actor.
func (s *Service) Plan(ctx context.Context, idOrName string, inputs map[string]any, actor store.Actor) (*flow.PlanResult, error) {
	fl, doc, err := s.validated(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	return s.planManual(ctx, doc, fl.ID, inputs, actor)
}

// planManual plans doc (stored as flowID, or "" when not stored) as the
// run a person (actor) starts with the inputs: the card runs of its read
// steps are recorded and audited as of the plan, under actor.
func (s *Service) planManual(ctx context.Context, doc *flow.Document, flowID string, inputs map[string]any, actor store.Actor) (*flow.PlanResult, error) {
	in, err := coerceInputs(doc, inputs)
	if err != nil {
		return nil, triggeredPlanRemedy(doc, err)
	}
	if err := noEventByHand(doc, "plan"); err != nil {
		return nil, err
	}
	return s.plan(ctx, doc, flowID, in, flow.Firing{Kind: flow.KindManual, Time: s.now(), Actor: flow.Actor(actor)})
}

// PlanDocument validates a flow document (cards, connections, scope
// preflight) and plans it with the inputs, without storing it.
func (s *Service) PlanDocument(ctx context.Context, src []byte, inputs map[string]any, actor store.Actor) (*flow.PlanResult, error) {
	doc, err := s.Validate(ctx, src)
	if err != nil {
		return nil, err
	}
	return s.planManual(ctx, doc, "", inputs, actor)
}

// noEventByHand refuses to run or plan (what) by hand an event flow whose
// steps read the Okta event that starts its runs: a run started by hand
// has none, and would fail at that step after running the ones before it.
func noEventByHand(doc *flow.Document, what string) error {
	reads := doc.EventReads()
	if len(reads) == 0 {
		return nil
	}
	r := reads[0]
	name := shellWord(doc.Name)
	p := problem.New(problem.Conflict, "flow %s reads the Okta event that starts its runs (step %s, %s: ${{ %s }}), which a run started by hand does not have",
		doc.Name, r.Step, r.Pos, r.Expr)
	if what == "plan" {
		return p.WithRemedy("plan the run an Okta event would start: cardflow flows plan %s --event UUID (a stored event: cardflow events list) or --event-file EVENT.json", name).
			WithDetail("field", "trigger")
	}
	return p.WithRemedy("its runs start from Okta events once it is enabled (cardflow flows enable %s); to run it again for an event it ran for, rerun that run (cardflow flows rerun RUN_ID); "+
		"to run it by hand as well, compute inputs from the event under on.inputs and read inputs.NAME in its steps", name)
}

// triggeredPlanRemedy adds to the remedy of a plan missing inputs the plan
// of the run doc's trigger would start, whose on.inputs gives them: the
// inputs of an event flow usually come from its event, which a person
// planning it has no other way to give.
func triggeredPlanRemedy(doc *flow.Document, err error) error {
	p, ok := problem.As(err)
	if !ok || p.Details["missing"] == nil || doc.Trigger == nil {
		return err
	}
	switch {
	case doc.Trigger.Event != nil:
		p.WithRemedy("%s, or plan the run an Okta event would start (trigger kind event), with the inputs its on.inputs computes: --event-file EVENT.json (the event's LogEvent JSON, as the System Log shows it) or --event UUID (a stored event: cardflow events list)", p.Remedy)
	case doc.Trigger.Schedule != nil:
		p.WithRemedy("%s, or plan the run of the next tick, with the inputs its on.inputs computes: --as-scheduled (trigger kind schedule)", p.Remedy)
	}
	return p
}

// PlanTrigger names the triggered run a plan is of: Kind
// flow.KindSchedule is the run of the schedule's next tick, flow.KindEvent
// the run the stored event EventUUID would start or, when Event is set,
// the run that Okta event (LogEvent JSON) would start.
type PlanTrigger struct {
	Kind      string
	EventUUID string
	Event     json.RawMessage
}

// PlanTriggered plans the run the stored flow's trigger would start: the
// one of its schedule's next tick, or of a stored event. on.inputs
// computes the inputs from it, and the steps see it as trigger, as that
// run's would. The flow need not be enabled.
func (s *Service) PlanTriggered(ctx context.Context, idOrName string, t PlanTrigger, actor store.Actor) (*flow.PlanResult, error) {
	fl, doc, err := s.validated(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	return s.planTriggered(ctx, doc, fl.ID, t, actor)
}

// PlanDocumentTriggered is PlanTriggered of a flow document that is not
// stored.
func (s *Service) PlanDocumentTriggered(ctx context.Context, src []byte, t PlanTrigger, actor store.Actor) (*flow.PlanResult, error) {
	doc, err := s.Validate(ctx, src)
	if err != nil {
		return nil, err
	}
	return s.planTriggered(ctx, doc, "", t, actor)
}

// planTriggered plans the run t names of doc, stored as flowID ("" when
// not stored).
func (s *Service) planTriggered(ctx context.Context, doc *flow.Document, flowID string, t PlanTrigger, actor store.Actor) (*flow.PlanResult, error) {
	if t.Kind == flow.KindEvent {
		return s.planEvent(ctx, doc, flowID, t, actor)
	}
	if doc.Trigger == nil || doc.Trigger.Schedule == nil {
		return nil, problem.New(problem.InvalidInput, "flow %s has no on.schedule, so no scheduled run to plan", doc.Name).
			WithRemedy("%s", otherPlan(doc)).WithDetail("field", "trigger")
	}
	sch := doc.Trigger.Schedule
	tick := sch.Next(s.now())
	if tick.IsZero() {
		return nil, problem.New(problem.InvalidInput, "the schedule of flow %s has no tick in the next five years", doc.Name).
			WithRemedy("fix on.schedule (a cron expression naming a day that exists, such as not February 30th)").WithDetail("field", "trigger")
	}
	return s.planFiring(ctx, doc, flowID, flow.Firing{Kind: flow.KindSchedule, Time: tick.In(sch.Location())}, actor)
}

// otherPlan is the remedy of a plan asked for a trigger doc does not have:
// the plan its own trigger, or a person, would start.
func otherPlan(doc *flow.Document) string {
	switch {
	case doc.Trigger != nil && doc.Trigger.Schedule != nil:
		return "its trigger is on.schedule: plan the run of its next tick (--as-scheduled; trigger kind schedule), or a run with its inputs (--input name=value)"
	case doc.Trigger != nil && doc.Trigger.Event != nil:
		return "its trigger is on.event: plan the run a stored event would start (--event UUID; trigger kind event), or a run with its inputs (--input name=value)"
	}
	return "plan it as a person runs it, with its inputs (--input name=value)"
}

// planEvent plans the run the event of t would start, if the flow's
// on.event.if accepts it.
func (s *Service) planEvent(ctx context.Context, doc *flow.Document, flowID string, t PlanTrigger, actor store.Actor) (*flow.PlanResult, error) {
	switch {
	case doc.Trigger == nil || doc.Trigger.Event == nil:
		return nil, problem.New(problem.InvalidInput, "flow %s has no on.event, so no event's run to plan", doc.Name).
			WithRemedy("%s", otherPlan(doc)).WithDetail("field", "trigger")
	case s.eventFiring == nil:
		return nil, problem.New(problem.Internal, "this server cannot plan event runs")
	}
	f, err := s.eventFiring(ctx, doc, t)
	if err != nil {
		return nil, err
	}
	uuid := f.EventUUID
	ok, err := doc.TriggerMatches(ctx, *f)
	if err != nil {
		return nil, problem.New(problem.InvalidInput, "on.event.if could not be evaluated for event %s: %v", uuid, err).
			WithRemedy("fix the expression under on.event.if so that it gives true or false for every event (test a field with has() before reading it)")
	}
	if !ok {
		return nil, problem.New(problem.InvalidInput, "flow %s would not run for event %s: its on.event.if is false for it", doc.Name, uuid).
			WithRemedy("plan it with an event its on.event.if accepts (cardflow events list shows the stored events; --event-file takes one copied from Okta's System Log)").WithDetail("field", "trigger")
	}
	return s.planFiring(ctx, doc, flowID, *f, actor)
}

// planFiring plans doc's run that f starts, with the inputs on.inputs
// computes for it; the card runs of its read steps are recorded and
// audited as of the plan of doc (stored as flowID, "" when not stored),
// under actor, who asked for it.
func (s *Service) planFiring(ctx context.Context, doc *flow.Document, flowID string, f flow.Firing, actor store.Actor) (*flow.PlanResult, error) {
	f.Actor = flow.Actor(actor)
	in, err := s.triggerInputs(ctx, doc, f)
	if err != nil {
		return nil, err
	}
	return s.plan(ctx, doc, flowID, in, f)
}

// validated reads a stored flow and validates it again: connections and
// scopes may have changed since it was stored.
func (s *Service) validated(ctx context.Context, idOrName string) (*store.Flow, *flow.Document, error) {
	fl, doc, err := s.parsed(ctx, idOrName)
	if err != nil {
		return nil, nil, err
	}
	if err := doc.Validate(ctx, s.env); err != nil {
		return nil, nil, err
	}
	return fl, doc, nil
}

// prepare reads and validates a stored flow (validated) and converts the
// inputs to its declared types.
func (s *Service) prepare(ctx context.Context, idOrName string, inputs map[string]any) (*store.Flow, *flow.Document, map[string]any, error) {
	fl, doc, err := s.validated(ctx, idOrName)
	if err != nil {
		return nil, nil, nil, err
	}
	in, err := coerceInputs(doc, inputs)
	if err != nil {
		return nil, nil, nil, err
	}
	return fl, doc, in, nil
}

// Starter is who starts a run by hand (Start, Rerun): the actor the run
// and its card runs record, and the console session or personal API token
// they start it with, which must still exist when the run is stored
// (store.FlowRun.SessionID, TokenID), so that no run outlives a revoke of
// their access unseen; both are empty for the bootstrap admin.
type Starter struct {
	Actor     store.Actor
	SessionID string
	TokenID   string
}

// Start validates the stored flow and its inputs and queues a run started
// by by; a worker picks it up at once. The run and each of its card runs
// record by's actor. A run whose starter's session or token ended
// meanwhile (a revoke) is refused.
func (s *Service) Start(ctx context.Context, idOrName string, inputs map[string]any, by Starter) (*store.FlowRun, error) {
	actor := by.Actor
	fl, doc, in, err := s.prepare(ctx, idOrName, inputs)
	if err != nil {
		return nil, err
	}
	if err := noEventByHand(doc, "run"); err != nil {
		return nil, err
	}
	// Wrong types are refused here, as a plan refuses them, not recorded
	// as a failed run.
	if err := doc.CheckInputs(in); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, problem.New(problem.InvalidInput, "the inputs cannot be stored as JSON").Wrap(err)
	}
	now := s.now()
	trig, _ := json.Marshal(flow.Firing{Kind: flow.KindManual, Time: now}) // a Firing always marshals
	run := &store.FlowRun{
		FlowID: fl.ID, FlowName: fl.Name, Source: fl.Source, FlowVersion: fl.Version, Inputs: raw,
		Status: "queued", Actor: actor, CreatedAt: now, Trigger: trig, SessionID: by.SessionID, TokenID: by.TokenID,
	}
	if err := s.store.CreateFlowRun(ctx, run); errors.Is(err, store.ErrRevoked) {
		return nil, revokedMeanwhile(err)
	} else if err != nil {
		return nil, fmt.Errorf("store flow run: %w", err)
	}
	s.log.InfoContext(ctx, "flow run queued", slog.String("flow_run", run.ID), slog.String("flow", fl.Name))
	s.Wake()
	return run, nil
}

// Rerun queues a new run of a finished run on behalf of by (as Start): the same
// flow version (the document the original ran, whatever was stored
// since), inputs and trigger, with RerunOf naming the original. With
// failedOnly, the original's succeeded and skipped items are copied into
// the new run, which runs only the rest: the failed items and any it never
// reached.
func (s *Service) Rerun(ctx context.Context, runID string, failedOnly bool, by Starter) (*store.FlowRun, error) {
	actor := by.Actor
	orig, err := s.GetRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	if !Finished(orig.Status) {
		return nil, problem.New(problem.Conflict, "flow run %s is %s; only a finished run can be run again", runID, orig.Status).
			WithRemedy("wait for it to finish, or cancel it with POST /api/v1/flow-runs/%s/cancel (cardflow flows cancel %s)", runID, runID)
	}
	if failedOnly && orig.Status == flow.StatusSucceeded {
		// Every step and item of it would be kept: a run that does nothing.
		return nil, problem.New(problem.Conflict, "flow run %s succeeded: nothing in it failed, so a rerun of the failed items only would do nothing", runID).
			WithRemedy("to run all of it again, rerun it without failedOnly: POST /api/v1/flow-runs/%s/rerun (cardflow flows rerun %s)", runID, runID)
	}
	doc, err := s.parser.Parse(orig.Source)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(ctx, s.env); err != nil {
		return nil, err
	}
	run := rerunOf(orig, by, s.now())
	var keep []string
	if failedOnly {
		keep = keepFailedOnly
	}
	n, err := s.store.CreateFlowRunFrom(ctx, run, orig.ID, keep)
	if errors.Is(err, store.ErrRevoked) {
		return nil, revokedMeanwhile(err)
	} else if err != nil {
		return nil, fmt.Errorf("store flow run: %w", err)
	}
	s.log.InfoContext(ctx, "flow run queued again", slog.String("flow_run", run.ID), slog.String("of", orig.ID),
		slog.Bool("failed_only", failedOnly), slog.Int("items_kept", n))
	if err := s.store.AppendAudit(ctx, &store.AuditEvent{
		Time: s.now(), Actor: actor, Action: store.ActionFlowRerun, Outcome: "success",
		InputSummary: fmt.Sprintf("flow %s version %d, run %s of run %s, failed only %t, %d items kept", run.FlowName, run.FlowVersion, run.ID, orig.ID, failedOnly, n),
	}); err != nil {
		return nil, fmt.Errorf("audit the rerun: %w", err)
	}
	s.Wake()
	return run, nil
}

// keepFailedOnly are the statuses of the items a rerun of the failed
// items only takes over from the run it reruns.
var keepFailedOnly = []string{flow.StatusSucceeded, flow.StatusSkipped}

// rerunOf is the queued rerun of orig, started by by at now: the version
// orig ran, with its inputs and trigger.
func rerunOf(orig *store.FlowRun, by Starter, now time.Time) *store.FlowRun {
	return &store.FlowRun{
		FlowID: orig.FlowID, FlowName: orig.FlowName, Source: orig.Source, FlowVersion: orig.FlowVersion,
		Inputs: orig.Inputs, Status: "queued", Actor: by.Actor, CreatedAt: now, Trigger: orig.Trigger,
		RerunOf: orig.ID, SessionID: by.SessionID, TokenID: by.TokenID,
	}
}

// revokedMeanwhile is the refusal of a run whose starter's session or
// token ended while it was being started (store.ErrRevoked): their access
// was revoked.
func revokedMeanwhile(err error) error {
	return problem.New(problem.Unauthenticated, "your access was revoked while this was being done, so the flow run was not started").
		WithRemedy("sign in again; if you still have access, start it again").Wrap(err)
}

// Wake makes the workers look for queued runs now rather than at their
// next poll.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// flowRunNotFound is the not_found problem of a flow run id.
func flowRunNotFound(id string) error {
	return problem.New(problem.NotFound, "no flow run has the id %q", id).
		WithRemedy("list the flow runs with GET /api/v1/flow-runs (cardflow flows runs NAME)")
}

// GetRun returns a flow run.
func (s *Service) GetRun(ctx context.Context, id string) (*store.FlowRun, error) {
	r, err := s.store.GetFlowRun(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, flowRunNotFound(id)
	}
	return r, err
}

// ListRuns returns the runs of a flow (of every flow when flowID is "").
func (s *Service) ListRuns(ctx context.Context, f store.FlowRunFilter) ([]*store.FlowRun, error) {
	return s.store.ListFlowRunsPage(ctx, f)
}

// Steps returns a run's saved steps.
func (s *Service) Steps(ctx context.Context, runID string) ([]*store.FlowStep, error) {
	return s.store.ListFlowSteps(ctx, runID)
}

// Items returns the finished items of a step of a run, by index.
func (s *Service) Items(ctx context.Context, runID, stepID string) ([]*store.FlowItem, error) {
	items, err := s.store.ListFlowItems(ctx, runID, stepID)
	sort.Slice(items, func(i, j int) bool { return items[i].Index < items[j].Index })
	return items, err
}

// ItemsPage returns at most limit of a step's items after index after.
func (s *Service) ItemsPage(ctx context.Context, runID, stepID string, after, limit int) ([]*store.FlowItem, error) {
	return s.store.ListFlowItemsPage(ctx, runID, stepID, after, limit)
}

// ItemCounts counts a step's recorded items by status.
func (s *Service) ItemCounts(ctx context.Context, runID, stepID string) (map[string]int, error) {
	return s.store.CountFlowItems(ctx, runID, stepID)
}

// Wait returns the run once it has finished (polling the store, so it works
// whichever server executes the run), or ctx's error.
func (s *Service) Wait(ctx context.Context, id string) (*store.FlowRun, error) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		// A run executed here says when it ends; one executed by another
		// server is seen at the next tick.
		ended := s.endedChan()
		r, err := s.GetRun(ctx, id)
		if err != nil {
			return nil, err
		}
		if Finished(r.Status) {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-s.stopping:
			return nil, problem.New(problem.Conflict, "the server is shutting down; flow run %s is not finished", id).
				WithRemedy("follow it with GET /api/v1/flow-runs/%s (or cardflow flows show-run %s); it resumes when a server runs", id, id)
		case <-t.C:
		case <-ended:
		}
	}
}

// endedChan returns the channel closed when the next run executed here
// ends.
func (s *Service) endedChan() <-chan struct{} {
	s.endedMu.Lock()
	defer s.endedMu.Unlock()
	return s.ended
}

// runEnded wakes the callers of Wait: a run executed here has stored its
// outcome.
func (s *Service) runEnded() {
	s.endedMu.Lock()
	close(s.ended)
	s.ended = make(chan struct{})
	s.endedMu.Unlock()
}

// Finished reports whether a flow run with this status has ended.
func Finished(status string) bool {
	return status == flow.StatusSucceeded || status == flow.StatusFailed || status == flow.StatusCanceled
}

// Cancel asks flow run id to stop on behalf of actor: a queued run ends
// canceled at once; a running one stops starting items (the items in
// flight finish and are recorded) and ends canceled, whichever server
// executes it, and no server resumes it. Canceling a canceled run changes
// nothing; a run that ended otherwise is a conflict.
func (s *Service) Cancel(ctx context.Context, id string, actor store.Actor) (*store.FlowRun, error) {
	return s.cancel(ctx, id, actor, "")
}

// cancel is Cancel, the run's request and its audit event saying why
// when why is not empty. The flow.cancel event of the request is stored
// in the transaction that makes it, one per request: a request that is
// stored is audited, whatever happens to the server then. A queued run it
// ends at once gets its flow.run audit event with it, as a run its server
// ends does; only the request that ended it stores one, whichever server
// took it.
func (s *Service) cancel(ctx context.Context, id string, actor store.Actor, why string) (*store.FlowRun, error) {
	now := s.now()
	asked := func(run *store.FlowRun) *store.AuditEvent {
		summary := fmt.Sprintf("flow %s, run %s", run.FlowName, run.ID)
		if why != "" {
			summary += ": " + why
		}
		return &store.AuditEvent{Time: now, Actor: actor, Action: store.ActionFlowCancel, Outcome: "success", InputSummary: summary}
	}
	run, err := s.store.CancelFlowRun(ctx, id, actor, why, now, asked, s.runEvent)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, flowRunNotFound(id)
	case errors.Is(err, store.ErrConflict) && run != nil:
		return nil, problem.New(problem.Conflict, "flow run %s already ended %s", id, run.Status).
			WithRemedy("only a queued or running run can be canceled; to run it again, rerun it with POST /api/v1/flow-runs/%s/rerun (cardflow flows rerun %s)", id, id)
	case err != nil:
		return nil, err
	}
	if run.Status != flow.StatusCanceled {
		s.markCanceled(id)
	}
	attrs := []any{slog.String("flow_run", id), slog.String("status", run.Status), slog.String("actor", actor.String())}
	if why != "" {
		attrs = append(attrs, slog.String("reason", why))
	}
	s.log.InfoContext(ctx, "flow run cancel requested", attrs...)
	return run, nil
}

// CancelCause says who asked run to stop, and why when they did not
// decide it on their own, naming the asker with name (Actor.String when
// nil): "asked by admin@example.com", "its starter ada@example.com's
// access was revoked by admin@example.com". It is empty for a run nobody
// asked to stop, and for one asked before who asked was recorded.
func CancelCause(run *store.FlowRun, name func(store.Actor) string) string {
	by := run.CancelRequestedBy
	if run.CancelRequestedAt.IsZero() || by.Type == "" {
		return ""
	}
	who := by.String()
	if name != nil {
		who = name(by)
	}
	why := "asked"
	if run.CancelReason != "" {
		why = run.CancelReason
	}
	return why + " by " + who
}

// canceledText is the error of a canceled run's flow.run audit event:
// "canceled: CAUSE at TIME" (CancelCause), or "canceled" when who asked
// is not recorded.
func canceledText(run *store.FlowRun) string {
	cause := CancelCause(run, nil)
	if cause == "" {
		return "canceled"
	}
	return "canceled: " + cause + " at " + timetext.Format(run.CancelRequestedAt)
}

// endedText is the error of an ended run's flow.run audit event: its
// error, or canceledText for a canceled run. A run asked to stop while its
// last items were in flight, which they ended otherwise, says so after its
// error: "cancel requested: CAUSE at TIME, while its last items were in
// flight; it ended STATUS".
func endedText(run *store.FlowRun) string {
	if run.Status == flow.StatusCanceled {
		return canceledText(run)
	}
	if run.CancelRequestedAt.IsZero() {
		return run.Error
	}
	cause := CancelCause(run, nil)
	if cause == "" {
		cause = "asked (by whom is not recorded: a cardflow of an earlier version took the request)"
	}
	note := "cancel requested: " + cause + " at " + timetext.Format(run.CancelRequestedAt) +
		", while its last items were in flight; it ended " + run.Status
	if run.Error == "" {
		return note
	}
	return run.Error + "\n(" + note + ")"
}

// runEvent is the flow.run audit event of run, ended: by its starter,
// a success when it succeeded, its error as endedText says it.
func (s *Service) runEvent(run *store.FlowRun) *store.AuditEvent {
	outcome := "success"
	if run.Status != flow.StatusSucceeded {
		outcome = "failure"
	}
	inputs := truncateText(string(run.Inputs), 200)
	if len(run.Inputs) == 0 {
		// A triggered run computes its inputs when it first executes; it
		// can end before (on.event.if failing for its event).
		inputs = "not computed (the run ended before its trigger's inputs were)"
	}
	return &store.AuditEvent{
		Time: s.now(), Actor: run.Actor, Action: store.ActionFlowRun, Outcome: outcome, Error: endedText(run),
		InputSummary: fmt.Sprintf("flow %s, run %s, inputs %s", run.FlowName, run.ID, inputs),
	}
}

// CancelStartedBy cancels, as Cancel does, every flow run still queued or
// running, and not yet asked to stop, that the person login (compared
// ignoring case, store.FoldCase) started by hand, with a console session
// or a token of theirs: their runs and reruns. The runs a schedule or an Okta event started act as
// whoever enabled the flow but were not started by them, and go on. Each
// cancel is audited as by, saying that the run's starter's access was
// revoked. It returns how many runs it asked to stop; on an error, the
// runs before it were asked to stop and the rest were not.
func (s *Service) CancelStartedBy(ctx context.Context, login string, by store.Actor) (int, error) {
	theirs, err := s.StartedBy(ctx, login)
	if err != nil {
		return 0, err
	}
	why := RevokedReason(login)
	n := 0
	for _, r := range theirs {
		_, err := s.cancel(ctx, r.ID, by, why)
		var p *problem.Error
		if errors.As(err, &p) && (p.Code == problem.Conflict || p.Code == problem.NotFound) {
			continue // it ended, or was deleted with its flow, since the list was read
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// RevokedReason is the CancelReason of the runs CancelStartedBy cancels
// when the access of login, who started them, is revoked: "its starter
// LOGIN's access was revoked".
func RevokedReason(login string) string {
	return fmt.Sprintf("its starter %s's access was revoked", login)
}

// StartedBy returns the flow runs login started by hand (runs and reruns,
// as a person or with their tokens; logins compare ignoring case) that are
// queued or running and that nobody has asked to stop yet, newest first:
// those CancelStartedBy cancels.
func (s *Service) StartedBy(ctx context.Context, login string) ([]*store.FlowRun, error) {
	if login == "" {
		return nil, nil
	}
	key := store.FoldCase(login)
	var theirs []*store.FlowRun
	f := store.FlowRunFilter{Unfinished: true, Limit: 500}
	for {
		page, err := s.store.ListFlowRunsPage(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("list the unfinished flow runs: %w", err)
		}
		for _, r := range page {
			if r.CancelRequestedAt.IsZero() && startedByHand(r) && (r.Actor.Type == store.ActorUser || r.Actor.Type == store.ActorToken) &&
				r.Actor.Login != "" && store.FoldCase(r.Actor.Login) == key {
				theirs = append(theirs, r)
			}
		}
		if len(page) < f.Limit {
			return theirs, nil
		}
		last := page[len(page)-1]
		f.Before, f.BeforeID = last.CreatedAt, last.ID
	}
}

// startedByHand reports whether a person started run: a run (or a rerun
// of any run) asked for with POST .../runs or .../rerun, not one a
// schedule or an event started.
func startedByHand(run *store.FlowRun) bool {
	if run.RerunOf != "" {
		return true
	}
	f, err := firingOf(run)
	return err == nil && (f.Kind == "" || f.Kind == flow.KindManual)
}

// Canceling reports whether run id executes here and was asked to stop.
func (s *Service) Canceling(id string) bool { return s.isCanceled(id) }

// executing reports whether run id executes in this process.
func (s *Service) executing(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, here := s.canceled[id]
	return here
}

// isCanceled is the runner's Stopped: whether run id, executing here, was
// asked to stop.
func (s *Service) isCanceled(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.canceled[id]
}

// Shutdown makes Wait return: the server is stopping. It is safe to call
// more than once.
func (s *Service) Shutdown() { s.stopOnce.Do(func() { close(s.stopping) }) }

// shellWord is s as one word of a shell command line: as it is when it
// holds only letters, digits and ._-@, else in single quotes.
func shellWord(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-@", r)))
	}) < 0
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
