package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// Receiver URLs of the outbox of before migration 0017, each with a secret
// in its path or query, as incoming webhooks have.
const (
	oldSlack = "https://hooks.slack.com/services/T0/B0/path-s3cret"
	oldChat  = "https://chat.example.com/v1/spaces/X/messages?key=key-s3cret&token=tok-s3cret"
)

// NotificationsUpgrade tests migration 0017 on a backend. open opens the
// test's database, migrating it; the caller closes what it returns. exec
// runs one statement (without parameters) on the database while no store
// has it open. The database is taken back to the outbox of before 0017,
// which held each row's receiver URL in plain text, with messages pending,
// failing (their stored errors quoting the receiver as senders of before
// did), leased and delivered; the upgrade keeps every one, names its
// receiver by store.ReceiverDigest, and leaves no URL in the database.
func NotificationsUpgrade(t *testing.T, open func(t *testing.T) store.Store, exec func(t *testing.T, q string) error) {
	t.Helper()
	ctx := t.Context()
	if err := open(t).Close(); err != nil {
		t.Fatal(err)
	}
	ns := func(sec int) int64 { return at(sec).UnixNano() }
	for _, q := range []string{
		`DROP TABLE notifications`,
		// As migration 0003 made it.
		`CREATE TABLE notifications (
			id              TEXT NOT NULL,
			url             TEXT NOT NULL,
			type            TEXT NOT NULL,
			body            TEXT NOT NULL,
			attempts        BIGINT NOT NULL,
			next_attempt_at BIGINT NOT NULL,
			delivered_at    BIGINT NOT NULL,
			last_error      TEXT NOT NULL,
			owner           TEXT NOT NULL,
			lease_until     BIGINT NOT NULL,
			created_at      BIGINT NOT NULL,
			PRIMARY KEY (id, url))`,
		`CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE delivered_at = 0`,
		// And to before 0030, which added a column to the table 0017 made.
		`DELETE FROM schema_migrations WHERE version IN (17, 30)`,
		row("n1", oldSlack, 0, ns(10), 0, "", "", 0, ns(10)),
		row("n1", oldChat, 3, ns(40), 0, `post: Post "https://chat.example.com/v1/spaces/X/messages": dial tcp 192.0.2.1:443: i/o timeout`, "", 0, ns(10)),
		row("n2", oldSlack, 2, ns(30), 0, `post: Post "https://hooks.slack.com/services/T0/B0/path-s3cret": EOF`, "server-1", ns(60), ns(20)),
		row("n3", oldSlack, 1, ns(25), ns(26), "", "", 0, ns(25)),
		row("n4", "https://alerts:pw-s3cret@hooks.example.com/x-s3cret", 1, ns(25), 0,
			`bad receiver URL: parse "https://alerts:pw-s3cret@hooks.example.com/x-s3cret": whatever`, "", 0, ns(25)),
	} {
		if err := exec(t, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	s := open(t)
	defer func() { _ = s.Close() }()
	list, err := s.ListNotifications(ctx, 0)
	noErr(t, err, "ListNotifications")
	slack, chat := store.ReceiverDigest(oldSlack), store.ReceiverDigest(oldChat)
	other := store.ReceiverDigest("https://alerts:pw-s3cret@hooks.example.com/x-s3cret")
	body := func(id string) json.RawMessage { return json.RawMessage(`{"id":"` + id + `"}`) }
	want := []*store.Notification{
		{ID: "n4", Receiver: other, Type: "flow_run.failed", Body: body("n4"), Attempts: 1, NextAttemptAt: at(25),
			LastError: `bad receiver URL: parse "https://hooks.example.com/… (receiver ` + other[:8] + `)": whatever`, CreatedAt: at(25)},
		{ID: "n3", Receiver: slack, Type: "flow_run.failed", Body: body("n3"), Attempts: 1, NextAttemptAt: at(25), DeliveredAt: at(26), CreatedAt: at(25)},
		{ID: "n2", Receiver: slack, Type: "flow_run.failed", Body: body("n2"), Attempts: 2, NextAttemptAt: at(30),
			LastError: `post: Post "https://hooks.slack.com/… (receiver ` + slack[:8] + `)": EOF`, Owner: "server-1", LeaseUntil: at(60), CreatedAt: at(20)},
		{ID: "n1", Receiver: slack, Type: "flow_run.failed", Body: body("n1"), NextAttemptAt: at(10), CreatedAt: at(10)},
		{ID: "n1", Receiver: chat, Type: "flow_run.failed", Body: body("n1"), Attempts: 3, NextAttemptAt: at(40),
			LastError: `post: Post "https://chat.example.com/… (receiver ` + chat[:8] + `)": dial tcp 192.0.2.1:443: i/o timeout`, CreatedAt: at(10)},
	}
	// ListNotifications orders a message's rows by receiver.
	if want[3].Receiver > want[4].Receiver {
		want[3], want[4] = want[4], want[3]
	}
	diff(t, "the outbox after the upgrade", want, list)
	for _, n := range list {
		if b, _ := json.Marshal(n); strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "/services") || strings.Contains(string(b), "/v1") {
			t.Errorf("a row holds a receiver's URL after the upgrade: %s", b)
		}
	}
	if err := exec(t, `SELECT 1 FROM notifications_by_url`); err == nil {
		t.Errorf("the old outbox table, with the URLs, is still there")
	}

	// The servers of the receivers send what is due; a message stays the
	// same message for every receiver.
	got, err := s.ClaimNotification(ctx, "server-2", []string{slack}, time.Minute, at(61))
	noErr(t, err, "ClaimNotification(slack)")
	if got.ID != "n1" || got.Receiver != slack {
		t.Errorf("claimed %s for %s; want n1", got.ID, got.Receiver)
	}
	got, err = s.ClaimNotification(ctx, "server-2", []string{chat}, time.Minute, at(61))
	noErr(t, err, "ClaimNotification(chat)")
	if got.ID != "n1" || got.Attempts != 3 {
		t.Errorf("claimed %+v for the chat receiver; want n1 after 3 attempts", got)
	}
	noErr(t, s.EnqueueNotifications(ctx, []*store.Notification{{ID: "n1", Receiver: slack, Type: "flow_run.failed",
		Body: body("again"), NextAttemptAt: at(70), CreatedAt: at(70)}}), "EnqueueNotifications(n1 again)")
	if list, err := s.ListNotifications(ctx, 0); err != nil || len(list) != 5 {
		t.Errorf("after enqueueing n1 again: %d rows, %v; want 5", len(list), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening again changes nothing.
	s = open(t)
	if again, err := s.ListNotifications(context.WithoutCancel(ctx), 0); err != nil || len(again) != 5 {
		t.Errorf("after opening again: %d rows, %v; want 5", len(again), err)
	}
}

// row is an INSERT of an outbox row of before migration 0017.
func row(id, url string, attempts int, next, delivered int64, lastError, owner string, lease, created int64) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	return `INSERT INTO notifications (id, url, type, body, attempts, next_attempt_at, delivered_at, last_error, owner, lease_until, created_at)
		VALUES (` + strings.Join([]string{q(id), q(url), q("flow_run.failed"), q(`{"id":"` + id + `"}`), itoa(int64(attempts)),
		itoa(next), itoa(delivered), q(lastError), q(owner), itoa(lease), itoa(created)}, ", ") + `)`
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// FlowNamesUpgrade tests migration 0022 on a backend, as
// NotificationsUpgrade does 0017. The database is taken back to before
// 0022 with flows whose names differ only in case, which servers of
// before could store at the same moment: the upgrade keeps the first
// stored's name (created_at, then id), renames each later one "NAME (ID)"
// (again while that is some flow's name), and from then on the database
// refuses a new flow named as another in other capitals.
func FlowNamesUpgrade(t *testing.T, open func(t *testing.T) store.Store, exec func(t *testing.T, q string) error) {
	t.Helper()
	ctx := t.Context()
	if err := open(t).Close(); err != nil {
		t.Fatal(err)
	}
	flow := func(id, name string, created int) string {
		q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
		return `INSERT INTO flows (id, name, source, created_at, updated_at) VALUES (` +
			strings.Join([]string{q(id), q(name), "NULL", itoa(at(created).UnixNano()), itoa(at(created).UnixNano())}, ", ") + `)`
	}
	for _, q := range []string{
		`DROP INDEX flows_by_name_key`,
		`ALTER TABLE flows DROP COLUMN name_key`,
		`DELETE FROM schema_migrations WHERE version = 22`,
		flow("f5", "offboard", 20),
		flow("f1", "Offboard", 10),
		flow("f4", "OFFBOARD", 20), // stored at the same time as f5, a smaller id
		flow("f0", "Offboard (f5)", 5),
		flow("f6", "Ärger", 30),
		flow("f7", "äRGER", 40),
		flow("f8", "nightly", 50),
	} {
		if err := exec(t, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	s := open(t)
	defer func() { _ = s.Close() }()
	names := func(s store.Store) map[string]string {
		t.Helper()
		list, err := s.ListFlows(ctx)
		noErr(t, err, "ListFlows")
		got := map[string]string{}
		for _, f := range list {
			got[f.ID] = f.Name
		}
		return got
	}
	want := map[string]string{
		"f0": "Offboard (f5)",
		"f1": "Offboard",
		"f4": "OFFBOARD (f4)",
		"f5": "offboard (f5) (f5)",
		"f6": "Ärger",
		"f7": "äRGER (f7)",
		"f8": "nightly",
	}
	diff(t, "the flows' names after the upgrade", want, names(s))

	_, err := s.PutFlow(ctx, &store.Flow{Name: "offBOARD", Source: []byte("x"), CreatedAt: at(60), UpdatedAt: at(60)})
	wantErr(t, err, store.ErrConflict, "PutFlow(offBOARD) after the upgrade")
	_, err = s.PutFlow(ctx, &store.Flow{Name: "ärger", Source: []byte("x"), CreatedAt: at(60), UpdatedAt: at(60)})
	wantErr(t, err, store.ErrConflict, "PutFlow(ärger) after the upgrade")
	renamed := &store.Flow{Name: "OFFBOARD (f4)", Source: []byte("x"), CreatedAt: at(60), UpdatedAt: at(60)}
	putFlow(t, s, renamed, "PutFlow(OFFBOARD (f4))")
	if renamed.ID != "f4" {
		t.Errorf("storing the renamed flow's new name stored flow %s; want a version of f4", renamed.ID)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening again changes nothing.
	s = open(t)
	diff(t, "the flows' names after opening again", want, names(s))
}

// TokenOrphansUpgrade tests migration 0023 on a backend, as
// NotificationsUpgrade does 0017. The database is taken back to before
// 0023 with tokens whose creator is gone, as a revoke of an earlier
// version could leave them (it deleted a token, then its offspring one
// after the other): the upgrade deletes them and their offspring, and
// leaves every token whose creator exists, and every token made without
// one.
func TokenOrphansUpgrade(t *testing.T, open func(t *testing.T) store.Store, exec func(t *testing.T, q string) error) {
	t.Helper()
	ctx := t.Context()
	if err := open(t).Close(); err != nil {
		t.Fatal(err)
	}
	token := func(id, parent string) string {
		return `INSERT INTO api_tokens (id, name, hash, role, owner_type, owner_login, created_at, expires_at, last_used_at, parent_id) VALUES ('` +
			id + `', '` + id + `', 'h-` + id + `', 'admin', 'user', 'ada@example.com', ` + itoa(at(1).UnixNano()) + `, ` + itoa(at(3600).UnixNano()) + `, 0, '` + parent + `')`
	}
	for _, q := range []string{
		`DROP INDEX api_tokens_by_parent`,
		`DELETE FROM schema_migrations WHERE version = 23`,
		token("laptop", ""),
		token("ci", "laptop"),
		token("nightly", "ci"),
		token("orphan", "revoked"),
		token("orphan-child", "orphan"),
		token("orphan-grandchild", "orphan-child"),
		token("phone", ""),
		token("lost", "revoked-too"),
	} {
		if err := exec(t, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	ids := func(s store.Store) []string {
		t.Helper()
		list, err := s.ListAPITokens(ctx, "", "")
		noErr(t, err, "ListAPITokens")
		var got []string
		for _, tok := range list {
			got = append(got, tok.ID)
		}
		slices.Sort(got)
		return got
	}
	want := []string{"ci", "laptop", "nightly", "phone"}
	s := open(t)
	diff(t, "the tokens after the upgrade", want, ids(s))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening again changes nothing.
	s = open(t)
	defer func() { _ = s.Close() }()
	diff(t, "the tokens after opening again", want, ids(s))
}

// SessionFlashesUpgrade tests migration 0025 on a backend, as
// NotificationsUpgrade does 0017. The database is taken back to before
// 0025 with messages waiting in sessions' old flashes lists: the upgrade
// moves each message to its own row, in order, drops a list that does not
// parse, and opening again brings none back.
func SessionFlashesUpgrade(t *testing.T, open func(t *testing.T) store.Store, exec func(t *testing.T, q string) error) {
	t.Helper()
	ctx := t.Context()
	if err := open(t).Close(); err != nil {
		t.Fatal(err)
	}
	session := func(id, flashes string) string {
		return `INSERT INTO sessions (id, actor_type, actor_login, actor_token, name, role, csrf, flashes, created_at, expires_at, last_seen) VALUES ('` +
			id + `', 'bootstrap', '', '', '', 'admin', 'c', ` + flashes + `, ` + itoa(at(0).UnixNano()) + `, ` + itoa(at(3600).UnixNano()) + `, ` + itoa(at(0).UnixNano()) + `)`
	}
	for _, q := range []string{
		`DROP TABLE session_flashes`,
		`DELETE FROM schema_migrations WHERE version = 25`,
		session("waiting", `'[{"Kind":"ok","Message":"saved"},{"Kind":"error","Message":"failed"}]'`),
		session("none", `NULL`),
		session("garbled", `'[{"Kind":'`),
	} {
		if err := exec(t, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	flashes := func(s store.Store, id string) []string {
		t.Helper()
		got, err := s.TakeSessionFlashes(ctx, id)
		noErr(t, err, "TakeSessionFlashes")
		var out []string
		for _, m := range got {
			out = append(out, string(m))
		}
		return out
	}
	s := open(t)
	ss, err := s.GetSession(ctx, "waiting")
	noErr(t, err, "GetSession")
	if ss.Flashes != 2 {
		t.Errorf("after the upgrade the session has %d messages waiting; want 2", ss.Flashes)
	}
	diff(t, "the messages after the upgrade", []string{`{"Kind":"ok","Message":"saved"}`, `{"Kind":"error","Message":"failed"}`}, flashes(s, "waiting"))
	for _, id := range []string{"none", "garbled"} {
		if got := flashes(s, id); len(got) != 0 {
			t.Errorf("session %s has messages %q after the upgrade; want none", id, got)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening again brings none back.
	s = open(t)
	defer func() { _ = s.Close() }()
	if got := flashes(s, "waiting"); len(got) != 0 {
		t.Errorf("messages %q after opening again; want none", got)
	}
}

// LoginKeysUpgrade tests migration 0027 on a backend, as
// NotificationsUpgrade does 0017. The database is taken back to before
// 0027 with sessions and tokens of logins that differ only in case beyond
// ASCII: the upgrade keys them, so that one revoke ends them all, on
// SQLite as on PostgreSQL. A session and a token a server of an earlier
// version writes after the upgrade, without a key, are still found by
// their login ignoring ASCII case, as that server would.
func LoginKeysUpgrade(t *testing.T, open func(t *testing.T) store.Store, exec func(t *testing.T, q string) error) {
	t.Helper()
	ctx := t.Context()
	if err := open(t).Close(); err != nil {
		t.Fatal(err)
	}
	session := func(id, login string) string {
		return `INSERT INTO sessions (id, actor_type, actor_login, actor_token, name, role, csrf, created_at, expires_at, last_seen) VALUES ('` +
			id + `', 'user', '` + login + `', '', '', 'admin', 'c', ` + itoa(at(0).UnixNano()) + `, ` + itoa(at(3600).UnixNano()) + `, ` + itoa(at(0).UnixNano()) + `)`
	}
	token := func(id, login string) string {
		return `INSERT INTO api_tokens (id, name, hash, role, owner_type, owner_login, created_at, expires_at, last_used_at, parent_id) VALUES ('` +
			id + `', '` + id + `', 'h-` + id + `', 'admin', 'user', '` + login + `', ` + itoa(at(1).UnixNano()) + `, ` + itoa(at(3600).UnixNano()) + `, 0, '')`
	}
	for _, q := range []string{
		`DROP TABLE sign_in_revokes`,
		`DROP INDEX sessions_by_login_key`,
		`DROP INDEX api_tokens_by_owner_key`,
		`ALTER TABLE sessions DROP COLUMN login_key`,
		`ALTER TABLE api_tokens DROP COLUMN owner_key`,
		`DELETE FROM schema_migrations WHERE version = 27`,
		session("s-upper", "Éva@example.com"),
		session("s-lower", "éva@example.com"),
		session("s-other", "eva@example.com"),
		token("t-upper", "ÉVA@EXAMPLE.COM"),
		token("t-lower", "éva@example.com"),
	} {
		if err := exec(t, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s := open(t)
	defer func() { _ = s.Close() }()
	// Written by a server of an earlier version during the upgrade.
	for _, q := range []string{session("s-old-server", "Eva.B@example.com"), token("t-old-server", "EVA.B@example.com")} {
		if err := exec(t, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	got, err := s.ListSessionsOf(ctx, store.Actor{Type: store.ActorUser, Login: "éva@example.com"})
	noErr(t, err, "ListSessionsOf(éva)")
	if len(got) != 2 {
		t.Errorf("éva's sessions after the upgrade: %d; want 2 (Éva's and éva's)", len(got))
	}
	n, toks, _, err := s.DeletePersonAccess(ctx, "éVA@example.com")
	noErr(t, err, "DeletePersonAccess(éVA)")
	if n != 2 || len(toks) != 2 {
		t.Errorf("DeletePersonAccess(éVA) after the upgrade ended %d sessions and %d tokens; want 2 and 2", n, len(toks))
	}
	if _, err := s.GetSession(ctx, "s-other"); err != nil {
		t.Errorf("eva's session (no accent) after the revoke of éva: %v; want it kept", err)
	}
	mine, err := s.ListAPITokens(ctx, store.ActorUser, "eva.b@example.com")
	noErr(t, err, "ListAPITokens(eva.b)")
	if len(mine) != 1 {
		t.Errorf("the tokens of eva.b, one written without a key: %d; want 1", len(mine))
	}
	n, toks, _, err = s.DeletePersonAccess(ctx, "eva.b@EXAMPLE.com")
	noErr(t, err, "DeletePersonAccess(eva.b)")
	if n != 1 || len(toks) != 1 {
		t.Errorf("DeletePersonAccess of rows written without a key ended %d sessions and %d tokens; want 1 and 1", n, len(toks))
	}
}

// AuditActorKeysUpgrade tests migration 0032 on a backend, as
// NotificationsUpgrade does 0017. The database is taken back to before
// 0032 with audit events of logins that differ only in case beyond ASCII:
// after the upgrade the actor filter finds them all by any of them. An
// event a server of an earlier version writes after the upgrade, without
// a key, is still found by its login as given, as that server would.
func AuditActorKeysUpgrade(t *testing.T, open func(t *testing.T) store.Store, exec func(t *testing.T, q string) error) {
	t.Helper()
	ctx := t.Context()
	if err := open(t).Close(); err != nil {
		t.Fatal(err)
	}
	event := func(sec int, login string) string {
		return `INSERT INTO audit_events (time, caller, action, connection_id, acting_as, card, input_summary, outcome, error, okta_request_id, actor_type, actor_login, actor_token) VALUES (` +
			itoa(at(sec).UnixNano()) + `, '` + login + `', 'person.signin', '', '', '', '', 'success', '', '', 'user', '` + login + `', '')`
	}
	for _, q := range []string{
		`DROP INDEX audit_events_actor_key`,
		`ALTER TABLE audit_events DROP COLUMN actor_key`,
		`DELETE FROM schema_migrations WHERE version = 32`,
		event(1, "Éva@example.com"),
		event(2, "éva@EXAMPLE.com"),
		event(3, "eva@example.com"),
	} {
		if err := exec(t, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s := open(t)
	defer func() { _ = s.Close() }()
	if err := exec(t, event(4, "Éva.B@example.com")); err != nil { // by a server of an earlier version
		t.Fatal(err)
	}
	logins := func(login string) []string {
		t.Helper()
		evs, err := s.ListAudit(ctx, store.AuditFilter{ActorLogin: login})
		noErr(t, err, "ListAudit")
		var out []string
		for _, e := range evs {
			out = append(out, e.Actor.Login)
		}
		return out
	}
	diff(t, "the events of ÉVA after the upgrade", []string{"éva@EXAMPLE.com", "Éva@example.com"}, logins("ÉVA@example.com"))
	diff(t, "the event written without a key", []string{"Éva.B@example.com"}, logins("Éva.B@example.com"))
}

// PersonIssuersUpgrade tests migration 0038 on a backend, as
// AuditActorKeysUpgrade does 0032: a login bound to a subject before
// issuers were kept is bound at no issuer after it, still refuses another
// subject, and the first sign-in with its subject fills in the issuer
// that sign-in comes from.
func PersonIssuersUpgrade(t *testing.T, open func(t *testing.T) store.Store, exec func(t *testing.T, q string) error) {
	t.Helper()
	ctx := t.Context()
	if err := open(t).Close(); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`ALTER TABLE person_subjects DROP COLUMN issuer`,
		`DELETE FROM schema_migrations WHERE version = 38`,
		`INSERT INTO person_subjects (login_key, login, subject, bound_at) VALUES ('` + store.FoldCase("Ada@example.com") + `', 'Ada@example.com', 'sub-ada', ` + itoa(at(1).UnixNano()) + `)`,
	} {
		if err := exec(t, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s := open(t)
	defer func() { _ = s.Close() }()
	b, err := s.PersonBinding(ctx, "ada@example.com")
	noErr(t, err, "PersonBinding after the upgrade")
	diff(t, "the binding after the upgrade", &store.PersonBinding{Login: "Ada@example.com", Subject: "sub-ada", BoundAt: at(1)}, b)
	session := func(id, signIn, subject string) *store.Session {
		noErr(t, s.StartSignIn(ctx, signIn, at(600)), "StartSignIn")
		return &store.Session{ID: id, Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"}, Role: "admin", CSRF: "c",
			SignIn: signIn, Subject: subject, Issuer: "https://idp.example.com", CreatedAt: at(10), ExpiresAt: at(3600), LastSeen: at(10)}
	}
	var ice *store.IssuerChangedError
	if err := s.CreateSession(ctx, session("s-other", "si-1", "sub-other")); !errors.Is(err, store.ErrSubjectTaken) || errors.As(err, &ice) {
		t.Fatalf("another subject's sign-in after the upgrade: %v; want ErrSubjectTaken of another subject", err)
	}
	noErr(t, s.CreateSession(ctx, session("s-ada", "si-2", "sub-ada")), "CreateSession(her subject after the upgrade)")
	b, err = s.PersonBinding(ctx, "ada@example.com")
	noErr(t, err, "PersonBinding after her sign-in")
	diff(t, "the binding after her sign-in", &store.PersonBinding{Login: "Ada@example.com", Subject: "sub-ada", Issuer: "https://idp.example.com", BoundAt: at(1)}, b)
}

// CancelRequestsUpgrade tests migration 0039 on a backend, as
// PersonIssuersUpgrade does 0038: a run canceled, and one asked to stop,
// before it keep when they were asked and have nobody and no reason
// recorded, and a request made after it records both.
func CancelRequestsUpgrade(t *testing.T, open func(t *testing.T) store.Store, exec func(t *testing.T, q string) error) {
	t.Helper()
	ctx := t.Context()
	s := open(t)
	admin := store.Actor{Type: store.ActorUser, Login: "admin@example.com"}
	noErr(t, s.CreateFlowRun(ctx, newFlowRun("asked", 0)), "CreateFlowRun")
	_, err := s.ClaimFlowRun(ctx, "server-1", time.Hour, at(1))
	noErr(t, err, "ClaimFlowRun")
	for _, id := range []string{"canceled", "later"} {
		noErr(t, s.CreateFlowRun(ctx, newFlowRun(id, 2)), "CreateFlowRun")
	}
	free, held := "canceled", "asked"
	_, err = s.CancelFlowRun(ctx, free, admin, "", at(5), nil, nil)
	noErr(t, err, "CancelFlowRun(free)")
	_, err = s.CancelFlowRun(ctx, held, admin, "its starter ada@example.com's access was revoked", at(6), nil, nil)
	noErr(t, err, "CancelFlowRun(held)")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`ALTER TABLE flow_runs DROP COLUMN cancel_actor_type`,
		`ALTER TABLE flow_runs DROP COLUMN cancel_actor_login`,
		`ALTER TABLE flow_runs DROP COLUMN cancel_actor_token`,
		`ALTER TABLE flow_runs DROP COLUMN cancel_reason`,
		`DELETE FROM schema_migrations WHERE version = 39`,
	} {
		if err := exec(t, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s = open(t)
	defer func() { _ = s.Close() }()
	for id, want := range map[string]struct {
		status string
		asked  time.Time
	}{free: {store.FlowRunCanceled, at(5)}, held: {"queued", at(6)}} {
		r, err := s.GetFlowRun(ctx, id)
		noErr(t, err, "GetFlowRun after the upgrade")
		if r.Status != want.status || !r.CancelRequestedAt.Equal(want.asked) || r.CancelRequestedBy != (store.Actor{}) || r.CancelReason != "" {
			t.Errorf("run %s after the upgrade = %s asked at %v by %+v (%q); want %s asked at %v by nobody recorded, no reason",
				id, r.Status, r.CancelRequestedAt, r.CancelRequestedBy, r.CancelReason, want.status, want.asked)
		}
	}
	r, err := s.CancelFlowRun(ctx, held, admin, "", at(7), nil, nil)
	noErr(t, err, "CancelFlowRun(asked before the upgrade)")
	if !r.CancelRequestedAt.Equal(at(6)) || r.CancelRequestedBy != (store.Actor{}) {
		t.Errorf("a run asked to stop before the upgrade, asked again = asked at %v by %+v; want the first request kept (%v, nobody recorded)", r.CancelRequestedAt, r.CancelRequestedBy, at(6))
	}
	r, err = s.CancelFlowRun(ctx, "later", admin, "", at(8), nil, nil)
	noErr(t, err, "CancelFlowRun(after the upgrade)")
	if !r.CancelRequestedAt.Equal(at(8)) || r.CancelRequestedBy != admin {
		t.Errorf("a run asked to stop after the upgrade = asked at %v by %+v; want %v by %+v", r.CancelRequestedAt, r.CancelRequestedBy, at(8), admin)
	}
}

// ConnectionReasonCodesUpgrade tests migration 0040 on a backend, as
// PersonIssuersUpgrade does 0038: a connection stored in error before
// the codes were kept reads back with its status, reason and remedy and
// no code, and the next update stores one; a code reads as none once a
// cardflow that keeps no codes (a server not yet upgraded) updated the
// row's status after it.
func ConnectionReasonCodesUpgrade(t *testing.T, open func(t *testing.T) store.Store, exec func(t *testing.T, q string) error) {
	t.Helper()
	ctx := t.Context()
	s := open(t)
	c := &store.Connection{ID: "svc", Connector: "okta-devices", Nickname: "Robot", Domain: "example.okta.com", Auth: store.AuthService,
		Status: store.StatusError, StatusReason: "the org does not accept the key", Remedy: "add the key",
		StatusReasonCode: store.ReasonKeyRefused, ClientID: "0oaservice", CreatedAt: at(0), UpdatedAt: at(1)}
	noErr(t, s.CreateConnection(ctx, c), "CreateConnection")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`ALTER TABLE connections DROP COLUMN status_reason_code`,
		`ALTER TABLE connections DROP COLUMN status_reason_code_version`,
		`DELETE FROM schema_migrations WHERE version = 40`,
	} {
		if err := exec(t, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s = open(t)
	defer func() { _ = s.Close() }()
	got, err := s.GetConnection(ctx, "svc")
	noErr(t, err, "GetConnection after the upgrade")
	want := *c
	want.StatusReasonCode, want.Version = "", 1
	diff(t, "the connection after the upgrade", &want, got)
	noErr(t, s.UpdateConnection(ctx, "svc", func(c *store.Connection) error {
		c.StatusReason, c.Remedy, c.StatusReasonCode = "no scope is granted", "grant them", store.ReasonScopeNotGranted
		return nil
	}), "UpdateConnection after the upgrade")
	got, err = s.GetConnection(ctx, "svc")
	noErr(t, err, "GetConnection after the update")
	if got.StatusReasonCode != store.ReasonScopeNotGranted {
		t.Errorf("StatusReasonCode after the update = %q; want %q", got.StatusReasonCode, store.ReasonScopeNotGranted)
	}
	// A server of the previous version makes it active, then puts it in
	// error for another reason, writing every column it knows.
	for _, q := range []string{
		`UPDATE connections SET status = 'active', status_reason = '', remedy = '', version = version + 1 WHERE id = 'svc'`,
		`UPDATE connections SET status = 'error', status_reason = 'no admin role', remedy = 'assign a role', version = version + 1 WHERE id = 'svc'`,
	} {
		if err := exec(t, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		got, err = s.GetConnection(ctx, "svc")
		noErr(t, err, "GetConnection after an update by the previous version")
		if got.StatusReasonCode != "" {
			t.Errorf("after %s: StatusReasonCode %q; want none (not this status's)", q, got.StatusReasonCode)
		}
	}
	var seen string
	noErr(t, s.UpdateConnection(ctx, "svc", func(c *store.Connection) error {
		seen = c.StatusReasonCode
		c.StatusReasonCode = store.ReasonNoAdminRole
		return nil
	}), "UpdateConnection after the previous version's")
	got, err = s.GetConnection(ctx, "svc")
	noErr(t, err, "GetConnection after the update")
	if seen != "" || got.StatusReasonCode != store.ReasonNoAdminRole {
		t.Errorf("the update after the previous version's saw code %q and stored %q; want none, then %q", seen, got.StatusReasonCode, store.ReasonNoAdminRole)
	}
}

// FlowItemHeadersUpgrade: the flow items of a Custom API Action stored
// before migration 0043 with their header values have each value
// "(redacted)" after it, as items are stored since; other inputs, and
// their numbers, are unchanged.
func FlowItemHeadersUpgrade(t *testing.T, open func(t *testing.T) store.Store, exec func(t *testing.T, q string) error) {
	t.Helper()
	ctx := t.Context()
	s := open(t)
	run := &store.FlowRun{FlowID: "f1", FlowName: "call", Source: []byte("name: call\n"), FlowVersion: 1, Inputs: []byte(`{}`), Status: "succeeded", CreatedAt: at(0)}
	noErr(t, s.CreateFlowRun(ctx, run), "CreateFlowRun")
	inputs := []string{
		`{"headers":{"X-Api-Key":"canary-secret","X-Trace":["a","b"]},"method":"GET","relativeUrl":"/api/v1/devices?limit=1"}`,
		`{"headers":"canary-secret","method":"GET","relativeUrl":"/api/v1/devices"}`,
		`{"deviceId":"guo1","big":12345678901234567890}`,
		`{"method":"GET","relativeUrl":"/api/v1/devices","body":{"note":"\"headers\" in a value"}}`,
	}
	var items []*store.FlowItem
	for i, in := range inputs {
		items = append(items, &store.FlowItem{RunID: run.ID, StepID: "call", Index: i, Status: "succeeded", Input: []byte(in), StartedAt: at(1), FinishedAt: at(2)})
	}
	noErr(t, s.PutFlowItems(ctx, "", items), "PutFlowItems")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := exec(t, `DELETE FROM schema_migrations WHERE version = 43`); err != nil {
		t.Fatal(err)
	}
	s = open(t)
	defer func() { _ = s.Close() }()
	got, err := s.ListFlowItems(ctx, run.ID, "call")
	noErr(t, err, "ListFlowItems after the upgrade")
	want := []string{
		`{"headers":{"X-Api-Key":"(redacted)","X-Trace":"(redacted)"},"method":"GET","relativeUrl":"/api/v1/devices?limit=1"}`,
		`{"headers":"(redacted)","method":"GET","relativeUrl":"/api/v1/devices"}`,
		inputs[2],
		inputs[3],
	}
	if len(got) != len(want) {
		t.Fatalf("%d items after the upgrade; want %d", len(got), len(want))
	}
	for i, it := range got {
		if string(it.Input) != want[i] {
			t.Errorf("item %d's input after the upgrade:\n %s\nwant\n %s", i, it.Input, want[i])
		}
	}
}

// DeletedNicknamesUpgrade tests migration 0046 on a backend, as
// AuditActorKeysUpgrade does 0032: the connections deleted before it are
// found by their nickname after it, ignoring case beyond ASCII; a refused
// deletion is not.
func DeletedNicknamesUpgrade(t *testing.T, open func(t *testing.T) store.Store, exec func(t *testing.T, q string) error) {
	t.Helper()
	ctx := t.Context()
	if err := open(t).Close(); err != nil {
		t.Fatal(err)
	}
	deletion := func(sec int, id, summary, outcome string) string {
		return `INSERT INTO audit_events (time, caller, action, connection_id, acting_as, card, input_summary, outcome, error, okta_request_id, actor_type, actor_login, actor_token) VALUES (` +
			itoa(at(sec).UnixNano()) + `, 'ann', 'connection.delete', '` + id + `', '', '', '` + summary + `', '` + outcome + `', '', '', 'user', 'ann', '')`
	}
	for _, q := range []string{
		`DROP TABLE deleted_connection_names`,
		`DELETE FROM schema_migrations WHERE version = 46`,
		deletion(1, "conn_first", "nickname Émile", "success"),
		deletion(2, "conn_kept", "nickname Émile, if unused", "failure"),
		deletion(3, "conn_other", "nickname Other", "success"),
		deletion(4, "conn_second", "nickname ÉMILE", "success"),
	} {
		if err := exec(t, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s := open(t)
	defer func() { _ = s.Close() }()
	evs, err := s.ListAudit(ctx, store.AuditFilter{Action: store.ActionConnectionDelete, DeletedNickname: "émile"})
	noErr(t, err, "ListAudit")
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.ConnectionID)
	}
	diff(t, "the deletions of émile after the upgrade", []string{"conn_second", "conn_first"}, ids)
}
