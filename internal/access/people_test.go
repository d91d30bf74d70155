package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st := sqlitetest.Open(t)
	return st
}

func user(login string, role Role) Principal {
	return Principal{Actor: store.Actor{Type: store.ActorUser, Login: login}, Role: role}
}

func TestPeopleList(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	tokens := &Tokens{Store: st, Now: clock}
	people := &People{Store: st, Now: clock, IdleTimeout: time.Hour}
	session := func(id, login, name string, role Role, created, seen time.Duration) {
		t.Helper()
		if err := st.CreateSession(ctx, &store.Session{ID: id, Actor: store.Actor{Type: store.ActorUser, Login: login}, Name: name, Role: string(role),
			CreatedAt: t0.Add(created), ExpiresAt: t0.Add(created + 12*time.Hour), LastSeen: t0.Add(seen)}); err != nil {
			t.Fatal(err)
		}
	}
	// Ada signed in as an admin twice (her newest session's role counts:
	// she was an operator when she signed in first), and made a token.
	session("ada-1", "ada@example.com", "Ada", Operator, 0, 10*time.Minute)
	session("ada-2", "ada@example.com", "Ada Admin", Admin, 5*time.Minute, 20*time.Minute)
	now = t0.Add(30 * time.Minute)
	adaCI, err := tokens.Create(ctx, user("ada@example.com", Admin), "ci", Viewer, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Bob has only tokens (cardflow login's and a weaker one it made);
	// his session sat idle past the timeout, Carol's token expired, and
	// the bootstrap admin is nobody's person.
	bobCLI, err := tokens.Create(ctx, user("bob@example.com", Operator), "cardflow login", "", 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	bobP := bobCLI.APIToken
	if _, err := tokens.Create(ctx, Principal{Actor: store.Actor{Type: store.ActorToken, Login: "bob@example.com", TokenName: bobP.Name},
		Role: Operator, TokenID: bobP.ID, ExpiresAt: bobP.ExpiresAt}, "dashboard", Viewer, time.Hour); err != nil {
		t.Fatal(err)
	}
	session("bob-idle", "bob@example.com", "Bob", Operator, 0, 0)
	if _, err := tokens.Create(ctx, user("carol@example.com", Viewer), "old", "", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Create(ctx, Bootstrap, "robot", "", 0); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(70 * time.Minute)
	if err := st.TouchAPIToken(ctx, bobP.ID, now); err != nil {
		t.Fatal(err)
	}
	enableFlow(t, st, "nightly", store.Actor{Type: store.ActorUser, Login: "bob@example.com"}, true)
	enableFlow(t, st, "Offboard", store.Actor{Type: store.ActorToken, Login: "Bob@Example.com", TokenName: "ci"}, true)
	enableFlow(t, st, "paused", store.Actor{Type: store.ActorUser, Login: "bob@example.com"}, false)

	got, err := people.List(ctx, user("ada@example.com", Admin))
	if err != nil {
		t.Fatal(err)
	}
	want := []*Person{
		{Login: "bob@example.com", Role: Operator, Tokens: 2, SoonestExpiry: t0.Add(90 * time.Minute), LatestExpiry: t0.Add(30*time.Minute + 48*time.Hour),
			LastActivity: t0.Add(70 * time.Minute), EnabledFlows: []string{"nightly", "Offboard"}},
		{Login: "ada@example.com", Name: "Ada Admin", Role: Admin, Sessions: 2, LastSeen: t0.Add(20 * time.Minute), Tokens: 1,
			SoonestExpiry: adaCI.ExpiresAt, LatestExpiry: adaCI.ExpiresAt, LastActivity: t0.Add(30 * time.Minute)},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("List (-want +got):\n%s", d)
	}

	if _, err := people.List(ctx, user("bob@example.com", Operator)); problem.CodeOf(err) != problem.Forbidden {
		t.Errorf("an operator listing people: %v; want forbidden", err)
	}
}

func TestPeopleRevoke(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tokens := &Tokens{Store: st, Now: clock}
	people := &People{Store: st, Now: clock}
	admin := user("ada@example.com", Admin)
	for _, login := range []string{"ada@example.com", "bob@example.com"} {
		if err := st.CreateSession(ctx, &store.Session{ID: "s-" + login, Actor: store.Actor{Type: store.ActorUser, Login: login}, Role: "admin",
			CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeen: now}); err != nil {
			t.Fatal(err)
		}
	}
	bobCLI, err := tokens.Create(ctx, user("bob@example.com", Admin), "cardflow login", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	// A token Bob's token made: revoked with the rest of his. A minute
	// later, so that the tokens' order (oldest first) is not that of their
	// random ids.
	now = now.Add(time.Minute)
	bobCI, err := tokens.Create(ctx, Principal{Actor: store.Actor{Type: store.ActorToken, Login: "bob@example.com", TokenName: "cardflow login"},
		Role: Admin, TokenID: bobCLI.ID, ExpiresAt: bobCLI.ExpiresAt}, "ci", "", 0)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		p     Principal
		login string
		self  bool
		code  problem.Code
	}{
		{"an operator", user("op@example.com", Operator), "bob@example.com", false, problem.Forbidden},
		{"no login", admin, "", false, problem.InvalidInput},
		{"oneself", admin, "ada@example.com", false, problem.Conflict},
		{"oneself with a token", Principal{Actor: store.Actor{Type: store.ActorToken, Login: "ada@example.com", TokenName: "x"}, Role: Admin, TokenID: "x"},
			"ada@example.com", false, problem.Conflict},
		{"oneself, in another case", admin, "Ada@Example.com", false, problem.Conflict},
		{"nobody", admin, "nobody@example.com", false, problem.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := people.Revoke(ctx, tt.p, tt.login, tt.self); problem.CodeOf(err) != tt.code {
				t.Errorf("Revoke(%q): %v; want %s", tt.login, err, tt.code)
			}
		})
	}
	if ss, err := st.ListSessionsOf(ctx, store.Actor{Type: store.ActorUser}); err != nil || len(ss) != 2 {
		t.Fatalf("after the refused revocations: %d sessions, %v; want both kept", len(ss), err)
	}

	enableFlow(t, st, "nightly", store.Actor{Type: store.ActorUser, Login: "bob@example.com"}, true)
	// Logins compare ignoring case, as Okta's do.
	got, err := people.Revoke(ctx, admin, "Bob@Example.com", false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.EnabledFlows, []string{"nightly"}) {
		t.Errorf("Revoke(bob) names the flows he enabled as %v; want [nightly], which keeps running as him", got.EnabledFlows)
	}
	if got.Login != "Bob@Example.com" || got.Sessions != 1 || len(got.Tokens) != 2 || got.Tokens[0].ID != bobCLI.ID || got.Tokens[1].ID != bobCI.ID {
		t.Errorf("Revoke(bob) = %+v; want his session and both his tokens", got)
	}
	for _, secret := range []string{bobCLI.Token, bobCI.Token} {
		if _, err := tokens.Authenticate(ctx, secret); !errors.Is(err, ErrBadToken) {
			t.Errorf("a revoked token authenticates: %v; want ErrBadToken", err)
		}
	}
	if _, err := people.Revoke(ctx, admin, "bob@example.com", false); problem.CodeOf(err) != problem.NotFound {
		t.Errorf("revoking bob again: %v; want not found", err)
	}
	// Bob holds nothing now, but his flow still acts as him: the listing
	// says so, where he vanished from it.
	all, err := people.ListAll(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if want := []FlowsActingAs{{Login: "bob@example.com", EnabledFlows: []string{"nightly"}}}; !cmp.Equal(all.FlowsWithoutAccess, want) ||
		slices.ContainsFunc(all.People, func(p *Person) bool { return p.Login == "bob@example.com" }) {
		t.Errorf("after the revoke: people %v, flows without access %+v; want bob only among the latter, with %+v", all.People, all.FlowsWithoutAccess, want)
	}
	enableFlow(t, st, "nightly", store.Actor{Type: store.ActorUser, Login: "ada@example.com"}, true)
	if all, err := people.ListAll(ctx, admin); err != nil || len(all.FlowsWithoutAccess) != 0 {
		t.Errorf("after ada enabled bob's flow again: %+v, %v; want no flow without access", all, err)
	}
	got, err = people.Revoke(ctx, admin, "ada@example.com", true)
	if err != nil || got.Sessions != 1 {
		t.Errorf("an admin revoking herself, confirmed: %+v, %v; want her session ended", got, err)
	}
}

// A request authenticated just before its person's access was revoked
// (a console session's, a token's) creates no token after it.
func TestRevokeRefusesTokensOfRevokedCreators(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tokens := &Tokens{Store: st, Now: func() time.Time { return now }}
	people := &People{Store: st, Now: func() time.Time { return now }}
	ada := user("ada@example.com", Admin)
	if err := st.CreateSession(ctx, &store.Session{ID: "ada-laptop", Actor: ada.Actor, Role: string(Admin), CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	onConsole := ada
	onConsole.SessionID = "ada-laptop"
	cli, err := tokens.Create(ctx, onConsole, "cardflow login", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	withToken, err := tokens.Authenticate(ctx, cli.Token)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := people.Revoke(ctx, Bootstrap, ada.Actor.Login, false); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]Principal{"on the console": onConsole, "with a token": withToken} {
		_, err := tokens.Create(ctx, p, "late", "", 0)
		if problem.CodeOf(err) != problem.Unauthenticated || !strings.Contains(err.Error(), "revoked") {
			t.Errorf("creating a token %s after the revoke: %v; want it refused as revoked", name, err)
		}
	}
	if left, err := st.ListAPITokens(ctx, store.ActorUser, ada.Actor.Login); err != nil || len(left) != 0 {
		t.Errorf("ada's tokens after the revoke: %d, %v; want none", len(left), err)
	}
}

// enableFlow stores a scheduled flow name, enabled (or not) by who.
func enableFlow(t *testing.T, st store.Store, name string, who store.Actor, on bool) {
	t.Helper()
	trigger := []byte(`{"every":"1h0m0s","kind":"schedule","timezone":"UTC"}`)
	f := &store.Flow{Name: name, Source: []byte("name: " + name + "\n"), Trigger: trigger, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if _, err := st.PutFlow(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	if err := st.SetFlowEnabled(t.Context(), f.ID, trigger, on, time.Now().Add(time.Hour), who); err != nil {
		t.Fatal(err)
	}
}

// TestPeopleListOneLoginInTwoCases: sessions and tokens whose logins
// differ only in case (the login's capitals changed at the identity
// provider) are one person, as Revoke takes them, named by their newest
// session's login; they were listed as two, each with part of what
// revoking either ends.
func TestPeopleListOneLoginInTwoCases(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	people := &People{Store: st, Now: clock, IdleTimeout: time.Hour}
	for i, login := range []string{"Ada@Example.com", "ada@example.com"} {
		if err := st.CreateSession(ctx, &store.Session{ID: login, Actor: store.Actor{Type: store.ActorUser, Login: login}, Name: "Ada",
			Role: string(Admin), CreatedAt: t0.Add(time.Duration(i) * time.Minute), ExpiresAt: t0.Add(12 * time.Hour), LastSeen: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := (&Tokens{Store: st, Now: clock}).Create(ctx, user("ADA@example.com", Admin), "ci", "", 0); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(2 * time.Minute)
	got, err := people.List(ctx, user("bob@example.com", Admin))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Login != "ada@example.com" || got[0].Sessions != 2 || got[0].Tokens != 1 {
		var listed []Person
		for _, p := range got {
			listed = append(listed, *p)
		}
		t.Errorf("List = %+v; want one person, ada@example.com, with 2 sessions and 1 token", listed)
	}
}

// TestPeopleAgreeBeyondASCII: logins that differ only in case beyond ASCII
// (an accented capital; a Greek word ending in final sigma) are one person
// to the people list, to a revoke and to a person's own tokens, on SQLite
// as on PostgreSQL: the list folded case with strings.ToLower (which
// keeps σ and ς apart) and SQLite's lower() only ASCII letters, so that
// a revoke of ÉVA left éva's tokens and the list showed Odysseas twice.
func TestPeopleAgreeBeyondASCII(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tokens := &Tokens{Store: st, Now: clock}
	people := &People{Store: st, Now: clock}
	for _, login := range []string{"Éva@example.com", "ΟΔΥΣΣΕΑΣ@example.com"} {
		if err := st.CreateSession(ctx, &store.Session{ID: "s-" + login, Actor: store.Actor{Type: store.ActorUser, Login: login}, Role: string(Admin),
			CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeen: now}); err != nil {
			t.Fatal(err)
		}
	}
	eva := user("éva@example.com", Operator)
	evaCI, err := tokens.Create(ctx, eva, "ci", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Create(ctx, user("οδυσσεας@example.com", Viewer), "ci", "", 0); err != nil {
		t.Fatal(err)
	}

	got, err := people.List(ctx, Bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, p := range got {
		listed = append(listed, fmt.Sprintf("%s: %d session(s), %d token(s)", p.Login, p.Sessions, p.Tokens))
	}
	slices.Sort(listed)
	if want := []string{"Éva@example.com: 1 session(s), 1 token(s)", "ΟΔΥΣΣΕΑΣ@example.com: 1 session(s), 1 token(s)"}; !slices.Equal(listed, want) {
		t.Errorf("List = %q; want %q", listed, want)
	}

	// Éva, signed in as "Éva", lists and revokes the token she made as "éva".
	asEva := user("Éva@example.com", Operator)
	mine, err := tokens.List(ctx, asEva, false)
	if err != nil || len(mine) != 1 || mine[0].ID != evaCI.ID {
		t.Errorf("Éva's own tokens: %d, %v; want the token she made as éva", len(mine), err)
	}
	if _, _, err := tokens.Revoke(ctx, asEva, evaCI.ID); err != nil {
		t.Errorf("Éva revoking the token she made as éva: %v", err)
	}

	rev, err := people.Revoke(ctx, Bootstrap, "οδυσσεασ@EXAMPLE.COM", false)
	if err != nil {
		t.Fatal(err)
	}
	if rev.Sessions != 1 || len(rev.Tokens) != 1 {
		t.Errorf("revoking οδυσσεασ ended %d session(s) and %d token(s); want ΟΔΥΣΣΕΑΣ's session and οδυσσεας's token", rev.Sessions, len(rev.Tokens))
	}
	rev, err = people.Revoke(ctx, Bootstrap, "ÉVA@example.com", false)
	if err != nil || rev.Sessions != 1 {
		t.Errorf("revoking ÉVA: %+v, %v; want Éva's session ended", rev, err)
	}
	if left, err := people.List(ctx, Bootstrap); err != nil || len(left) != 0 {
		t.Errorf("people after the revokes: %d, %v; want none", len(left), err)
	}
}

// TestSubjectBinding: a sign-in's token binds its login to the sign-in's
// subject, which the people list shows; a sign-in of another subject as
// the login is refused with a forbidden problem naming the remedy; a
// revoke of a login that holds nothing but the binding forgets it, and
// one of a login bound to nobody that holds nothing is not found.
func TestSubjectBinding(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tokens := &Tokens{Store: st, Now: clock}
	people := &People{Store: st, Now: clock}
	admin := user("root@example.com", Admin)
	signIn := func(subject string) Principal {
		t.Helper()
		id, err := tokens.StartSignIn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p := user("Ada@example.com", Operator)
		p.SignIn, p.Subject = id, subject
		return p
	}
	tok, err := tokens.Create(ctx, signIn("sub-ada"), "cardflow login", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	list, err := people.List(ctx, admin)
	if err != nil || len(list) != 1 || list[0].Subject != "sub-ada" {
		t.Fatalf("people after ada's sign-in: %+v, %v; want ada with subject sub-ada", list, err)
	}
	_, err = tokens.Create(ctx, signIn("sub-other"), "cardflow login", "", 0)
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Code != problem.Forbidden || !errors.Is(err, store.ErrSubjectTaken) ||
		!strings.Contains(pe.Message, "Ada@example.com belongs to another account") || !strings.Contains(pe.Remedy, "cardflow people revoke Ada@example.com") {
		t.Fatalf("another subject signing in as ada: %v; want a forbidden problem naming the revoke", err)
	}
	if _, _, err := tokens.Revoke(ctx, user("Ada@example.com", Operator), tok.ID); err != nil {
		t.Fatal(err)
	}
	rev, err := people.Revoke(ctx, admin, "ada@example.com", false)
	if err != nil || rev.Sessions != 0 || len(rev.Tokens) != 0 || !rev.Unbound {
		t.Fatalf("revoking ada, who holds only her binding: %+v, %v; want the binding forgotten", rev, err)
	}
	if _, err := tokens.Create(ctx, signIn("sub-other"), "cardflow login", "", 0); err != nil {
		t.Errorf("another subject signing in as ada after the revoke: %v; want it bound", err)
	}
	if _, err := people.Revoke(ctx, admin, "nobody@example.com", false); problem.CodeOf(err) != problem.NotFound {
		t.Errorf("revoking a login bound to nobody that holds nothing: %v; want not found", err)
	}
}

// TestIssuerBinding: a login is bound with the issuer of its sign-in; a
// sign-in from another issuer is refused, whatever its subject, with a
// forbidden problem naming both issuers and the revoke that forgets the
// binding; one from the same issuer with another subject keeps the
// refusal of another subject. The people list shows the issuer, and
// ListAll lists, to admins, the bound logins that hold nothing.
func TestIssuerBinding(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tokens := &Tokens{Store: st, Now: clock}
	people := &People{Store: st, Now: clock}
	admin := user("root@example.com", Admin)
	const oldIdP, newIdP = "https://old.example.com", "https://new.example.com"
	signIn := func(login, subject, issuer string) Principal {
		t.Helper()
		id, err := tokens.StartSignIn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p := user(login, Operator)
		p.SignIn, p.Subject, p.Issuer = id, subject, issuer
		return p
	}
	tok, err := tokens.Create(ctx, signIn("ada@example.com", "sub-ada", oldIdP), "cardflow login", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Create(ctx, signIn("bo@example.com", "sub-bo", oldIdP), "cardflow login", "", 0); err != nil {
		t.Fatal(err)
	}
	list, err := people.List(ctx, admin)
	if err != nil || len(list) != 2 || list[0].Issuer != oldIdP || list[0].Subject == "" {
		t.Fatalf("people after the sign-ins: %+v, %v; want both with their subject at %s", list, err, oldIdP)
	}

	for _, subject := range []string{"sub-ada", "sub-other"} {
		_, err = tokens.Create(ctx, signIn("ada@example.com", subject, newIdP), "cardflow login", "", 0)
		var pe *problem.Error
		if !errors.As(err, &pe) || pe.Code != problem.Forbidden || !errors.Is(err, store.ErrSubjectTaken) ||
			!strings.Contains(pe.Message, "ada@example.com was bound at the identity provider "+oldIdP+", and this sign-in comes from "+newIdP) ||
			!strings.Contains(pe.Remedy, "cardflow people revoke ada@example.com") || !strings.Contains(pe.Remedy, "sign in again") ||
			strings.Contains(pe.Message, "different subject") {
			t.Errorf("ada signing in from another issuer with subject %s: %v; want a forbidden problem naming both issuers and the revoke", subject, err)
		}
	}
	_, err = tokens.Create(ctx, signIn("ada@example.com", "sub-other", oldIdP), "cardflow login", "", 0)
	if pe := (*problem.Error)(nil); !errors.As(err, &pe) || !strings.Contains(pe.Message, "belongs to another account at the identity provider (a different subject)") {
		t.Errorf("another subject at ada's issuer: %v; want the refusal of another subject", err)
	}

	// Ada's token is revoked by her: she holds nothing but her binding,
	// which only admins see among the unheld.
	if _, _, err := tokens.Revoke(ctx, user("ada@example.com", Operator), tok.ID); err != nil {
		t.Fatal(err)
	}
	l, err := people.ListAll(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if unheld := l.Bound; len(unheld) != 1 || unheld[0].Login != "ada@example.com" || unheld[0].Issuer != oldIdP || !unheld[0].BoundAt.Equal(now) {
		t.Fatalf("unheld bindings: %+v; want ada's alone, at %s since %s", unheld, oldIdP, now)
	}
	if _, err := people.ListAll(ctx, user("op@example.com", Operator)); problem.CodeOf(err) != problem.Forbidden {
		t.Errorf("an operator listing the unheld bindings: %v; want forbidden", err)
	}
	if _, err := people.Revoke(ctx, admin, "ada@example.com", false); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Create(ctx, signIn("ada@example.com", "sub-new", newIdP), "cardflow login", "", 0); err != nil {
		t.Errorf("ada signing in from the new issuer after the revoke: %v; want it bound there", err)
	}
	if l, err := people.ListAll(ctx, admin); err != nil || len(l.Bound) != 0 {
		t.Errorf("unheld bindings after ada signed in again: %+v, %v; want none", l, err)
	}
}

// signsInFirst is a store in which the person revoked completes a sign-in
// just before the revoke's transaction: their login is bound then, by an
// account at the identity provider bound to nothing when Revoke began.
type signsInFirst struct {
	store.Store
	t *testing.T
}

func (s signsInFirst) DeletePersonAccess(ctx context.Context, login string) (int, []*store.APIToken, *store.PersonBinding, error) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if err := s.StartSignIn(ctx, "si-late", now.Add(time.Hour)); err != nil {
		s.t.Fatal(err)
	}
	if err := s.CreateSession(ctx, &store.Session{ID: "s-late", Actor: store.Actor{Type: store.ActorUser, Login: login}, Role: "operator",
		SignIn: "si-late", Subject: "sub-late", Issuer: "https://idp.test", CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeen: now}); err != nil {
		s.t.Fatal(err)
	}
	return s.Store.DeletePersonAccess(ctx, login)
}

// TestRevokeNamesTheBindingItRemoved: a binding made by a sign-in that
// ends after the revoke began and before its transaction is removed by
// the revoke, and its answer names it (Unbound, Issuer) with the session
// it made, as the person.revoke audit event does (RevokePersonSummary).
func TestRevokeNamesTheBindingItRemoved(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	people := &People{Store: signsInFirst{st, t}}
	rev, err := people.Revoke(ctx, user("root@example.com", Admin), "ada@example.com", false)
	if err != nil {
		t.Fatal(err)
	}
	if rev.Sessions != 1 || !rev.Unbound || rev.Issuer != "https://idp.test" {
		t.Errorf("revoke of ada, who signed in as it began: %d sessions, unbound %v at %q; want her session ended and her binding at https://idp.test forgotten",
			rev.Sessions, rev.Unbound, rev.Issuer)
	}
	if b, err := st.PersonBinding(ctx, "ada@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ada's binding after the revoke: %+v, %v; want none", b, err)
	}
}

// TestPeopleListShowsTheStrongestRoleHeld: a person taken out of the admin
// group who signs in again as a viewer still holds the admin session of
// another browser and the admin token made with it: the list says admin,
// the most they can do now, where it said viewer (their newest session's),
// and hid from an admin reviewing access the very access to revoke.
func TestPeopleListShowsTheStrongestRoleHeld(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	tokens := &Tokens{Store: st, Now: clock}
	people := &People{Store: st, Now: clock, IdleTimeout: time.Hour}
	session := func(id, login string, role Role, created time.Duration) {
		t.Helper()
		if err := st.CreateSession(ctx, &store.Session{ID: id, Actor: store.Actor{Type: store.ActorUser, Login: login}, Name: "Dora", Role: string(role),
			CreatedAt: t0.Add(created), ExpiresAt: t0.Add(created + 12*time.Hour), LastSeen: t0.Add(created)}); err != nil {
			t.Fatal(err)
		}
	}
	session("dora-laptop", "dora@example.com", Admin, 0)
	session("dora-desktop", "dora@example.com", Viewer, 10*time.Minute)
	// Eve holds only tokens: an admin one and a newer viewer one.
	if _, err := tokens.Create(ctx, user("eve@example.com", Admin), "scripts", Admin, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(time.Minute)
	if _, err := tokens.Create(ctx, user("eve@example.com", Viewer), "dashboard", Viewer, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	// Finn signed in as a viewer after making an admin token.
	if _, err := tokens.Create(ctx, user("finn@example.com", Admin), "scripts", Admin, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	session("finn", "finn@example.com", Viewer, 20*time.Minute)
	now = t0.Add(30 * time.Minute)

	got, err := people.List(ctx, user("ada@example.com", Admin))
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]Role{}
	for _, p := range got {
		roles[p.Login] = p.Role
	}
	want := map[string]Role{"dora@example.com": Admin, "eve@example.com": Admin, "finn@example.com": Admin}
	if d := cmp.Diff(want, roles); d != "" {
		t.Errorf("roles (-want +got):\n%s", d)
	}
}
