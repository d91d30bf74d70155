package flowrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/counttext"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// Put outcomes for a flow's enabled state (PutResult.Enablement).
const (
	EnablementNone           = ""                // the flow has no trigger
	EnablementNew            = "new"             // a new trigger: stored disabled
	EnablementKept           = "kept"            // the same trigger: its enabled state is kept
	EnablementDisabled       = "disabled"        // the trigger changed or was removed: stored disabled
	EnablementTriggerRemoved = "trigger-removed" // the trigger was removed from a disabled flow
)

// PutResult is a stored flow and what storing it did to its enabled state.
type PutResult struct {
	Flow *store.Flow
	Doc  *flow.Document
	// Unchanged is true when the document was byte for byte the latest
	// version's: no version was added and nothing changed.
	Unchanged bool
	// Enablement is one of the Enablement constants; Message says it to a
	// person.
	Enablement string
	Message    string
	// DroppedReruns are the flow's failed event runs waiting to run again
	// by themselves that storing it dropped, as disabling it does
	// (DisableFlow): it was enabled, and the new version's trigger is
	// another or none.
	DroppedReruns []*store.FlowRun
}

// ScheduleKey is the trigger key of a schedule tick.
func ScheduleKey(tick time.Time) string { return "schedule:" + tick.UTC().Format(time.RFC3339) }

// EventKey is the trigger key of an Okta event.
func EventKey(uuid string) string { return "event:" + uuid }

// EnabledAtSetting is the setting that holds when the flow's event trigger
// was last turned on (RFC 3339): events published before it do not start
// the flow. Enable writes it; the event intake records when it first sees
// the flow enabled if it is missing.
func EnabledAtSetting(fl *store.Flow) string {
	return "events/enabled-at/" + fl.ID + "/" + string(fl.Trigger)
}

// Put validates a flow document and stores it, on behalf of actor, as the
// next version of the flow of its name (version 1 of a new flow); the
// previous versions stay. A document byte for byte the latest version's
// adds no version (PutResult.Unchanged). A flow with a trigger is stored
// disabled, unless its previous version was enabled with the same trigger.
// A document whose only problems are the state of its connections (one
// not active, a scope not granted) is stored with them as warnings
// (flow.ConnectionWarnings); any other problem refuses it, with them.
func (s *Service) Put(ctx context.Context, src []byte, actor store.Actor) (*PutResult, error) {
	doc, err := s.Validate(ctx, src)
	if err != nil {
		// A connection that is not active or lacks a scope is no fault of
		// the document: it is stored, with those as its warnings (running,
		// planning and enabling it stay refused until they are fixed).
		ws, connOnly := flow.ConnectionWarnings(err)
		if !connOnly || doc == nil {
			return &PutResult{Doc: doc}, err
		}
		doc.AddWarnings(ws)
	}
	prev, err := s.store.GetFlow(ctx, doc.Name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("read flow: %w", err)
	}
	// Names that differ only in capitals would be two flows that people
	// and scripts confuse (nicknames compare ignoring case for the same
	// reason): storing one is refused, naming the flow that has the name.
	// The store refuses it too (ErrConflict), when another server stored
	// the other flow since this check.
	if prev == nil {
		if other := s.sameNameOtherCase(ctx, doc.Name); other != "" {
			return &PutResult{Doc: doc}, nameInOtherCapitals(other, nil)
		}
	}
	// Read before a new version may disable the flow: a dispatch round
	// drops the waiting reruns of a disabled flow, and one may come in
	// between (dropReruns counts those).
	var waiting []*store.FlowRun
	if prev != nil && prev.Enabled {
		if waiting, err = s.reruns(ctx, prev.ID); err != nil {
			return nil, err
		}
	}
	now := s.now()
	fl := &store.Flow{Name: doc.Name, Source: src, Trigger: doc.Trigger.SpecJSON(), StoredBy: actor, CreatedAt: now, UpdatedAt: now}
	added, err := s.store.PutFlow(ctx, fl)
	if errors.Is(err, store.ErrConflict) {
		if other := s.sameNameOtherCase(ctx, doc.Name); other != "" {
			return &PutResult{Doc: doc}, nameInOtherCapitals(other, err)
		}
		return &PutResult{Doc: doc}, problem.New(problem.Conflict, "another flow was stored with that name in other capitals meanwhile").
			WithRemedy("list the flows (cardflow flows list) and name the document as that flow to store a new version of it, or choose another name").
			WithDetail("field", "name").Wrap(err)
	}
	if err != nil {
		return nil, fmt.Errorf("store flow: %w", err)
	}
	res := &PutResult{Flow: fl, Doc: doc, Unchanged: !added}
	summary := fmt.Sprintf("flow %s (%s) version %d", fl.Name, fl.ID, fl.Version)
	if !added {
		summary = fmt.Sprintf("flow %s (%s): the same document as version %d, no new version", fl.Name, fl.ID, fl.Version)
	}
	if added && prev != nil && prev.Enabled && !fl.Enabled {
		// Disabled by the new version: its waiting reruns are dropped
		// as a disable drops them.
		if res.DroppedReruns, err = s.dropReruns(ctx, fl, waiting); err != nil {
			return nil, err
		}
		summary += droppedNote(res.DroppedReruns)
	}
	if err := s.store.AppendAudit(ctx, &store.AuditEvent{Time: now, Actor: actor, Action: store.ActionFlowStore, Outcome: "success",
		InputSummary: summary}); err != nil {
		return nil, fmt.Errorf("audit the store: %w", err)
	}
	s.log.InfoContext(ctx, "flow stored", slog.String("flow", fl.Name), slog.Int("version", fl.Version),
		slog.Bool("unchanged", !added), slog.String("actor", actor.String()))
	if !added {
		if fl.Enabled {
			res.Enablement, res.Message = EnablementKept, "still enabled: the document is unchanged"
		}
		return res, nil
	}
	enable := fmt.Sprintf("enable it with POST /api/v1/flows/%s/enable (cardflow flows enable %s)", fl.ID, fl.Name)
	switch {
	case prev != nil && prev.Enabled && fl.Enabled:
		res.Enablement, res.Message = EnablementKept, "still enabled: the trigger is unchanged"
	case prev != nil && prev.Enabled && doc.Trigger == nil:
		res.Enablement, res.Message = EnablementDisabled, "disabled: the new version has no trigger"
	case prev != nil && prev.Enabled:
		res.Enablement, res.Message = EnablementDisabled, "disabled: the trigger changed; check it and "+enable+" again"
	case doc.Trigger == nil && prev != nil && prev.Trigger != nil:
		res.Enablement, res.Message = EnablementTriggerRemoved, "the trigger was removed; the flow runs only when started"
	case doc.Trigger == nil:
	default:
		res.Enablement, res.Message = EnablementNew, "stored disabled, as every flow with a trigger is: "+enable
	}
	return res, nil
}

