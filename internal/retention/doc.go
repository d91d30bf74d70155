// Package retention deletes the runs cardflow no longer keeps: flow runs
// and card runs that ended longer ago than the retention period, purged by
// a Purger that runs by itself on every server and reports what it removed
// (a log line and a metric).
package retention
