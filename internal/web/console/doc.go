// Package console is cardflow's web console: server-rendered
// HTML pages, with their templates and stylesheet embedded, for signing in
// (single sign-on with an OpenID Connect provider, or the API token),
// creating, reauthorizing, checking and deleting connections, running
// cards, planning and running flows, reading run and flow history and the
// audit log, and managing personal API tokens. Every page works without
// JavaScript. Its two scripts (same origin, as the
// Content-Security-Policy requires; no inline script) only add to a page:
// static/copy.js a Copy button beside the read-only fields that show a
// value to paste elsewhere (a service connection's public key, a new API
// token), which can be selected and copied by hand without it;
// static/charcount.js a count of the characters typed into a field near
// its maxlength, whose help says the limit without it.
// internal/web mounts the console at "/" through Server.Console, and each
// page and form needs the role internal/web's route table gives it.
//
// Sessions live in the database (Console.Sessions), so any server behind
// one address accepts them without sticky sessions, and signing out ends a
// session everywhere. The cookie holds only a random value (HttpOnly,
// SameSite=Lax, Secure behind HTTPS); the database keeps its SHA-256, so
// the table holds nothing that signs anybody in. Sessions end on sign-out
// and after SessionTTL or IdleTimeout. Every form carries the session's
// CSRF token (compared in constant time) and must come from the console's
// own origin (Sec-Fetch-Site and Origin); every page is sent with a strict
// Content-Security-Policy, X-Frame-Options DENY and Referrer-Policy
// no-referrer.
//
// Pages follow WCAG 2.1 AA without script: wide tables scroll inside their
// own labelled region so that no page scrolls sideways at 320 px, and a
// form sent back with errors puts an error summary at the top of the page
// (failedForm) that takes the focus with autofocus. The browser tests walk
// every page at phone widths with axe-core (vendored under testdata/axe).
package console
