package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

func testAPIToken(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	ada := &store.APIToken{Name: "ci", Hash: "h1", Role: "operator", OwnerType: store.ActorUser, OwnerLogin: "ada@example.com",
		CreatedAt: at(0), ExpiresAt: at(3600)}
	boot := &store.APIToken{Name: "robot", Hash: "h2", Role: "admin", OwnerType: store.ActorBootstrap, CreatedAt: at(1), ExpiresAt: at(7200)}
	bob := &store.APIToken{Name: "ci", Hash: "h3", Role: "viewer", OwnerType: store.ActorUser, OwnerLogin: "bob@example.com",
		CreatedAt: at(2), ExpiresAt: at(7200)}
	for _, tok := range []*store.APIToken{boot, ada, bob} {
		if tok == ada {
			ada.ParentID = boot.ID // a token's creator must exist
		}
		noErr(t, s.CreateAPIToken(ctx, tok), "CreateAPIToken")
		if tok.ID == "" {
			t.Fatal("CreateAPIToken left ID empty")
		}
	}
	wantErr(t, s.CreateAPIToken(ctx, &store.APIToken{Name: "x", Hash: "h1", Role: "viewer", OwnerType: store.ActorUser}), store.ErrConflict, "CreateAPIToken(same hash)")

	got, err := s.GetAPITokenByHash(ctx, "h1")
	noErr(t, err, "GetAPITokenByHash")
	diff(t, "token by hash", ada, got)
	_, err = s.GetAPITokenByHash(ctx, "nope")
	wantErr(t, err, store.ErrNotFound, "GetAPITokenByHash(unknown)")

	mine, err := s.ListAPITokens(ctx, store.ActorUser, "ada@example.com")
	noErr(t, err, "ListAPITokens(ada)")
	diff(t, "ada's tokens", []*store.APIToken{ada}, mine)
	bootstrap, err := s.ListAPITokens(ctx, store.ActorBootstrap, "")
	noErr(t, err, "ListAPITokens(bootstrap)")
	diff(t, "the bootstrap admin's tokens", []*store.APIToken{boot}, bootstrap)
	all, err := s.ListAPITokens(ctx, "", "")
	noErr(t, err, "ListAPITokens(all)")
	diff(t, "every token, oldest first", []*store.APIToken{ada, boot, bob}, all)
	none, err := s.ListAPITokens(ctx, store.ActorUser, "carol@example.com")
	noErr(t, err, "ListAPITokens(carol)")
	if none == nil || len(none) != 0 {
		t.Errorf("ListAPITokens of an owner without tokens = %#v; want an empty, non-nil list", none)
	}

	noErr(t, s.TouchAPIToken(ctx, ada.ID, at(60)), "TouchAPIToken")
	got, err = s.GetAPIToken(ctx, ada.ID)
	noErr(t, err, "GetAPIToken")
	if !got.LastUsedAt.Equal(at(60)) {
		t.Errorf("LastUsedAt = %v; want %v", got.LastUsedAt, at(60))
	}
	offspring, err := s.DeleteAPIToken(ctx, ada.ID)
	noErr(t, err, "DeleteAPIToken")
	if offspring == nil || len(offspring) != 0 {
		t.Errorf("DeleteAPIToken of a token that created none: offspring %#v; want an empty, non-nil list", offspring)
	}
	_, err = s.DeleteAPIToken(ctx, ada.ID)
	wantErr(t, err, store.ErrNotFound, "DeleteAPIToken(again)")
	_, err = s.GetAPITokenByHash(ctx, "h1")
	wantErr(t, err, store.ErrNotFound, "GetAPITokenByHash(revoked)")
	wantErr(t, s.TouchAPIToken(ctx, ada.ID, at(61)), store.ErrNotFound, "TouchAPIToken(revoked)")
}

func testSession(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	ss := &store.Session{ID: "s1", Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"}, Name: "Ada Admin",
		Role: "admin", CSRF: "csrf", CreatedAt: at(0), ExpiresAt: at(43200), LastSeen: at(0)}
	noErr(t, s.CreateSession(ctx, ss), "CreateSession")
	wantErr(t, s.CreateSession(ctx, ss), store.ErrConflict, "CreateSession(same id)")
	got, err := s.GetSession(ctx, "s1")
	noErr(t, err, "GetSession")
	diff(t, "session", ss, got)

	ss.LastSeen = at(100)
	noErr(t, s.TouchSession(ctx, "s1", at(100)), "TouchSession")
	got, err = s.GetSession(ctx, "s1")
	noErr(t, err, "GetSession")
	diff(t, "touched session", ss, got)

	noErr(t, s.CreateSession(ctx, &store.Session{ID: "idle", Role: "viewer", CreatedAt: at(0), ExpiresAt: at(43200), LastSeen: at(10)}), "CreateSession")
	noErr(t, s.CreateSession(ctx, &store.Session{ID: "old", Role: "viewer", CreatedAt: at(0), ExpiresAt: at(200), LastSeen: at(150)}), "CreateSession")
	noErr(t, s.DeleteExpiredSessions(ctx, at(200), at(50)), "DeleteExpiredSessions")
	for _, tt := range []struct {
		id   string
		want error
	}{{"s1", nil}, {"idle", store.ErrNotFound}, {"old", store.ErrNotFound}} {
		if _, err := s.GetSession(ctx, tt.id); !errors.Is(err, tt.want) {
			t.Errorf("after DeleteExpiredSessions, GetSession(%s) err = %v; want %v", tt.id, err, tt.want)
		}
	}
	boot := store.Actor{Type: store.ActorBootstrap}
	for _, id := range []string{"boot1", "boot2"} {
		noErr(t, s.CreateSession(ctx, &store.Session{ID: id, Actor: boot, Role: "admin", CreatedAt: at(0), ExpiresAt: at(43200), LastSeen: at(100)}), "CreateSession")
	}
	n, err := s.DeleteSessionsOf(ctx, boot)
	noErr(t, err, "DeleteSessionsOf")
	if n != 2 {
		t.Errorf("DeleteSessionsOf(bootstrap) = %d; want 2", n)
	}
	for _, tt := range []struct {
		id   string
		want error
	}{{"s1", nil}, {"boot1", store.ErrNotFound}, {"boot2", store.ErrNotFound}} {
		if _, err := s.GetSession(ctx, tt.id); !errors.Is(err, tt.want) {
			t.Errorf("after DeleteSessionsOf(bootstrap), GetSession(%s) err = %v; want %v", tt.id, err, tt.want)
		}
	}
	// An actor without a login: every session of its type.
	noErr(t, s.CreateSession(ctx, &store.Session{ID: "bob", Actor: store.Actor{Type: store.ActorUser, Login: "bob@example.com"}, Role: "viewer",
		CreatedAt: at(0), ExpiresAt: at(43200), LastSeen: at(100)}), "CreateSession")
	noErr(t, s.CreateSession(ctx, &store.Session{ID: "boot3", Actor: boot, Role: "admin", CreatedAt: at(0), ExpiresAt: at(43200), LastSeen: at(100)}), "CreateSession")
	n, err = s.DeleteSessionsOf(ctx, store.Actor{Type: store.ActorUser})
	noErr(t, err, "DeleteSessionsOf(user)")
	if n != 2 {
		t.Errorf("DeleteSessionsOf(every user) = %d; want 2", n)
	}
	for _, tt := range []struct {
		id   string
		want error
	}{{"s1", store.ErrNotFound}, {"bob", store.ErrNotFound}, {"boot3", nil}} {
		if _, err := s.GetSession(ctx, tt.id); !errors.Is(err, tt.want) {
			t.Errorf("after DeleteSessionsOf(every user), GetSession(%s) err = %v; want %v", tt.id, err, tt.want)
		}
	}
	noErr(t, s.CreateSession(ctx, ss), "CreateSession(again)")
	noErr(t, s.DeleteSession(ctx, "s1"), "DeleteSession")
	_, err = s.GetSession(ctx, "s1")
	wantErr(t, err, store.ErrNotFound, "GetSession(deleted)")
	wantErr(t, s.TouchSession(ctx, "s1", at(200)), store.ErrNotFound, "TouchSession(deleted)")
}

