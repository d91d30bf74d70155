package postgres

import (
	"errors"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestRevokeRefusesOnlyItsPersonsSignIns: sign-ins in flight finish on one
// server while a person's access is revoked on another. The revoke holds
// every sign-in in flight (it marks them) when two finish: the revoked
// person's is refused, another person's is stored once the revoke ends.
// A sign-in of the revoked person that finished first, while the revoke
// waited for it, gives a token the revoke then deletes. Before, a revoke
// ended every sign-in in flight, whoever's it was.
func TestRevokeRefusesOnlyItsPersonsSignIns(t *testing.T) {
	lt := newLockTest(t)
	ctx := t.Context()
	token := func(name, login, signIn string) *store.APIToken {
		return &store.APIToken{Name: name, Hash: "h-" + name, Role: "admin", OwnerType: store.ActorUser, OwnerLogin: login,
			SignIn: signIn, CreatedAt: time.Unix(1, 0).UTC(), ExpiresAt: time.Unix(3600, 0).UTC()}
	}
	for _, id := range []string{"si-ada", "si-bob", "si-ada-first"} {
		if err := lt.s1.StartSignIn(ctx, id, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := lt.s1.CreateSession(ctx, &store.Session{ID: "ada", Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"},
		Role: "admin", CSRF: "c", CreatedAt: time.Unix(0, 0), ExpiresAt: time.Unix(3600, 0), LastSeen: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}

	// One of ada's sign-ins finishes first: the revoke waits for it.
	var (
		revokeErr error
		revoked   []*store.APIToken
		revoke    <-chan struct{}
	)
	creating := store.WithLocked(ctx, func() {
		revoke = async(func() { _, revoked, _, revokeErr = lt.s2.DeletePersonAccess(ctx, "ADA@example.com") })
		lt.waiters(1, revoke)
	})
	first := token("first", "ada@example.com", "si-ada-first")
	if err := lt.s1.CreateAPIToken(creating, first); err != nil {
		t.Fatalf("finishing ada's sign-in before the revoke: %v", err)
	}
	<-revoke
	if revokeErr != nil {
		t.Fatalf("DeletePersonAccess: %v", revokeErr)
	}
	if len(revoked) != 1 || revoked[0].ID != first.ID {
		t.Errorf("the revoke deleted %v; want the token of ada's sign-in that finished first", revoked)
	}

	// The revoke holds the sign-ins in flight when ada's and bob's finish.
	if err := lt.s1.CreateSession(ctx, &store.Session{ID: "ada-again", Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"},
		Role: "admin", CSRF: "c", CreatedAt: time.Unix(0, 0), ExpiresAt: time.Unix(3600, 0), LastSeen: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	var adaErr, bobErr error
	var ada, bob <-chan struct{}
	marking := store.WithLocked(ctx, func() {
		ada = async(func() { adaErr = lt.s1.CreateAPIToken(ctx, token("ada", "ada@example.com", "si-ada")) })
		bob = async(func() { bobErr = lt.s1.CreateAPIToken(ctx, token("bob", "bob@example.com", "si-bob")) })
		lt.waiters(2, ada, bob)
	})
	if _, _, _, err := lt.s2.DeletePersonAccess(marking, "ada@example.com"); err != nil {
		t.Fatalf("DeletePersonAccess: %v", err)
	}
	<-ada
	<-bob
	if !errors.Is(adaErr, store.ErrRevoked) {
		t.Errorf("ada's sign-in that began before the revoke: %v; want ErrRevoked", adaErr)
	}
	if bobErr != nil {
		t.Errorf("bob's sign-in that began before ada's revoke: %v; want it stored", bobErr)
	}
	left, err := lt.s1.ListAPITokens(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].OwnerLogin != "bob@example.com" {
		t.Errorf("tokens after the revoke: %v; want bob's alone", left)
	}
}
