// Package postgres is the shared store backend: store.Store over
// PostgreSQL (pgx through database/sql), for several cardflow servers on
// one database. Flow runs are claimed with FOR UPDATE SKIP LOCKED and
// schema migrations run under an advisory lock, so servers may start
// together.
package postgres
