package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/store"
)

// EventFlow is an enabled flow with an event trigger, as the dispatcher
// needs it.
type EventFlow struct {
	Flow *store.Flow
	// Doc is the parsed document; its on.event.if is evaluated per event
	// (on.inputs when a worker starts the run). Nil for a stored flow
	// whose document no longer validates: each event starts a run, which
	// its worker fails with the reasons.
	Doc *flow.Document
	// ConnectionID is the trigger's connection (the dispatcher matches an
	// event to the flows it is given, whichever connection of the org
	// received it); EventType the Okta event type of its event card.
	ConnectionID string
	EventType    string
	// EnabledAt is when the flow was (last) enabled, by the clock of the
	// org (OrgOffset), which stamps the events' published times: events
	// published before it do not start it. Okta gives published times in
	// whole milliseconds, so an event of the millisecond the flow was
	// enabled in counts as after it. Zero while the org's clock is not
	// known yet: an event of its type waits (Dispatch defers it and the
	// later ones), as it cannot be told whether it came before the
	// enabling.
	EnabledAt time.Time
	// Waiting, when set, says why the trigger's connection cannot run
	// cards now (its status: it needs reauthorization, say): the run an
	// event would start of the flow would fail at once, and a person
	// would have to start each again. Such an event waits in the inbox,
	// undispatched, and starts the flow's run once the connection is
	// active again, as the events a System Log poll reads after the
	// reauthorization do; its runs of other flows start meanwhile.
	Waiting string
	// RerunFirst, when set, is the run of an earlier event of the flow,
	// which its connection stopped, that is to run again by itself
	// (flowrun.Service.RerunWaiting) or runs again now: the flow's events
	// wait in the inbox as for Waiting until it has ended, so that they
	// run in the order they were published.
	RerunFirst string
}

// holds reports whether f holds its events back (Waiting, RerunFirst).
func (f EventFlow) holds() bool { return f.Waiting != "" || f.RerunFirst != "" }

// errWaiting leaves an event undispatched for a flow whose trigger's
// connection cannot run cards now (EventFlow.Waiting).
var errWaiting = errors.New("events: the connection of a flow's trigger cannot run cards now")

// errClockUnknown defers an event to a flow whose enabling is not known
// in the org's clock yet.
var errClockUnknown = errors.New("events: the org's time of a flow's enabling is not known yet")

// Runs builds the queued run a trigger starts (flowrun.Service), keyed so
// that the flow has at most one run per key.
type Runs interface {
	TriggeredRun(fl *store.Flow, f flow.Firing, key string) *store.FlowRun
}

// EventKey is the trigger key of the run an event starts.
func EventKey(uuid string) string { return "event:" + uuid }

// Dispatcher starts the runs that stored events trigger: for each event
// of a connection, oldest published first, one run of each enabled flow
// whose trigger matches it. Set its fields before use; it is then safe
// for concurrent use, also by several servers on one store.
type Dispatcher struct {
	Store store.Store      // required
	Runs  Runs             // required
	Now   func() time.Time // nil means time.Now
	// Started, when set, is called after a run was started (to wake the
	// flow-run workers); it must not block.
	Started func(run *store.FlowRun)

	// started holds the (event, flow) pairs of undispatched events whose
	// run this dispatcher has seen started (by it, or by another server:
	// ErrConflict), so that an event waiting for one flow's connection
	// does not try its other flows' runs again, a transaction each, at
	// every round until the reauthorization. The store's conflict stays
	// what keeps a run from starting twice; this only spares the tries.
	mu      sync.Mutex
	started map[startedPair]bool
}

// startedPair is an (event, flow) pair whose run was started.
type startedPair struct{ event, flow string }

// maxStartedPairs bounds Dispatcher.started: past it, the pairs are
// forgotten (their runs' conflicts then tell them again).
const maxStartedPairs = 100_000

func (d *Dispatcher) wasStarted(event, flowID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.started[startedPair{event, flowID}]
}

func (d *Dispatcher) sawStarted(event, flowID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started == nil || len(d.started) >= maxStartedPairs {
		d.started = map[startedPair]bool{}
	}
	d.started[startedPair{event, flowID}] = true
}