// testSessionFlashes: a session's one-time messages are added and taken
// on their own, on any handle: a touch of a session read before a message
// was added keeps it, and of concurrent takers each message goes to
// exactly one.
func testSessionFlashes(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	ss := &store.Session{ID: "tabs", Actor: store.Actor{Type: store.ActorBootstrap}, Role: "admin", CSRF: "c",
		CreatedAt: at(0), ExpiresAt: at(3600), LastSeen: at(0)}
	noErr(t, s1.CreateSession(ctx, ss), "CreateSession")
	msg := func(i int) json.RawMessage { return json.RawMessage(fmt.Sprintf(`{"Message":"m%d"}`, i)) }
	take := func(s store.Store) []string {
		t.Helper()
		got, err := s.TakeSessionFlashes(ctx, "tabs")
		noErr(t, err, "TakeSessionFlashes")
		var out []string
		for _, m := range got {
			out = append(out, string(m))
		}
		return out
	}

	// One tab reads the session, another adds a message, the first one's
	// request ends with its touch: the message waits.
	if _, err := s1.GetSession(ctx, "tabs"); err != nil {
		t.Fatal(err)
	}
	noErr(t, s2.AddSessionFlash(ctx, "tabs", msg(1)), "AddSessionFlash")
	noErr(t, s2.AddSessionFlash(ctx, "tabs", msg(2)), "AddSessionFlash")
	noErr(t, s1.TouchSession(ctx, "tabs", at(10)), "TouchSession")
	got, err := s1.GetSession(ctx, "tabs")
	noErr(t, err, "GetSession")
	if got.Flashes != 2 || !got.LastSeen.Equal(at(10)) {
		t.Errorf("after a touch, the session has %d messages, last seen %v; want 2, %v", got.Flashes, got.LastSeen, at(10))
	}
	diff(t, "messages taken", []string{`{"Message":"m1"}`, `{"Message":"m2"}`}, take(s2))
	// A touch of a session read before the messages were taken brings
	// none back.
	noErr(t, s1.TouchSession(ctx, "tabs", at(20)), "TouchSession")
	if got := take(s1); len(got) != 0 {
		t.Errorf("messages taken a second time: %q; want none", got)
	}

	wantErr(t, s1.AddSessionFlash(ctx, "nobody", msg(0)), store.ErrNotFound, "AddSessionFlash(unknown session)")
	if got, err := s1.TakeSessionFlashes(ctx, "nobody"); err != nil || len(got) != 0 {
		t.Errorf("TakeSessionFlashes(unknown session) = %q, %v; want none, nil", got, err)
	}

	// Tabs add and take at once, on both handles: every message is taken
	// once.
	const n = 20
	var mu sync.Mutex
	seen := map[string]int{}
	record := func(ms []json.RawMessage) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range ms {
			seen[string(m)]++
		}
	}
	parallel(2*n, func(i int) {
		s := alternate(i/2, s1, s2)
		if i%2 == 0 {
			if err := s.AddSessionFlash(ctx, "tabs", msg(i/2)); err != nil {
				t.Errorf("AddSessionFlash: %v", err)
			}
			return
		}
		got, err := s.TakeSessionFlashes(ctx, "tabs")
		if err != nil {
			t.Errorf("TakeSessionFlashes: %v", err)
		}
		record(got)
	})
	rest, err := s1.TakeSessionFlashes(ctx, "tabs")
	noErr(t, err, "TakeSessionFlashes")
	record(rest)
	for i := range n {
		if c := seen[string(msg(i))]; c != 1 {
			t.Errorf("message %d was taken %d times; want once", i, c)
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct messages taken; want %d", len(seen), n)
	}

	// Signing out ends the messages with the session.
	noErr(t, s1.AddSessionFlash(ctx, "tabs", msg(99)), "AddSessionFlash")
	noErr(t, s2.DeleteSession(ctx, "tabs"), "DeleteSession")
	noErr(t, s1.CreateSession(ctx, ss), "CreateSession(same id again)")
	if got := take(s1); len(got) != 0 {
		t.Errorf("a new session of a deleted one's id has messages %q; want none", got)
	}
}

func testSessionShared(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	ss := &store.Session{ID: "shared", Actor: store.Actor{Type: store.ActorBootstrap}, Role: "admin", CSRF: "c",
		CreatedAt: at(0), ExpiresAt: at(3600), LastSeen: at(0)}
	noErr(t, s1.CreateSession(ctx, ss), "CreateSession")
	got, err := s2.GetSession(ctx, "shared")
	noErr(t, err, "GetSession on the other handle")
	diff(t, "session seen by the other handle", ss, got)
	noErr(t, s2.DeleteSession(ctx, "shared"), "DeleteSession on the other handle")
	_, err = s1.GetSession(ctx, "shared")
	wantErr(t, err, store.ErrNotFound, "GetSession after sign-out elsewhere")
}

func testSignInRequestSingleUse(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	r := &store.SignInRequest{State: "st", SealedVerifier: []byte("sealed"), Nonce: "n", Next: "/flows", CreatedAt: at(0), ExpiresAt: at(600)}
	noErr(t, s1.CreateSignInRequest(ctx, r), "CreateSignInRequest")
	wantErr(t, s1.CreateSignInRequest(ctx, r), store.ErrConflict, "CreateSignInRequest(same state)")
	noErr(t, s1.CreateSignInRequest(ctx, &store.SignInRequest{State: "expired", ExpiresAt: at(-1)}), "CreateSignInRequest")
	noErr(t, s2.DeleteExpiredSignInRequests(ctx, at(0)), "DeleteExpiredSignInRequests")
	_, err := s1.ConsumeSignInRequest(ctx, "expired")
	wantErr(t, err, store.ErrNotFound, "ConsumeSignInRequest(expired and deleted)")

	const n = 20
	var wins atomic.Int32
	parallel(n, func(i int) {
		got, err := alternate(i, s1, s2).ConsumeSignInRequest(ctx, "st")
		switch {
		case err == nil:
			wins.Add(1)
			diff(t, "sign-in request", r, got)
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("ConsumeSignInRequest: %v; want nil or ErrNotFound", err)
		}
	})
	if got := wins.Load(); got != 1 {
		t.Errorf("%d of %d concurrent consumers got the request; want exactly 1", got, n)
	}
}

