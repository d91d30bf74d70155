package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/intake"
	"github.com/cardflow/cardflow/internal/store"
)

// Events reads the event inbox and the connections' event sources;
// store.Store satisfies it.
type Events interface {
	ListEvents(ctx context.Context, f store.EventFilter) ([]*store.Event, error)
	GetEventSource(ctx context.Context, connectionID string) (*store.EventSource, error)
}

// eventSource returns connection id's event source; nil when it has none
// or events are not served.
func (s *Server) eventSource(ctx context.Context, id string) (*api.EventSource, error) {
	if s.Events == nil {
		return nil, nil
	}
	src, err := s.Events.GetEventSource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := &api.EventSource{HookStatus: src.HookStatus, Reason: src.HookReason, Remedy: src.HookRemedy,
		EventTypes: src.HookTypes, UpdatedAt: src.UpdatedAt}
	if out.EventTypes == nil {
		out.EventTypes = []string{}
	}
	if !src.PolledAt.IsZero() {
		out.PolledAt = &src.PolledAt
	}
	if !src.HookRetryAt.IsZero() {
		out.HookRetryAt = &src.HookRetryAt
	}
	if p := src.Poll; !p.FailingSince.IsZero() {
		out.PollError, out.PollRemedy, out.PollFailingSince = p.Error, p.Remedy, &p.FailingSince
	}
	return out, nil
}

// sameOrg returns the ids of the connections to the org of the
// connection idOrNickname, its own first: an org's event is stored once,
// under the connection that received it first, and is the event of each
// of them (it starts the flows of all).
func (s *Server) sameOrg(ctx context.Context, idOrNickname string) ([]string, error) {
	v, err := s.Connections.Get(ctx, idOrNickname)
	if err != nil {
		return nil, err
	}
	vs, err := s.Connections.List(ctx)
	if err != nil {
		return nil, err
	}
	return connection.SameOrg(vs, v), nil
}

