package events

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// DefaultPollInterval is how often a connection's System Log is polled.
const DefaultPollInterval = 30 * time.Second

// LogRetention is how long Okta keeps System Log events. Okta answers
// 400 to a since over 180 days back, and returns nothing older than this
// anyway.
const LogRetention = 90 * 24 * time.Hour

// DefaultPollAlertAfter is how long a connection's polls fail before
// events.poll_failing is sent.
const DefaultPollAlertAfter = 15 * time.Minute

// DeviceEventTypes are the Okta event types of the connector's event
// cards; the poller reads only these.
var DeviceEventTypes = []string{
	"device.lifecycle.activate", "device.lifecycle.deactivate", "device.lifecycle.suspend",
	"device.lifecycle.unsuspend", "device.lifecycle.delete", "device.enrollment.create",
	"device.user.add", "device.user.remove",
}

// pollFilter is the System Log filter of the poller.
func pollFilter() string {
	parts := make([]string, len(DeviceEventTypes))
	for i, t := range DeviceEventTypes {
		parts[i] = `eventType eq "` + t + `"`
	}
	return strings.Join(parts, " or ")
}

// Orgs gives the Okta client of a connection (its org, credentials and
// the shared rate budget).
type Orgs interface {
	Client(ctx context.Context, connectionID string) (*okta.Client, error)
}

// Poller reads connections' System Logs into the inbox. Set its fields
// before use; it is then safe for concurrent use.
type Poller struct {
	// Store holds the cursors, the leases and the inbox (required).
	Store store.Store
	// Orgs gives each connection's Okta client (required).
	Orgs Orgs
	// Owner names this server in poll leases (required).
	Owner string
	// Interval is the time between polls of a connection; 0 means
	// DefaultPollInterval. The lease outlives two intervals.
	Interval time.Duration
	// PageSize is the limit of each System Log request; 0 means 1000.
	PageSize int
	// MaxPages bounds the pages one poll reads (a catch-up continues at
	// the next poll); 0 means 100.
	MaxPages int
	// Now is the clock of leases and received times; nil means time.Now.
	Now func() time.Time
	// Logger gets a line per failed poll; nil discards.
	Logger *slog.Logger
	// Stored, when set, is called after new events of a connection were
	// committed; it must not block.
	Stored func(connectionID string)
	// Outbox makes the events.poll_failing notification of a connection
	// whose polls have failed for AlertAfter, and events.poll_recovered
	// once one works again; they are stored with the poll's status. Nil
	// sends none (the status is still kept).
	Outbox *notify.Outbox
	// AlertAfter is how long polls fail before the alert; 0 means
	// DefaultPollAlertAfter.
	AlertAfter time.Duration
	// Notified, when set, is called after a notification was stored; it
	// must not block.
	Notified func()
	// Flows, when set, names a connection's enabled flows that read its
	// System Log, for the notices to say which of them a failing poll
	// leaves without events; nil (or none named) says "its flows
	// delivered by poll". It must be safe for concurrent use.
	Flows func(connectionID string) PollFlows
}

// PollFlows names the enabled event flows of a connection by delivery:
// Poll those with delivery poll, which get its events by the System Log
// polls alone, HookPoll those with delivery hook+poll, which get them by
// both, and Hook those with delivery hook, by its event hook alone.
type PollFlows struct{ Poll, HookPoll, Hook []string }

func (p *Poller) flows(connectionID string) PollFlows {
	if p.Flows == nil {
		return PollFlows{}
	}
	return p.Flows(connectionID)
}

// nameFlows lists flow names for a notice: a few, then how many more.
func nameFlows(names []string) string {
	const most = 5
	if len(names) <= most {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:most], ", "), len(names)-most)
}

// startNoRuns says which flows start no runs while the polls fail: those
// with delivery poll, while those with hook+poll still get the events
// the connection's event hook delivers.
func (pf PollFlows) startNoRuns() string {
	poll, both := nameFlows(pf.Poll), nameFlows(pf.HookPoll)
	switch {
	case poll != "" && both != "":
		return fmt.Sprintf("its flows with delivery poll (%s) start no runs, and those with delivery hook+poll (%s) start runs only for the events its event hook delivers", poll, both)
	case poll != "":
		return fmt.Sprintf("its flows with delivery poll (%s) start no runs", poll)
	case both != "":
		return fmt.Sprintf("its flows with delivery hook+poll (%s) start runs only for the events its event hook delivers", both)
	}
	return "its event flows delivered by poll start no runs"
}