// testPersonAccess: a person's sessions are listed, and their sessions and
// tokens end together, nobody else's.
func testPersonAccess(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	ada := store.Actor{Type: store.ActorUser, Login: "ada@example.com"}
	bob := store.Actor{Type: store.ActorUser, Login: "bob@example.com"}
	boot := store.Actor{Type: store.ActorBootstrap}
	session := func(id string, a store.Actor, created int) *store.Session {
		ss := &store.Session{ID: id, Actor: a, Name: a.Login, Role: "admin", CSRF: "c-" + id,
			CreatedAt: at(created), ExpiresAt: at(created + 3600), LastSeen: at(created + 5)}
		noErr(t, s.CreateSession(ctx, ss), "CreateSession")
		return ss
	}
	token := func(name, hash string, a store.Actor, created int, parent string) *store.APIToken {
		owner := a.Type
		tok := &store.APIToken{Name: name, Hash: hash, Role: "operator", OwnerType: owner, OwnerLogin: a.Login, ParentID: parent,
			CreatedAt: at(created), ExpiresAt: at(created + 7200)}
		noErr(t, s.CreateAPIToken(ctx, tok), "CreateAPIToken")
		return tok
	}
	adaLaptop := session("ada-laptop", ada, 10)
	adaPhone := session("ada-phone", ada, 5)
	bobs := session("bob", bob, 1)
	session("boot", boot, 2)
	adaCLI := token("cardflow login", "h-ada-1", ada, 3, "")
	adaCI := token("ci", "h-ada-2", ada, 4, adaCLI.ID)
	bobCI := token("ci", "h-bob", bob, 6, "")
	bootTok := token("robot", "h-boot", boot, 7, "")
	// Authorizations of connections in flight: Ada's (on the console, and
	// with a token of hers, her login in another case) end with her
	// access, the others' stay.
	authorizing := map[string]store.Actor{
		"ada-console": ada, "ada-token": {Type: store.ActorToken, Login: "Ada@Example.com", TokenName: "ci"},
		"bob-console": bob, "boot-console": boot, "boot-token": {Type: store.ActorToken, TokenName: "robot"},
	}
	for state, a := range authorizing {
		noErr(t, s.CreateAuthRequest(ctx, &store.AuthRequest{State: state, ConnectionID: "c-" + state, Actor: a, CreatedAt: at(0), ExpiresAt: at(600)}), "CreateAuthRequest("+state+")")
	}

	got, err := s.ListSessionsOf(ctx, ada)
	noErr(t, err, "ListSessionsOf(ada)")
	diff(t, "ada's sessions, oldest first", []*store.Session{adaPhone, adaLaptop}, got)
	got, err = s.ListSessionsOf(ctx, store.Actor{Type: store.ActorUser})
	noErr(t, err, "ListSessionsOf(every user)")
	diff(t, "every person's sessions, oldest first", []*store.Session{bobs, adaPhone, adaLaptop}, got)
	got, err = s.ListSessionsOf(ctx, store.Actor{Type: store.ActorUser, Login: "carol@example.com"})
	noErr(t, err, "ListSessionsOf(carol)")
	if got == nil || len(got) != 0 {
		t.Errorf("ListSessionsOf a person without sessions = %#v; want an empty, non-nil list", got)
	}

	// Logins compare ignoring case, as Okta's do.
	n, toks, _, err := s.DeletePersonAccess(ctx, strings.ToUpper(ada.Login))
	noErr(t, err, "DeletePersonAccess(ADA)")
	if n != 2 {
		t.Errorf("DeletePersonAccess(ada) ended %d sessions; want 2", n)
	}
	diff(t, "ada's revoked tokens, oldest first", []*store.APIToken{adaCLI, adaCI}, toks)
	for _, id := range []string{adaLaptop.ID, adaPhone.ID} {
		_, err := s.GetSession(ctx, id)
		wantErr(t, err, store.ErrNotFound, "GetSession("+id+") after DeletePersonAccess")
	}
	for _, id := range []string{adaCLI.ID, adaCI.ID} {
		_, err := s.GetAPIToken(ctx, id)
		wantErr(t, err, store.ErrNotFound, "GetAPIToken("+id+") after DeletePersonAccess")
	}
	for _, id := range []string{bobs.ID, "boot"} {
		_, err := s.GetSession(ctx, id)
		noErr(t, err, "GetSession("+id+") of someone else after DeletePersonAccess(ada)")
	}
	for _, id := range []string{bobCI.ID, bootTok.ID} {
		_, err := s.GetAPIToken(ctx, id)
		noErr(t, err, "GetAPIToken("+id+") of someone else after DeletePersonAccess(ada)")
	}
	for state := range authorizing {
		_, err := s.ConsumeAuthRequest(ctx, state)
		if strings.HasPrefix(state, "ada-") {
			wantErr(t, err, store.ErrNotFound, "ConsumeAuthRequest("+state+") of Ada's authorization after DeletePersonAccess(ada)")
		} else {
			noErr(t, err, "ConsumeAuthRequest("+state+") of someone else's authorization after DeletePersonAccess(ada)")
		}
	}

	n, toks, _, err = s.DeletePersonAccess(ctx, ada.Login)
	noErr(t, err, "DeletePersonAccess(ada, again)")
	if n != 0 || toks == nil || len(toks) != 0 {
		t.Errorf("DeletePersonAccess(ada, again) = %d, %#v; want 0 and an empty, non-nil list", n, toks)
	}
}

// testNothingOutlivesRevoke: a session or token created on the strength
// of a sign-in in flight, a console session or a token that a revoke
// ended is refused, and one created just before a revoke is revoked.
func testNothingOutlivesRevoke(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	ada := store.Actor{Type: store.ActorUser, Login: "ada@example.com"}
	session := func(id, signIn string) *store.Session {
		return &store.Session{ID: id, Actor: ada, Role: "admin", CSRF: "c", SignIn: signIn, CreatedAt: at(0), ExpiresAt: at(3600), LastSeen: at(0)}
	}
	token := func(hash, sessionID, parentID, signIn string) *store.APIToken {
		return &store.APIToken{Name: hash, Hash: hash, Role: "admin", OwnerType: store.ActorUser, OwnerLogin: ada.Login,
			SessionID: sessionID, ParentID: parentID, SignIn: signIn, CreatedAt: at(0), ExpiresAt: at(3600)}
	}

	// A sign-in is used once.
	noErr(t, s.StartSignIn(ctx, "si-1", at(600)), "StartSignIn")
	wantErr(t, s.StartSignIn(ctx, "si-1", at(600)), store.ErrConflict, "StartSignIn(same id)")
	noErr(t, s.CreateSession(ctx, session("s1", "si-1")), "CreateSession(sign-in in flight)")
	wantErr(t, s.CreateSession(ctx, session("s2", "si-1")), store.ErrRevoked, "CreateSession(sign-in used)")
	noErr(t, s.StartSignIn(ctx, "si-2", at(600)), "StartSignIn")
	cli := token("cli", "", "", "si-2")
	noErr(t, s.CreateAPIToken(ctx, cli), "CreateAPIToken(sign-in in flight)")
	noErr(t, s.StartSignIn(ctx, "si-failed", at(600)), "StartSignIn")
	noErr(t, s.EndSignIn(ctx, "si-failed"), "EndSignIn")
	wantErr(t, s.EndSignIn(ctx, "si-failed"), store.ErrNotFound, "EndSignIn(again)")
	wantErr(t, s.CreateSession(ctx, session("s3", "si-failed")), store.ErrRevoked, "CreateSession(sign-in ended)")
	noErr(t, s.StartSignIn(ctx, "si-expired", at(-1)), "StartSignIn")
	noErr(t, s.DeleteExpiredSignInRequests(ctx, at(0)), "DeleteExpiredSignInRequests")
	wantErr(t, s.CreateSession(ctx, session("s4", "si-expired")), store.ErrRevoked, "CreateSession(sign-in expired)")
	noErr(t, s.CreateAPIToken(ctx, token("by-session", "s1", "", "")), "CreateAPIToken(by a session)")
	noErr(t, s.CreateAPIToken(ctx, token("by-token", "", cli.ID, "")), "CreateAPIToken(by a token)")
	// So is a flow run started with a session or a token of hers.
	run := func(id, sessionID, tokenID string) *store.FlowRun {
		r := newFlowRun(id, 1)
		r.Actor, r.SessionID, r.TokenID = ada, sessionID, tokenID
		return r
	}
	noErr(t, s.CreateFlowRun(ctx, run("fr-session", "s1", "")), "CreateFlowRun(with a session)")
	noErr(t, s.CreateFlowRun(ctx, run("fr-token", "", cli.ID)), "CreateFlowRun(with a token)")
	_, err := s.CreateFlowRunFrom(ctx, run("fr-rerun", "s1", ""), "fr-session", nil)
	noErr(t, err, "CreateFlowRunFrom(with a session)")

	// A revoke refuses what a sign-in in flight gives when it turns out
	// to be the revoked person's (their login in any case), and only then.
	for _, id := range []string{"si-3", "si-4", "si-5", "si-6", "si-7"} {
		noErr(t, s.StartSignIn(ctx, id, at(600)), "StartSignIn")
	}
	n, toks, _, err := s.DeletePersonAccess(ctx, ada.Login)
	noErr(t, err, "DeletePersonAccess")
	if n != 1 || len(toks) != 3 {
		t.Errorf("DeletePersonAccess ended %d sessions and %d tokens; want 1 and 3", n, len(toks))
	}
	wantErr(t, s.CreateSession(ctx, session("s5", "si-3")), store.ErrRevoked, "CreateSession(sign-in begun before the revoke)")
	upper := session("s6", "si-4")
	upper.Actor.Login = "ADA@Example.com"
	wantErr(t, s.CreateSession(ctx, upper), store.ErrRevoked, "CreateSession(sign-in begun before the revoke, login in capitals)")
	late := token("late-cli", "", "", "si-5")
	wantErr(t, s.CreateAPIToken(ctx, late), store.ErrRevoked, "CreateAPIToken(sign-in begun before the revoke)")
	bob := session("bob", "si-6")
	bob.Actor.Login = "bob@example.com"
	noErr(t, s.CreateSession(ctx, bob), "CreateSession(someone else's sign-in begun before the revoke)")
	bobCLI := token("bob-cli", "", "", "si-7")
	bobCLI.OwnerLogin = "bob@example.com"
	noErr(t, s.CreateAPIToken(ctx, bobCLI), "CreateAPIToken(someone else's sign-in begun before the revoke)")
	wantErr(t, s.CreateSession(ctx, session("s7", "si-6")), store.ErrRevoked, "CreateSession(someone else's sign-in, used)")
	wantErr(t, s.CreateAPIToken(ctx, token("late-session", "s1", "", "")), store.ErrRevoked, "CreateAPIToken(by a revoked session)")
	wantErr(t, s.CreateAPIToken(ctx, token("late-token", "", cli.ID, "")), store.ErrRevoked, "CreateAPIToken(by a revoked token)")
	wantErr(t, s.CreateFlowRun(ctx, run("fr-late-session", "s1", "")), store.ErrRevoked, "CreateFlowRun(with a revoked session)")
	wantErr(t, s.CreateFlowRun(ctx, run("fr-late-token", "", cli.ID)), store.ErrRevoked, "CreateFlowRun(with a revoked token)")
	_, err = s.CreateFlowRunFrom(ctx, run("fr-late-rerun", "", cli.ID), "fr-session", nil)
	wantErr(t, err, store.ErrRevoked, "CreateFlowRunFrom(with a revoked token)")
	for _, id := range []string{"fr-late-session", "fr-late-token", "fr-late-rerun"} {
		_, err := s.GetFlowRun(ctx, id)
		wantErr(t, err, store.ErrNotFound, "GetFlowRun("+id+") refused")
	}
	bobRun := run("fr-bob", "bob", "")
	bobRun.Actor = bob.Actor
	noErr(t, s.CreateFlowRun(ctx, bobRun), "CreateFlowRun(with someone else's session)")
	for _, id := range []string{"s2", "s3", "s4", "s5", "s6", "s7"} {
		_, err := s.GetSession(ctx, id)
		wantErr(t, err, store.ErrNotFound, "GetSession("+id+")")
	}
	left, err := s.ListAPITokens(ctx, store.ActorUser, ada.Login)
	noErr(t, err, "ListAPITokens")
	if len(left) != 0 {
		t.Errorf("after the revoke ada has %d tokens; want none", len(left))
	}
}

