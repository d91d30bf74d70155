package intake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/events"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/outage"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// Intake runs the event intake of one server: every interval (and
// when woken) it reads the enabled event-triggered flows, keeps each
// connection's event hook in line with them and polls the System Logs of
// connections with poll delivery (atOkta), and, in a loop of its own,
// dispatches stored events (dispatchAll).
type Intake struct {
	store           store.Store
	conns           *connection.Manager
	poller          *events.Poller
	dispatcher      *events.Dispatcher
	reconciler      *events.Reconciler
	defaultDelivery string
	interval        time.Duration
	owner           string // this server's name in hook leases
	now             func() time.Time
	log             *slog.Logger
	// outage logs the failures of the rounds' work, once each and then
	// summarised while they last, and their recovery.
	outage *outage.Log
	// wake wakes the dispatch loop, wakeOkta the loop of the work at Okta.
	wake, wakeOkta chan struct{}
	// unfit says why this server cannot do work at Okta now (its keyring
	// is behind the database's: keyring.Keyring.SealErr), or nil.
	unfit func() error
	// rerun reruns the failed event runs whose connection stopped them
	// once it is active again (flowrun.Service.RerunWaiting).
	rerun func(ctx context.Context) (int, error)

	// workers are the connections' work at Okta (atOktaFor), at most
	// maxOktaWork at once (slots).
	workers sync.WaitGroup
	slots   chan struct{}

	mu     sync.Mutex
	hooked map[string]bool // connections whose hook this server reconciled
	busy   map[string]bool // connections whose work at Okta is running
	// pollNow names the connections to poll at the next round, woken or
	// not (noticeActive).
	pollNow map[string]bool
	// skipped names the connections whose work a round left out because
	// their work of an earlier round was still at Okta (claim): a round
	// runs again once that is done (unclaim), rather than at the next
	// interval, so that a hook change the round was woken for (a flow
	// enabled or disabled) is not left waiting for it.
	skipped map[string]bool
	// polled is what the last round at Okta read of each connection's
	// flows that read its System Log (pollFlows), and pollEnablings the
	// enablings of those flows (connFlows.pollEnablings).
	polled        map[string]events.PollFlows
	pollEnablings map[string][]string

	// checkConns wakes the watch of the connections (watchConnections);
	// authorized is what its last read saw of each connection
	// (authorizedKey), nil before the first read. Only the watch uses it.
	checkConns chan struct{}
	authorized map[string]string
	// rerunsFirst names, by flow id, the reruns whose end alone could
	// start the runs of a flow's events at the last dispatch round
	// (rerunsToWatch): noticeRerunsEnded looks for their end while there
	// are any.
	rerunsFirst map[string]string
}

// Wake makes the intake look again now (a flow was enabled or disabled):
// its dispatch round and its round at Okta (which reconciles the hooks with
// the flows, without a call to Okta when nothing changed, and polls the
// System Log of a connection a poll or hook+poll flow was just enabled on,
// so that its poll status shows at once). It never blocks.
func (in *Intake) Wake() {
	in.WakeDispatch()
	select {
	case in.wakeOkta <- struct{}{}:
	default:
	}
}

// WakeConnection says that the connection id was stored active again
// (reauthorized, or a service connection the org accepts again): the
// watch of the connections reads them now, and the round at Okta polls
// the connection's System Log at once (noticeActive), so that its poll
// status, which said it cannot be used, is brought up to date rather than
// at the next interval. The other servers learn of it from the store
// within connCheckEvery, which is what reaches the one holding the poll
// lease when that is not this one. It never blocks.
func (in *Intake) WakeConnection(string) {
	select {
	case in.checkConns <- struct{}{}:
	default:
	}
}

// LookAt has the round at Okta look at the connection id now, as at its
// interval: check its event hook at Okta (and register it again if it is
// in error and due, see events.Due) and poll its System Log. A passed
// connection test calls it (connection.Manager.OnTestPassed): the scope a
// hook or a poll failed for may have just been granted, and the person
// who tested sees the hook and the poll as they are rather than up to an
// interval later. Only this server looks; it never blocks.
func (in *Intake) LookAt(id string) {
	in.mu.Lock()
	in.pollNow[id] = true
	in.mu.Unlock()
	select {
	case in.wakeOkta <- struct{}{}:
	default:
	}
}

// connCheckEvery is how often each server reads the connections to learn
// of one stored active again on any server (noticeActive): a read of the
// connections table, without a call to Okta.
const connCheckEvery = 2 * time.Second

// authorizedKey is what noticeActive compares of a connection: its status
// and when it was last authorized, which a reauthorization, and a service
// connection the org accepts again, change; a token refresh does not.
func authorizedKey(c *store.Connection) string {
	return fmt.Sprint(c.Status, " ", c.AuthorizedAt.UnixNano())
}

// noticeActive reads the connections and has the round at Okta poll at
// once each one that is active and was not, or was authorized anew, since
// the previous read, wherever that happened: only the server holding the
// connection's poll lease polls, and it may not be the one where the
// connection was reauthorized. The first read only records what it sees
// (the first round at Okta polls every connection anyway). The dispatch
// round runs at once too: the events that waited for the connection
// (events.EventFlow.Waiting) start their runs.
func (in *Intake) noticeActive(ctx context.Context) {
	const what = "events: reading the connections to learn of reauthorizations"
	cs, err := in.store.ListConnections(ctx)
	if err != nil {
		if ctx.Err() == nil {
			in.outage.Fail(ctx, what, err)
		}
		return
	}
	in.outage.OK(ctx, what)
	seen := make(map[string]string, len(cs))
	woke := false
	for _, c := range cs {
		k := authorizedKey(c)
		seen[c.ID] = k
		if in.authorized != nil && in.authorized[c.ID] != k && c.Status == store.StatusActive {
			in.mu.Lock()
			in.pollNow[c.ID] = true
			in.mu.Unlock()
			woke = true
		}
	}
	in.authorized = seen
	if woke {
		select {
		case in.wakeOkta <- struct{}{}:
		default:
		}
		// The events that waited for it start their runs now, and the
		// runs it stopped run again.
		in.WakeDispatch()
	}
}