// hookDown says what the connection's flows do while its event hook does
// not work: those with delivery hook start no runs, and those with
// hook+poll get their events by the System Log polls alone.
func (pf PollFlows) hookDown() string {
	hook, both := nameFlows(pf.Hook), nameFlows(pf.HookPoll)
	switch {
	case hook != "" && both != "":
		return fmt.Sprintf("its flows with delivery hook (%s) start no runs meanwhile, and those with delivery hook+poll (%s) get their events from the System Log polls alone", hook, both)
	case hook != "":
		return fmt.Sprintf("its flows with delivery hook (%s) start no runs meanwhile", hook)
	case both != "":
		return fmt.Sprintf("its flows with delivery hook+poll (%s) get their events from the System Log polls alone meanwhile", both)
	}
	return "its flows with delivery hook start no runs meanwhile (those with hook+poll get their events from the System Log polls)"
}

// missedWhileGone says which flows did not get the events published while
// the connection's event hook was gone from the org: those with delivery
// hook ("" when it has none); those with hook+poll read them from the
// System Log.
func (pf PollFlows) missedWhileGone() string {
	if hook := nameFlows(pf.Hook); hook != "" {
		return fmt.Sprintf("; its flows with delivery hook (%s) did not get the events published while it was gone (delivery hook+poll reads them from the System Log too)", hook)
	}
	return ""
}

// hookPollNotes are the remedies' clauses about hook+poll flows, which a
// hook notice says itself (PollFlows.hookDown), naming the flows.
var hookPollNotes = []string{
	"; meanwhile hook+poll flows get their events from the System Log",
	"; flows with delivery hook+poll still get their events from the System Log",
	" (flows with delivery hook+poll get their events from the System Log meanwhile)",
}

// withoutHookPollNote is a hook's remedy without its clause about
// hook+poll flows, for a notice that names them.
func withoutHookPollNote(remedy string) string {
	for _, n := range hookPollNotes {
		remedy = strings.Replace(remedy, n, "", 1)
	}
	return remedy
}

// startedNoRuns says which flows events gone at Okta unread started no
// runs of: those with delivery poll, and those with hook+poll unless the
// connection's event hook delivered the event.
func (pf PollFlows) startedNoRuns() string {
	poll, both := nameFlows(pf.Poll), nameFlows(pf.HookPoll)
	switch {
	case poll != "" && both != "":
		return fmt.Sprintf("started no run of its flows with delivery poll (%s), nor of those with delivery hook+poll (%s) unless its event hook delivered them", poll, both)
	case poll != "":
		return fmt.Sprintf("started no run of its flows with delivery poll (%s)", poll)
	case both != "":
		return fmt.Sprintf("started no run of its flows with delivery hook+poll (%s) unless its event hook delivered them", both)
	}
	return "started no run of its flows delivered by poll"
}

func (p *Poller) alertAfter() time.Duration {
	if p.AlertAfter > 0 {
		return p.AlertAfter
	}
	return DefaultPollAlertAfter
}

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Poller) interval() time.Duration {
	if p.Interval > 0 {
		return p.Interval
	}
	return DefaultPollInterval
}

// leaseTTL is how long a poll lease lasts unrenewed: two intervals and a
// minute.
func (p *Poller) leaseTTL() time.Duration { return 2*p.interval() + time.Minute }

// renewLease extends this server's poll lease of connectionID before it
// reads a further page; store.ErrLeaseLost when another server took the
// polls over meanwhile.
func (p *Poller) renewLease(ctx context.Context, connectionID string) error {
	ok, err := p.Store.RenewLease(ctx, store.PollLease(connectionID), p.Owner, p.leaseTTL(), p.now())
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("events: renewing the System Log poll lease of %s: %w", connectionID, store.ErrLeaseLost)
	}
	return nil
}

// Release gives up this server's poll lease of connectionID, if it still
// holds it (another server's is left alone), so that the next server to
// try, or this one restarted under another owner, polls at once rather
// than once the lease lapses. For a server that stops cleanly, once its
// polls have returned.
func (p *Poller) Release(ctx context.Context, connectionID string) error {
	return p.Store.ReleaseLease(ctx, store.PollLease(connectionID), p.Owner)
}

// PollResult says what one poll did.
type PollResult struct {
	// Polled is false when another server holds the connection's lease,
	// or took it over while this poll ran (store.ErrLeaseLost).
	Polled bool
	Pages  int
	Events int // events received
	New    int // of which new to the inbox

	// readTo is how far the poll read (see store.PollStatus.ReadTo);
	// zero when it read nothing.
	readTo time.Time
	// restarted says that the poll read on from a point in time rather
	// than from the cursor (its notice was stored).
	restarted bool
}