// testLoginsFoldAlike: logins that differ only in case, beyond ASCII too,
// are one person on every backend: their sessions and tokens are listed
// and revoked together, as store.FoldCase (strings.EqualFold) has it;
// a login that folds otherwise is someone else.
func testLoginsFoldAlike(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	session := func(id, login string) *store.Session {
		ss := &store.Session{ID: id, Actor: store.Actor{Type: store.ActorUser, Login: login}, Role: "admin", CSRF: "c",
			CreatedAt: at(len(id)), ExpiresAt: at(3600), LastSeen: at(0)}
		noErr(t, s.CreateSession(ctx, ss), "CreateSession("+login+")")
		return ss
	}
	token := func(name, login string) *store.APIToken {
		tok := &store.APIToken{Name: name, Hash: "h-" + name, Role: "admin", OwnerType: store.ActorUser, OwnerLogin: login,
			CreatedAt: at(len(name)), ExpiresAt: at(3600)}
		noErr(t, s.CreateAPIToken(ctx, tok), "CreateAPIToken("+login+")")
		return tok
	}
	eva := session("s-eva", "Éva@example.com")
	evaLower := session("s-eva-2", "éva@example.com")
	other := session("s-other", "eva@example.com") // no accent: another login
	sigma := session("s-sigma", "ΣΟΦΙΑ@example.com")
	final := session("s-sigma-final", "σοφις@example.com") // not the same letters
	evaTok := token("t-eva", "ÉVA@EXAMPLE.COM")
	evaTok2 := token("t-eva-two", "éva@example.com")
	otherTok := token("t-other", "eva@example.com")

	got, err := s.ListSessionsOf(ctx, store.Actor{Type: store.ActorUser, Login: "éVA@example.com"})
	noErr(t, err, "ListSessionsOf(éVA)")
	diff(t, "Éva's sessions", []*store.Session{eva, evaLower}, got)
	mine, err := s.ListAPITokens(ctx, store.ActorUser, "Éva@Example.com")
	noErr(t, err, "ListAPITokens(Éva)")
	diff(t, "Éva's tokens", []*store.APIToken{evaTok, evaTok2}, mine)

	n, toks, _, err := s.DeletePersonAccess(ctx, "ÉVA@example.com")
	noErr(t, err, "DeletePersonAccess(ÉVA)")
	if n != 2 {
		t.Errorf("DeletePersonAccess(ÉVA) ended %d sessions; want 2 (Éva's and éva's)", n)
	}
	diff(t, "Éva's revoked tokens", []*store.APIToken{evaTok, evaTok2}, toks)
	for _, id := range []string{other.ID, sigma.ID, final.ID} {
		_, err := s.GetSession(ctx, id)
		noErr(t, err, "GetSession("+id+") of someone else after DeletePersonAccess(ÉVA)")
	}
	_, err = s.GetAPIToken(ctx, otherTok.ID)
	noErr(t, err, "GetAPIToken(eva's) after DeletePersonAccess(ÉVA)")

	n, _, _, err = s.DeletePersonAccess(ctx, "σοφια@EXAMPLE.COM")
	noErr(t, err, "DeletePersonAccess(σοφια)")
	if n != 1 {
		t.Errorf("DeletePersonAccess(σοφια) ended %d sessions; want 1 (ΣΟΦΙΑ's)", n)
	}
	if _, err := s.GetSession(ctx, final.ID); err != nil {
		t.Errorf("σοφις's session after DeletePersonAccess(σοφια): %v; want it kept", err)
	}

	// A revoke marks the sign-ins in flight with the login ignoring case.
	noErr(t, s.StartSignIn(ctx, "si-other", at(600)), "StartSignIn")
	noErr(t, s.StartSignIn(ctx, "si-eva", at(600)), "StartSignIn")
	_, _, _, err = s.DeletePersonAccess(ctx, "éva@example.com")
	noErr(t, err, "DeletePersonAccess(éva)")
	back := &store.Session{ID: "s-eva-3", Actor: store.Actor{Type: store.ActorUser, Login: "Éva@example.com"}, Role: "admin", CSRF: "c",
		SignIn: "si-eva", CreatedAt: at(0), ExpiresAt: at(3600), LastSeen: at(0)}
	wantErr(t, s.CreateSession(ctx, back), store.ErrRevoked, "CreateSession(Éva's sign-in begun before the revoke of éva)")
	plain := &store.Session{ID: "s-other-2", Actor: store.Actor{Type: store.ActorUser, Login: "eva@example.com"}, Role: "admin", CSRF: "c",
		SignIn: "si-other", CreatedAt: at(0), ExpiresAt: at(3600), LastSeen: at(0)}
	noErr(t, s.CreateSession(ctx, plain), "CreateSession(eva's sign-in begun before the revoke of éva)")
}

