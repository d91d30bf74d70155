// Package web owns cardflow's HTTP surface: the JSON API under /api/v1,
// the OAuth redirect endpoint /oauth/callback with its landing
// page, the Okta event hook endpoint under /hooks/okta/ (Server.Hooks),
// /metrics and /healthz. It authenticates each API request once, by the API
// token or a personal API token, and checks it against the role its route
// needs in one table (roles.go); it maps every error to the public error
// shape through one function (problem.Public, HTTPStatus), converts domain
// values to internal/api's types explicitly, and tags every request and its
// log lines with a request id. The handlers pass the caller's store.Actor
// explicitly to the service they call. The console (server-rendered HTML)
// mounts at "/" through Server.Console and checks its sessions against the
// same table.
package web
