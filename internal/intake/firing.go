package intake

import (
	"cmp"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/events"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// EventFiring is the trigger of the run the event of t would start of
// doc, an event flow (a plan of that run): the stored event t.EventUUID,
// or the Okta event t.Event. The event must be of the type of the flow's
// event card.
func EventFiring(ctx context.Context, st store.Store, doc *flow.Document, t flowrun.PlanTrigger, now time.Time) (*flow.Firing, error) {
	var ev *store.Event
	var err error
	if len(t.Event) > 0 {
		ev, err = givenEvent(t.Event, now)
	} else {
		ev, err = storedEvent(ctx, st, t.EventUUID)
	}
	if err != nil {
		return nil, err
	}
	c, ok := card.Lookup(doc.Trigger.Event.Card)
	if !ok || c.Kind != card.KindEvent {
		return nil, problem.New(problem.InvalidInput, "%s is not an event card", doc.Trigger.Event.Card)
	}
	if ev.EventType != c.EventType {
		return nil, problem.New(problem.InvalidInput, "event %s is a %s; flow %s starts on %s (%s)", ev.UUID, ev.EventType, doc.Name, doc.Trigger.Event.Card, c.EventType).
			WithRemedy("give an event of type %s (cardflow events list)", c.EventType).WithDetail("field", "trigger")
	}
	f, err := events.FiringOf(ev)
	if err == nil && len(t.Event) > 0 {
		if d, _ := f.Event["device"].(map[string]any); d["id"] == "" {
			return nil, problem.New(problem.InvalidInput, "the given event has no device among its targets").
				WithRemedy(`Okta's device events name the device as a target of type UDDevice ({"id": "guo...", "type": "UDDevice"}), which trigger.event.device reads: give the event as Okta wrote it`).
				WithDetail("field", "trigger.event")
		}
	}
	return f, err
}

// storedEvent reads the stored event uuid.
func storedEvent(ctx context.Context, st store.Store, uuid string) (*store.Event, error) {
	evs, err := st.ListEvents(ctx, store.EventFilter{UUID: uuid, Limit: 1})
	if err != nil {
		return nil, problem.New(problem.Internal, "read the event").Wrap(err)
	}
	if len(evs) == 0 {
		return nil, problem.New(problem.NotFound, "there is no stored event %q", uuid).
			WithRemedy("give the uuid of an event cardflow received (cardflow events list); events arrive once a flow they trigger is enabled; or give the event itself (--event-file), copied from Okta's System Log").WithDetail("field", "trigger")
	}
	return evs[0], nil
}

// givenEvent reads an Okta event given with a plan: a LogEvent as the
// System Log API answers it, a list of one (the API's page), or an event
// hook delivery of one. An event without a uuid is "sample", without a
// published time published now.
func givenEvent(raw json.RawMessage, now time.Time) (*store.Event, error) {
	bad := func(format string, args ...any) error {
		return problem.New(problem.InvalidInput, "the given event "+format, args...).
			WithRemedy("give one Okta LogEvent as JSON, as the System Log API answers it (GET /api/v1/logs) or the Admin Console's System Log shows it (expand the event, then JSON); it needs at least eventType and the targets the flow reads").
			WithDetail("field", "trigger.event")
	}
	list, unusable, err := events.LogEventsOf(raw)
	if err != nil {
		return nil, bad("%v", err)
	}
	// A plan is of one event's run: an event cardflow cannot use is named
	// (its place, uuid and type, and what is wrong) and refused, not left
	// out as the intake does, which would plan another run than the one
	// asked for without a word.
	switch total := len(list) + len(unusable); {
	case total == 1 && len(unusable) == 1:
		m := unusable[0]
		return nil, bad("%scannot be used: %s", strings.TrimPrefix(m.Names()+" ", " "), m.Reason)
	case total != 1 && len(unusable) > 0:
		named := make([]string, len(unusable))
		for i, m := range unusable {
			named[i] = m.String()
		}
		return nil, bad("holds %d events; a plan is of one event's run, and cardflow cannot use %d of them (its intake leaves such an event out): %s",
			total, len(unusable), strings.Join(named, "; "))
	case total != 1:
		return nil, bad("holds %d events; a plan is of one event's run", total)
	}
	le := list[0]
	if le.EventType == "" {
		return nil, bad("has no eventType")
	}
	ev := &store.Event{UUID: cmp.Or(le.UUID, "sample"), EventType: le.EventType, Published: le.Published.UTC(), Raw: le.Raw}
	if le.Published.IsZero() {
		ev.Published = now.UTC()
	}
	return ev, nil
}
