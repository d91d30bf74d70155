package postgres

import (
	"database/sql"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// lockTest is a database of its own (pg_stat_activity counts its sessions
// only), two stores on it as two servers would have, and a connection
// that watches them.
type lockTest struct {
	t      *testing.T
	s1, s2 store.Store
	admin  *sql.DB
}

func newLockTest(t *testing.T) *lockTest {
	dsn := pgtest.NewDatabase(t)
	open := func() store.Store {
		s, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return &lockTest{t: t, s1: open(), s2: open(), admin: admin}
}

// waiters waits until n sessions of the database wait for a lock, or one
// of done is closed (what was to block ended instead).
func (lt *lockTest) waiters(n int, done ...<-chan struct{}) {
	lt.t.Helper()
	for {
		for _, d := range done {
			select {
			case <-d:
				return
			default:
			}
		}
		var waiting int
		if err := lt.admin.QueryRowContext(lt.t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			lt.t.Error(err)
			return
		}
		if waiting >= n {
			return
		}
	}
}

// async runs fn in a goroutine; done is closed once it returned.
func async(fn func()) (done <-chan struct{}) {
	c := make(chan struct{})
	go func() {
		defer close(c)
		fn()
	}()
	return c
}

func isDeadlock(err error) bool { return sqlState(err) == "40P01" }

// TestRevokesCannotDeadlock: the revoke of a token with its offspring and
// the revoke of its owner's access, on two servers at once, each waiting
// for a token a creation holds, end without a deadlock. The token's child
// has the smaller id, so that the person's revoke (which takes its tokens
// in id order) wants the child first while the token's revoke (which
// takes the token, then its offspring) holds the token: before revokes
// took turns, the creation's end gave the child to the person's revoke,
// which then waited for the token while the token's revoke waited for the
// child, and PostgreSQL ended one of them (40P01).
func TestRevokesCannotDeadlock(t *testing.T) {
	lt := newLockTest(t)
	ctx := t.Context()
	token := func(id, parent string) *store.APIToken {
		return &store.APIToken{ID: id, Name: id, Hash: "h-" + id, Role: "admin", OwnerType: store.ActorUser,
			OwnerLogin: "ada@example.com", ParentID: parent, CreatedAt: time.Unix(1, 0).UTC(), ExpiresAt: time.Unix(3600, 0).UTC()}
	}
	for _, tok := range []*store.APIToken{token("tok-9", ""), token("tok-1", "tok-9")} {
		if err := lt.s1.CreateAPIToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	var (
		personErr, tokenErr error
		personToks          []*store.APIToken
		person, tokenRevoke <-chan struct{}
	)
	// A token being created with tok-1 holds it while both revokes start,
	// the person's first.
	creating := store.WithLocked(ctx, func() {
		person = async(func() { _, personToks, _, personErr = lt.s2.DeletePersonAccess(ctx, "ada@example.com") })
		lt.waiters(1, person)
		tokenRevoke = async(func() { _, tokenErr = lt.s1.DeleteAPIToken(ctx, "tok-9") })
		lt.waiters(2, person, tokenRevoke)
	})
	if err := lt.s2.CreateAPIToken(creating, token("tok-5", "tok-1")); err != nil {
		t.Fatalf("creating a token with tok-1: %v", err)
	}
	<-person
	<-tokenRevoke
	if isDeadlock(personErr) || isDeadlock(tokenErr) {
		t.Fatalf("the revokes deadlocked: person: %v; token: %v", personErr, tokenErr)
	}
	if personErr != nil {
		t.Fatalf("DeletePersonAccess: %v", personErr)
	}
	// The person's revoke came first and took all three tokens; the
	// token's revoke found its token gone.
	var ids []string
	for _, tok := range personToks {
		ids = append(ids, tok.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"tok-1", "tok-5", "tok-9"}) {
		t.Errorf("DeletePersonAccess revoked %v; want tok-1, tok-5 and tok-9", ids)
	}
	if !errors.Is(tokenErr, store.ErrNotFound) {
		t.Errorf("DeleteAPIToken(tok-9) after the person's revoke: %v; want ErrNotFound", tokenErr)
	}
}

// TestSessionDeletesCannotDeadlock: a person's revoke and a statement that
// deletes several of their sessions (the purge of expired sessions, the
// end of every session of an actor), on two servers at once, each waiting
// for a session a creation holds, end without a deadlock. The purge's scan
// meets the sessions in the order they were stored, s-2 first; before
// every such statement locked sessions in id order, the creation's end
// gave s-1 to the revoke, which then waited for s-2 while the purge,
// holding s-2, waited for s-1.
func TestSessionDeletesCannotDeadlock(t *testing.T) {
	for _, tt := range []struct {
		name   string
		delete func(s store.Store) error
	}{
		{"expired", func(s store.Store) error {
			return s.DeleteExpiredSessions(t.Context(), time.Unix(7200, 0), time.Unix(0, 0))
		}},
		{"of an actor", func(s store.Store) error {
			_, err := s.DeleteSessionsOf(t.Context(), store.Actor{Type: store.ActorUser, Login: "ada@example.com"})
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lt := newLockTest(t)
			ctx := t.Context()
			for _, id := range []string{"s-2", "s-1"} {
				if err := lt.s1.CreateSession(ctx, &store.Session{ID: id, Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"},
					Role: "admin", CSRF: "c", CreatedAt: time.Unix(0, 0), ExpiresAt: time.Unix(3600, 0), LastSeen: time.Unix(0, 0)}); err != nil {
					t.Fatal(err)
				}
			}
			var (
				personErr, deleteErr error
				person, deleting     <-chan struct{}
			)
			// A token being created with s-1 holds it while the revoke
			// and then the delete start.
			creating := store.WithLocked(ctx, func() {
				person = async(func() { _, _, _, personErr = lt.s2.DeletePersonAccess(ctx, "ada@example.com") })
				lt.waiters(1, person)
				deleting = async(func() { deleteErr = tt.delete(lt.s1) })
				lt.waiters(2, person, deleting)
			})
			if err := lt.s2.CreateAPIToken(creating, &store.APIToken{Name: "cli", Hash: "h", Role: "admin", OwnerType: store.ActorUser,
				OwnerLogin: "ada@example.com", SessionID: "s-1", CreatedAt: time.Unix(1, 0), ExpiresAt: time.Unix(3600, 0)}); err != nil {
				t.Fatalf("creating a token with s-1: %v", err)
			}
			<-person
			<-deleting
			if personErr != nil || deleteErr != nil {
				t.Fatalf("DeletePersonAccess: %v; the delete of sessions: %v; want neither to fail", personErr, deleteErr)
			}
			left, err := lt.s1.ListSessionsOf(ctx, store.Actor{Type: store.ActorUser, Login: "ada@example.com"})
			if err != nil || len(left) != 0 {
				t.Errorf("sessions left: %d, %v; want none", len(left), err)
			}
		})
	}
}

// TestEventIntakeCannotDeadlock: two servers storing the same events in
// other orders (a hook delivery and a System Log poll, each in the order
// it got them) end without a deadlock. Each waits for an event a third
// transaction is inserting; before the intake stored a batch in the order
// of the events' UUIDs, the first held e1 and then waited for e2, which
// the second held while it waited for e1.
func TestEventIntakeCannotDeadlock(t *testing.T) {
	lt := newLockTest(t)
	ctx := t.Context()
	event := func(uuid string) *store.Event {
		return &store.Event{UUID: uuid, ConnectionID: "c1", EventType: "device.user.remove", Published: time.Unix(10, 0).UTC(),
			Raw: []byte(`{"uuid":"` + uuid + `"}`), ReceivedAt: time.Unix(20, 0).UTC()}
	}
	// A transaction inserting e3, still open.
	other, err := lt.admin.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback()
	if _, err := other.ExecContext(ctx, `INSERT INTO events (uuid, connection_id, event_type, published, raw, via_hook, via_poll, received_at, dispatched_at)
		VALUES ('e3', 'c1', 'device.user.remove', 0, NULL, 1, 0, 0, 0)`); err != nil {
		t.Fatal(err)
	}
	var hookErr, pollErr error
	hook := async(func() {
		_, hookErr = lt.s1.PutEvents(ctx, []*store.Event{event("e1"), event("e3"), event("e2")}, store.ViaHook)
	})
	lt.waiters(1, hook)
	poll := async(func() { _, pollErr = lt.s2.PutEvents(ctx, []*store.Event{event("e2"), event("e1")}, store.ViaPoll) })
	lt.waiters(2, hook, poll)
	if err := other.Commit(); err != nil {
		t.Fatal(err)
	}
	<-hook
	<-poll
	if hookErr != nil || pollErr != nil {
		t.Fatalf("PutEvents by hook: %v; by poll: %v; want neither to fail", hookErr, pollErr)
	}
	for _, uuid := range []string{"e1", "e2"} {
		got, err := lt.s1.ListEvents(ctx, store.EventFilter{UUID: uuid})
		if err != nil || len(got) != 1 || len(got[0].ReceivedVia) != 2 {
			t.Errorf("event %s: %+v, %v; want it received via hook and poll", uuid, got, err)
		}
	}
}
