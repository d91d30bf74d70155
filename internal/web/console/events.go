package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/intake"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/web"
)

// Events reads the event inbox and the connections' event sources;
// store.Store satisfies it.
type Events interface {
	ListEvents(ctx context.Context, f store.EventFilter) ([]*store.Event, error)
	GetEventSource(ctx context.Context, connectionID string) (*store.EventSource, error)
}

func (c *Console) eventRoutes(mux *web.Mux) {
	if c.Events == nil {
		return
	}
	mux.Handle("GET /events", c.auth(c.listEvents))
}

// eventRow is one event as the Events page shows it.
type eventRow struct {
	*store.Event
	Name       string // the event card's name, e.g. "Device removed from user"
	Connection string // the connection's nickname (or id)
	Device     string
	DeviceID   string
	User       string
	Runs       []eventRun
	Dispatched bool
	Waiting    string // that it is not dispatched (web.EventWaiting); "" once it is
	// WaitReason says why it waits and what to do (web.EventWaitReason),
	// when something other than the next dispatch round holds it back.
	WaitReason  string
	ReceivedVia string // "hook", "poll" or "hook and poll"
}

// eventRun is a flow run an event started.
type eventRun struct {
	ID, Flow, Status string
	// RerunID and RerunStatus are those of the run that ran it again by
	// itself once its connection was active again (the last of a chain of
	// such reruns); WaitsFor names the connection it waits for to run
	// again. Both empty for other runs.
	RerunID, RerunStatus, WaitsFor string
}

// maxRerunChain bounds how many automatic reruns of one event run the
// Events page follows to the last.
const maxRerunChain = 10

// rerunOutcome fills in r, of run fr, what came of fr's automatic rerun:
// the last rerun's id and status, or the connection it still waits for.
func (c *Console) rerunOutcome(ctx context.Context, r *eventRun, fr *store.FlowRun) error {
	for range maxRerunChain {
		switch {
		case fr.RerunWhenActive == "" || fr.RerunSkipped != "":
			return nil
		case fr.RerunBy == "":
			if r.RerunID == "" {
				r.WaitsFor = fr.RerunConnection
			}
			return nil
		}
		next, err := c.Flows.GetFlowRun(ctx, fr.RerunBy)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		r.RerunID, r.RerunStatus, fr = next.ID, next.Status, next
	}
	return nil
}

type eventsData struct {
	Events     []eventRow
	Connection string // the nickname filtered by, if any
	HasFlows   bool
	Pager      pager
	// FilterError says why the connection filter names nothing, or why
	// the page asked for (before) is not one; the page then lists no
	// events.
	FilterError *filterError
	// UnknownConnection is set when the error is the connection filter's.
	UnknownConnection bool
	// Listening are the enabled event flows (of the connection filtered
	// by), read only when there are no events to list: the events they
	// wait for have not come yet, which is not a reason to enable one.
	Listening []*store.Flow
	// Waiting is set when the page lists only the events not dispatched
	// yet (?waiting=true); Toggle is the address of the page that lists
	// the other way (the same connection's).
	Waiting bool
	Toggle  string
}

