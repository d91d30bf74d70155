package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/cardflow/cardflow/internal/store"
)

// Dialect describes how one database differs from the SQL this package
// writes (SQLite-flavoured, with "?" parameters).
type Dialect struct {
	// Name identifies the dialect in errors ("sqlite", "postgres").
	Name string
	// Placeholder returns the n-th (1-based) bind parameter; nil keeps "?".
	Placeholder func(n int) string
	// Blob is the column type for byte strings (BLOB, BYTEA).
	Blob string
	// AutoID is the column definition of an auto-incrementing int64
	// primary key whose values only grow.
	AutoID string
	// SkipLocked ends the sub-select that picks a flow run to claim, so
	// that concurrent claimers skip rows another transaction holds; empty
	// where writers are serialized anyway (SQLite).
	SkipLocked string
	// ForUpdate ends a select whose rows the transaction will update, so
	// that concurrent transactions wait for each other; empty where a
	// transaction holds the write lock from its start (SQLite).
	ForUpdate string
	// ForShare ends a select of rows that must not change until the
	// transaction ends (a flow run's owner, which a write it fences
	// checks); empty where a transaction holds the write lock from its
	// start (SQLite).
	ForShare string
	// LockMigrations, when set, holds a lock across processes on conn
	// while migrations run and returns its release. When nil, the
	// migration transaction must itself exclude other writers.
	LockMigrations func(ctx context.Context, conn *sql.Conn) (unlock func(), err error)
	// IsUniqueViolation reports a unique or primary key violation.
	IsUniqueViolation func(error) bool
	// IsForeignKeyViolation reports a foreign key violation.
	IsForeignKeyViolation func(error) bool
	// IsUnavailable reports an error of a database that could not be
	// reached or dropped the connection (store.ErrUnavailable); nil
	// reports none.
	IsUnavailable func(error) bool
	// IsFull reports an error of a database whose disk is full
	// (store.ErrFull); nil reports none.
	IsFull func(error) bool
	// IsReadOnly reports an error of a database that refuses writes
	// (store.ErrReadOnly); nil reports none.
	IsReadOnly func(error) bool
	// GroupCommit commits the card runs, audit events and flow items that
	// concurrent callers write together, one transaction for all that
	// queued while the previous one committed (see groupCommit). It pays
	// where every commit is an fsync and writers queue on one lock anyway
	// (SQLite).
	GroupCommit bool
	// SecureDelete and SecureDeleteOff, when set, are the statements that
	// make a connection overwrite what it deletes with zeros, and stop
	// it: a migration that drops secrets runs between them, so that the
	// file's free pages do not keep them (SQLite's PRAGMA secure_delete).
	// Empty where a dropped table leaves nothing in the database's files.
	SecureDelete, SecureDeleteOff string
	// Checkpoint, when set, copies the write-ahead log into the database
	// file and empties the log (SQLite's PRAGMA wal_checkpoint(TRUNCATE)).
	// It runs after such a migration commits: until then the file would
	// still hold the dropped pages as they were, and the log their past
	// versions.
	Checkpoint string
	// TakeTurns makes the store's own writers (its transactions and its
	// single-statement writes) take the database's write lock in turn,
	// first come first served, instead of each polling for it: SQLite's
	// busy handler retries on a timer, so a writer committing in a loop
	// could starve another past the busy timeout.
	TakeTurns bool
}

// Store is a store.Store over a *sql.DB. It is safe for concurrent use,
// and several Stores (in one or many processes) may share a database.
type Store struct {
	db *sql.DB
	d  Dialect

	grouped atomic.Bool
	group   groupCommit
	stmts   map[string]*sql.Stmt // by query text; set at Open, then only read
	conns   connCache
	q       queries
	knows   int64 // the newest migration this binary has (CheckSchema)
	// turn holds the one write turn while no writer has it (Dialect.
	// TakeTurns); nil without turns. Blocked receivers of a channel are
	// served in the order they came, so the turn passes first come, first
	// served.
	turn chan struct{}
	// migrated is what Open applied (Migrated).
	migrated store.Migration
}

