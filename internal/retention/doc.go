// Package retention deletes what cardflow no longer keeps: flow runs and
// card runs that ended longer ago than the retention period, and the Okta
// events of the inbox and the delivered notifications older than that,
// and, when the operator sets a period for them, audit events: purged by a
// Purger that runs by itself on every server and reports what it removed
// (a log line and a metric).
package retention
