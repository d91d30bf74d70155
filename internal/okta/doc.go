// Package okta is cardflow's client for the Okta management API, limited to
// what the Okta Devices connector needs: the Devices API (list with SCIM
// search and Link paging, get, device users, lifecycle, delete) and a guarded
// raw call for custom API actions under /api/v1/.
//
// The client owns the wire rules that make bulk device work safe: every
// response's X-Okta-Request-Id and X-Rate-Limit-* headers are read; a 429
// waits until the reset computed from the server's Date header and retries;
// GETs and lifecycle POSTs (idempotent in Okta) are retried a bounded number
// of times on 5xx and network errors, nothing else is; responses are size
// capped and never cached; Link "next" pages are followed only on the org's
// own origin. A Budget paces requests so that bulk work stays within the
// org's rate limit.
//
// Authentication is not this package's concern: the injected http.Client's
// transport adds the Authorization header (an OAuth access token from a
// connection, or an SSWS token in tests). The package imports no other
// cardflow package.
package okta