// Migrated returns what Open applied to the database; its Applied is
// empty when the schema was current (or another process applied the
// migrations first).
func (s *Store) Migrated() store.Migration { return s.migrated }

var _ store.Store = (*Store)(nil)

// Open applies any pending migrations to db and returns a Store that owns
// db (Close closes it). db must have been opened with the driver d
// describes.
func Open(ctx context.Context, db *sql.DB, d Dialect) (*Store, error) {
	return open(ctx, db, d, true)
}

// OpenCurrent is Open for a database that must already have every
// migration of this binary: it applies none, and refuses a database that
// lacks one with a *store.SchemaBehindError. It is for the commands that
// run beside the servers (the keys commands): a server of an older version
// may still be running on the database, and only the servers migrate it.
func OpenCurrent(ctx context.Context, db *sql.DB, d Dialect) (*Store, error) {
	return open(ctx, db, d, false)
}

func open(ctx context.Context, db *sql.DB, d Dialect, apply bool) (*Store, error) {
	s := &Store{db: db, d: d}
	s.q = queries{insertRunHeld: qInsertRunHeld + s.heldBy(), insertFlowItemHeld: qInsertFlowItemHeld + s.heldBy()}
	s.grouped.Store(d.GroupCommit)
	if d.TakeTurns {
		s.turn = make(chan struct{}, 1)
		s.turn <- struct{}{}
	}
	if err := s.migrate(ctx, apply); err != nil {
		return nil, err
	}
	if err := s.rekeyNicknames(ctx); err != nil {
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.closeStmts()
		return nil, err
	}
	return s, nil
}

// Close closes the prepared statements and the database handle.
func (s *Store) Close() error {
	s.closeStmts()
	return s.db.Close()
}

func (s *Store) closeStmts() {
	for _, st := range s.stmts {
		_ = st.Close()
	}
}

// execer is what *sql.DB, *sql.Conn and *sql.Tx have in common.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inList is the parenthesized list of n "?" parameters of an IN
// condition: "(?, ?, ?)". n must be at least 1.
func inList(n int) string {
	return "(?" + strings.Repeat(", ?", n-1) + ")"
}

