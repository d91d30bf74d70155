package intake

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/events"
	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/store"
)

// The codes of why the dispatcher holds an event back (EventHold.Code; the
// API's waitingCode).
const (
	// EventWaitNextRound: nothing holds it but the next dispatch round.
	EventWaitNextRound = "next_round"
	// EventWaitConnection: a flow it starts has a trigger whose
	// connection cannot run cards now (it needs reauthorization, say);
	// its runs of other flows are started.
	EventWaitConnection = "connection_inactive"
	// EventWaitOrgClock: a flow of its type was enabled, and the org's
	// time of that enabling, which tells the events before it from those
	// after, is not known yet.
	EventWaitOrgClock = "org_clock_unknown"
	// EventWaitBehind: an earlier event of its connection waits for the
	// org's clock (EventWaitOrgClock), and the later events wait behind
	// it, in order.
	EventWaitBehind = "behind_earlier_event"
	// EventWaitRerun: the run of an earlier event of a flow it starts,
	// which its connection stopped, runs again first (by itself, once the
	// connection is active again): the flow's events run in order.
	EventWaitRerun = "rerun_first"
)

// EventHold is why the dispatcher holds an undispatched event back, as
// its next round would decide.
type EventHold struct {
	Code string // an EventWait* code
	// Flows names the flows it is about: those whose runs wait for the
	// connection (EventWaitConnection), or whose enabling the org's clock
	// has not told (EventWaitOrgClock, EventWaitBehind).
	Flows []string
	// Connection is the nickname of the flows' trigger's connection, with
	// its Status and Remedy: the one that cannot run cards
	// (EventWaitConnection), or the one through which the org is asked
	// its time; of EventWaitRerun, the one the earlier run waits for
	// (Status and Remedy while it waits).
	Connection, Status, Remedy string
	// Behind is the event type of the earlier event that holds this one
	// back (EventWaitBehind).
	Behind string
	// Started says that the event's runs of other flows have started
	// (EventWaitConnection, EventWaitRerun).
	Started bool
	// Run is the run of an earlier event that runs again first
	// (EventWaitRerun).
	Run string
}

// EventHolds says why the dispatcher holds each undispatched event of evs
// back, as the next dispatch round would decide (EventHolds): it
// reads the enabled event flows as a round does (scan), recording
// nothing.
func (in *Intake) EventHolds(ctx context.Context, evs []*store.Event) (map[string]EventHold, error) {
	var held []*store.Event
	for _, e := range evs {
		if e.DispatchedAt.IsZero() {
			held = append(held, e)
		}
	}
	if len(held) == 0 {
		return nil, nil
	}
	vs, err := in.conns.List(ctx)
	if err != nil {
		return nil, err
	}
	conns := map[string]*connection.View{}
	for _, v := range vs {
		conns[v.ID] = v
	}
	orgFlows, err := in.heldFlows(ctx)
	if err != nil {
		return nil, err
	}
	names := func(fs []events.EventFlow) []string {
		var out []string
		for _, f := range fs {
			if !slices.Contains(out, f.Flow.Name) {
				out = append(out, f.Flow.Name)
			}
		}
		return out
	}
	// The first event of a connection's inbox that waits for the org's
	// clock holds back the later ones (Dispatch stops there).
	barriers := map[string]*store.Event{}
	barrier := func(connID string, flows []events.EventFlow) (*store.Event, error) {
		if b, ok := barriers[connID]; ok {
			return b, nil
		}
		first, err := in.store.UndispatchedEvents(ctx, connID, nil, heldRead)
		if err != nil {
			return nil, err
		}
		barriers[connID] = nil
		for _, e := range first {
			if len(events.HoldOf(ctx, e, flows).Unclocked) > 0 {
				barriers[connID] = e
				break
			}
		}
		return barriers[connID], nil
	}
	// withConn names in wh the connection of id, with its status and fix.
	withConn := func(wh *EventHold, id string) {
		if c := conns[id]; c != nil {
			wh.Connection, wh.Status, wh.Remedy = c.Nickname, c.Status, c.Remedy
		}
	}
	// The events of a flow wait for one rerun: it is read once.
	reruns := map[string]*store.FlowRun{}
	rerun := func(id string) *store.FlowRun {
		r, ok := reruns[id]
		if !ok {
			r, _ = in.store.GetFlowRun(ctx, id) // unread: the hold says less
			reruns[id] = r
		}
		return r
	}
	out := make(map[string]EventHold, len(held))
	for _, e := range held {
		v := conns[e.ConnectionID]
		var flows []events.EventFlow
		if v != nil {
			flows = orgFlows[v.Org()]
		}
		h := events.HoldOf(ctx, e, flows)
		var wh EventHold
		switch {
		case len(h.Unclocked) > 0:
			wh = EventHold{Code: EventWaitOrgClock, Flows: names(h.Unclocked)}
			withConn(&wh, h.Unclocked[0].ConnectionID)
		case len(h.Waiting) > 0:
			wh = EventHold{Code: EventWaitConnection, Flows: names(h.Waiting), Started: len(e.FlowRuns) > 0}
			withConn(&wh, h.Waiting[0].ConnectionID)
		case len(h.Rerun) > 0:
			wh = EventHold{Code: EventWaitRerun, Flows: names(h.Rerun), Started: len(e.FlowRuns) > 0, Run: h.Rerun[0].RerunFirst}
			if r := rerun(wh.Run); r != nil {
				wh.Connection = r.RerunConnection
				// Still waiting for it: what is wrong with it, and the fix.
				if c := conns[r.RerunWhenActive]; c != nil && r.RerunBy == "" && r.RerunSkipped == "" {
					wh.Status, wh.Remedy = c.Status, c.Remedy
				}
			}
		default:
			wh.Code = EventWaitNextRound
			if v == nil {
				break
			}
			b, err := barrier(v.ID, flows)
			if err != nil {
				return nil, err
			}
			if b != nil && (e.Published.After(b.Published) || e.Published.Equal(b.Published) && e.UUID > b.UUID) {
				bh := events.HoldOf(ctx, b, flows)
				wh = EventHold{Code: EventWaitBehind, Flows: names(bh.Unclocked), Behind: b.EventType}
				withConn(&wh, bh.Unclocked[0].ConnectionID)
			}
		}
		out[e.UUID] = wh
	}
	return out, nil
}

// heldRead is how many of a connection's undispatched events EventHolds
// reads for the first that waits for the org's clock.
const heldRead = 500

// heldFlows reads the enabled event flows by org as scan does, recording
// nothing: a flow whose enabling is not recorded yet (scan records it) is
// one whose enabling the org's clock has not told.
func (in *Intake) heldFlows(ctx context.Context) (map[string][]events.EventFlow, error) {
	efs, pending, err := in.enabledEventFlows(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]events.EventFlow{}
	for _, ef := range efs {
		fl, doc, ev, c := ef.flow, ef.doc, ef.trigger, ef.card
		v, err := in.conns.Resolve(ctx, ev.Connector(), ev.Connection)
		if err != nil {
			continue // the round skips it too
		}
		var orgAt time.Time
		b, err := in.store.GetSetting(ctx, flowrun.EnabledAtSetting(fl))
		switch {
		case err == nil:
			at, perr := time.Parse(time.RFC3339Nano, string(b))
			if perr != nil {
				return nil, perr
			}
			if orgAt, err = in.orgEnabledAt(ctx, fl, at); err != nil {
				return nil, err
			}
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
		out[v.Org()] = append(out[v.Org()], eventFlowOf(fl, doc, v, c.EventType, orgAt, pending[fl.ID]))
	}
	return out, nil
}
