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
// manage card would change without changing anything. Each run names the
// server executing it and holds a lease that RunLeases renews; RunLeases
// also ends interrupted the direct runs of servers that died.
//
// The package depends on connections and storage only through the small
// interfaces it defines (Connections, Recorder, LeaseStore); StoreRecorder adapts a
// store.Store.
package card
