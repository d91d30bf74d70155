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
//
// Transactions run at the database's default isolation (READ COMMITTED on
// PostgreSQL, where no serialization failure can happen), and are not
// retried: two transactions on PostgreSQL can deadlock only by taking
// row locks in orders that disagree, so every write that locks several
// rows of a table takes them in one order (sessions and tokens by id,
// events by UUID), and the revokes, whose walk through a token's
// offspring suits no such order, take turns on one row (revoke_turn).
// The writes fenced by a flow run's owner (heldBy) share-lock the run's
// row, and a fence that fails (another server holds the run) locks
// nothing. Share locks wait for no other share lock, and what updates a
// run's row (a claim, a renewal, a cancel: single statements; its
// outcome) locks no card run or item a fenced write then waits for, so
// no cycle can form.
package sqlstore
