// Package web owns cardflow's HTTP surface: the JSON API under /api/v1,
// the OAuth redirect endpoint /oauth/callback with its landing
// page, /metrics and /healthz. It authenticates API callers with the API
// token, maps every error to the public error shape through one function,
// and tags every request and its log lines with a request id. The console
// (server-rendered HTML) mounts at "/" through Server.Console.
package web
