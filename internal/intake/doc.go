// Package intake runs the event intake of one server: the loops that keep
// events' parts working for the enabled event-triggered flows of every
// connection.
//
// events owns the parts, each about one connection or one event: the hook
// endpoint, the System Log poller, the reconciler of a connection's Okta
// event hook and the dispatcher of the inbox. intake owns when and for
// which connections they run. Every interval, and when woken (a flow
// enabled or disabled, a connection reauthorized, a passed connection
// test), a round at Okta reads the enabled event flows and their
// connections (scan), then, for each connection on its own (at most
// maxOktaWork at once, so a call that waits holds up no other org), keeps
// its hook in line with its hook flows, tells the flows' enablings in the
// org's clock, and polls its System Log for its poll flows. A dispatch
// round of its own, woken by every stored event, reruns the event runs
// whose connection is active again and starts the runs of undispatched
// events. EventHolds says why an event waits, by the dispatcher's rules,
// for the API's and the console's lists of events; EventFiring is the
// trigger an event gives a plan.
//
// Its own fields hold only what one server's loops share between rounds
// (which connections' work is at Okta, which polls were asked for); what
// must outlive the server (poll and hook leases, System Log cursors, the
// enablings told in the org's clock, hook attempts) is in the store, so
// a restarted server, or another sharing the database, carries on.
package intake
