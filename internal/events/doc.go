// Package events owns cardflow's intake of Okta events for event-triggered
// flows: the event hook endpoint (PUBLIC_URL/hooks/okta/<path>),
// the System Log poller, the inbox they both feed, the reconciler that
// keeps one Okta event hook per connection, and the dispatcher that starts
// the runs events trigger.
//
// Both ways store what they receive in the store's event inbox, keyed by
// the event's uuid, before they acknowledge it: a hook delivery is answered
// 200 only once its events are committed, and the poller moves its cursor
// only past pages whose events are committed. An event that arrives twice,
// by the same way or by both, is stored once and remembers every way it
// came by. Starting the runs an event triggers is the dispatcher's job: the
// store starts a run per (event, flow) in one transaction with its marker,
// so a run is never started twice, whatever the intake received.
//
// The hook endpoint answers only a request carrying the connection's
// secret in its Authorization header (compared in constant time), refuses
// bodies over its cap, and stores nothing from a request it refuses. It
// does no other work before answering, so it answers within Okta's 3 s
// even when the flow engine is busy.
//
// An event that cardflow cannot use (not an Okta LogEvent, such as one
// with a field of the wrong JSON type, or without its uuid, eventType or
// published time) costs none of the others of its delivery or System Log
// page: it is left out, with a warning in the log and a
// connection.event-malformed audit event that name it (place, uuid and
// type, none of its other values), and the rest is stored as usual. The
// audit event names an event once per connection (store.NoteMalformedEvents,
// by its uuid), however often it arrives: a delivery Okta sends again, the
// poll reading what the hook delivered.
// Refusing the delivery would lose them all: Okta sends no delivery again
// after a 4xx answer, only once after a 5xx, and each time with the same
// event. A System Log page is not failed either, which would fail every
// poll at the same cursor for good.
//
// The poller reads a connection's System Log in polling mode (filtered to
// the device event types of the event cards), one page at a time, and
// keeps the next link in the store; one server at a time polls a
// connection, under a store lease (store.PollLease) renewed before each
// page (and given up, Poller.Release, by a server that stops cleanly, so
// that the next one polls at once), and its calls go through the Okta
// client's shared rate budget.
// The lease fences the poll's writes of its cursor and status: a server
// paused past it, whose polls another server took over, has its next
// write or renewal refused (store.ErrLeaseLost), so that it moves no
// cursor back and writes no stale status, and stops polling at once. It also keeps how far the polls read
// (PollStatus.ReadTo): a cursor Okta refuses, or one left for longer than
// Okta keeps events, is dropped for a since from there (or from as far
// back as Okta keeps events), with an events.poll_restarted notice that
// names the stretch of events that is gone, rather than failing every poll
// for good or reading past the gone events without a word.
//
// Every server runs an intake (wired by the app): once an interval it reads
// the enabled event-triggered flows per connection, polls System Logs,
// checks that each hook is still active and verified at Okta (the
// Reconciler; hook changes happen under a per-connection store lease, so
// that two servers never register two hooks, and a working hook stays at
// the public URL of the servers that last found it so, Reconciler.URLLease,
// so that servers given different public URLs do not move it to and fro),
// and dispatches; a hook
// delivery wakes it at once, to dispatch only. A hook Okta will not take
// (verification or registration refused) is tried again with a backoff
// (Reconciler.Attempt, Due), up to hourly, and so is one whose attempts
// meet an outage at Okta, up to every 5 minutes, so that it works again
// soon after Okta does; either at once when its flows or the connection
// change. How each poll fared is stored beside its cursor
// (SetPollStatus) and each hook's status with
// PutEventHook, with the events.poll_* or events.hook_* notification in the
// same transaction when the intake stops or starts working again.
//
// The Dispatcher takes a connection's undispatched events oldest published
// first, only those received before the round read the enabled flows (a
// later one waits for the next round, which its arrival woke, so a flow
// enabled meanwhile is not missed). An event is matched against the flows
// of every connection to the same org, since the org's event is stored once,
// under whichever connection read it first; a flow matches when its on.event
// names the event type and connection, its if holds, and it was enabled
// before the event (flowrun.Service.Enable records when, by the server's
// clock; the intake tells it in the org's clock, which stamps the events,
// by OrgOffset). Each run is
// keyed event:<uuid> and stored with the inbox's (event, flow) marker by
// store.StartEventRun. An event of a flow whose trigger's connection cannot
// run cards now (EventFlow.Waiting: it needs reauthorization, say) waits
// undispatched for it, its runs of the other flows started, rather than
// start a run that fails at once; so does one of a flow whose run of an
// earlier event, which its connection stopped, is to run again first
// (EventFlow.RerunFirst), so that the flow's events run in order. An event
// no flow of its org wants (a connection
// whose hook still delivers after its last event flow was disabled) is
// marked dispatched without a run, so that the retention purge can remove
// it.
package events
