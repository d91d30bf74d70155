package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded schema change, named NNNN_description.sql.
type migration struct {
	version int64
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s is not named NNNN_description.sql", base)
		}
		body, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("store: migrations %s and %s share a version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// CheckSchema reads the newest migration the database has and refuses one
// newer than this binary's, as opening it would.
func (s *Store) CheckSchema(ctx context.Context) error {
	var newest int64
	if err := s.queryRow(ctx, s.db, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return s.fail("check the schema version", err)
	}
	if newest > s.knows {
		return &store.SchemaAheadError{Have: newest, Knows: s.knows}
	}
	return nil
}

// migrate brings the schema up to date. Several processes may call it at
// once: the dialect's lock (or, on SQLite, the immediate transaction)
// serializes them, and each applies only what is still missing. Unless
// apply, it changes nothing and returns a *store.SchemaBehindError when a
// migration is missing. A database with a migration newer than the
// binary's is refused with a *store.SchemaAheadError, changed in nothing.
func (s *Store) migrate(ctx context.Context, apply bool) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.fail("migrate: connect", err)
	}
	defer conn.Close()
	if s.d.LockMigrations != nil {
		unlock, err := s.d.LockMigrations(ctx, conn)
		if err != nil {
			return s.fail("migrate: lock", err)
		}
		defer unlock()
	}

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("migrate: begin", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return s.fail("migrate: create schema_migrations", err)
	}
	applied := map[int64]bool{}
	var newest int64
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return s.fail("migrate: read versions", err)
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return s.fail("migrate: read versions", err)
		}
		applied[v] = true
		newest = max(newest, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s.fail("migrate: read versions", err)
	}
	s.knows = ms[len(ms)-1].version
	if newest > s.knows {
		return &store.SchemaAheadError{Have: newest, Knows: s.knows}
	}
	if !apply {
		for _, m := range ms {
			if !applied[m.version] {
				return &store.SchemaBehindError{Have: newest, Want: ms[len(ms)-1].version}
			}
		}
		return nil
	}

	repl := strings.NewReplacer("{{blob}}", s.d.Blob, "{{autoid}}", s.d.AutoID)
	dropped := false // 0017's step ran: it drops the receivers' URLs
	done := store.Migration{From: newest, To: newest}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		done.Applied = append(done.Applied, m.name)
		done.To = max(done.To, m.version)
		if _, err := tx.ExecContext(ctx, repl.Replace(m.sql)); err != nil {
			return s.fail("migrate: apply "+m.name, err)
		}
		if step := afterMigration[m.version]; step != nil {
			if err := step(ctx, s, tx); err != nil {
				return s.fail("migrate: apply "+m.name, err)
			}
			dropped = dropped || m.version == 17
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, time.Now().UnixNano()); err != nil {
			return s.fail("migrate: record "+m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.fail("migrate: commit", err)
	}
	s.migrated = done
	if dropped && s.d.Checkpoint != "" {
		if _, err := conn.ExecContext(ctx, s.d.Checkpoint); err != nil {
			return s.fail("migrate: checkpoint", err)
		}
	}
	return nil
}

// afterMigration holds, by version, the steps of migrations that SQL
// cannot take on every backend. Each runs right after its migration's SQL,
// in the same transaction: the schema change and the step are applied
// together or not at all, and once only.
var afterMigration = map[int64]func(ctx context.Context, s *Store, tx *sql.Tx) error{
	17: moveNotificationsToReceivers,
	22: keyFlowNames,
	25: moveSessionFlashes,
	27: keyLogins,
	32: keyAuditActors,
	43: redactFlowItemHeaders,
	46: keyDeletedNicknames,
}