// listEvents answers GET /api/v1/events[?connection=&limit=], newest
// first, with next when the page is full. connection is a connection's id or nickname.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f store.EventFilter
	var err error
	if f.Limit, err = queryLimit(q.Get("limit")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Before, f.BeforeUUID, err = pageCursor(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Waiting, err = queryBool(q.Get("waiting"), "waiting", "use waiting=true for the events not dispatched yet, or leave it out"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if c := q.Get("connection"); c != "" && s.Connections != nil {
		if f.ConnectionIDs, err = s.sameOrg(r.Context(), c); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	evs, err := s.Events.ListEvents(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Each event names its connection as a card run does: id and nickname.
	nicknames := map[string]string{}
	if s.Connections != nil && len(evs) > 0 {
		vs, err := s.Connections.List(r.Context())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		for _, v := range vs {
			nicknames[v.ID] = v.Nickname
		}
	}
	var holds map[string]intake.EventHold
	if s.EventHolds != nil {
		if holds, err = s.EventHolds.EventHolds(r.Context(), evs); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	out := api.EventList{Events: make([]api.Event, 0, len(evs))}
	for _, e := range evs {
		runs := e.FlowRuns
		if runs == nil {
			runs = []string{}
		}
		dev, user := EventTargets(e.Raw)
		ev := api.Event{UUID: e.UUID, EventType: e.EventType, Published: e.Published, Device: dev, User: user,
			ReceivedVia: e.ReceivedVia, ReceivedAt: e.ReceivedAt, FlowRuns: runs, Waiting: EventWaiting(e),
			Connection: &api.ConnectionRef{ID: e.ConnectionID, Nickname: nicknames[e.ConnectionID]}}
		if !e.DispatchedAt.IsZero() {
			ev.DispatchedAt = &e.DispatchedAt
		} else if h, ok := holds[e.UUID]; ok {
			ev.WaitingCode, ev.WaitingReason = h.Code, EventWaitReason(h)
		}
		out.Events = append(out.Events, ev)
	}
	if last := len(evs) - 1; last >= 0 && len(evs) == pageLimit(f.Limit) {
		out.Next = nextPage(r, q, evs[last].Published, evs[last].UUID, "connection", "waiting", "limit")
	}
	writeJSON(w, http.StatusOK, out)
}

// EventNotDispatched is what the API (api.Event.Waiting) and the
// console's Events page say of an event in the inbox whose flows the
// dispatcher has not all started yet.
const EventNotDispatched = "not dispatched yet"

// EventWaiting says that event e waits in the inbox, undispatched, as the
// API's and the console's lists of events say it; "" once it is
// dispatched. Why it waits is its intake.EventHold (EventWaitReason).
func EventWaiting(e *store.Event) string {
	if !e.DispatchedAt.IsZero() {
		return ""
	}
	return EventNotDispatched
}

// EventHolds says why the dispatcher holds each undispatched event of evs
// back, by uuid (the events dispatched have none).
type EventHolds interface {
	EventHolds(ctx context.Context, evs []*store.Event) (map[string]intake.EventHold, error)
}

// EventWaitReason is why an event waits, for an administrator, with what
// to do: the API's waitingReason and the console's Events page.
func EventWaitReason(h intake.EventHold) string {
	flows, runs, they := "flow "+strings.Join(h.Flows, ", "), "the run of %s waits", "it starts"
	if len(h.Flows) > 1 {
		flows, runs, they = "flows "+strings.Join(h.Flows, ", "), "the runs of %s wait", "they start"
	}
	state := "is " + strings.ReplaceAll(h.Status, "_", " ")
	switch h.Status {
	case store.StatusNeedsReauthorization:
		state = "needs reauthorization"
	case store.StatusPending:
		state = "is not authorized yet"
	case store.StatusError:
		state = "is in error"
	}
	remedy := strings.TrimSuffix(h.Remedy, ".")
	if remedy == "" {
		remedy = "reauthorize it: cardflow connections reauthorize " + h.Connection + ", or Reauthorize on its page in the console"
	}
	// The org is asked its time through the flow's connection: one that
	// cannot run cards cannot ask it either.
	ask := "the next round at Okta asks it, through the connection " + h.Connection + "; if the event still waits after a minute, check that connection: cardflow connections test " + h.Connection
	if h.Status != "" && h.Status != store.StatusActive {
		ask = "it is asked through the connection " + h.Connection + ", which " + state + ": " + remedy
	}
	switch h.Code {
	case intake.EventWaitConnection:
		others := ""
		if h.Started {
			others = " (its runs of other flows have started)"
		}
		return fmt.Sprintf(runs+" for the connection %s, which %s%s: %s; %s once it is active again",
			flows, h.Connection, state, others, remedy, they)
	case intake.EventWaitRerun:
		others := ""
		if h.Started {
			others = " (its runs of other flows have started)"
		}
		again := "it is running again now"
		switch {
		case h.Connection != "" && h.Status != "" && h.Status != store.StatusActive:
			again = "it runs again by itself once connection " + h.Connection + ", which " + state + ", is active again: " + remedy
		case h.Connection != "":
			again = "it runs again by itself once connection " + h.Connection + " is active again"
		}
		return fmt.Sprintf(runs+" for flow run %s of an earlier event, which its connection stopped, to run again first%s, so that the flow's events run in order: %s; %s once that run has ended",
			flows, h.Run, others, again, they)
	case intake.EventWaitOrgClock:
		return fmt.Sprintf("%s was enabled, and cardflow has not yet asked the org its time, which tells the events published before the enabling (they start no run) from those after: %s",
			flows, ask)
	case intake.EventWaitBehind:
		return fmt.Sprintf("an earlier %s event waits for the org's time of the enabling of %s, and the later events wait behind it, in order: %s",
			h.Behind, flows, ask)
	}
	return "the next dispatch round, within seconds, starts its runs"
}

// EventTargets reads the device and the user an Okta LogEvent names (its
// first UDDevice and User targets, as trigger.event.device and
// trigger.event.user have them), for the API's and the console's lists of
// events; nil for each it does not name.
func EventTargets(raw json.RawMessage) (*api.EventDevice, *api.EventUser) {
	var le struct {
		Target []struct {
			ID          string `json:"id"`
			Type        string `json:"type"`
			AlternateID string `json:"alternateId"`
			DisplayName string `json:"displayName"`
		} `json:"target"`
	}
	if json.Unmarshal(raw, &le) != nil {
		return nil, nil
	}
	var dev *api.EventDevice
	var user *api.EventUser
	for _, t := range le.Target {
		switch {
		case t.Type == "UDDevice" && dev == nil:
			dev = &api.EventDevice{ID: t.ID, DisplayName: t.DisplayName}
		case t.Type == "User" && user == nil:
			user = &api.EventUser{ID: t.ID, Login: t.AlternateID}
		}
	}
	return dev, user
}