// forgetStarted drops the pairs of an event once it is dispatched.
func (d *Dispatcher) forgetStarted(event string, flows []EventFlow) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, f := range flows {
		delete(d.started, startedPair{event, f.Flow.ID})
	}
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// DispatchResult counts what one Dispatch did.
type DispatchResult struct {
	Events  int // events dispatched
	Started int // runs started
	Skipped int // (event, flow) pairs the trigger's if turned down
	// Deferred is true when events were left to the next round: events
	// received after the flows were read, or every event from the first
	// that would have started a run of a flow changed since it was read
	// (disabled, deleted, or a newer version stored), or that is of the
	// event type of a flow whose enabling is not known in the org's clock
	// yet (EventFlow.EnabledAt).
	Deferred bool
	// Waiting counts the events left undispatched for a flow whose
	// trigger's connection cannot run cards now (EventFlow.Waiting); the
	// round goes on with the later events of its batch, and Deferred is
	// set.
	Waiting int
}

// Dispatch starts the runs of the connection's undispatched events, in
// order of publication, and marks each event dispatched once every flow
// it triggers has its run. flows are the enabled event-triggered flows of
// the connection's org, those of every connection to it (an event the org
// reports is stored once, under the connection that received it first),
// as the caller read them for this round, starting
// at readAt: Dispatch stops at the first event received after readAt,
// which may be of a flow enabled after the read, and leaves it and the
// later ones to a round that reads the flows again (zero readAt: no
// event is left). A run already started for an (event, flow) pair, by
// this or another server, is not started again.
func (d *Dispatcher) Dispatch(ctx context.Context, connectionID string, flows []EventFlow, readAt time.Time) (DispatchResult, error) {
	var res DispatchResult
	// Each batch reads on after the last event of the one before, so that
	// a batch of events that all wait (for a connection that needs
	// reauthorization) does not hold back the later events of other flows.
	var after *store.Event
	for {
		evs, err := d.Store.UndispatchedEvents(ctx, connectionID, after, dispatchBatch)
		if err != nil || len(evs) == 0 {
			return res, err
		}
		for _, e := range evs {
			if !readAt.IsZero() && e.ReceivedAt.After(readAt) {
				res.Deferred = true
				return res, nil
			}
			err := d.dispatchOne(ctx, e, flows, &res)
			switch {
			case errors.Is(err, store.ErrFlowChanged) || errors.Is(err, errClockUnknown):
				// The next round reads the flows again: it starts this
				// event's runs of the flows as they are then (the runs
				// started already are not started again).
				res.Deferred = true
				return res, nil
			case errors.Is(err, errWaiting):
				// Its other runs are started; the one of the waiting flow
				// starts at a round after the connection is active again.
				// The later events go on: each waits only for its own
				// flows.
				res.Deferred = true
				res.Waiting++
				continue
			case err != nil:
				return res, err
			}
			if err := d.Store.MarkEventDispatched(ctx, e.UUID, d.now()); err != nil {
				return res, err
			}
			d.forgetStarted(e.UUID, flows)
			res.Events++
		}
		if len(evs) < dispatchBatch {
			return res, nil
		}
		after = evs[len(evs)-1]
	}
}

// dispatchBatch is how many events Dispatch reads at a time.
const dispatchBatch = 500