// nameInOtherCapitals is the conflict of a document named as the stored
// flow other in other capitals; cause, when set, is the store's refusal.
func nameInOtherCapitals(other string, cause error) error {
	p := problem.New(problem.Conflict, "flow %q already has that name in other capitals", other).
		WithRemedy("name the document %q to store a new version of that flow, or choose another name", other).WithDetail("field", "name")
	if cause != nil {
		return p.Wrap(cause)
	}
	return p
}

// Enable validates the stored flow again (cards, connections and the scope
// preflight of its trigger and steps) and turns its trigger on; a
// schedule's first tick is the next one from now. It refuses a flow
// without a trigger.
func (s *Service) Enable(ctx context.Context, idOrName string, actor store.Actor) (*store.Flow, *flow.Document, error) {
	fl, doc, err := s.parsed(ctx, idOrName)
	if err != nil {
		return nil, nil, err
	}
	if doc.Trigger == nil {
		return nil, nil, problem.New(problem.InvalidInput, "flow %s has no trigger, so there is nothing to enable", fl.Name).
			WithRemedy("add an on: section (on.schedule or on.event) and store the flow again; without one, start it with POST /api/v1/flows/%s/runs (cardflow flows run %s)", fl.ID, fl.Name)
	}
	if err := doc.Validate(ctx, s.env); err != nil {
		return nil, nil, err
	}
	now := s.now()
	var next time.Time
	if sch := doc.Trigger.Schedule; sch != nil {
		next = sch.Next(now)
		if fl.Enabled && !fl.NextRunAt.IsZero() {
			// Enabled already (flows store --enable at each deploy): its
			// next tick stays, so that a tick due and not yet fired (or
			// missed while every server was down) still runs.
			next = fl.NextRunAt
		}
	}
	if doc.Trigger.Event != nil && !fl.Enabled {
		// Written before the flow is on, so that no event is matched
		// against an older enabling: the events published while the flow
		// was off (which a System Log cursor left behind reads later) do
		// not start it.
		if err := s.store.PutSetting(ctx, EnabledAtSetting(fl), []byte(now.UTC().Format(time.RFC3339Nano))); err != nil {
			return nil, nil, fmt.Errorf("store when the flow was enabled: %w", err)
		}
	}
	if err := s.setEnabled(ctx, fl, doc, true, next, actor); err != nil {
		return nil, nil, err
	}
	return fl, doc, nil
}