func (c *Console) listEvents(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	f := store.EventFilter{Limit: listPageSize + 1, Waiting: r.URL.Query().Get("waiting") == "true"}
	d := eventsData{HasFlows: c.Flows != nil, Waiting: f.Waiting}
	toggle := url.Values{}
	if v := r.URL.Query().Get("connection"); v != "" {
		toggle.Set("connection", v)
	}
	if !f.Waiting {
		toggle.Set("waiting", "true")
	}
	d.Toggle = "/events"
	if len(toggle) > 0 {
		d.Toggle += "?" + toggle.Encode()
	}
	nick := map[string]string{}
	if c.Connections != nil {
		vs, err := c.Connections.List(ctx)
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
		for _, v := range vs {
			nick[v.ID] = v.Nickname
		}
		if q := r.URL.Query().Get("connection"); q != "" {
			v, err := c.Connections.Get(ctx, q)
			if problem.CodeOf(err) == problem.NotFound {
				// Console advice, not the API's: the nearest nickname and
				// the Connections page.
				fe, err := c.unknownConnection(r, q, "events")
				if err != nil {
					c.fail(w, r, s, err)
					return
				}
				d.FilterError, d.Connection, d.UnknownConnection = fe, q, true
				c.render(w, r, s, http.StatusNotFound, "events", "Error: Events", d)
				return
			}
			if err != nil {
				c.fail(w, r, s, err)
				return
			}
			// The events of its org, whichever connection to it received them.
			f.ConnectionIDs, d.Connection = connection.SameOrg(vs, v), v.Nickname
		}
	}
	if v := r.URL.Query().Get("before"); v != "" {
		var ok bool
		if f.Before, f.BeforeUUID, ok = parseTimeCursor(v); !ok {
			d.FilterError = badCursor(r.URL.Path, setValues(r.URL.Query(), "connection"), "before", v,
				"the events", timeCursorText("an event's"), "Show the newest events")
			c.render(w, r, s, http.StatusBadRequest, "events", "Error: Events", d)
			return
		}
	}
	evs, err := c.Events.ListEvents(ctx, f)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	next := ""
	if len(evs) > listPageSize {
		evs = evs[:listPageSize]
		last := evs[len(evs)-1]
		next = timeCursor(last.Published, last.UUID)
	}
	d.Pager = newPager(r, "Events", "before", next, true)
	if len(evs) == 0 && d.Pager.First == "" && c.Flows != nil && !f.Waiting {
		if d.Listening, err = c.enabledEventFlows(ctx, f.ConnectionIDs, nick); err != nil {
			c.fail(w, r, s, err)
			return
		}
	}
	var holds map[string]intake.EventHold
	if c.EventHolds != nil {
		if holds, err = c.EventHolds.EventHolds(ctx, evs); err != nil {
			c.fail(w, r, s, err)
			return
		}
	}
	names := c.eventCardNames()
	for _, e := range evs {
		row := eventRow{Event: e, Name: names[e.EventType], Connection: nick[e.ConnectionID], Dispatched: !e.DispatchedAt.IsZero(), Waiting: web.EventWaiting(e)}
		if h, ok := holds[e.UUID]; ok && !row.Dispatched && h.Code != intake.EventWaitNextRound {
			row.WaitReason = web.EventWaitReason(h)
		}
		if row.Name == "" {
			row.Name = e.EventType
		}
		if row.Connection == "" {
			row.Connection = e.ConnectionID
		}
		switch len(e.ReceivedVia) {
		case 1:
			row.ReceivedVia = e.ReceivedVia[0]
		case 2:
			row.ReceivedVia = e.ReceivedVia[0] + " and " + e.ReceivedVia[1]
		}
		row.Device, row.DeviceID, row.User = eventTargets(e.Raw)
		for _, id := range e.FlowRuns {
			run := eventRun{ID: id}
			if c.Flows != nil {
				fr, err := c.Flows.GetFlowRun(ctx, id)
				switch {
				case errors.Is(err, store.ErrNotFound):
				case err != nil:
					c.fail(w, r, s, err)
					return
				default:
					run.Flow, run.Status = fr.FlowName, fr.Status
					if err := c.rerunOutcome(ctx, &run, fr); err != nil {
						c.fail(w, r, s, err)
						return
					}
				}
			}
			row.Runs = append(row.Runs, run)
		}
		d.Events = append(d.Events, row)
	}
	title := "Events"
	if d.Connection != "" {
		title = "Events of " + d.Connection
	}
	c.render(w, r, s, http.StatusOK, "events", title, d)
}