// keyDeletedNicknames keys, in migration 0046, the connection.delete
// events that deleted a connection (outcome success) by the nickname
// their input summary names ("nickname NAME").
func keyDeletedNicknames(ctx context.Context, s *Store, tx *sql.Tx) error {
	rows, err := s.query(ctx, tx, `SELECT id, input_summary FROM audit_events WHERE action = ? AND outcome = 'success' AND connection_id <> ''`,
		store.ActionConnectionDelete)
	if err != nil {
		return fmt.Errorf("read the connection deletions: %w", err)
	}
	type deletion struct {
		id  int64
		key string
	}
	var all []deletion
	for rows.Next() {
		var d deletion
		var summary string
		if err := rows.Scan(&d.id, &summary); err != nil {
			rows.Close()
			return fmt.Errorf("read the connection deletions: %w", err)
		}
		if name, ok := strings.CutPrefix(summary, "nickname "); ok && name != "" {
			d.key = store.FoldCase(strings.TrimSuffix(name, ", if unused"))
			all = append(all, d)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the connection deletions: %w", err)
	}
	for _, d := range all {
		if _, err := s.exec(ctx, tx, `INSERT INTO deleted_connection_names (audit_id, nickname_key) VALUES (?, ?)`, d.id, d.key); err != nil {
			return fmt.Errorf("key the connection deletions: %w", err)
		}
	}
	return nil
}

// redactedHeader is what a recorded Custom API Action input holds in
// place of each header value (card.RecordedInput).
const redactedHeader = "(redacted)"

// redactFlowItemHeaders replaces, in migration 0043, the header values
// of the flow items stored before items were recorded as card runs are:
// an item's input with "headers" (only the Custom API Action card has
// that input) gets "(redacted)" for each value, or for the whole of a
// headers input that is not an object. An input that does not parse is
// left as it is.
func redactFlowItemHeaders(ctx context.Context, s *Store, tx *sql.Tx) error {
	rows, err := s.query(ctx, tx, `SELECT run_id, step_id, item_index, input FROM flow_items WHERE input LIKE '%"headers"%'`)
	if err != nil {
		return fmt.Errorf("read flow items with headers: %w", err)
	}
	type item struct {
		run, step string
		index     int64
		input     string
	}
	var redact []item
	for rows.Next() {
		var it item
		var input sql.NullString
		if err := rows.Scan(&it.run, &it.step, &it.index, &input); err != nil {
			rows.Close()
			return fmt.Errorf("read flow items with headers: %w", err)
		}
		in := map[string]any{}
		dec := json.NewDecoder(strings.NewReader(input.String))
		dec.UseNumber() // the other inputs' numbers stay as written
		if dec.Decode(&in) != nil {
			continue
		}
		h, ok := in["headers"]
		if !ok || h == nil {
			continue
		}
		if m, isMap := h.(map[string]any); isMap {
			for k := range m {
				m[k] = redactedHeader
			}
		} else {
			in["headers"] = redactedHeader
		}
		b, err := json.Marshal(in)
		if err != nil {
			rows.Close()
			return fmt.Errorf("encode a flow item's redacted input: %w", err)
		}
		if it.input = string(b); it.input != input.String {
			redact = append(redact, it)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read flow items with headers: %w", err)
	}
	for _, it := range redact {
		if _, err := s.exec(ctx, tx, `UPDATE flow_items SET input = ? WHERE run_id = ? AND step_id = ? AND item_index = ?`,
			it.input, it.run, it.step, it.index); err != nil {
			return fmt.Errorf("redact the headers of flow item %s/%s/%d: %w", it.run, it.step, it.index, err)
		}
	}
	return nil
}

// keyLogins sets migration 0027's keys of the logins of every session
// and API token.
func keyLogins(ctx context.Context, s *Store, tx *sql.Tx) error {
	if err := keyColumn(ctx, s, tx, "sessions", "actor_login", "login_key"); err != nil {
		return err
	}
	return keyColumn(ctx, s, tx, "api_tokens", "owner_login", "owner_key")
}

// keyAuditActors sets migration 0032's keys of the audit events' actors.
func keyAuditActors(ctx context.Context, s *Store, tx *sql.Tx) error {
	return keyColumn(ctx, s, tx, "audit_events", "actor_login", "actor_key")
}

// keyColumn sets the column key of table to the key (store.FoldCase) of
// its column login, a login at a time.
func keyColumn(ctx context.Context, s *Store, tx *sql.Tx, table, login, key string) error {
	logins, err := s.texts(ctx, tx, `SELECT DISTINCT `+login+` FROM `+table+` WHERE `+login+` <> ''`)
	if err != nil {
		return fmt.Errorf("read the logins of %s: %w", table, err)
	}
	for _, l := range logins {
		if _, err := s.exec(ctx, tx, `UPDATE `+table+` SET `+key+` = ? WHERE `+login+` = ?`, store.FoldCase(l), l); err != nil {
			return fmt.Errorf("key the logins of %s: %w", table, err)
		}
	}
	return nil
}

// moveSessionFlashes moves the messages waiting in migration 0025's old
// sessions.flashes (a JSON list each) to session_flashes, a row each, in
// their order, and empties the old column. A list that does not parse is
// dropped: it held one-time messages only.
func moveSessionFlashes(ctx context.Context, s *Store, tx *sql.Tx) error {
	rows, err := s.query(ctx, tx, `SELECT id, flashes FROM sessions WHERE flashes IS NOT NULL ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read session messages: %w", err)
	}
	type waiting struct{ id, flashes string }
	var all []waiting
	for rows.Next() {
		var w waiting
		if err := rows.Scan(&w.id, &w.flashes); err != nil {
			rows.Close()
			return fmt.Errorf("read session messages: %w", err)
		}
		all = append(all, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read session messages: %w", err)
	}
	for _, w := range all {
		var list []json.RawMessage
		_ = json.Unmarshal([]byte(w.flashes), &list)
		for _, f := range list {
			if _, err := s.exec(ctx, tx, `INSERT INTO session_flashes (session_id, body) VALUES (?, ?)`, w.id, string(f)); err != nil {
				return fmt.Errorf("move session messages: %w", err)
			}
		}
	}
	if _, err := s.exec(ctx, tx, `UPDATE sessions SET flashes = NULL WHERE flashes IS NOT NULL`); err != nil {
		return fmt.Errorf("empty the old session messages: %w", err)
	}
	return nil
}

// keyFlowNames sets migration 0022's name_key of every flow. Of flows
// whose names fold alike, the first stored (created_at, then id) keeps
// its name and each later one is renamed "NAME (ID)" (and again, while
// that is taken), so that the unique index holds and no server refuses to
// start; the flows are read in that order, so the outcome is the same
// whichever server migrates.
func keyFlowNames(ctx context.Context, s *Store, tx *sql.Tx) error {
	rows, err := s.query(ctx, tx, `SELECT id, name FROM flows ORDER BY created_at, id`)
	if err != nil {
		return fmt.Errorf("read flow names: %w", err)
	}
	type named struct{ id, name string }
	var flows []named
	for rows.Next() {
		var f named
		if err := rows.Scan(&f.id, &f.name); err != nil {
			rows.Close()
			return fmt.Errorf("read flow names: %w", err)
		}
		flows = append(flows, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read flow names: %w", err)
	}
	// Every name's key is taken, so that a new name is nobody's name.
	taken := make(map[string]bool, len(flows))
	for _, f := range flows {
		taken[foldName(f.name)] = true
	}
	kept := make(map[string]bool, len(flows))
	for _, f := range flows {
		key := foldName(f.name)
		if !kept[key] {
			kept[key] = true
		} else {
			for taken[key] {
				f.name = fmt.Sprintf("%s (%s)", f.name, f.id)
				key = foldName(f.name)
			}
			taken[key] = true
			if _, err := s.exec(ctx, tx, `UPDATE flows SET name = ? WHERE id = ?`, f.name, f.id); err != nil {
				return fmt.Errorf("rename flow %s: %w", f.id, err)
			}
		}
		if _, err := s.exec(ctx, tx, `UPDATE flows SET name_key = ? WHERE id = ?`, key, f.id); err != nil {
			return fmt.Errorf("key flow %s: %w", f.id, err)
		}
	}
	return nil
}

// moveNotificationsToReceivers moves migration 0017's old outbox rows
// (notifications_by_url) to the new table, naming each row's receiver by
// store.ReceiverDigest of its URL, and drops the old table, its pages
// overwritten where the dialect can (Dialect.SecureDelete). A stored error
// that quotes the URL, or its scheme, host and path (as senders logged a
// receiver before), quotes scheme://host/… and the fingerprint instead,
// as notify.Receiver shows a receiver.
func moveNotificationsToReceivers(ctx context.Context, s *Store, tx *sql.Tx) error {
	urls, err := s.texts(ctx, tx, `SELECT DISTINCT url FROM notifications_by_url`)
	if err != nil {
		return fmt.Errorf("read receivers: %w", err)
	}
	shown := map[string]*strings.Replacer{} // by digest
	for _, u := range urls {
		digest := store.ReceiverDigest(u)
		if _, err := s.exec(ctx, tx, `INSERT INTO notifications (id, receiver, type, body, attempts, next_attempt_at,
				delivered_at, last_error, owner, lease_until, created_at)
			SELECT id, CAST(? AS TEXT), type, body, attempts, next_attempt_at, delivered_at, last_error, owner, lease_until, created_at
			FROM notifications_by_url WHERE url = ?`, digest, u); err != nil {
			return fmt.Errorf("move notifications: %w", err)
		}
		as := "(receiver " + digest[:8] + ")"
		pairs := []string{u, as}
		if p, err := url.Parse(u); err == nil && p.Host != "" {
			as = p.Scheme + "://" + p.Host + "/… (receiver " + digest[:8] + ")"
			pairs = []string{u, as}
			if p.Path != "" {
				pairs = append(pairs, (&url.URL{Scheme: p.Scheme, Host: p.Host, Path: p.Path, RawPath: p.RawPath}).String(), as)
			}
		}
		shown[digest] = strings.NewReplacer(pairs...)
	}
	type failed struct{ id, receiver, lastError string }
	var fix []failed
	rows, err := s.query(ctx, tx, `SELECT id, receiver, last_error FROM notifications WHERE last_error <> ''`)
	if err != nil {
		return fmt.Errorf("read errors: %w", err)
	}
	for rows.Next() {
		var f failed
		if err := rows.Scan(&f.id, &f.receiver, &f.lastError); err != nil {
			rows.Close()
			return fmt.Errorf("read errors: %w", err)
		}
		if r := shown[f.receiver]; r != nil {
			if e := r.Replace(f.lastError); e != f.lastError {
				f.lastError = e
				fix = append(fix, f)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read errors: %w", err)
	}
	for _, f := range fix {
		if _, err := s.exec(ctx, tx, `UPDATE notifications SET last_error = ? WHERE id = ? AND receiver = ?`, f.lastError, f.id, f.receiver); err != nil {
			return fmt.Errorf("update an error: %w", err)
		}
	}
	if s.d.SecureDelete != "" {
		if _, err := tx.ExecContext(ctx, s.d.SecureDelete); err != nil {
			return fmt.Errorf("drop the old table: %w", err)
		}
		defer func() { _, _ = tx.ExecContext(context.WithoutCancel(ctx), s.d.SecureDeleteOff) }()
	}
	if _, err := s.exec(ctx, tx, `DROP TABLE notifications_by_url`); err != nil {
		return fmt.Errorf("drop the old table: %w", err)
	}
	return nil
}
