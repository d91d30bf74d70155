// Package console is cardflow's web console (SPEC §5): server-rendered
// HTML pages, with their templates and stylesheet embedded, for signing in
// with the API token, creating, reauthorizing, checking and deleting
// connections, running cards and reading run and flow history. It keeps
// browser sessions in memory, protects every form against cross-site
// request forgery and sends strict security headers; it needs no
// JavaScript. internal/web mounts it at "/" through Server.Console.
package console