// enabledEventFlows names the enabled flows with an event trigger, those
// whose trigger's connection is one of ids when ids is not empty; nick
// maps each connection's id to its nickname.
func (c *Console) enabledEventFlows(ctx context.Context, ids []string, nick map[string]string) ([]*store.Flow, error) {
	var out []*store.Flow
	p := store.NamePage{Limit: 200}
	for {
		fs, err := c.Flows.ListFlowsPage(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			t := triggerOf(f, c.DefaultDelivery)
			if t == nil || t.Kind != flow.KindEvent || !f.Enabled {
				continue
			}
			if len(ids) == 0 || slices.ContainsFunc(ids, func(id string) bool {
				return t.Connection == id || strings.EqualFold(t.Connection, nick[id])
			}) {
				out = append(out, f)
			}
		}
		if len(fs) < p.Limit {
			return out, nil
		}
		last := fs[len(fs)-1]
		p.After, p.AfterID = last.Name, last.ID
	}
}

// eventCardNames maps an event type (device.lifecycle.suspend) to its
// event card's name (Device Suspended).
func (c *Console) eventCardNames() map[string]string {
	names := map[string]string{}
	if c.Catalog != nil {
		for _, k := range c.Catalog.Connectors() {
			for _, cd := range k.Cards {
				if cd.Kind == card.KindEvent {
					names[cd.EventType] = cd.Name
				}
			}
		}
	}
	return names
}

// eventTargets reads the device (its name and id) and the user (login)
// an Okta LogEvent names, as the API lists them (web.EventTargets); empty
// when it names none.
func eventTargets(raw json.RawMessage) (device, deviceID, user string) {
	d, u := web.EventTargets(raw)
	if d != nil {
		device, deviceID = d.DisplayName, d.ID
	}
	if u != nil {
		user = u.Login
	}
	return device, deviceID, user
}

// runEvent is the Okta event that started a flow run, as the run's page
// shows it.
type runEvent struct {
	Name                   string // the event card's name, or the event type
	EventType              string
	Device, DeviceID, User string
	Published              time.Time
	ConnectionID           string
}

// eventOfRun reads the event that started run from the inbox; nil for a
// run no event started, or whose event is no longer kept.
func (c *Console) eventOfRun(ctx context.Context, run *store.FlowRun) (*runEvent, error) {
	var t struct {
		Kind      string `json:"kind"`
		EventUUID string `json:"eventUuid"`
	}
	if c.Events == nil || len(run.Trigger) == 0 || json.Unmarshal(run.Trigger, &t) != nil || t.EventUUID == "" {
		return nil, nil
	}
	evs, err := c.Events.ListEvents(ctx, store.EventFilter{UUID: t.EventUUID, Limit: 1})
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	e := evs[0]
	v := &runEvent{Name: c.eventCardNames()[e.EventType], EventType: e.EventType, Published: e.Published, ConnectionID: e.ConnectionID}
	if v.Name == "" {
		v.Name = e.EventType
	}
	v.Device, v.DeviceID, v.User = eventTargets(e.Raw)
	return v, nil
}

// hookView is a connection's event intake as its page shows it.
type hookView struct {
	Status     string // "active", "pending", "error", "deactivated"; "" when there is no hook
	Reason     string
	Remedy     string
	EventTypes []string
	UpdatedAt  time.Time
	PolledAt   time.Time // the System Log poll's last new cursor; zero if never polled
	Poll       store.PollStatus
}

// eventSource returns the connection's event intake, nil when it has
// none (no enabled event flow ever used it).
func (c *Console) eventSource(ctx context.Context, connectionID string) (*hookView, error) {
	if c.Events == nil {
		return nil, nil
	}
	src, err := c.Events.GetEventSource(ctx, connectionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &hookView{Status: src.HookStatus, Reason: src.HookReason, Remedy: inConsole(src.HookRemedy),
		EventTypes: src.HookTypes, UpdatedAt: src.UpdatedAt, PolledAt: src.PolledAt, Poll: src.Poll}, nil
}