// Poll reads a connection's System Log from its stored cursor (or, on the
// first poll or when the cursor was last moved before since, from since,
// or from LogRetention ago if that is later) until a page comes back empty or MaxPages were
// read, storing each page's events before its cursor. Only the server
// holding the connection's poll lease polls; others get Polled false. The
// lease is renewed before each further page, and a poll whose lease
// another server took over stops there, with Polled false.
// How the poll fared is stored as the source's Poll status (see Outbox).
//
// A cursor Okta refuses (a 400: too old, or malformed) is not asked for
// again: the poll reads on from just before where the polls had read to
// (store.PollStatus.ReadTo), or from LogRetention ago, whichever is later,
// with an events.poll_restarted notice (and an audit event and a warning)
// that names the stretch of events possibly missed. So does a poll whose
// connection was last read longer ago than Okta keeps events (every server
// down for months), by this server's clock or by the org's (the Date of
// Okta's answer to the cursor: an org's clock moved ahead), rather than
// following its cursor past events that are gone without a word.
func (p *Poller) Poll(ctx context.Context, connectionID string, since time.Time) (PollResult, error) {
	return p.PollEnabled(ctx, connectionID, since, since)
}

// PollEnabled is Poll for flows enabled at enabledAt by this server's
// clock, whose enabling is since by the org's clock (the clock of the
// System Log's times; see OrgOffset): a cursor last moved before
// enabledAt, by this server's clock as the cursor's time is, stopped
// before the flows were enabled, and the poll reads from since instead.
func (p *Poller) PollEnabled(ctx context.Context, connectionID string, since, enabledAt time.Time) (PollResult, error) {
	var res PollResult
	ok, err := p.Store.TryLease(ctx, store.PollLease(connectionID), p.Owner, p.leaseTTL(), p.now())
	if err != nil || !ok {
		return res, err
	}
	res.Polled = true
	src, err := p.Store.GetEventSource(ctx, connectionID)
	if isNotFound(err) {
		src, err = &store.EventSource{ConnectionID: connectionID}, nil
	}
	if err != nil {
		return res, err
	}
	res, err = p.poll(ctx, src, since, enabledAt, res)
	if !errors.Is(err, store.ErrLeaseLost) && ctx.Err() == nil { // a poll cut short by shutdown tells nothing
		switch serr := p.setStatus(ctx, src, res, err); {
		case errors.Is(serr, store.ErrLeaseLost):
			err = serr
		case serr != nil:
			p.logger().WarnContext(ctx, "events: storing how the System Log poll fared", slog.String("connection", connectionID), slog.Any("error", serr))
		}
	}
	if errors.Is(err, store.ErrLeaseLost) {
		// This server was paused past its lease and another one polls
		// now: it stops at once, writing nothing more (the store refused
		// its cursor or status, which would have moved the polls back).
		p.logger().InfoContext(ctx, "events: another server took over the System Log poll; this one stops", slog.String("connection", connectionID),
			slog.Any("error", err))
		res.Polled = false
		return res, nil
	}
	return res, err
}

// restartMargin is how far before where the polls had read a poll whose
// cursor Okta refused reads again: Okta stamps persistence with its own
// clock. What it reads twice is stored once (by uuid).
const restartMargin = 10 * time.Minute

// pollRestart is a poll that reads on from a point in time instead of its
// cursor.
type pollRestart struct {
	refused error     // Okta's refusal of the cursor; nil: the polls read nothing for longer than Okta keeps events
	readTo  time.Time // how far the polls had read; zero: never since the flows were enabled (since)
	since   time.Time // where reading starts again
	// The events published from gapFrom to gapTo are gone at Okta and
	// were not read; none when gapFrom is not before gapTo.
	gapFrom, gapTo time.Time
}