// Disabled is what DisableFlow did.
type Disabled struct {
	Flow *store.Flow
	Doc  *flow.Document // nil when this version no longer accepts it
	// DroppedReruns are the flow's failed event runs that waited to run
	// again by themselves once their connection is active: they no longer
	// do (RerunSkipped), oldest first.
	DroppedReruns []*store.FlowRun
}

// DisableFlow turns the flow's trigger off. Runs already started go on;
// manual runs stay possible. It refuses a flow without a trigger, as
// Enable does, unless the flow is enabled (which storing a document
// without a trigger undoes): there is nothing to turn off. A flow whose
// stored document this version no longer accepts can always be disabled.
//
// The flow's failed event runs waiting to run again by themselves
// (RerunWaiting) are dropped there and then, and named in its answer and
// its flow.disable audit event: a flow turned off stops what would start
// its runs without a person, as the events published while it is off
// start none, and enabling it again does not bring them back, which an
// admin who disabled a flow that misbehaved would not want. A person
// reruns them by hand (Rerun, failed only) if they should run after all.
func (s *Service) DisableFlow(ctx context.Context, idOrName string, actor store.Actor) (*Disabled, error) {
	fl, doc, err := s.Get(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	if doc != nil && doc.Trigger == nil && !fl.Enabled {
		return nil, problem.New(problem.InvalidInput, "flow %s has no trigger, so there is nothing to disable: nothing starts it but a run", fl.Name).
			WithRemedy("leave it as it is; start it with POST /api/v1/flows/%s/runs (cardflow flows run %s), or add an on: section (on.schedule or on.event) and store the flow again to start it by a trigger", fl.ID, fl.Name)
	}
	waiting, err := s.reruns(ctx, fl.ID)
	if err != nil {
		return nil, err
	}
	if err := s.setEnabledNote(ctx, fl, doc, false, time.Time{}, actor, droppedNote(waiting)); err != nil {
		return nil, err
	}
	d := &Disabled{Flow: fl, Doc: doc}
	if d.DroppedReruns, err = s.dropReruns(ctx, fl, waiting); err != nil {
		return nil, err
	}
	return d, nil
}

// droppedNote is what an audit event of a flow's disabling adds for the
// waiting reruns it drops; "" for none.
func droppedNote(runs []*store.FlowRun) string {
	if len(runs) == 0 {
		return ""
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	return fmt.Sprintf("; dropped %s waiting for their connection to run again by themselves: %s", counttext.Format(len(runs), "failed event run"), strings.Join(ids, ", "))
}

// dropReruns makes the runs of fl, disabled, waiting to run again by
// themselves wait no more (RerunSkipped), returning those it dropped: not
// those rerun by hand meanwhile. A dispatch round that the disabling woke
// may have dropped some first, as it does for a disabled flow: they count.
func (s *Service) dropReruns(ctx context.Context, fl *store.Flow, waiting []*store.FlowRun) ([]*store.FlowRun, error) {
	var dropped []*store.FlowRun
	why := fmt.Sprintf("flow %s was disabled", fl.Name)
	for _, r := range waiting {
		switch err := s.store.SkipRerun(ctx, r.ID, why); {
		case errors.Is(err, store.ErrConflict):
			if cur, gerr := s.store.GetFlowRun(ctx, r.ID); gerr == nil && cur.RerunBy == "" && cur.RerunSkipped != "" {
				dropped = append(dropped, r)
			}
		case err != nil:
			return dropped, fmt.Errorf("drop the automatic rerun of run %s: %w", r.ID, err)
		default:
			dropped = append(dropped, r)
			s.log.InfoContext(ctx, "flow run not rerun by itself", slog.String("flow_run", r.ID), slog.String("why", why))
		}
	}
	return dropped, nil
}

// reruns are the flow's failed runs waiting for their connection to run
// again by themselves, oldest first.
func (s *Service) reruns(ctx context.Context, flowID string) ([]*store.FlowRun, error) {
	var out []*store.FlowRun
	var after *store.FlowRun
	for {
		runs, err := s.store.ListRerunsWaiting(ctx, flowID, after, rerunWaitingBatch)
		if err != nil {
			return nil, fmt.Errorf("read the runs waiting to run again: %w", err)
		}
		out = append(out, runs...)
		if len(runs) < rerunWaitingBatch {
			return out, nil
		}
		after = runs[len(runs)-1]
	}
}

func (s *Service) setEnabled(ctx context.Context, fl *store.Flow, doc *flow.Document, on bool, next time.Time, actor store.Actor) error {
	return s.setEnabledNote(ctx, fl, doc, on, next, actor, "")
}

// setEnabledNote is setEnabled with note added to its audit event's
// summary.
func (s *Service) setEnabledNote(ctx context.Context, fl *store.Flow, doc *flow.Document, on bool, next time.Time, actor store.Actor, note string) error {
	err := s.store.SetFlowEnabled(ctx, fl.ID, fl.Trigger, on, next, actor)
	if errors.Is(err, store.ErrConflict) {
		return problem.New(problem.Conflict, "flow %s was replaced with another trigger meanwhile", fl.Name).
			WithRemedy("read it again with GET /api/v1/flows/%s (cardflow flows show %s) and retry", fl.ID, fl.Name)
	}
	if err != nil {
		return fmt.Errorf("store flow state: %w", err)
	}
	fl.Enabled, fl.NextRunAt, fl.EnabledBy = on, next, actor
	if !on {
		fl.NextRunAt = time.Time{}
	}
	action := store.ActionFlowDisable
	if on {
		action = store.ActionFlowEnable
	}
	if err := s.store.AppendAudit(ctx, &store.AuditEvent{Time: s.now(), Actor: actor, Action: action, Outcome: "success",
		InputSummary: fmt.Sprintf("flow %s (%s)%s", fl.Name, storedTriggerKind(fl), note)}); err != nil {
		s.log.ErrorContext(ctx, "audit a flow's enabled state", slog.Any("error", err))
	}
	s.log.InfoContext(ctx, action, slog.String("flow", fl.Name), slog.Time("next_run_at", next))
	if s.onChange != nil {
		s.onChange()
	}
	return nil
}

// storedTriggerKind is the kind of a stored flow's trigger, as stored (the
// document may be one this version no longer accepts); empty for none.
func storedTriggerKind(fl *store.Flow) string {
	var spec struct{ Kind string }
	_ = json.Unmarshal(fl.Trigger, &spec)
	return spec.Kind
}

// TriggeredRun builds, without storing it, the queued run of the stored
// flow fl that f starts; key makes it unique among the flow's runs
// (ScheduleKey, EventKey). Its inputs are evaluated from on.inputs when a
// worker first executes it, so that an input that cannot be computed
// fails the run (and notifies) like any other failure. The run is
// attributed to who enabled the flow (fl.EnabledBy); its trigger says what
// started it.
func (s *Service) TriggeredRun(fl *store.Flow, f flow.Firing, key string) *store.FlowRun {
	trig, _ := json.Marshal(f) // a Firing always marshals
	return &store.FlowRun{
		FlowID: fl.ID, FlowName: fl.Name, Source: fl.Source, FlowVersion: fl.Version, Status: "queued", Actor: fl.EnabledBy,
		CreatedAt: s.now(), Trigger: trig, TriggerKey: key,
	}
}

// StartTriggered queues the run of the enabled flow fl that f starts,
// once per key: when a run with the key exists (another server or an
// earlier delivery created it) it returns that run and false. It does not
// evaluate an event trigger's if: the caller matches events to flows
// (flow.Document.TriggerMatches) first.
func (s *Service) StartTriggered(ctx context.Context, fl *store.Flow, f flow.Firing, key string) (*store.FlowRun, bool, error) {
	run := s.TriggeredRun(fl, f, key)
	err := s.store.CreateFlowRun(ctx, run)
	if errors.Is(err, store.ErrConflict) {
		prev, ferr := s.store.FindFlowRun(ctx, fl.ID, key)
		if ferr != nil {
			return nil, false, fmt.Errorf("find the run of %s: %w", key, ferr)
		}
		return prev, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store flow run: %w", err)
	}
	s.log.InfoContext(ctx, "flow run queued", slog.String("flow_run", run.ID), slog.String("flow", fl.Name),
		slog.String("trigger", f.Kind), slog.String("key", key))
	s.Wake()
	return run, true, nil
}

// firingOf is the stored trigger of a run; runs stored without one were
// started by a person at their creation.
func firingOf(run *store.FlowRun) (flow.Firing, error) {
	if len(run.Trigger) == 0 {
		return flow.Firing{Kind: flow.KindManual, Time: run.CreatedAt}, nil
	}
	var f flow.Firing
	if err := json.Unmarshal(run.Trigger, &f); err != nil {
		return f, problem.New(problem.Internal, "the run's stored trigger is not JSON").Wrap(err)
	}
	return f, nil
}
