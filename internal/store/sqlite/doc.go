// Package sqlite is the embedded store backend: store.Store over one SQLite
// file (modernc.org/sqlite, no cgo) in WAL mode with synchronous=FULL.
// Several processes may open the same file; writers take turns, waiting
// (up to a busy timeout) rather than failing.
package sqlite
