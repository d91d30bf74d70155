// Package api declares the JSON of cardflow's HTTP API (/api/v1): the
// request bodies and the responses, as the server (internal/web) writes and
// reads them and the CLI (cmd/cardflow) sends and decodes them.
//
// It holds types only, and imports no other package of the module: the
// server converts its domain values to these types explicitly, so each
// field's name, omitempty and null-or-[] behaviour is decided here, once,
// for both sides. Domain types carry no JSON tags unless they are stored or
// sent as JSON for their own sake (flow triggers and firings, flow issues in
// error details, notifications, Okta's and the emulator's wire). A field
// whose comment says "never null" is always sent as [] or {} when empty;
// the server fills it.
//
// Because the server and the CLI share these types, a wrong tag here would
// pass every test of both: internal/web's TestWireFormat pins the JSON of
// representative answers to the byte (testdata/wire.json), and the
// end-to-end tests decode answers with shapes of their own.
package api