// testRevokeRacesCreation: tokens created on the strength of a session,
// on two handles, while the session's person is revoked on another: none
// is left once all are done.
func testRevokeRacesCreation(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	ada := store.Actor{Type: store.ActorUser, Login: "ada@example.com"}
	noErr(t, s1.CreateSession(ctx, &store.Session{ID: "s", Actor: ada, Role: "admin", CSRF: "c", CreatedAt: at(0), ExpiresAt: at(3600), LastSeen: at(0)}), "CreateSession")
	const n = 20
	parallel(n, func(i int) {
		if i == n/2 {
			if _, _, _, err := s2.DeletePersonAccess(ctx, ada.Login); err != nil {
				t.Errorf("DeletePersonAccess: %v", err)
			}
			return
		}
		h := fmt.Sprintf("h%d", i)
		err := alternate(i, s1, s2).CreateAPIToken(ctx, &store.APIToken{Name: h, Hash: h, Role: "admin", OwnerType: store.ActorUser,
			OwnerLogin: ada.Login, SessionID: "s", CreatedAt: at(i), ExpiresAt: at(3600)})
		if err != nil && !errors.Is(err, store.ErrRevoked) {
			t.Errorf("CreateAPIToken: %v; want nil or ErrRevoked", err)
		}
	})
	left, err := s1.ListAPITokens(ctx, store.ActorUser, ada.Login)
	noErr(t, err, "ListAPITokens")
	if len(left) != 0 {
		t.Errorf("%d tokens created while ada was revoked outlived it; want none", len(left))
	}
}

// testTokenOffspring: deleting a token deletes the tokens it created and
// theirs, oldest first, and no other.
func testTokenOffspring(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	token := func(name string, created int, parent *store.APIToken) *store.APIToken {
		tok := &store.APIToken{Name: name, Hash: "h-" + name, Role: "admin", OwnerType: store.ActorUser, OwnerLogin: "ada@example.com",
			CreatedAt: at(created), ExpiresAt: at(3600)}
		if parent != nil {
			tok.ParentID = parent.ID
		}
		noErr(t, s.CreateAPIToken(ctx, tok), "CreateAPIToken("+name+")")
		return tok
	}
	laptop := token("laptop", 0, nil)
	other := token("other", 1, nil)
	ci := token("ci", 2, laptop)
	nightly := token("nightly", 3, ci)
	deploy := token("deploy", 4, laptop)
	sibling := token("sibling", 5, other)
	got, err := s.DeleteAPIToken(ctx, laptop.ID)
	noErr(t, err, "DeleteAPIToken(laptop)")
	diff(t, "laptop's offspring, oldest first", []*store.APIToken{ci, nightly, deploy}, got)
	left, err := s.ListAPITokens(ctx, store.ActorUser, "ada@example.com")
	noErr(t, err, "ListAPITokens")
	diff(t, "the tokens left", []*store.APIToken{other, sibling}, left)
}

// testPersonRevokeTakesOffspring: revoking a person's access deletes
// the offspring of their tokens with them, also one another owns (which
// the store does not forbid), so that no token is left whose creator is
// gone; the other owner's other tokens stay.
func testPersonRevokeTakesOffspring(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	token := func(name, owner string, created int, parent *store.APIToken) *store.APIToken {
		tok := &store.APIToken{Name: name, Hash: "h-" + name, Role: "admin", OwnerType: store.ActorUser, OwnerLogin: owner,
			CreatedAt: at(created), ExpiresAt: at(3600)}
		if parent != nil {
			tok.ParentID = parent.ID
		}
		noErr(t, s.CreateAPIToken(ctx, tok), "CreateAPIToken("+name+")")
		return tok
	}
	laptop := token("laptop", "ada@example.com", 0, nil)
	handed := token("handed", "bob@example.com", 1, laptop)
	nightly := token("nightly", "bob@example.com", 2, handed)
	bobs := token("bobs", "bob@example.com", 3, nil)
	_, got, _, err := s.DeletePersonAccess(ctx, "ada@example.com")
	noErr(t, err, "DeletePersonAccess(ada)")
	diff(t, "the tokens ada's revoke deleted", []*store.APIToken{laptop, handed, nightly}, got)
	left, err := s.ListAPITokens(ctx, "", "")
	noErr(t, err, "ListAPITokens")
	diff(t, "the tokens left", []*store.APIToken{bobs}, left)
}

// testTokenRevokeRacesOffspring: a token created with one of the tokens a
// revoke deletes, in another transaction while the revoke holds them, is
// refused; one whose creator held its creator before the revoke came is
// deleted with the rest. Either way none outlives the revoke.
func testTokenRevokeRacesOffspring(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	n := 0
	token := func(name string, parent *store.APIToken) *store.APIToken {
		n++
		tok := &store.APIToken{Name: name, Hash: "h-" + name, Role: "admin", OwnerType: store.ActorUser, OwnerLogin: "ada@example.com",
			CreatedAt: at(n), ExpiresAt: at(3600)}
		if parent != nil {
			tok.ParentID = parent.ID
		}
		return tok
	}
	create := func(tok *store.APIToken) *store.APIToken {
		noErr(t, s1.CreateAPIToken(ctx, tok), "CreateAPIToken("+tok.Name+")")
		return tok
	}
	other := create(token("other", nil))

	// Tokens created with the revoked token and with its child while the
	// revoke holds them.
	laptop := create(token("laptop", nil))
	ci := create(token("ci", laptop))
	refused := make(chan error, 2)
	during := store.WithLocked(ctx, func() {
		for _, tok := range []*store.APIToken{token("by-laptop", laptop), token("by-ci", ci)} {
			go func() { refused <- s2.CreateAPIToken(ctx, tok) }()
		}
	})
	got, err := s1.DeleteAPIToken(during, laptop.ID)
	noErr(t, err, "DeleteAPIToken(laptop)")
	diff(t, "laptop's offspring", []*store.APIToken{ci}, got)
	for range 2 {
		wantErr(t, <-refused, store.ErrRevoked, "CreateAPIToken during the revoke of its creator")
	}

	// A revoke started while a token's creator is held by its creation.
	phone := create(token("phone", nil))
	deploy := create(token("deploy", phone))
	late := token("late", deploy)
	type result struct {
		offspring []*store.APIToken
		err       error
	}
	revoked := make(chan result, 1)
	creating := store.WithLocked(ctx, func() {
		go func() {
			off, err := s2.DeleteAPIToken(ctx, phone.ID)
			revoked <- result{off, err}
		}()
	})
	noErr(t, s1.CreateAPIToken(creating, late), "CreateAPIToken(late)")
	r := <-revoked
	noErr(t, r.err, "DeleteAPIToken(phone)")
	diff(t, "phone's offspring", []*store.APIToken{deploy, late}, r.offspring)

	left, err := s1.ListAPITokens(ctx, store.ActorUser, "ada@example.com")
	noErr(t, err, "ListAPITokens")
	diff(t, "the tokens left after the revokes", []*store.APIToken{other}, left)
}