// watchConnections runs noticeActive every connCheckEvery and when woken
// (WakeConnection) until ctx ends.
func (in *Intake) watchConnections(ctx context.Context) {
	t := time.NewTicker(connCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-in.checkConns:
		}
		in.noticeActive(ctx)
		in.noticeRerunsEnded(ctx)
	}
}

// rerunsToWatch names, by flow id, the reruns whose end alone can start
// the runs of a flow's held events (events.EventFlow.RerunFirst): not
// those of a flow whose trigger's connection holds its events too
// (Waiting), which start once it is active again, as noticeActive learns
// and wakes the round for; its reruns are watched from that round on.
func rerunsToWatch(m map[string]*connFlows) map[string]string {
	out := map[string]string{}
	for _, cf := range m {
		for _, f := range cf.flows {
			if f.RerunFirst != "" && f.Waiting == "" {
				out[f.Flow.ID] = f.RerunFirst
			}
		}
	}
	return out
}

// noticeRerunsEnded wakes the dispatch round once a rerun that held a
// flow's events at the last round (rerunsFirst) has ended, wherever it
// ran: the server that ran it wakes its own round at once
// (flowrun.Config.OnRerunEnded), the others learn of it here, within
// connCheckEvery, as they learn of a connection active again, rather than
// at their next interval. It reads the store only while events wait so.
func (in *Intake) noticeRerunsEnded(ctx context.Context) {
	in.mu.Lock()
	held := in.rerunsFirst
	in.mu.Unlock()
	if len(held) == 0 {
		return
	}
	const what = "events: reading the reruns that the events of their flows wait for"
	pending, err := in.store.PendingReruns(ctx)
	if err != nil {
		if ctx.Err() == nil {
			in.outage.Fail(ctx, what, err)
		}
		return
	}
	in.outage.OK(ctx, what)
	for flowID := range held {
		if pending[flowID] == "" {
			in.WakeDispatch()
			return
		}
	}
}

