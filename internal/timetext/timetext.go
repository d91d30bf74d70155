// Package timetext is the one way cardflow writes a time into a text for
// people: a notice, a run's error, an audit event's summary, an error's
// message. The console and the command line write times the same way, so
// a time reads alike wherever it is met. Values for machines (JSON fields,
// problem details, keys, cursors, settings) stay RFC 3339.
package timetext

import "time"

// Layout is the layout of a time written for people: UTC, to the second,
// the zone named, as "2026-12-07 10:00:00 UTC".
const Layout = "2006-01-02 15:04:05 UTC"

// Format writes t in UTC by Layout.
func Format(t time.Time) string { return t.UTC().Format(Layout) }