// testPersonSubject: a sign-in's session or token binds its login
// (ignoring case) to the identity provider's subject when the login is
// bound to none, a sign-in with another subject is refused and creates
// nothing, a login stored before (no binding) is bound by its next
// sign-in, and a revoke forgets the binding. Of concurrent sign-ins with
// two subjects, on two handles, those of one subject alone succeed.
func testPersonSubject(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	ada := store.Actor{Type: store.ActorUser, Login: "ada@example.com"}
	session := func(id, login, signIn, subject string) *store.Session {
		return &store.Session{ID: id, Actor: store.Actor{Type: store.ActorUser, Login: login}, Role: "admin", CSRF: "c",
			SignIn: signIn, Subject: subject, CreatedAt: at(0), ExpiresAt: at(3600), LastSeen: at(0)}
	}
	token := func(hash, login, signIn, subject string) *store.APIToken {
		return &store.APIToken{Name: hash, Hash: hash, Role: "admin", OwnerType: store.ActorUser, OwnerLogin: login,
			SignIn: signIn, Subject: subject, CreatedAt: at(0), ExpiresAt: at(3600)}
	}
	signIn := func(id string) string {
		noErr(t, s1.StartSignIn(ctx, id, at(600)), "StartSignIn")
		return id
	}

	// Stored before subjects were kept: a session and a token of ada,
	// bound to nobody.
	noErr(t, s1.CreateSession(ctx, session("s-old", ada.Login, "", "")), "CreateSession(before subjects)")
	noErr(t, s1.CreateAPIToken(ctx, token("h-old", ada.Login, "", "")), "CreateAPIToken(before subjects)")
	_, err := s1.PersonBinding(ctx, ada.Login)
	wantErr(t, err, store.ErrNotFound, "PersonBinding(ada, never signed in with a subject)")

	// Her next sign-in binds the login; another with the same subject and
	// other capitals is hers.
	noErr(t, s1.CreateSession(ctx, session("s-ada", "Ada@Example.com", signIn("si-1"), "sub-ada")), "CreateSession(ada's sign-in)")
	for _, h := range []store.Store{s1, s2} {
		b, err := h.PersonBinding(ctx, "ADA@example.com")
		noErr(t, err, "PersonBinding(ada)")
		diff(t, "ada's binding", &store.PersonBinding{Login: "Ada@Example.com", Subject: "sub-ada", BoundAt: at(0)}, b)
	}
	noErr(t, s2.CreateAPIToken(ctx, token("h-ada", "ADA@example.com", signIn("si-2"), "sub-ada")), "CreateAPIToken(ada's cardflow login)")
	all, err := s2.ListPersonBindings(ctx)
	noErr(t, err, "ListPersonBindings")
	diff(t, "the bindings", []*store.PersonBinding{{Login: "Ada@Example.com", Subject: "sub-ada", BoundAt: at(0)}}, all)

	// Another account claiming her login gets neither a session nor a
	// token, on either handle.
	wantErr(t, s2.CreateSession(ctx, session("s-mallory", ada.Login, signIn("si-3"), "sub-mallory")), store.ErrSubjectTaken, "CreateSession(another subject)")
	wantErr(t, s1.CreateAPIToken(ctx, token("h-mallory", "ada@EXAMPLE.com", signIn("si-4"), "sub-mallory")), store.ErrSubjectTaken, "CreateAPIToken(another subject)")
	_, err = s1.GetSession(ctx, "s-mallory")
	wantErr(t, err, store.ErrNotFound, "GetSession(the refused session)")
	_, err = s1.GetAPITokenByHash(ctx, "h-mallory")
	wantErr(t, err, store.ErrNotFound, "GetAPITokenByHash(the refused token)")
	if b, err := s1.PersonBinding(ctx, ada.Login); err != nil || b.Subject != "sub-ada" {
		t.Errorf("PersonBinding(ada) after the refusals = %+v, %v; want sub-ada", b, err)
	}
	// What is created without a sign-in (a token made with a session)
	// binds nothing and is refused by nothing.
	noErr(t, s1.CreateAPIToken(ctx, &store.APIToken{Name: "ci", Hash: "h-ci", Role: "admin", OwnerType: store.ActorUser, OwnerLogin: ada.Login,
		SessionID: "s-ada", Subject: "sub-other", CreatedAt: at(1), ExpiresAt: at(3600)}), "CreateAPIToken(with ada's session)")

	// A revoke forgets the binding, with nothing else held as well, and
	// returns it: the next sign-in binds the login anew.
	_, _, forgot, err := s2.DeletePersonAccess(ctx, ada.Login)
	noErr(t, err, "DeletePersonAccess(ada)")
	diff(t, "the binding the revoke forgot", &store.PersonBinding{Login: "Ada@Example.com", Subject: "sub-ada", BoundAt: at(0)}, forgot)
	_, err = s1.PersonBinding(ctx, ada.Login)
	wantErr(t, err, store.ErrNotFound, "PersonBinding(ada) after the revoke")
	noErr(t, s1.CreateSession(ctx, session("s-new", ada.Login, signIn("si-5"), "sub-new")), "CreateSession(a new account after the revoke)")
	n, toks, forgot, err := s1.DeletePersonAccess(ctx, ada.Login)
	noErr(t, err, "DeletePersonAccess(ada, again)")
	if n != 1 || len(toks) != 0 || forgot == nil || forgot.Subject != "sub-new" {
		t.Errorf("the second revoke ended %d sessions, %d tokens, forgot %+v; want 1, 0, sub-new", n, len(toks), forgot)
	}
	n, toks, forgot, err = s1.DeletePersonAccess(ctx, ada.Login)
	noErr(t, err, "DeletePersonAccess(ada, holding nothing)")
	if n != 0 || len(toks) != 0 || forgot != nil {
		t.Errorf("a revoke of nothing ended %d sessions, %d tokens, forgot %+v; want nothing", n, len(toks), forgot)
	}
	_, err = s1.PersonBinding(ctx, ada.Login)
	wantErr(t, err, store.ErrNotFound, "PersonBinding(ada) after the second revoke")

	// A sign-in begun while a revoke holds what it locks (after it
	// marked the sign-ins in flight) binds the login before the revoke's
	// delete, which returns the binding, or after it, which leaves it:
	// the revoke returns the binding if and only if it removed it.
	signedIn := make(chan error, 1)
	revoking := store.WithLocked(ctx, func() {
		go func() {
			err := s1.StartSignIn(ctx, "si-6", at(600))
			if err == nil {
				err = s1.CreateSession(ctx, session("s-during", ada.Login, "si-6", "sub-during"))
			}
			signedIn <- err
		}()
	})
	_, _, forgot, err = s2.DeletePersonAccess(revoking, ada.Login)
	noErr(t, err, "DeletePersonAccess(ada, while she signs in)")
	noErr(t, <-signedIn, "CreateSession(ada, while she is revoked)")
	left, err := s1.PersonBinding(ctx, ada.Login)
	if errors.Is(err, store.ErrNotFound) {
		left, err = nil, nil
	}
	noErr(t, err, "PersonBinding(ada) after a revoke during her sign-in")
	if (forgot == nil) == (left == nil) || forgot != nil && forgot.Subject != "sub-during" || left != nil && left.Subject != "sub-during" {
		t.Errorf("a revoke during a sign-in returned the binding %+v and left %+v; want the sign-in's, in one of them", forgot, left)
	}

	// Two accounts signing in as bo at once: one subject wins.
	const races = 16
	ids := make([]string, races)
	for i := range ids {
		ids[i] = signIn(fmt.Sprintf("si-bo-%d", i))
	}
	var won [2]atomic.Int32
	parallel(races, func(i int) {
		sub := fmt.Sprintf("sub-bo-%d", i%2)
		var err error
		if i%4 < 2 {
			err = alternate(i/2, s1, s2).CreateSession(ctx, session(fmt.Sprintf("s-bo-%d", i), "bo@example.com", ids[i], sub))
		} else {
			err = alternate(i/2, s1, s2).CreateAPIToken(ctx, token(fmt.Sprintf("h-bo-%d", i), "BO@example.com", ids[i], sub))
		}
		switch {
		case err == nil:
			won[i%2].Add(1)
		case !errors.Is(err, store.ErrSubjectTaken):
			t.Errorf("sign-in %d of %s: %v; want nil or ErrSubjectTaken", i, sub, err)
		}
	})
	bo, err := s2.PersonBinding(ctx, "bo@example.com")
	noErr(t, err, "PersonBinding(bo)")
	sub := bo.Subject
	winner := 0
	if sub == "sub-bo-1" {
		winner = 1
	}
	if got := [2]int32{won[0].Load(), won[1].Load()}; got[winner] != races/2 || got[1-winner] != 0 || sub != fmt.Sprintf("sub-bo-%d", winner) {
		t.Errorf("concurrent sign-ins of bo: %v succeeded by subject, bound to %q; want all of one subject's (%d), none of the other's", got, sub, races/2)
	}
}

