// Package sqlite is the embedded store backend: store.Store over one SQLite
// file (modernc.org/sqlite, no cgo) in WAL mode with synchronous=FULL.
// Several processes may open the same file; writers take turns, waiting
// (up to a busy timeout) rather than failing. Within one process they
// queue for the write lock first come, first served (Dialect.TakeTurns),
// so that none is starved by another that writes in a loop.
package sqlite
