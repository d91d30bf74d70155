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
// The poller reads a connection's System Log in polling mode (filtered to
// the device event types of the event cards), one page at a time, and
// keeps the next link in the store; one server at a time polls a
// connection, under a store lease, and its calls go through the Okta
// client's shared rate budget.
package events
