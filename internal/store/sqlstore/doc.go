// Package sqlstore implements store.Store once, over database/sql, for every
// SQL backend. A Dialect carries the few things that differ between SQLite
// and PostgreSQL: bind parameters, column types, row locking and how a
// driver reports constraint violations. The schema is a list of versioned
// migrations embedded in the binary and applied by Open.
//
// Times are stored as int64 nanoseconds since the Unix epoch, UTC, with 0
// meaning the zero time.Time; lists of strings as JSON text.
package sqlstore
