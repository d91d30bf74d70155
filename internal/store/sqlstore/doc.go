// Package sqlstore implements store.Store once, over database/sql, for every
// SQL backend. A Dialect carries the few things that differ between SQLite
// and PostgreSQL: bind parameters, column types, row locking and how a
// driver reports constraint violations. The schema is a list of versioned
// migrations embedded in the binary and applied by Open.
//
// Times are stored as int64 nanoseconds since the Unix epoch, UTC, with 0
// meaning the zero time.Time; lists of strings as JSON text.
//
// With Dialect.GroupCommit (SQLite), the writes of concurrent card runs,
// audit events and flow items share transactions: each caller still
// returns only once its own write is durable. A flow item whose output is
// its card run's output is stored once, in the card run: the database
// compares them when the item is inserted, and the item is read through a
// join. Lists of runs, events and audit events are read a page at a time
// with a cursor (the last record's time and id, or its audit id;
// store.RunFilter, FlowRunFilter, EventFilter, AuditFilter), never a whole
// table.
package sqlstore