// WakeDispatch makes the intake's dispatch round look again now (a hook or
// a poll stored new events: the flows, and so the hooks, are unchanged, and
// the round at Okta need not read them again). It never blocks.
func (in *Intake) WakeDispatch() {
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// connFlows is what the intake needs of one connection.
type connFlows struct {
	org       string // the connection's org (its domain)
	flows     []events.EventFlow
	hookTypes []string
	// hookFlows names the hook flows, the version and enabling of each,
	// and conn the connection as far as its hook depends on it: a change
	// to either makes a hook that keeps failing be tried at once
	// (hookKey).
	hookFlows []string
	conn      string
	poll      bool
	// pollAt are the enablings of its poll flows, sinceOf where the
	// polls read from for them.
	pollAt []enabling
	// unclocked are the enablings of its flows not yet told in the org's
	// clock (orgEnabledAt): atOktaFor asks the org its time for them.
	unclocked []enabling
	// polled names its flows that read its System Log, by delivery, for
	// the poll notices (events.Poller.Flows).
	polled events.PollFlows
	// pollEnablings names its poll flows and the enabling of each: one
	// the last round at Okta did not see was just enabled (newPollFlow).
	pollEnablings []string
}

// enabling is an event flow's enabling: when, by this server's clock
// (flowrun.Enable records it), and by the org's clock (zero while
// unknown).
type enabling struct {
	flow      *store.Flow
	at, orgAt time.Time
}

// unclockedMargin is how far before an enabling not yet told in the org's
// clock a poll reads (the org's answer telling its time did not come): a
// stretch of the org's events read again, stored once and dispatched to
// no run, against a clock of this host behind the org's.
const unclockedMargin = 10 * time.Minute

// since is where the polls of the connection read from: the earliest
// enabling of its poll flows in the org's clock; enabledAt is the
// earliest by this server's clock.
func (cf *connFlows) since() (since, enabledAt time.Time) {
	for i, e := range cf.pollAt {
		at := e.orgAt
		if at.IsZero() {
			at = e.at.Add(-unclockedMargin)
		}
		if i == 0 || at.Before(since) {
			since = at
		}
		if i == 0 || e.at.Before(enabledAt) {
			enabledAt = e.at
		}
	}
	return since, enabledAt
}

// hookKey names what the connection's hook attempts are for (see
// events.Reconciler.Attempt): its hook flows, the connection, and the
// server's public URL, which the hook sends to (a server restarted with
// the -public-url its remedy asked for tries at once).
func (cf *connFlows) hookKey(publicURL string) string {
	h := sha256.New()
	for _, f := range slices.Sorted(slices.Values(cf.hookFlows)) {
		fmt.Fprintf(h, "%s\n", f)
	}
	fmt.Fprintf(h, "%s\n%s\n", cf.conn, publicURL)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// eventFlowOf is fl, an enabled flow whose trigger is an event of type
// eventType at connection v, as the dispatcher takes it; rerunFirst is
// the run of an earlier event of fl that is to run again first
// (store.PendingReruns), or "".
func eventFlowOf(fl *store.Flow, doc *flow.Document, v *connection.View, eventType string, orgAt time.Time, rerunFirst string) events.EventFlow {
	ef := events.EventFlow{Flow: fl, Doc: doc, ConnectionID: v.ID, EventType: eventType, EnabledAt: orgAt, RerunFirst: rerunFirst}
	if v.Status != store.StatusActive {
		// Its runs would fail at once: its events wait for the
		// connection to be active again (reauthorized, say).
		ef.Waiting = fmt.Sprintf("connection %s is %s", v.Nickname, v.Status)
	}
	return ef
}

// scan reads the enabled event flows, by connection. partial says that
// the connection of some flow could not be read (other than because it is
// gone), so that the flow is missing.
func (in *Intake) scan(ctx context.Context) (_ map[string]*connFlows, partial bool, _ error) {
	efs, pending, err := in.enabledEventFlows(ctx)
	if err != nil {
		return nil, false, err
	}
	out := map[string]*connFlows{}
	for _, ef := range efs {
		fl, doc, ev, c := ef.flow, ef.doc, ef.trigger, ef.card
		v, err := in.conns.Resolve(ctx, ev.Connector(), ev.Connection)
		const unread, gone = "events: reading the connection of an enabled flow", "events: the connection of an enabled flow is gone"
		if err != nil {
			// Logged once and summarised: every round reads it again.
			if problem.CodeOf(err) != problem.NotFound {
				partial = true
				in.outage.Fail(ctx, unread, err, slog.String("flow", fl.Name))
				continue
			}
			in.outage.Fail(ctx, gone, err, slog.String("flow", fl.Name))
			continue
		}
		in.outage.OK(ctx, unread, slog.String("flow", fl.Name))
		in.outage.OK(ctx, gone, slog.String("flow", fl.Name))
		enabledAt, err := in.enabledAt(ctx, fl)
		if err != nil {
			return nil, false, err
		}
		orgAt, err := in.orgEnabledAt(ctx, fl, enabledAt)
		if err != nil {
			return nil, false, err
		}
		cf := out[v.ID]
		if cf == nil {
			var authorized time.Time
			if v.AuthorizedAt != nil {
				authorized = *v.AuthorizedAt
			}
			cf = &connFlows{org: v.Org(), conn: fmt.Sprint(v.Domain, " ", v.ClientID, " ", v.Status, " ", authorized.UnixNano(), " ", v.GrantedScopes)}
			out[v.ID] = cf
		}
		cf.flows = append(cf.flows, eventFlowOf(fl, doc, v, c.EventType, orgAt, pending[fl.ID]))
		en := enabling{flow: fl, at: enabledAt, orgAt: orgAt}
		if orgAt.IsZero() {
			cf.unclocked = append(cf.unclocked, en)
		}
		delivery := flow.DeliveryOf(ev.Delivery, in.defaultDelivery)
		if delivery == card.DeliveryHook || delivery == card.DeliveryHookPoll {
			cf.hookTypes = append(cf.hookTypes, c.EventType)
			cf.hookFlows = append(cf.hookFlows, fmt.Sprint(fl.ID, " ", fl.Version, " ", enabledAt.UnixNano()))
		}
		switch delivery {
		case card.DeliveryPoll:
			cf.polled.Poll = append(cf.polled.Poll, fl.Name)
		case card.DeliveryHookPoll:
			cf.polled.HookPoll = append(cf.polled.HookPoll, fl.Name)
		case card.DeliveryHook:
			cf.polled.Hook = append(cf.polled.Hook, fl.Name)
		}
		if delivery == card.DeliveryPoll || delivery == card.DeliveryHookPoll {
			cf.pollEnablings = append(cf.pollEnablings, fmt.Sprint(fl.ID, " ", enabledAt.UnixNano()))
			cf.pollAt = append(cf.pollAt, en)
			cf.poll = true
		}
	}
	return out, partial, nil
}

// enabledEventFlow is an enabled flow whose trigger is an event card's.
type enabledEventFlow struct {
	flow    *store.Flow
	doc     *flow.Document // nil when this version no longer reads it (eventTrigger)
	trigger *flow.EventTrigger
	card    card.Card
}

// enabledEventFlows reads the enabled flows whose trigger is an event
// card's, and the flows with a rerun pending (store.PendingReruns).
func (in *Intake) enabledEventFlows(ctx context.Context) ([]enabledEventFlow, map[string]string, error) {
	fls, err := in.store.ListFlows(ctx)
	if err != nil {
		return nil, nil, err
	}
	pending, err := in.store.PendingReruns(ctx)
	if err != nil {
		return nil, nil, err
	}
	var out []enabledEventFlow
	for _, fl := range fls {
		if !fl.Enabled || len(fl.Trigger) == 0 {
			continue
		}
		doc, ev := in.eventTrigger(ctx, fl)
		if ev == nil {
			continue
		}
		c, ok := card.Lookup(ev.Card)
		if !ok || c.Kind != card.KindEvent {
			continue
		}
		out = append(out, enabledEventFlow{flow: fl, doc: doc, trigger: ev, card: c})
	}
	return out, pending, nil
}

// eventTrigger returns an enabled flow's document and its event trigger,
// or a nil trigger for a flow that has none. A flow whose stored document
// this version no longer reads (a rule added since the flow was enabled)
// is given its stored trigger and no document: its events still start
// runs, which fail with the reasons and are notified as any failure,
// rather than the flow going quiet while it looks enabled.
func (in *Intake) eventTrigger(ctx context.Context, fl *store.Flow) (*flow.Document, *flow.EventTrigger) {
	const unread = "events: an enabled event flow no longer validates; its events start runs that fail with the reasons until it is stored again"
	doc, err := flow.Parser{Now: in.now}.Parse(fl.Source)
	if err == nil {
		in.outage.OK(ctx, unread, slog.String("flow", fl.Name))
		if doc.Trigger == nil {
			return doc, nil
		}
		return doc, doc.Trigger.Event
	}
	var spec struct{ Kind, Card, Connection, Delivery string }
	if json.Unmarshal(fl.Trigger, &spec) != nil || spec.Kind != flow.KindEvent {
		return nil, nil
	}
	in.outage.Fail(ctx, unread, err, slog.String("flow", fl.Name))
	return nil, &flow.EventTrigger{Card: spec.Card, Connection: spec.Connection, Delivery: spec.Delivery}
}

// enabledAt returns when a flow's trigger was enabled (flowrun.Enable
// records it), recording now for a flow enabled without the record.
func (in *Intake) enabledAt(ctx context.Context, fl *store.Flow) (time.Time, error) {
	key := flowrun.EnabledAtSetting(fl)
	b, err := in.store.GetSetting(ctx, key)
	if err == nil {
		return time.Parse(time.RFC3339Nano, string(b))
	}
	if !errors.Is(err, store.ErrNotFound) {
		return time.Time{}, err
	}
	now := in.now().UTC()
	if err := in.store.PutSetting(ctx, key, []byte(now.Format(time.RFC3339Nano))); err != nil {
		return time.Time{}, err
	}
	return now, nil
}

// orgEnabledAtSetting holds a flow's enabling (flowrun.EnabledAtSetting)
// told in the clock of the org of its trigger's connection: "AT ORG",
// both RFC 3339, AT naming the enabling it tells (a later one of the same
// trigger has its own).
func orgEnabledAtSetting(fl *store.Flow) string {
	return "events/enabled-at-org/" + fl.ID + "/" + string(fl.Trigger)
}

// orgEnabledAt returns when a flow's trigger was enabled at (by this
// server's clock) by the clock of its org, or the zero time while no
// server has asked the org its time since (clockEnablings).
func (in *Intake) orgEnabledAt(ctx context.Context, fl *store.Flow, at time.Time) (time.Time, error) {
	b, err := in.store.GetSetting(ctx, orgEnabledAtSetting(fl))
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	of, org, ok := strings.Cut(string(b), " ")
	if t, err := time.Parse(time.RFC3339Nano, of); !ok || err != nil || !t.Equal(at) {
		return time.Time{}, nil // of an earlier enabling
	}
	return time.Parse(time.RFC3339Nano, org)
}

// clockEnablings tells the enablings of the connection id's flows that
// are not known in its org's clock yet in that clock, by asking the org
// its time (events.OrgOffset), and stores them: this server's clock may
// be minutes off the org's, whose published times the events carry, so
// that an enabling by this server's clock would leave out the events
// published in the first minutes after it (this clock ahead) or start
// runs of events published before it (behind). The events of those flows
// wait for it (events.EventFlow.EnabledAt); the dispatch round is woken
// once it is stored.
func (in *Intake) clockEnablings(ctx context.Context, id string, cf *connFlows) {
	const what = "events: asking the org its time for the enabling of an event flow"
	off, err := events.OrgOffset(ctx, in.poller.Orgs, id, in.now)
	if err == nil {
		for _, e := range cf.unclocked {
			org := e.at.Add(off).UTC()
			v := e.at.UTC().Format(time.RFC3339Nano) + " " + org.Format(time.RFC3339Nano)
			if err = in.store.PutSetting(ctx, orgEnabledAtSetting(e.flow), []byte(v)); err != nil {
				break
			}
			for i := range cf.flows {
				if cf.flows[i].Flow.ID == e.flow.ID {
					cf.flows[i].EnabledAt = org
				}
			}
			for i := range cf.pollAt {
				if cf.pollAt[i].flow.ID == e.flow.ID {
					cf.pollAt[i].orgAt = org
				}
			}
			in.log.InfoContext(ctx, "events: an event flow's enabling told in its org's clock", slog.String("flow", e.flow.Name),
				slog.String("connection", id), slog.Time("enabled_at", e.at), slog.Time("org_enabled_at", org), slog.Duration("org_clock_ahead_by", off))
		}
	}
	in.result(ctx, what, id, true, err)
	if err == nil {
		cf.unclocked = nil
		in.WakeDispatch()
	}
}

// atOkta runs one round of the intake's work at Okta: it keeps the event
// hooks in line with the enabled flows and, when poll is set (the rounds
// of the interval), checks each hook at Okta and polls System Logs, so
// that events arriving by hook do not make a call each. It stores what it
// reads; the dispatch rounds (dispatchAll) start the runs, apart from it,
// so that a call to Okta that waits (a slow System Log, an exhausted rate
// limit: minutes) holds up no event already received.
func (in *Intake) atOkta(ctx context.Context, poll bool) {
	if in.unfit != nil && in.unfit() != nil {
		// This server cannot open the connections' tokens nor seal new
		// ones (checkSealingKey says why): it leaves the System Log polls
		// and the hooks to the servers that can. A poll lease it holds is
		// not renewed, and another server takes it over once it lapses;
		// polling on, it kept the lease and failed every poll.
		return
	}
	m, partial, err := in.scan(ctx)
	if err != nil {
		if ctx.Err() == nil {
			in.outage.Fail(ctx, "events: reading the enabled flows", err)
		}
		return
	}
	in.outage.OK(ctx, "events: reading the enabled flows")
	if partial {
		// A flow whose connection could not be read is missing from m:
		// the hook of that connection may be needed. No hook is deleted
		// until a round reads them all.
		in.log.DebugContext(ctx, "events: the connection of an enabled flow could not be read; no event hook is deleted in this round")
	}
	in.mu.Lock()
	for id, cf := range m {
		in.polled[id] = cf.polled
		if !poll && slices.ContainsFunc(cf.pollEnablings, func(e string) bool { return !slices.Contains(in.pollEnablings[id], e) }) {
			// A flow was just enabled that polls the connection: its
			// poll status is brought up to date now (a System Log the
			// connection cannot read shows at once), not at the next
			// interval. Events since its enabling are read either way.
			in.pollNow[id] = true
		}
		in.pollEnablings[id] = cf.pollEnablings
	}
	for id := range in.pollEnablings {
		if m[id] == nil && !partial {
			delete(in.pollEnablings, id)
		}
	}
	var stale []string
	for id := range in.hooked {
		if !partial && (m[id] == nil || len(m[id].hookTypes) == 0) {
			stale = append(stale, id)
		}
	}
	in.mu.Unlock()
	if poll && !partial {
		// Once an interval (and at the start), the hooks this server did
		// not see in use too: one registered by another server, or whose
		// deletion a server stopped in the middle of (its last hook flow
		// was disabled meanwhile), stayed at Okta for good otherwise.
		stale = append(stale, in.unneededHooks(ctx, m)...)
		stale = slices.Compact(slices.Sorted(slices.Values(stale)))
	}
	for _, id := range stale {
		if !in.claim(id) {
			in.skip(id) // its work of an earlier round is still at Okta: a round follows it
			continue
		}
		ok, err := in.reconcileLeased(ctx, id, nil)
		in.unclaim(id)
		in.result(ctx, "events: deleting an event hook", id, ok, err)
		if err != nil || !ok {
			continue
		}
		in.mu.Lock()
		delete(in.hooked, id)
		in.mu.Unlock()
	}
	// Each connection's calls run on their own, and a round does not wait
	// for them: one org that is slow to answer (or whose rate limit is
	// exhausted) delays no other org's. A connection whose work of an
	// earlier round still waits for Okta is left out of this one.
	in.mu.Lock()
	for id := range in.pollNow {
		if m[id] == nil {
			delete(in.pollNow, id) // no flow reads its events
		}
	}
	in.mu.Unlock()
	for id, cf := range m {
		if !in.claim(id) {
			in.mu.Lock()
			woken := in.pollNow[id]
			in.mu.Unlock()
			if woken {
				in.log.DebugContext(ctx, "events: a woken System Log poll waits for the connection's work at Okta of an earlier round", slog.String("connection", id))
			}
			in.skip(id)
			continue // a round follows it (unclaim)
		}
		in.mu.Lock()
		pollNow := poll || in.pollNow[id]
		delete(in.pollNow, id)
		in.mu.Unlock()
		in.workers.Go(func() {
			defer in.unclaim(id)
			in.slots <- struct{}{}
			defer func() { <-in.slots }()
			in.atOktaFor(ctx, id, cf, pollNow)
		})
	}
}

// unneededHooks returns the connections whose event source holds a hook
// (at Okta, or being registered) though no enabled flow of theirs in m
// needs one.
func (in *Intake) unneededHooks(ctx context.Context, m map[string]*connFlows) []string {
	const what = "events: listing the event sources"
	srcs, err := in.store.ListEventSources(ctx)
	if err != nil {
		if ctx.Err() == nil {
			in.outage.Fail(ctx, what, err)
		}
		return nil
	}
	in.outage.OK(ctx, what)
	var ids []string
	for _, src := range srcs {
		if (src.HookID != "" || src.HookPath != "") && (m[src.ConnectionID] == nil || len(m[src.ConnectionID].hookTypes) == 0) {
			ids = append(ids, src.ConnectionID)
		}
	}
	return ids
}

// pollFlows names the connection id's flows that read its System Log, as
// the last round at Okta read them, for the poll notices.
func (in *Intake) pollFlows(id string) events.PollFlows {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.polled[id]
}

// maxOktaWork bounds the connections whose work at Okta runs at once.
const maxOktaWork = 8

// claim marks the connection id's work at Okta as running; false when it
// already is.
func (in *Intake) claim(id string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.busy[id] {
		return false
	}
	in.busy[id] = true
	return true
}

// skip records that a round left out the connection id's work because its
// work of an earlier round is still at Okta: unclaim runs a round then.
func (in *Intake) skip(id string) {
	in.mu.Lock()
	if in.skipped == nil {
		in.skipped = map[string]bool{}
	}
	in.skipped[id] = true
	in.mu.Unlock()
}

// unclaim marks the connection id's work at Okta as done, and runs a round
// at once when a poll of it was woken meanwhile (noticeActive), or a round
// left its work out (skip), which the running work kept from starting: it
// waited for the next interval.
func (in *Intake) unclaim(id string) {
	in.mu.Lock()
	delete(in.busy, id)
	woken := in.pollNow[id] || in.skipped[id]
	delete(in.skipped, id)
	in.mu.Unlock()
	if woken {
		select {
		case in.wakeOkta <- struct{}{}:
		default:
		}
	}
}

// atOktaFor is atOkta's work for the connection id.
func (in *Intake) atOktaFor(ctx context.Context, id string, cf *connFlows, poll bool) {
	if len(cf.unclocked) > 0 {
		in.clockEnablings(ctx, id, cf)
	}
	if len(cf.hookTypes) > 0 {
		key := cf.hookKey(in.reconciler.PublicURL)
		if poll {
			// Once an interval: is the hook still active and verified at Okta?
			ok, err := in.hookLeased(ctx, id, func() error {
				_, err := in.reconciler.CheckAttempt(ctx, id, key)
				if errors.Is(err, store.ErrNotFound) {
					return nil // no hook registered yet: reconcile, next, registers it
				}
				return err
			})
			in.result(ctx, "events: checking the event hook at Okta", id, ok, err)
		}
		in.reconcile(ctx, id, cf.hookTypes, key)
	}
	if cf.poll && poll {
		since, enabledAt := cf.since()
		res, err := in.poller.PollEnabled(ctx, id, since, enabledAt)
		in.result(ctx, "events: polling the System Log", id, res.Polled, err)
	}
}

// dispatchAll runs one dispatch round: it reruns the failed event runs
// whose connection is active again (rerun), and starts the runs of the
// stored events of every connection with enabled event flows and, when all
// is set (the rounds of the interval), of the connections without any.
func (in *Intake) dispatchAll(ctx context.Context, all bool) {
	// First the runs its connection stopped, whose events came before
	// those that waited in the inbox for the same connection.
	if in.rerun != nil {
		const what = "events: rerunning the event runs that waited for their connection"
		if _, err := in.rerun(ctx); err != nil {
			if ctx.Err() == nil {
				in.outage.Fail(ctx, what, err)
			}
		} else {
			in.outage.OK(ctx, what)
		}
	}
	// Events received after this are left to the next round: one of them
	// may be of a flow enabled after the scan (the event's arrival woke
	// the intake, so that round comes).
	readAt := in.now()
	m, partial, err := in.scan(ctx)
	// Its own name, apart from atOkta's read: the two loops read at their
	// own moments, and one's success reported between the other's
	// failures would log a recovery, then the failure again, in an outage.
	if err != nil {
		if ctx.Err() == nil {
			in.outage.Fail(ctx, "events: reading the enabled flows to dispatch events", err)
		}
		return
	}
	in.outage.OK(ctx, "events: reading the enabled flows to dispatch events")
	// An org's event is stored once, under the connection that received
	// it first: each connection's events are dispatched to the flows of
	// every connection to the same org.
	orgFlows := map[string][]events.EventFlow{}
	for _, cf := range m {
		orgFlows[cf.org] = append(orgFlows[cf.org], cf.flows...)
	}
	in.mu.Lock()
	in.rerunsFirst = rerunsToWatch(m)
	in.mu.Unlock()
	for id, cf := range m {
		_, err := in.dispatcher.Dispatch(ctx, id, orgFlows[cf.org], readAt)
		in.result(ctx, "events: dispatching", id, true, err)
	}
	if all && !partial {
		// Once an interval, not at each hook delivery: a query for every
		// connection, for events that are rare. A connection whose flows
		// could not be read would look as if it had none.
		in.dispatchWithoutFlows(ctx, m, orgFlows, readAt)
	}
}

// dispatchWithoutFlows dispatches the stored events of the connections
// that have no enabled event flow (m holds those that have): a hook being
// deleted may still deliver some. They go to the flows of the other
// connections to the same org, whose own poll or hook finds them stored
// already; with none, they are marked dispatched without a run (a flow
// enabled later does not take events published before), which lets the
// retention purge remove them.
func (in *Intake) dispatchWithoutFlows(ctx context.Context, m map[string]*connFlows, orgFlows map[string][]events.EventFlow, readAt time.Time) {
	vs, err := in.conns.List(ctx)
	if err != nil {
		if ctx.Err() == nil {
			in.outage.Fail(ctx, "events: listing the connections", err)
		}
		return
	}
	in.outage.OK(ctx, "events: listing the connections")
	for _, v := range vs {
		if m[v.ID] != nil {
			continue
		}
		_, err := in.dispatcher.Dispatch(ctx, v.ID, orgFlows[v.Org()], readAt)
		in.result(ctx, "events: dispatching", v.ID, true, err)
	}
}

// result logs how a round's work for a connection fared through the
// intake's outage log: a failure repeated every round is logged once and
// then summarised. done says that this server did the work (err nil: it
// worked); work left to the server holding its lease tells nothing. A
// failure because the connection needs reauthorization, or was never
// authorized (connection_pending), is counted, not logged: it waits for
// the connection, whose status says why (the server that stored a
// needs_reauthorization logged it once with its reason, a wrong client
// secret say, and it was notified); every server's rounds logging it
// again, and summarising it every few minutes, told nothing more.
func (in *Intake) result(ctx context.Context, what, connectionID string, done bool, err error) {
	switch {
	case err == nil:
		if done {
			in.outage.OK(ctx, what, slog.String("connection", connectionID))
		}
	case ctx.Err() == nil && waitsForConnection(err):
		if in.outage.Failed != nil {
			in.outage.Failed()
		}
	case ctx.Err() == nil:
		in.outage.Fail(ctx, what, err, slog.String("connection", connectionID))
	}
}

// waitsForConnection reports whether err is the refusal of a connection
// that is not usable until someone fixes it: it needs reauthorization, or
// was never authorized (problem.NotActiveCode).
func waitsForConnection(err error) bool {
	code := problem.CodeOf(err)
	return code == problem.NeedsReauthorization || code == problem.ConnectionPending
}

// reconcile brings a connection's hook in line when its event types or
// its status call for it. A hook that keeps failing (Okta cannot verify
// it, say) is tried again with a backoff, not at every round, and at once
// when key (its flows, the connection) changes: events.Due.
func (in *Intake) reconcile(ctx context.Context, id string, types []string, key string) {
	types = slices.Compact(slices.Sorted(slices.Values(types)))
	src, err := in.store.GetEventSource(ctx, id)
	if err == nil && (src.HookStatus == store.HookActive || src.HookStatus == store.HookDeactivated) && slices.Equal(src.HookTypes, types) {
		in.mu.Lock()
		in.hooked[id] = true
		in.mu.Unlock()
		return
	}
	if err == nil && !events.Due(src, key, in.now()) {
		// The connection shows when it is tried again (its remedy).
		in.mu.Lock()
		in.hooked[id] = true
		in.mu.Unlock()
		return
	}
	ok, err := in.hookLeased(ctx, id, func() error {
		_, err := in.reconciler.Attempt(ctx, id, types, key)
		return err
	})
	in.result(ctx, "events: registering the event hook", id, ok, err)
	if !ok {
		return // another server is at it; look again next round
	}
	in.mu.Lock()
	in.hooked[id] = true
	in.mu.Unlock()
}

// hookLeaseTTL bounds how long a server that died while reconciling a
// connection's hook keeps the others from doing it.
const hookLeaseTTL = time.Minute

// reconcileLeased reconciles a connection's hook under the store lease
// events-hook/<connection>, so that two servers never create two Okta
// hooks for one connection. It reports false, doing nothing, when another
// server holds the lease.
func (in *Intake) reconcileLeased(ctx context.Context, id string, types []string) (bool, error) {
	return in.hookLeased(ctx, id, func() error {
		_, err := in.reconciler.Reconcile(ctx, id, types)
		return err
	})
}

// hookLeased runs fn, which changes a connection's hook, under the store
// lease events-hook/<connection>; it reports false, not running fn, when
// another server holds the lease.
func (in *Intake) hookLeased(ctx context.Context, id string, fn func() error) (bool, error) {
	name := "events-hook/" + id
	release := func() {
		if err := in.store.ReleaseLease(context.WithoutCancel(ctx), name, in.owner); err != nil {
			in.log.WarnContext(ctx, "events: releasing the event hook lease", slog.String("connection", id), slog.Any("error", err))
		}
	}
	ok, err := in.store.TryLease(ctx, name, in.owner, hookLeaseTTL, in.now())
	if err != nil {
		// The lease may be taken all the same: a statement that ends as
		// ctx does (a server stopping) can be written and still answer
		// the context's error. Left, it would keep every other server
		// from the hook until it lapsed.
		release()
		return false, err
	}
	if !ok {
		return false, nil
	}
	defer release()
	return true, fn()
}

// Forget deletes a connection's Okta event hook and its event source; the
// connection manager calls it before it deletes the connection, while the
// connection's credentials still work. It answers a warning for the
// deletion's result when the hook could not be deleted at Okta.
func (in *Intake) Forget(ctx context.Context, id string) string {
	src, err := in.store.GetEventSource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		in.dispatchLeftovers(ctx, id)
		return ""
	}
	if err != nil {
		in.log.ErrorContext(ctx, "events: reading the event source of a connection being deleted", slog.String("connection", id), slog.Any("error", err))
		return "its Okta event hook, if it has one, could not be looked up: delete it in the Admin Console (Workflow > Event Hooks) if it is there"
	}
	// Under the hook lease, taken under a name of its own and left to
	// expire: no round of this or another server registers the hook anew
	// before the connection is gone. A round holds the lease for a few
	// calls to Okta at most.
	var rerr error
	for wait := time.Duration(0); ; wait += 50 * time.Millisecond {
		ok, err := in.store.TryLease(ctx, "events-hook/"+id, in.owner+"/delete", hookLeaseTTL, in.now())
		if err != nil || ok {
			if rerr = err; ok {
				_, rerr = in.reconciler.Reconcile(ctx, id, nil)
			}
			break
		}
		if wait >= 5*time.Second || ctx.Err() != nil {
			rerr = errors.New("another server is changing the hook")
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	in.dispatchLeftovers(ctx, id)
	if err := in.store.DeleteEventSource(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		in.log.ErrorContext(ctx, "events: deleting the event source of a connection being deleted", slog.String("connection", id), slog.Any("error", err))
	}
	in.mu.Lock()
	delete(in.hooked, id)
	delete(in.polled, id)
	delete(in.pollEnablings, id)
	in.mu.Unlock()
	if rerr != nil && src.HookID != "" {
		in.log.WarnContext(ctx, "events: deleting the event hook of a connection being deleted", slog.String("connection", id), slog.Any("error", rerr))
		return fmt.Sprintf("its Okta event hook %s could not be deleted (%v): delete it in the Admin Console (Workflow > Event Hooks)", src.HookID, rerr)
	}
	return ""
}

// dispatchLeftovers dispatches the events a connection being deleted
// received since the last round (its hook is gone by now) to the flows of
// the other connections to its org: no round dispatches the events of a
// connection that is gone, and undispatched events are never purged.
func (in *Intake) dispatchLeftovers(ctx context.Context, id string) {
	v, err := in.conns.Resolve(ctx, "", id)
	if err != nil {
		in.log.ErrorContext(ctx, "events: reading a connection being deleted", slog.String("connection", id), slog.Any("error", err))
		return
	}
	m, partial, err := in.scan(ctx)
	if err != nil || partial {
		in.log.ErrorContext(ctx, "events: reading the enabled flows to dispatch the last events of a connection being deleted",
			slog.String("connection", id), slog.Any("error", err))
		return
	}
	var flows []events.EventFlow
	for cid, cf := range m {
		if cid != id && cf.org == v.Org() {
			if len(cf.unclocked) > 0 {
				// A flow whose enabling no round told in the org's clock
				// yet holds back every event of its type (its enabling
				// decides which start it); no round dispatches these
				// once the connection is gone, so tell it now.
				in.clockEnablings(ctx, cid, cf)
			}
			flows = append(flows, cf.flows...)
		}
	}
	if _, err := in.dispatcher.Dispatch(ctx, id, flows, time.Time{}); err != nil {
		in.log.ErrorContext(ctx, "events: dispatching the last events of a connection being deleted", slog.String("connection", id), slog.Any("error", err))
	}
}

// Run runs rounds until ctx ends: the rounds at Okta and the dispatch
// rounds each in a loop of their own, every interval and when woken.
func (in *Intake) Run(ctx context.Context) {
	// What the connections are before the first round, which polls them
	// all: a reauthorization from here on wakes a poll.
	in.noticeActive(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { in.watchConnections(ctx) })
	wg.Go(func() {
		loop(ctx, in.interval, in.wakeOkta, in.atOkta)
	})
	loop(ctx, in.interval, in.wake, in.dispatchAll)
	wg.Wait()
	in.workers.Wait()
	in.releasePolls(ctx)
}

// hookURLLeaseFor is how long the servers of the public URL a working
// event hook sends to keep it (events.Reconciler.URLLease) after one of
// them last checked it, with the given poll interval (each server checks
// its hooks once an interval): as long as a System Log poll lease.
func hookURLLeaseFor(interval time.Duration) time.Duration { return 2*interval + time.Minute }

// releaseTimeout bounds how long a stopping server spends giving up its
// poll leases; a lease it could not give up lapses as after a crash.
const releaseTimeout = 5 * time.Second

// releasePolls gives up the System Log poll leases this server holds (and
// its public URL's hold on the event hooks, events.Reconciler.ReleaseURL), once
// its polls have returned (ctx ended), so that the next server polls at
// once rather than two poll intervals and a minute later. A lease another
// server holds is left alone.
func (in *Intake) releasePolls(ctx context.Context) {
	in.mu.Lock()
	ids := slices.Sorted(maps.Keys(in.polled))
	hooked := slices.Sorted(maps.Keys(in.hooked))
	in.mu.Unlock()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	for _, id := range ids {
		if err := in.poller.Release(rctx, id); err != nil {
			in.log.WarnContext(rctx, "events: giving up the System Log poll lease; it lapses instead", slog.String("connection", id), slog.Any("error", err))
		}
	}
	// And the hold of this server's public URL on the event hooks, so that
	// a server started with another public URL points them at it at once.
	for _, id := range hooked {
		if err := in.reconciler.ReleaseURL(rctx, id); err != nil {
			in.log.WarnContext(rctx, "events: giving up the event hook's public URL lease; it lapses instead", slog.String("connection", id), slog.Any("error", err))
		}
	}
}

// loop calls round at once and then until ctx ends: with true after each
// interval, with false when woken.
func loop(ctx context.Context, interval time.Duration, wake <-chan struct{}, round func(ctx context.Context, full bool)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	full := true
	for {
		round(ctx, full)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			full = true
		case <-wake:
			full = false
		}
	}
}

// Config is what an Intake is built from.
type Config struct {
	Store store.Store
	// Conns resolves the flows' connections and their status.
	Conns *connection.Manager
	// Orgs gives a connection's Okta client (its org and access token).
	Orgs events.Orgs
	// Keyring seals the event hooks' secrets.
	Keyring events.Sealer
	// Runs stores the runs events start; Started is called with each.
	Runs    events.Runs
	Started func(*store.FlowRun)
	// Rerun reruns the failed event runs whose connection stopped them
	// once it is active again (flowrun.Service.RerunWaiting).
	Rerun func(ctx context.Context) (int, error)
	// Outbox takes the intake's notifications; Notified wakes their
	// sender.
	Outbox   *notify.Outbox
	Notified func()
	// PublicURL is where Okta sends event hooks; DefaultDelivery the
	// delivery of a flow that names none (card.DeliveryHook, ...).
	PublicURL, DefaultDelivery string
	// Interval is how often a round runs; 0 means
	// events.DefaultPollInterval. AlertAfter is events.Poller.AlertAfter.
	Interval, AlertAfter time.Duration
	// Owner names this server in leases shared through the store.
	Owner string
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Outage logs the failures of the rounds' work.
	Outage *outage.Log
	// Unfit says why this server cannot do work at Okta now (its keyring
	// is behind the database's: keyring.Keyring.SealErr), or nil.
	Unfit func() error
}

// New builds the event intake of one server; Run runs it.
func New(c Config) *Intake {
	now := c.Now
	if now == nil {
		now = time.Now
	}
	interval := c.Interval
	if interval <= 0 {
		interval = events.DefaultPollInterval
	}
	in := &Intake{store: c.Store, conns: c.Conns, defaultDelivery: c.DefaultDelivery,
		interval: interval, owner: c.Owner, now: now, log: c.Logger, outage: c.Outage, wake: make(chan struct{}, 1), wakeOkta: make(chan struct{}, 1), hooked: map[string]bool{},
		busy: map[string]bool{}, pollNow: map[string]bool{}, polled: map[string]events.PollFlows{}, pollEnablings: map[string][]string{}, checkConns: make(chan struct{}, 1), slots: make(chan struct{}, maxOktaWork), unfit: c.Unfit,
		rerun: c.Rerun}
	in.poller = &events.Poller{Store: c.Store, Orgs: c.Orgs, Owner: c.Owner, Interval: interval, Now: c.Now, Logger: c.Logger,
		Stored: func(string) { in.WakeDispatch() }, Outbox: c.Outbox, AlertAfter: c.AlertAfter, Notified: c.Notified,
		Flows: in.pollFlows}
	in.reconciler = &events.Reconciler{Store: c.Store, Orgs: c.Orgs, Keyring: c.Keyring, PublicURL: c.PublicURL, Now: c.Now,
		Outbox: c.Outbox, Notified: c.Notified, URLLease: hookURLLeaseFor(interval), Flows: in.pollFlows}
	in.dispatcher = &events.Dispatcher{Store: c.Store, Runs: c.Runs, Now: c.Now, Started: c.Started}
	return in
}

// DispatchRound runs a full dispatch round now, in the caller's
// goroutine, and returns when it is done (the loop's rounds go on as
// well).
func (in *Intake) DispatchRound(ctx context.Context) { in.dispatchAll(ctx, true) }

// PollPending says that a poll of the connection id was asked for (a
// reauthorization, a passed test) and has not run yet.
func (in *Intake) PollPending(id string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.pollNow[id]
}
