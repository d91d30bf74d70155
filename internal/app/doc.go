// Package app is the one place that knows every concrete type: it opens the
// store, loads and verifies the keyring, sets up the API token, builds the
// connection manager, the card executor, the flow-run service and the HTTP
// server, and serves them. It also runs the demo (an emulated org and the
// server in one process), the keys commands (rotate, list, remove) and
// backup. It never reads environment variables or flags: cmd/cardflow
// turns those into a Config.
package app