func (d *Dispatcher) dispatchOne(ctx context.Context, e *store.Event, flows []EventFlow, res *DispatchResult) error {
	var fir *flow.Firing
	waiting := false
	for _, f := range flows {
		if f.EventType == e.EventType && f.EnabledAt.IsZero() {
			return errClockUnknown
		}
	}
	for _, f := range flows {
		if f.EventType != e.EventType || e.Published.Before(f.EnabledAt.Truncate(time.Millisecond)) {
			continue
		}
		if fir == nil {
			var err error
			if fir, err = FiringOf(e); err != nil {
				return err
			}
		}
		ok, err := true, error(nil)
		if f.Doc != nil {
			ok, err = f.Doc.TriggerMatches(ctx, *fir)
		}
		if !ok && err == nil {
			res.Skipped++
			continue
		}
		if f.holds() {
			waiting = true
			continue
		}
		if d.wasStarted(e.UUID, f.Flow.ID) {
			continue // at an earlier round, while the event waited for another flow
		}
		// An if that cannot be evaluated for this event starts the run
		// too: its worker evaluates the if again and fails the run with
		// the reason, recorded and notified as any failure, so the event
		// is not lost without a word.
		run := d.Runs.TriggeredRun(f.Flow, *fir, EventKey(e.UUID))
		switch err := d.Store.StartEventRun(ctx, e.UUID, f.Flow.ID, run); {
		case errors.Is(err, store.ErrFlowChanged):
			return err
		case errors.Is(err, store.ErrConflict):
			// Another dispatch started it already.
			d.sawStarted(e.UUID, f.Flow.ID)
		case err != nil:
			return err
		default:
			d.sawStarted(e.UUID, f.Flow.ID)
			res.Started++
			if d.Started != nil {
				d.Started(run)
			}
		}
	}
	if waiting {
		return errWaiting
	}
	return nil
}

// Hold is why Dispatch holds an undispatched event back, as it would
// decide at a round with flows: the flows of its type whose enabling is
// not known in the org's clock yet (it and every later event of its
// connection wait, EventFlow.EnabledAt), or else the flows it would start
// whose trigger's connection cannot run cards now (EventFlow.Waiting),
// and those that wait for the rerun of an earlier event's run
// (EventFlow.RerunFirst). All empty: nothing holds it but the next round.
type Hold struct {
	Unclocked []EventFlow
	Waiting   []EventFlow
	Rerun     []EventFlow
}

// HoldOf is why Dispatch would hold e back with flows (see Hold), by the
// rules of dispatchOne.
func HoldOf(ctx context.Context, e *store.Event, flows []EventFlow) Hold {
	var h Hold
	for _, f := range flows {
		if f.EventType == e.EventType && f.EnabledAt.IsZero() {
			h.Unclocked = append(h.Unclocked, f)
		}
	}
	if len(h.Unclocked) > 0 {
		return h
	}
	var fir *flow.Firing
	for _, f := range flows {
		if !f.holds() || f.EventType != e.EventType || e.Published.Before(f.EnabledAt.Truncate(time.Millisecond)) {
			continue
		}
		if fir == nil {
			var err error
			if fir, err = FiringOf(e); err != nil {
				return h
			}
		}
		if f.Doc != nil {
			if ok, err := f.Doc.TriggerMatches(ctx, *fir); !ok && err == nil {
				continue
			}
		}
		if f.Waiting != "" {
			h.Waiting = append(h.Waiting, f)
		} else {
			h.Rerun = append(h.Rerun, f)
		}
	}
	return h
}

// FiringOf is what an event gives a triggered run as `trigger`: kind
// event, the event's published time, and trigger.event.
func FiringOf(e *store.Event) (*flow.Firing, error) {
	var le okta.LogEvent
	if err := json.Unmarshal(e.Raw, &le); err != nil {
		return nil, fmt.Errorf("events: event %s: %w", e.UUID, err)
	}
	var raw map[string]any
	if err := json.Unmarshal(e.Raw, &raw); err != nil {
		return nil, fmt.Errorf("events: event %s: %w", e.UUID, err)
	}
	ev := map[string]any{
		"uuid": e.UUID, "eventType": e.EventType, "published": e.Published.UTC().Format(time.RFC3339Nano),
		"displayMessage": le.DisplayMessage,
		"actor": map[string]any{"id": le.Actor.ID, "alternateId": le.Actor.AlternateID,
			"displayName": le.Actor.DisplayName, "type": le.Actor.Type},
		"device": map[string]any{"id": "", "displayName": ""},
		"user":   map[string]any{"id": "", "login": ""},
		"raw":    raw,
	}
	if t, ok := le.TargetOf("UDDevice"); ok {
		ev["device"] = map[string]any{"id": t.ID, "displayName": t.DisplayName}
	}
	if t, ok := le.TargetOf("User"); ok {
		ev["user"] = map[string]any{"id": t.ID, "login": t.AlternateID}
	}
	return &flow.Firing{Kind: flow.KindEvent, Time: e.Published.UTC(), EventUUID: e.UUID, Event: ev}, nil
}