// restartAt returns the restart of src's polls for its flows enabled
// since, reading from no earlier than from.
func restartAt(src *store.EventSource, since, from, now time.Time, refused error) *pollRestart {
	floor := now.Add(-LogRetention)
	rs := &pollRestart{refused: refused, readTo: src.Poll.ReadTo, since: latest(from, floor), gapFrom: latest(since, src.Poll.ReadTo), gapTo: floor}
	return rs
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// poll reads src's System Log pages.
func (p *Poller) poll(ctx context.Context, src *store.EventSource, since, enabledAt time.Time, res PollResult) (PollResult, error) {
	connectionID := src.ConnectionID
	cl, err := p.Orgs.Client(ctx, connectionID)
	if err != nil {
		return res, err
	}
	ps := &pollState{p: p, cl: cl, src: src, since: since, res: res, limit: p.pageSize()}
	ps.next, ps.rs = pollStart(src, since, enabledAt, p.now())
	if ps.rs != nil {
		ps.next, ps.since = "", ps.rs.since
		ps.res.restarted, ps.res.readTo = true, ps.rs.since
	}
	maxPages := p.maxPages()
	for ps.res.Pages < maxPages {
		if ps.res.Pages > 0 {
			// A catch-up of many pages may outlast the lease taken at
			// its start: it is renewed before each further page. A
			// server that lost it (paused while another took over)
			// stops at once, asking Okta for nothing more; it may not
			// take it again, its cursor being behind the other's.
			if err := p.renewLease(ctx, connectionID); err != nil {
				return ps.res, err
			}
		}
		page, asked, err := ps.fetch(ctx)
		if err != nil {
			return ps.res, fmt.Errorf("events: polling the System Log of %s: %w", connectionID, err)
		}
		if ps.rs != nil {
			// Said once Okta answers from the new point on (a poll that
			// fails before is tried again, and says nothing yet), before
			// anything of the answer is stored.
			if err := p.restart(ctx, src, ps.rs, p.now()); err != nil {
				return ps.res, err
			}
			ps.rs = nil
		}
		ps.res.Pages++
		if err := ps.storeEvents(ctx, page); err != nil {
			return ps.res, err
		}
		if page.Next == "" {
			// Its events are stored; the cursor stays, so the next poll
			// reads them again (once more each, by uuid).
			return ps.res, problem.New(problem.UpstreamError, "Okta answered the System Log request without the next link of a polling request, so cardflow cannot tell where to read on").
				WithRemedy("nothing to do if it passes: cardflow polls again from where it stopped; if it keeps happening, check what stands between cardflow and the org (a proxy dropping the Link header)")
		}
		if page.Next != ps.next || ps.next == "" {
			if err := p.Store.SetPollCursor(ctx, connectionID, p.Owner, page.Next, p.now()); err != nil {
				return ps.res, err
			}
		}
		ps.next = page.Next
		if page.Len() == 0 {
			// Read to the end: everything Okta stored before the request,
			// by the org's clock (its answer's Date) as the events' times
			// and Okta's retention are, else by this server's.
			ps.res.readTo = latest(ps.res.readTo, cmp.Or(page.Date, asked))
			break
		}
		if n := len(page.Events); n > 0 {
			// In persistence order: everything Okta stored before the
			// last event was read, and it was stored no earlier than
			// published.
			ps.res.readTo = latest(ps.res.readTo, page.Events[n-1].Published)
		}
	}
	return ps.res, nil
}

// pageSize is the limit of each System Log request.
func (p *Poller) pageSize() int {
	if p.PageSize > 0 {
		return p.PageSize
	}
	return 1000
}

// maxPages is how many pages one poll reads at most.
func (p *Poller) maxPages() int {
	if p.MaxPages > 0 {
		return p.MaxPages
	}
	return 100
}

// pollState is where one poll of a connection's System Log reads from and
// what it did so far.
type pollState struct {
	p     *Poller
	cl    *okta.Client
	src   *store.EventSource
	next  string       // the cursor read on from; "" reads from since
	since time.Time    // where a request without a cursor reads from
	rs    *pollRestart // a restart not said yet; nil: none
	res   PollResult
	limit int
}

// pollStart returns where a poll of src for flows enabled since (by the
// org's clock; enabledAt by this server's, which src's times are by)
// starts: src's cursor, or "" to read from since, and the restart when it
// reads from a point in time instead, the events of before being gone at
// Okta.
func pollStart(src *store.EventSource, since, enabledAt, now time.Time) (next string, rs *pollRestart) {
	next = src.PollNext
	if next != "" && src.PolledAt.Before(enabledAt) {
		// The cursor stopped before every flow polled for now was
		// enabled (they were all disabled meanwhile): what lies between
		// starts no run of them, so it is not read (for months, it could
		// be a large part of Okta's 90 days). Start over from since.
		next = ""
	}
	switch floor := now.Add(-LogRetention); {
	case next != "" && !src.Poll.ReadTo.IsZero() && src.Poll.ReadTo.Before(floor):
		// The polls have read nothing for longer than Okta keeps events
		// (every server was down, say): the events after the cursor
		// that are older than that are gone. Okta may refuse so old a
		// cursor, and would serve only what it keeps anyway: read what
		// it keeps, and say what is gone.
		rs = restartAt(src, since, since, now, nil)
	case next == "" && since.Before(floor):
		// The first poll comes long after the flows were enabled (every
		// server was down, or the polls failed until now): the events of
		// before are gone at Okta, and asking for them would fail every
		// poll from 180 days on.
		rs = restartAt(src, since, since, now, nil)
	}
	return next, rs
}

// fetch asks Okta for the next page, and asks again once from a restart
// (ps.rs) when Okta refuses the cursor, or the point in time as further
// back than it serves. asked is when the page that came back was asked
// for.
func (ps *pollState) fetch(ctx context.Context) (page *okta.LogPage, asked time.Time, err error) {
	p, src := ps.p, ps.src
	asked = p.now()
	page, err = ps.cl.PollLogs(ctx, ps.next, ps.since, pollFilter(), ps.limit)
	// restartFrom asks again from the restart rs, without a cursor.
	restartFrom := func() {
		ps.next, ps.since = "", ps.rs.since
		ps.res.restarted, ps.res.readTo = true, latest(ps.res.readTo, ps.since)
		asked = p.now()
		page, err = ps.cl.PollLogs(ctx, ps.next, ps.since, pollFilter(), ps.limit)
	}
	if err != nil && ps.next != "" && !ps.res.restarted && cursorRefused(err) {
		// Asking again with the same cursor would fail every poll for
		// good: read on from where the polls had read to.
		readTo := latest(src.Poll.ReadTo, ps.res.readTo)
		from := ps.since
		if !readTo.IsZero() {
			from = latest(ps.since, readTo.Add(-restartMargin))
		}
		ps.rs = restartAt(src, ps.since, from, p.now(), err)
		ps.rs.readTo = readTo
		ps.rs.gapFrom = latest(ps.since, readTo)
		restartFrom()
	}
	if err == nil && ps.next != "" && ps.rs == nil && ps.res.Pages == 0 && !page.Date.IsZero() &&
		!src.Poll.ReadTo.IsZero() && src.Poll.ReadTo.Before(page.Date.Add(-LogRetention)) {
		// Okta served the cursor, but by its clock the polls read
		// nothing for longer than it keeps events (its clock moved
		// ahead of this server's by more than that, as an emulated
		// org's can be, which pollStart's look by this server's clock
		// does not see): the events after the cursor that are older
		// than that are gone, and Okta leaves them out without a word.
		// Read what it keeps, and say what is gone, as pollStart does.
		ps.rs = restartAt(src, ps.since, ps.since, page.Date, nil)
		restartFrom()
	}
	if orgNow := refusedAsTooOld(err, ps.next, ps.since); !orgNow.IsZero() {
		// Okta refused the point in time as further back than it
		// serves by its own clock, which is ahead of this host's by
		// more than the 90 days it keeps (or an emulated org's clock
		// was moved ahead): asking again from the same point would
		// fail every poll for good. Read from as far back as Okta
		// keeps events by its clock, and say what is gone.
		if ps.rs == nil {
			ps.rs = restartAt(src, ps.since, ps.since, orgNow, err)
		} else {
			floor := orgNow.Add(-LogRetention)
			ps.rs.since, ps.rs.gapTo = latest(ps.rs.since, floor), latest(ps.rs.gapTo, floor)
		}
		restartFrom()
	}
	return page, asked, err
}

// storeEvents stores the events of page in the inbox, counting them in
// the poll's result, and says which it left out.
func (ps *pollState) storeEvents(ctx context.Context, page *okta.LogPage) error {
	if page.Len() == 0 {
		return nil
	}
	p, connectionID := ps.p, ps.src.ConnectionID
	// An event cardflow cannot use is left out (and said), not
	// the page: the same event would fail every poll for good.
	evs, bad := pageEvents(connectionID, page, p.now())
	n, err := p.Store.PutEvents(ctx, evs, store.ViaPoll)
	if err != nil {
		return err
	}
	if err := reportMalformed(ctx, p.Store, p.logger(), connectionID, "System Log page", page.Len(), bad, p.now()); err != nil {
		return err
	}
	ps.res.Events += len(evs)
	ps.res.New += n
	if n > 0 && p.Stored != nil {
		p.Stored(connectionID)
	}
	return nil
}

// cursorRefused reports whether err is Okta's refusal of a System Log
// request's cursor (the after of a next link): a 400, which the same
// cursor would get again.
func cursorRefused(err error) bool {
	var ae *okta.APIError
	var re *okta.RequestError
	return errors.As(err, &ae) && ae.Status == 400 || errors.As(err, &re) && re.Field == "next"
}

// refusedAsTooOld returns the org's time of its answer err (a 400 with a
// Date) to a request of the System Log from since (no cursor) when that
// time is more than Okta's 90 days after since: Okta refuses a since too far
// back by its own clock, which this host's clock may be behind. It is the
// zero time otherwise.
func refusedAsTooOld(err error, next string, since time.Time) time.Time {
	var ae *okta.APIError
	if err == nil || next != "" || !errors.As(err, &ae) || ae.Status != 400 || ae.Date.IsZero() || !since.Before(ae.Date.Add(-LogRetention)) {
		return time.Time{}
	}
	return ae.Date
}

// restart stores src's poll restart rs: how far the polls read (rs.since,
// from where they read on), with the events.poll_restarted notification,
// before the first answer from there is stored, so that a crash does not
// read past the stretch unannounced; an audit event and a warning in the
// log. A
// restart noticed by the events.poll_recovered of a failure longer than
// Okta's 90 days, which names the same stretch, has no notification of its
// own.
func (p *Poller) restart(ctx context.Context, src *store.EventSource, rs *pollRestart, now time.Time) error {
	gap := rs.gapFrom.Before(rs.gapTo)
	if rs.refused == nil && !gap {
		return nil // since is within Okta's 90 days: nothing to say
	}
	c := connectionNotice(ctx, p.Store, src.ConnectionID)
	var why string
	switch {
	case rs.refused != nil:
		msg, _ := pollProblem(rs.refused, "")
		why = fmt.Sprintf("Okta refused the System Log position cardflow kept for connection %s (%s)", c.Nickname, msg)
	case rs.readTo.IsZero():
		why = fmt.Sprintf("the System Log of connection %s was not read since its flows delivered by poll were enabled (%s), longer ago than Okta keeps events (90 days)",
			c.Nickname, timetext.Format(rs.gapFrom))
	default:
		why = fmt.Sprintf("the System Log of connection %s was last read up to %s, longer ago than Okta keeps events (90 days)",
			c.Nickname, timetext.Format(rs.readTo))
	}
	text := why + fmt.Sprintf(", so cardflow reads it anew from %s (events read before start no second run)", timetext.Format(rs.since))
	if gap {
		text += fmt.Sprintf("; any event published from %s to %s that cardflow had not read yet is gone at Okta and %s: look them up in a copy of the org's System Log, if one is kept (a SIEM), should they matter",
			timetext.Format(rs.gapFrom), timetext.Format(rs.gapTo), p.flows(src.ConnectionID).startedNoRuns())
	} else {
		text += "; no event is missed"
	}
	attrs := []any{slog.String("connection", src.ConnectionID), slog.Time("since", rs.since)}
	if gap {
		attrs = append(attrs, slog.Time("gone_from", rs.gapFrom), slog.Time("gone_to", rs.gapTo))
	}
	p.logger().WarnContext(ctx, "events: the System Log poll reads anew from a point in time: "+text, attrs...)
	var ns []*store.Notification
	if rs.refused != nil || src.Poll.AlertedAt.IsZero() || !src.Poll.FailingSince.Before(rs.gapTo) {
		var err error
		ns, err = p.Outbox.Notifications(notify.Message{
			ID:   fmt.Sprintf("nt_poll_restarted_%s_%d", src.ConnectionID, rs.gapFrom.UnixNano()),
			Type: notify.TypePollRestarted, Time: now, Connection: c, Message: text, Thread: pollThread(src.ConnectionID)})
		if err != nil {
			return err
		}
	}
	st := src.Poll
	st.ReadTo = rs.since
	if err := p.Store.SetPollStatus(ctx, src.ConnectionID, p.Owner, st, now, ns); err != nil {
		return err
	}
	src.Poll = st
	if err := p.Store.AppendAudit(context.WithoutCancel(ctx), &store.AuditEvent{Time: now, Actor: store.ServerActor,
		Action: store.ActionConnectionEventPoll, ConnectionID: src.ConnectionID, InputSummary: text, Outcome: "success"}); err != nil {
		return err
	}
	if len(ns) > 0 && p.Notified != nil {
		p.Notified()
	}
	return nil
}

// pollThread is the notification thread of a connection's System Log
// polls: its failing, recovered and restarted notices reach each receiver
// in the order they were made.
func pollThread(connectionID string) string { return "events.poll/" + connectionID }

// readToEvery is how often, at most, how far the polls read
// (PollStatus.ReadTo) is stored while they keep up: one write an hour
// rather than one a poll. It only makes the stretch a restart names, and
// the events read again, longer by as much.
const readToEvery = time.Hour

// setStatus stores how a poll of src fared (pollErr nil: it worked) when
// that changes what src says, with the alert or the all-clear due.
func (p *Poller) setStatus(ctx context.Context, src *store.EventSource, res PollResult, pollErr error) error {
	now, prev := p.now(), src.Poll
	var st store.PollStatus
	kind := ""
	if pollErr != nil {
		auth := ""
		if c, err := p.Store.GetConnection(ctx, src.ConnectionID); err == nil {
			auth = c.Auth
		}
		msg, remedy := pollProblem(pollErr, auth)
		st = store.PollStatus{Error: msg, Remedy: remedy, FailingSince: prev.FailingSince, AlertedAt: prev.AlertedAt}
		if st.FailingSince.IsZero() {
			st.FailingSince = now
		}
		// A connection that needs reauthorization was notified as such
		// (connection.needs_reauthorization, with its reason), and one
		// never authorized (connection_pending) waits for the sign-in or
		// key its status asks for: its polls failing say nothing more, so
		// they are not alerted (nor their recovery once it is authorized).
		if code := problem.CodeOf(pollErr); st.AlertedAt.IsZero() && now.Sub(st.FailingSince) >= p.alertAfter() &&
			code != problem.NeedsReauthorization && code != problem.ConnectionPending {
			st.AlertedAt, kind = now, notify.TypePollFailing
		}
	} else if !prev.AlertedAt.IsZero() {
		kind = notify.TypePollRecovered
	}
	st.ReadTo = prev.ReadTo
	if res.readTo.After(prev.ReadTo) && (prev.ReadTo.IsZero() || res.readTo.Sub(prev.ReadTo) >= readToEvery) {
		st.ReadTo = res.readTo
	}
	if st == prev {
		return nil
	}
	var ns []*store.Notification
	if kind != "" {
		var err error
		if ns, err = p.Outbox.Notifications(p.pollNotice(ctx, src.ConnectionID, kind, st, prev, now)); err != nil {
			return err
		}
	}
	if err := p.Store.SetPollStatus(ctx, src.ConnectionID, p.Owner, st, now, ns); err != nil {
		return err
	}
	src.Poll = st
	if pollErr == nil && !prev.FailingSince.IsZero() {
		p.logger().InfoContext(ctx, "events: the System Log poll works again", slog.String("connection", src.ConnectionID),
			slog.Time("failing_since", prev.FailingSince))
		if kept := now.Add(-LogRetention); prev.FailingSince.Before(kept) {
			p.logger().WarnContext(ctx, "events: the System Log poll failed for longer than Okta keeps events: the events published before the start of Okta's 90 days started no runs",
				slog.String("connection", src.ConnectionID), slog.Time("failing_since", prev.FailingSince), slog.Time("lost_before", kept))
		}
	}
	if len(ns) > 0 && p.Notified != nil {
		p.Notified()
	}
	return nil
}

// pollProblem says why a poll failed and what to do, in words for the
// console, the API and a notification: Okta's answers by meaning, the
// connection's own problems (needs reauthorization) as they are, and
// anything else as an internal error that names no detail. auth is the
// connection's kind (store.AuthUser or store.AuthService; "" when
// unknown), which decides how a missing scope or role is given.
func pollProblem(err error, auth string) (message, remedy string) {
	const waits = "cardflow polls again every interval and reads on from where it stopped, so no event of the meantime is lost (Okta keeps 90 days)"
	if p, ok := problem.As(err); ok {
		pub := problem.Public(p)
		return pub.Message, pub.Remedy
	}
	if se, ok := okta.IsInsufficientScope(err); ok {
		msg := fmt.Sprintf("the connection was not granted %s, which System Log polls need", se.Scope)
		switch auth {
		case store.AuthUser:
			return msg, fmt.Sprintf("grant %s to the connection's OIDC app (Okta API Scopes tab) and reauthorize the connection with it, or use delivery: hook", se.Scope)
		case store.AuthService:
			return msg, fmt.Sprintf("grant %s on the API Services app's Okta API Scopes tab in the Okta Admin Console, then test the connection, or use delivery: hook", se.Scope)
		}
		return msg, fmt.Sprintf("grant %s to the org's app (Okta API Scopes tab) and reauthorize the connection (a service connection: test it), or use delivery: hook", se.Scope)
	}
	var ae *okta.APIError
	var de *okta.DecodeError
	switch {
	case errors.As(err, &de):
		return "could not read Okta's answer to the System Log request: " + de.Reason(),
			"nothing to do if it passes: " + waits + "; if it keeps happening, check what stands between cardflow and the org (a proxy answering for it)"
	case errors.As(err, &ae) && okta.IsForbidden(ae):
		msg := "the connection's Okta account or app may not read the System Log (" + ae.Summary + ")"
		switch auth {
		case store.AuthUser:
			return msg, "reauthorize the connection with an administrator who may read the System Log (a super, org or read-only administrator)"
		case store.AuthService:
			return msg, "assign the API Services app a role that may read the System Log (a super, org or read-only administrator) on its Admin Roles tab in the Okta Admin Console"
		}
		return msg, "reauthorize the connection with an administrator who may read the System Log (a super, org or read-only administrator), or give the API Services app such a role"
	case errors.As(err, &ae) && okta.IsRateLimited(ae):
		return "the org's rate limit for the System Log was still exhausted after waiting for its resets",
			"nothing to do if it passes: " + waits + "; if it keeps happening, poll less often (-event-poll-interval) or find what else reads the org's System Log"
	case errors.As(err, &ae):
		return fmt.Sprintf("Okta answered %d to the System Log request: %s", ae.Status, ae.Summary),
			"nothing to do if Okta recovers (see status.okta.com): " + waits
	case errors.Is(err, context.DeadlineExceeded):
		return "Okta did not answer the System Log request in time", "nothing to do if it passes: " + waits
	}
	var ne net.Error // *net.OpError and *url.Error among them
	if errors.As(err, &ne) {
		return "could not reach the org: " + okta.RootCause(err).Error(), "check the network between cardflow and the org; " + waits
	}
	pub := problem.Public(err)
	return pub.Message, pub.Remedy
}

// pollNotice is the events.poll_failing (st is the failure) or
// events.poll_recovered (prev was the failure) message of a connection.
// Its id is stable per failure, so a repeated one is delivered once.
func (p *Poller) pollNotice(ctx context.Context, connectionID, kind string, st, prev store.PollStatus, now time.Time) notify.Message {
	c := connectionNotice(ctx, p.Store, connectionID)
	m := notify.Message{Type: kind, Time: now, Connection: c, Thread: pollThread(connectionID)}
	if kind == notify.TypePollFailing {
		m.ID = fmt.Sprintf("nt_poll_failing_%s_%d", connectionID, st.FailingSince.UnixNano())
		m.Message = fmt.Sprintf("reading the Okta System Log of connection %s has failed since %s, so %s: %s",
			c.Nickname, timetext.Format(st.FailingSince), p.flows(connectionID).startNoRuns(), st.Error)
		if st.Remedy != "" {
			m.Message += "; " + st.Remedy
		}
		return m
	}
	m.ID = fmt.Sprintf("nt_poll_recovered_%s_%d", connectionID, prev.FailingSince.UnixNano())
	m.Message = fmt.Sprintf("reading the Okta System Log of connection %s works again (it failed from %s); the events it missed meanwhile are read now",
		c.Nickname, timetext.Format(prev.FailingSince))
	if kept := now.Add(-LogRetention); prev.FailingSince.Before(kept) {
		m.Message = fmt.Sprintf("reading the Okta System Log of connection %s works again (it failed from %s); Okta keeps the System Log for 90 days, so the events published from %[2]s to %[3]s are gone and %[4]s; the events since %[3]s are read now",
			c.Nickname, timetext.Format(prev.FailingSince), timetext.Format(kept), p.flows(connectionID).startedNoRuns())
	}
	return m
}

// connectionNotice names a connection in a notification; by its id alone
// when it cannot be read.
func connectionNotice(ctx context.Context, st store.Store, connectionID string) *notify.Connection {
	c := &notify.Connection{ID: connectionID, Nickname: connectionID}
	if conn, err := st.GetConnection(ctx, connectionID); err == nil {
		c.Nickname, c.Domain, c.Status, c.StatusReason = conn.Nickname, conn.Domain, conn.Status, conn.StatusReason
	}
	return c
}

func (p *Poller) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}