// rebind rewrites "?" parameters into the dialect's form. Queries in this
// package never contain "?" inside string literals.
func (s *Store) rebind(q string) string {
	if s.d.Placeholder == nil {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteString(s.d.Placeholder(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func (s *Store) exec(ctx context.Context, ex execer, q string, args ...any) (sql.Result, error) {
	if db, ok := ex.(*sql.DB); ok && db == s.db {
		// A statement of its own: a write, which takes its turn.
		defer s.takeTurn(ctx)()
	}
	if st := s.prepared(ctx, ex, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return ex.ExecContext(ctx, s.rebind(q), args...)
}

func (s *Store) query(ctx context.Context, ex execer, q string, args ...any) (*sql.Rows, error) {
	if st := s.prepared(ctx, ex, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return ex.QueryContext(ctx, s.rebind(q), args...)
}

func (s *Store) queryRow(ctx context.Context, ex execer, q string, args ...any) *sql.Row {
	if st := s.prepared(ctx, ex, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return ex.QueryRowContext(ctx, s.rebind(q), args...)
}

// turnWait is the longest a writer waits for its turn; then it goes on
// without it and waits for the database's lock as it would without turns
// (a transaction that waits for its own turn cannot end in a deadlock).
const turnWait = 30 * time.Second

// takeTurn waits for the store's write turn (Dialect.TakeTurns) and
// returns its release, which is safe to call more than once. Without
// turns, when ctx ends, or after turnWait, it returns at once with a
// release that does nothing.
func (s *Store) takeTurn(ctx context.Context) func() {
	if s.turn == nil {
		return func() {}
	}
	wait := time.NewTimer(turnWait)
	defer wait.Stop()
	select {
	case <-s.turn:
		var once sync.Once
		return func() { once.Do(func() { s.turn <- struct{}{} }) }
	case <-ctx.Done():
	case <-wait.C:
	}
	return func() {}
}

// begin starts a transaction in the store's write turn; end rolls it back
// unless it was committed, and then gives the turn back.
func (s *Store) begin(ctx context.Context) (tx *sql.Tx, end func(), err error) {
	release := s.takeTurn(ctx)
	tx, err = s.db.BeginTx(ctx, nil)
	if err != nil {
		release()
		return nil, nil, err
	}
	return tx, func() { _ = tx.Rollback(); release() }, nil
}

// preparedQueries are the statements of every card run, prepared once at
// Open: parsing is a good part of what a small statement costs SQLite (and
// most of what reading the connection's many columns costs). The writes
// run only inside transactions (see write). A prepared read ends its read
// transaction when its rows are closed, as an unprepared one does
// (database/sql closes them once Row.Scan returns, or the caller does;
// the driver then resets the statement), so it sees what other processes
// committed since, a refreshed token for one.
var preparedQueries = []string{qGetConnection, qGetConnectionByNickname, qConnectionVersion, qConnectionByNickname,
	qInsertRun, qFinishRun, qInsertAudit, qInsertFlowItem}

// queries are the statements whose text depends on the dialect, made at
// Open: the writes fenced by a flow run's owner (heldBy).
type queries struct {
	insertRunHeld, insertFlowItemHeld string
}

// prepare prepares preparedQueries and the queries of s.q on the
// database.
func (s *Store) prepare(ctx context.Context) error {
	qs := append(slices.Clone(preparedQueries), s.q.insertRunHeld, s.q.insertFlowItemHeld)
	s.stmts = make(map[string]*sql.Stmt, len(qs))
	for _, q := range qs {
		st, err := s.db.PrepareContext(ctx, s.rebind(q))
		if err != nil {
			return s.fail("prepare statements", err)
		}
		s.stmts[q] = st
	}
	return nil
}

// prepared returns q's prepared statement for ex (the database or one of
// its transactions), or nil when q is not prepared or ex is another kind
// of handle.
func (s *Store) prepared(ctx context.Context, ex execer, q string) *sql.Stmt {
	st := s.stmts[q]
	if st == nil {
		return nil
	}
	switch h := ex.(type) {
	case *sql.DB:
		if h == s.db {
			return st
		}
	case *sql.Tx:
		return h.StmtContext(ctx, st)
	}
	return nil
}

// fail wraps a driver error for op, turning constraint violations into the
// store's sentinels.
func (s *Store) fail(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrRevoked):
		return fmt.Errorf("store: %s: %w", op, err)
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store: %s: %w", op, store.ErrNotFound)
	case s.d.IsUniqueViolation != nil && s.d.IsUniqueViolation(err):
		return fmt.Errorf("store: %s: already exists: %w", op, store.ErrConflict)
	case s.d.IsForeignKeyViolation != nil && s.d.IsForeignKeyViolation(err):
		return fmt.Errorf("store: %s: refers to a missing record: %w", op, store.ErrNotFound)
	case s.d.IsUnavailable != nil && s.d.IsUnavailable(err):
		return fmt.Errorf("store: %s: %s: %w", op, s.d.Name, driverErr{err, store.ErrUnavailable})
	case s.d.IsFull != nil && s.d.IsFull(err):
		return fmt.Errorf("store: %s: %s: %w", op, s.d.Name, driverErr{err, store.ErrFull})
	case s.d.IsReadOnly != nil && s.d.IsReadOnly(err):
		return fmt.Errorf("store: %s: %s: %w", op, s.d.Name, driverErr{err, store.ErrReadOnly})
	}
	return fmt.Errorf("store: %s: %s: %w", op, s.d.Name, err)
}

// driverErr is a driver error that is also one of the store's sentinels
// (store.ErrUnavailable, store.ErrFull, store.ErrReadOnly); its text is
// the driver's.
type driverErr struct{ err, is error }

func (d driverErr) Error() string        { return d.err.Error() }
func (d driverErr) Unwrap() error        { return d.err }
func (d driverErr) Is(target error) bool { return target == d.is }

// affected returns ErrNotFound when res changed no row.
func affected(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported systems
	return hex.EncodeToString(b)
}

func fillID(id *string) {
	if *id == "" {
		*id = newID()
	}
}

// ts encodes t as Unix nanoseconds, 0 for the zero time.
func ts(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromTS decodes ts.
func fromTS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// list encodes a string list as JSON; nil and empty stay distinct.
func list(v []string) string {
	b, _ := json.Marshal(v) // a []string always marshals
	return string(b)
}

func parseList(s string) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("store: corrupt list column: %w", err)
	}
	return v, nil
}

// raw is the column value of a JSON document: NULL when absent.
func raw(m json.RawMessage) any {
	if len(m) == 0 {
		return nil
	}
	return string(m)
}

func fromRaw(ns sql.NullString) json.RawMessage {
	if !ns.Valid {
		return nil
	}
	return json.RawMessage(ns.String)
}

// blob is the column value of a byte string: NULL when empty.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func fromBlob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// foldNickname maps nicknames that differ only in case to the same key;
// computed here rather than with SQL lower() so that every backend folds
// non-ASCII letters the same way.
// foldNickname is a nickname's key, for uniqueness and lookup: Unicode
// NFKC first, so that full-width letters and other compatibility
// look-alikes fold to the plain ones, then case-insensitive.
func foldNickname(s string) string {
	return strings.ToLower(strings.ToUpper(norm.NFKC.String(s)))
}

// foldName is a flow name's key (flows.name_key): store.FoldCase, the
// rule of strings.EqualFold, which flowrun checks before it stores a flow.
func foldName(s string) string { return store.FoldCase(s) }

// rekeyNicknames brings the nickname keys of connections stored before
// the keys were NFKC-folded up to date. A key that would collide with
// another connection's stays as it is (both connections keep working;
// the new rule applies to new nicknames).
func (s *Store) rekeyNicknames(ctx context.Context) error {
	rows, err := s.query(ctx, s.db, `SELECT id, nickname, nickname_key FROM connections`)
	if err != nil {
		return s.fail("read nickname keys", err)
	}
	type rekey struct{ id, key string }
	var todo []rekey
	for rows.Next() {
		var id, nickname, key string
		if err := rows.Scan(&id, &nickname, &key); err != nil {
			rows.Close()
			return s.fail("read nickname keys", err)
		}
		if k := foldNickname(nickname); k != key {
			todo = append(todo, rekey{id, k})
		}
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return s.fail("read nickname keys", err)
	}
	rows.Close()
	for _, r := range todo {
		if _, err := s.exec(ctx, s.db, `UPDATE connections SET nickname_key = ? WHERE id = ?`, r.key, r.id); err != nil && !errors.Is(s.fail("", err), store.ErrConflict) {
			return s.fail("update nickname key", err)
		}
	}
	return nil
}

// conditions builds the WHERE clause of a list query and its arguments.
type conditions struct {
	sql  []string
	args []any
}

func (c *conditions) add(cond string, arg any) {
	c.sql = append(c.sql, cond)
	c.args = append(c.args, arg)
}

// afterName adds the cursor of p for a list ordered by key (a name folded
// by lower()), then id. The cursor's name is folded by the same lower() as
// the rows', so it sorts exactly where its record did.
func (c *conditions) afterName(key string, p store.NamePage) {
	if p.AfterID == "" {
		return
	}
	c.add(key+" >= lower(?)", p.After)
	c.sql = append(c.sql, "("+key+" > lower(?) OR id > ?)")
	c.args = append(c.args, p.After, p.AfterID)
}

// plans adds the plan filter f of runs or audit events. The condition is
// written as the partial indexes of migration 0035 are, so that a list of
// plan reads alone can use them.
func (c *conditions) plans(f store.PlanFilter) {
	switch f {
	case store.PlansExclude:
		c.sql = append(c.sql, "plan_flow_name = ''")
	case store.PlansOnly:
		c.sql = append(c.sql, "plan_flow_name <> ''")
	}
}

// where returns " WHERE a AND b ...", or "" without conditions.
func (c *conditions) where() string {
	if len(c.sql) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.sql, " AND ")
}

func limitOr100(n int) int {
	if n <= 0 {
		return 100
	}
	return n
}