// testPersonBindingIssuer: a login is bound to the subject and the issuer
// of its first sign-in. A sign-in from another issuer is refused with an
// IssuerChangedError naming both, whatever its subject (subjects are
// unique only within an issuer), and creates nothing; one from the same
// issuer with another subject is refused as before. A binding of no
// issuer (made before issuers were kept) refuses another subject as
// before, and the first sign-in with its subject fills in its issuer.
func testPersonBindingIssuer(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	const oldIdP, newIdP = "https://old.example.com", "https://new.example.com/oauth2/default"
	session := func(id, login, signIn, subject, issuer string, sec int) *store.Session {
		return &store.Session{ID: id, Actor: store.Actor{Type: store.ActorUser, Login: login}, Role: "admin", CSRF: "c",
			SignIn: signIn, Subject: subject, Issuer: issuer, CreatedAt: at(sec), ExpiresAt: at(sec + 3600), LastSeen: at(sec)}
	}
	token := func(hash, login, signIn, subject, issuer string, sec int) *store.APIToken {
		return &store.APIToken{Name: hash, Hash: hash, Role: "admin", OwnerType: store.ActorUser, OwnerLogin: login,
			SignIn: signIn, Subject: subject, Issuer: issuer, CreatedAt: at(sec), ExpiresAt: at(sec + 3600)}
	}
	signIn := func(id string) string {
		noErr(t, s1.StartSignIn(ctx, id, at(600)), "StartSignIn")
		return id
	}
	binding := func(h store.Store, login string) *store.PersonBinding {
		t.Helper()
		b, err := h.PersonBinding(ctx, login)
		noErr(t, err, "PersonBinding("+login+")")
		return b
	}
	issuerChanged := func(err error, bound, issuer, what string) {
		t.Helper()
		var ice *store.IssuerChangedError
		if !errors.As(err, &ice) || !errors.Is(err, store.ErrSubjectTaken) {
			t.Fatalf("%s: err = %v; want an IssuerChangedError, which is ErrSubjectTaken", what, err)
		}
		if ice.Bound != bound || ice.Issuer != issuer || store.FoldCase(ice.Login) != store.FoldCase("ada@example.com") {
			t.Errorf("%s: %+v; want ada bound at %s, the sign-in from %s", what, ice, bound, issuer)
		}
	}
	subjectTaken := func(err error, what string) {
		t.Helper()
		var ice *store.IssuerChangedError
		if !errors.Is(err, store.ErrSubjectTaken) || errors.As(err, &ice) {
			t.Fatalf("%s: err = %v; want ErrSubjectTaken of another subject, not of another issuer", what, err)
		}
	}

	// Bound before issuers were kept: a subject, no issuer.
	noErr(t, s1.CreateSession(ctx, session("s-0", "ada@example.com", signIn("si-0"), "sub-ada", "", 0)), "CreateSession(before issuers)")
	diff(t, "the binding made before issuers were kept", &store.PersonBinding{Login: "ada@example.com", Subject: "sub-ada", BoundAt: at(0)}, binding(s2, "ada@example.com"))
	// Another subject is refused as before, and leaves the issuer unknown.
	subjectTaken(s2.CreateSession(ctx, session("s-x", "ada@example.com", signIn("si-x"), "sub-mallory", oldIdP, 10)), "another subject, the binding's issuer unknown")
	// Her own subject fills in the issuer of her sign-in; the binding
	// keeps its time.
	noErr(t, s2.CreateAPIToken(ctx, token("h-1", "ADA@example.com", signIn("si-1"), "sub-ada", oldIdP, 20)), "CreateAPIToken(her subject)")
	want := &store.PersonBinding{Login: "ada@example.com", Subject: "sub-ada", Issuer: oldIdP, BoundAt: at(0)}
	diff(t, "the binding after her sign-in", want, binding(s1, "ada@example.com"))
	noErr(t, s1.CreateSession(ctx, session("s-2", "ada@example.com", signIn("si-2"), "sub-ada", oldIdP, 30)), "CreateSession(her subject, her issuer)")

	// The server moved to another identity provider: her sign-ins there
	// are refused whether the subject is hers (the same org behind
	// another authorization server) or not, and create nothing.
	issuerChanged(s2.CreateSession(ctx, session("s-3", "ada@example.com", signIn("si-3"), "sub-ada", newIdP, 40)), oldIdP, newIdP, "CreateSession(her subject at another issuer)")
	issuerChanged(s1.CreateAPIToken(ctx, token("h-4", "Ada@Example.com", signIn("si-4"), "sub-new", newIdP, 50)), oldIdP, newIdP, "CreateAPIToken(another subject at another issuer)")
	_, err := s1.GetSession(ctx, "s-3")
	wantErr(t, err, store.ErrNotFound, "GetSession(the refused session)")
	_, err = s1.GetAPITokenByHash(ctx, "h-4")
	wantErr(t, err, store.ErrNotFound, "GetAPITokenByHash(the refused token)")
	// Another subject at her issuer is refused as before.
	subjectTaken(s2.CreateAPIToken(ctx, token("h-5", "ada@example.com", signIn("si-5"), "sub-mallory", oldIdP, 60)), "another subject at her issuer")
	diff(t, "the binding after the refusals", want, binding(s2, "ada@example.com"))

	// A revoke forgets it; the next sign-in binds the login at the new
	// issuer, which refuses the old one.
	_, _, _, err = s1.DeletePersonAccess(ctx, "ada@example.com")
	noErr(t, err, "DeletePersonAccess(ada)")
	noErr(t, s2.CreateSession(ctx, session("s-6", "ada@example.com", signIn("si-6"), "sub-new", newIdP, 70)), "CreateSession(at the new issuer after the revoke)")
	all, err := s1.ListPersonBindings(ctx)
	noErr(t, err, "ListPersonBindings")
	diff(t, "the binding at the new issuer", []*store.PersonBinding{{Login: "ada@example.com", Subject: "sub-new", Issuer: newIdP, BoundAt: at(70)}}, all)
	issuerChanged(s1.CreateSession(ctx, session("s-7", "ada@example.com", signIn("si-7"), "sub-ada", oldIdP, 80)), newIdP, oldIdP, "CreateSession(at the old issuer)")
}

