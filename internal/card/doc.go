// Package card owns cardflow's connectors and their cards: the registry of
// the Okta Devices connector (its scopes and nine cards, with typed inputs
// the console and API build forms and validate with), the cards themselves
// on top of internal/okta, and the Executor that runs a card through a
// connection.
//
// The Executor resolves the connection, checks its status and, before any
// call to Okta, that its granted scopes cover the card; it builds
// an Okta client that shares one rate budget per org, runs the card, maps
// every failure to a *problem.Error with a remedy, and records the run and
// an audit event with Okta's request ids. Plan previews what a
// manage card would change without changing anything.
//
// A run is committed as running, naming the server executing it and
// holding a lease, before its card calls Okta, so that a crash leaves it
// known; its outcome is committed with its audit event in one transaction.
// RunLeases, on every server, renews the leases of the runs that server
// is executing (Executor.Running) and ends interrupted the direct runs
// whose lease lapsed: the rule a resumed flow
// run applies to the card runs of its own items (store.InterruptRuns). A
// flow item run again after a resume looks up its earlier attempts
// (store.ListItemRuns, by flow run, step and index): Recorded takes a
// finished attempt's output, and AlreadyDone credits an interrupted one
// with the change the repeat finds already made (the repeat reads the
// device, Request.ReadDevice, rather than trust a status known before
// that attempt).
//
// The package depends on connections and storage only through the small
// interfaces it defines (Connections, Recorder, LeaseStore); StoreRecorder adapts a
// store.Store.
package card
