// Package retention deletes what cardflow no longer keeps: flow runs and
// card runs that ended longer ago than the retention period, the Okta
// events of the inbox older than that (and than Okta's 90 days of System
// Log), the notifications older than that (delivered, or given up), and,
// when the operator sets a period for them, audit events: purged by a
// Purger that runs by itself on every server and reports what it removed
// (a log line and a metric). It purges at start and then hourly, in
// batches (store.Purge, and store.PurgeAudit oldest first by id), so that
// a large purge never holds the database for long.
package retention
