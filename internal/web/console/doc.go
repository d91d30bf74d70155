// Package console is cardflow's web console (SPEC §5): server-rendered
// HTML pages, with their templates and stylesheet embedded, for signing in
// with the API token, creating, reauthorizing, checking and deleting
// connections, running cards, planning and running flows, and reading run
// and flow history. Every page works without JavaScript. The one script,
// static/copy.js (same origin, as the Content-Security-Policy requires; no
// inline script), only adds a Copy button beside the read-only fields that
// show a service connection's public key, which can be selected and copied
// by hand without it. internal/web mounts the console at "/" through
// Server.Console.
//
// Sessions live in the serving process's memory: the cookie holds only a
// random id (HttpOnly, SameSite=Lax, Secure behind HTTPS), sessions end on
// sign-out, after SessionTTL or IdleTimeout, and when the process restarts.
// Several servers behind one address therefore need sticky sessions. Every
// form carries the session's CSRF token (compared in constant time) and
// must come from the console's own origin (Sec-Fetch-Site and Origin);
// every page is sent with a strict Content-Security-Policy, X-Frame-Options
// DENY and Referrer-Policy no-referrer.
//
// Pages follow WCAG 2.1 AA without script: wide tables scroll inside their
// own labelled region so that no page scrolls sideways at 320 px, and a
// form sent back with errors puts an error summary at the top of the page
// (failedForm) that takes the focus with autofocus. The browser tests walk
// every page at phone widths with axe-core (vendored under testdata/axe).
package console