// testSignInLowersRole: a sign-in (a session or a token with SignIn)
// lowers the person's other live sessions and tokens above its role to
// it, in the transaction that stores it, and says what it lowered; it
// raises none, and leaves expired ones, other people's, the bootstrap
// admin's and what a session or token creates without a sign-in alone.
func testSignInLowersRole(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	session := func(id, login, role, signIn string, ends int) *store.Session {
		if signIn != "" {
			noErr(t, s.StartSignIn(ctx, signIn, at(6000)), "StartSignIn")
		}
		return &store.Session{ID: id, Actor: store.Actor{Type: store.ActorUser, Login: login}, Role: role, CSRF: "c",
			SignIn: signIn, Subject: "sub-" + strings.ToLower(login), CreatedAt: at(0), ExpiresAt: at(ends), LastSeen: at(0)}
	}
	token := func(name, login, role, signIn string, ends int) *store.APIToken {
		if signIn != "" {
			noErr(t, s.StartSignIn(ctx, signIn, at(6000)), "StartSignIn")
		}
		tok := &store.APIToken{Name: name, Hash: "h-" + login + "-" + name, Role: role, OwnerType: store.ActorUser, OwnerLogin: login,
			SignIn: signIn, Subject: "sub-" + strings.ToLower(login), CreatedAt: at(0), ExpiresAt: at(ends)}
		if login == "" {
			tok.OwnerType, tok.Subject = store.ActorBootstrap, ""
		}
		return tok
	}
	for _, ss := range []*store.Session{
		session("s-admin", "ada@example.com", "admin", "", 3600),
		session("s-operator", "ada@example.com", "operator", "", 3600),
		session("s-expired", "ada@example.com", "admin", "", 100),
		session("s-bob", "bob@example.com", "admin", "", 3600),
	} {
		noErr(t, s.CreateSession(ctx, ss), "CreateSession("+ss.ID+")")
		if ss.Lowered.Any() {
			t.Errorf("CreateSession(%s) without a sign-in lowered %+v; want nothing", ss.ID, ss.Lowered)
		}
	}
	tokens := map[string]*store.APIToken{}
	for _, tok := range []*store.APIToken{
		token("ci", "ada@example.com", "admin", "", 3600),
		token("read", "ada@example.com", "viewer", "", 3600),
		token("old", "ada@example.com", "admin", "", 100),
		token("bob", "bob@example.com", "admin", "", 3600),
		token("boot", "", "admin", "", 3600),
	} {
		noErr(t, s.CreateAPIToken(ctx, tok), "CreateAPIToken("+tok.Name+")")
		tokens[tok.Name] = tok
	}
	roles := func() map[string]string {
		out := map[string]string{}
		for _, id := range []string{"s-admin", "s-operator", "s-expired", "s-bob", "s-signin"} {
			if ss, err := s.GetSession(ctx, id); err == nil {
				out[id] = ss.Role
			}
		}
		for name, tok := range tokens {
			got, err := s.GetAPIToken(ctx, tok.ID)
			noErr(t, err, "GetAPIToken("+name+")")
			out[name] = got.Role
		}
		return out
	}

	// Ada signs in to the console as an operator now (her login in other
	// capitals), at 200 s: her admin session and token become operator's.
	in := session("s-signin", "Ada@Example.com", "operator", "si-1", 3600)
	in.CreatedAt = at(200)
	noErr(t, s.CreateSession(ctx, in), "CreateSession(ada's sign-in as an operator)")
	diff(t, "what the console sign-in lowered", store.RoleLowered{Sessions: 1, Tokens: []string{"ci"}}, in.Lowered)
	diff(t, "roles after the console sign-in", map[string]string{
		"s-admin": "operator", "s-operator": "operator", "s-expired": "admin", "s-bob": "admin", "s-signin": "operator",
		"ci": "operator", "read": "viewer", "old": "admin", "bob": "admin", "boot": "admin",
	}, roles())

	// cardflow login as a viewer: every live session of hers and the
	// operator token become viewer's; the new token is not counted.
	cli := token("cardflow login", "ADA@example.com", "viewer", "si-2", 3600)
	cli.CreatedAt = at(300)
	noErr(t, s.CreateAPIToken(ctx, cli), "CreateAPIToken(ada's cardflow login as a viewer)")
	tokens["cardflow login"] = cli
	diff(t, "what cardflow login lowered", store.RoleLowered{Sessions: 3, Tokens: []string{"ci"}}, cli.Lowered)

	// Back in the admins' group: a sign-in raises nothing.
	again := session("s-again", "ada@example.com", "admin", "si-3", 3600)
	again.CreatedAt = at(400)
	noErr(t, s.CreateSession(ctx, again), "CreateSession(ada's sign-in as an admin)")
	if again.Lowered.Any() {
		t.Errorf("a sign-in as an admin lowered %+v; want nothing", again.Lowered)
	}
	diff(t, "roles after signing in as a viewer, then as an admin", map[string]string{
		"s-admin": "viewer", "s-operator": "viewer", "s-expired": "admin", "s-bob": "admin", "s-signin": "viewer",
		"ci": "viewer", "read": "viewer", "old": "admin", "bob": "admin", "boot": "admin", "cardflow login": "viewer",
	}, roles())
}

// testDeleteBoundPersonAccess: the access of a login ends for a sign-in
// of the account it is bound to (at its issuer, or at any for a binding
// made before issuers were kept) and is left whole for another account,
// another issuer, or a login bound to none.
func testDeleteBoundPersonAccess(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	const iss = "https://idp.example.com"
	signIn := func(login, subject, issuer string) {
		id := "si-" + login + subject + issuer
		noErr(t, s.StartSignIn(ctx, id, at(6000)), "StartSignIn")
		noErr(t, s.CreateSession(ctx, &store.Session{ID: "s-" + id, Actor: store.Actor{Type: store.ActorUser, Login: login}, Role: "operator", CSRF: "c",
			SignIn: id, Subject: subject, Issuer: issuer, CreatedAt: at(0), ExpiresAt: at(3600), LastSeen: at(0)}), "CreateSession("+login+")")
		noErr(t, s.CreateAPIToken(ctx, &store.APIToken{Name: "cli", Hash: "h-" + id, Role: "operator", OwnerType: store.ActorUser, OwnerLogin: login,
			CreatedAt: at(0), ExpiresAt: at(3600)}), "CreateAPIToken("+login+")")
	}
	signIn("ada@example.com", "sub-ada", iss)
	signIn("old@example.com", "sub-old", "")
	// A login holding a session, bound to no account.
	noErr(t, s.CreateSession(ctx, &store.Session{ID: "s-nobody", Actor: store.Actor{Type: store.ActorUser, Login: "nobody@example.com"}, Role: "viewer", CSRF: "c",
		CreatedAt: at(0), ExpiresAt: at(3600), LastSeen: at(0)}), "CreateSession(nobody)")

	left := func(login string, sessions, tokens int) {
		t.Helper()
		ss, err := s.ListSessionsOf(ctx, store.Actor{Type: store.ActorUser, Login: login})
		noErr(t, err, "ListSessionsOf("+login+")")
		toks, err := s.ListAPITokens(ctx, store.ActorUser, login)
		noErr(t, err, "ListAPITokens("+login+")")
		if len(ss) != sessions || len(toks) != tokens {
			t.Errorf("%s holds %d sessions, %d tokens; want %d, %d", login, len(ss), len(toks), sessions, tokens)
		}
	}
	for _, c := range []struct{ login, subject, issuer string }{
		{"ada@example.com", "sub-riley", iss},
		{"ADA@example.com", "sub-ada", "https://other.example.com"},
		{"ada@example.com", "sub-ada", ""},
	} {
		_, _, _, err := s.DeleteBoundPersonAccess(ctx, c.login, c.subject, c.issuer)
		wantErr(t, err, store.ErrSubjectTaken, fmt.Sprintf("DeleteBoundPersonAccess(%s, %s, %q)", c.login, c.subject, c.issuer))
	}
	left("ada@example.com", 1, 1)
	_, _, _, err := s.DeleteBoundPersonAccess(ctx, "nobody@example.com", "sub-nobody", iss)
	wantErr(t, err, store.ErrNotFound, "DeleteBoundPersonAccess(a login bound to none)")
	left("nobody@example.com", 1, 0)

	n, toks, b, err := s.DeleteBoundPersonAccess(ctx, "Ada@Example.com", "sub-ada", iss)
	noErr(t, err, "DeleteBoundPersonAccess(ada, her subject and issuer)")
	if n != 1 || len(toks) != 1 || b == nil || b.Subject != "sub-ada" || b.Issuer != iss {
		t.Errorf("DeleteBoundPersonAccess(ada) = %d, %d tokens, binding %+v; want 1, 1, hers", n, len(toks), b)
	}
	left("ada@example.com", 0, 0)
	if _, err := s.PersonBinding(ctx, "ada@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ada's binding after DeleteBoundPersonAccess: %v; want ErrNotFound", err)
	}
	// A binding made before issuers were kept: the subject at any issuer.
	n, toks, _, err = s.DeleteBoundPersonAccess(ctx, "old@example.com", "sub-old", iss)
	noErr(t, err, "DeleteBoundPersonAccess(a binding without an issuer)")
	if n != 1 || len(toks) != 1 {
		t.Errorf("DeleteBoundPersonAccess(old) = %d, %d tokens; want 1, 1", n, len(toks))
	}
}
