package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/spelling"
	"github.com/cardflow/cardflow/internal/store"
)

// DefaultIdleTimeout ends a console session unused for this long, unless
// the console is given another timeout.
const DefaultIdleTimeout = 2 * time.Hour

// SessionLive reports whether the console session ss still signs its
// browser in at now: not past its end, and used within idle (zero means
// DefaultIdleTimeout).
func SessionLive(ss *store.Session, now time.Time, idle time.Duration) bool {
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	return now.Before(ss.ExpiresAt) && now.Sub(ss.LastSeen) <= idle
}

// PeopleStore is what People needs of the store.
type PeopleStore interface {
	ListSessionsOf(ctx context.Context, actor store.Actor) ([]*store.Session, error)
	ListAPITokens(ctx context.Context, ownerType, ownerLogin string) ([]*store.APIToken, error)
	DeletePersonAccess(ctx context.Context, login string) (sessions int, tokens []*store.APIToken, binding *store.PersonBinding, err error)
	DeleteBoundPersonAccess(ctx context.Context, login, subject, issuer string) (sessions int, tokens []*store.APIToken, binding *store.PersonBinding, err error)
	ListFlows(ctx context.Context) ([]*store.Flow, error)
	ListPersonBindings(ctx context.Context) ([]*store.PersonBinding, error)
}

// RunCanceler stops the flow runs a person started by hand, still queued
// or running, on every server (flowrun.Service.CancelStartedBy): by is the
// admin revoking them. It returns how many it asked to stop.
type RunCanceler interface {
	CancelStartedBy(ctx context.Context, login string, by store.Actor) (int, error)
	// StartedBy returns the runs CancelStartedBy would cancel now.
	StartedBy(ctx context.Context, login string) ([]*store.FlowRun, error)
}

// People tells admins who has access, person by person, and ends one
// person's access at once. A person's access is what single sign-on gave
// them and outlives their groups at the identity provider: their console
// sessions and their personal API tokens (those of cardflow login among
// them). Store is required; Runs stops the flow runs a revoked person
// started (nil stops none); IdleTimeout is the console's (0 means
// DefaultIdleTimeout); a nil Now means time.Now. Safe for concurrent use.
type People struct {
	Store       PeopleStore
	Runs        RunCanceler
	IdleTimeout time.Duration
	Now         func() time.Time
}

// Person is what one person holds now: live console sessions and
// unexpired personal API tokens.
type Person struct {
	Login string
	// Name is the display name of their newest session; may be empty.
	Name string
	// Role is the highest role of their live sessions and unexpired
	// tokens: the most they can do now. A person taken out of a group at
	// the identity provider who signs in again with a lesser role keeps
	// the sessions and tokens of the greater one until they end or are
	// revoked, and the list must not hide them behind the newest
	// sign-in's role.
	Role     Role
	Sessions int
	// LastSeen is the last request of any of their sessions; zero
	// without a session.
	LastSeen time.Time
	Tokens   int
	// SoonestExpiry and LatestExpiry bound their tokens' expiries; zero
	// without a token.
	SoonestExpiry, LatestExpiry time.Time
	// LastActivity is their latest request with a session or a token (a
	// token never used counts from its creation; a token's use is recorded
	// at most once a minute).
	LastActivity time.Time
	// EnabledFlows are the names of the enabled flows they enabled, by
	// name: their triggered runs act as them, and go on doing so after
	// their access is revoked.
	EnabledFlows []string
	// Subject is the account at the identity provider (the ID token's
	// sub) their login is bound to; empty when they have not signed in
	// since subjects were kept. Issuer is the identity provider it
	// belongs to (the ID token's iss); empty when they have not signed in
	// since issuers were kept either.
	Subject, Issuer string
}

// Revoked is what revoking a person's access ended.
type Revoked struct {
	Login    string
	Sessions int
	// Tokens are the tokens revoked, oldest first, the expired ones left
	// in the store among them.
	Tokens []*store.APIToken
	// EnabledFlows are the names of the enabled flows the person enabled:
	// a revoke leaves them running, as the person, until an admin
	// disables them or enables them again as themself.
	EnabledFlows []string
	// Unbound is whether the login was bound to an account at the
	// identity provider (a subject), which the revoke forgot: the next
	// sign-in binds the login anew.
	Unbound bool
	// Issuer, when Unbound, is the identity provider of the binding
	// forgotten (store.PersonBinding.Issuer): empty for a binding made
	// before issuers were kept.
	Issuer string
	// RunsCanceled counts the flow runs the person started by hand (runs
	// and reruns) that were queued or running, which the revoke asked to
	// stop: a queued one ends at once, a running one starts no further
	// item, on whichever server runs it.
	RunsCanceled int
	// CancelFailed, when not nil, stopped the canceling of their runs
	// (the store's error, for the log): RunsCanceled were asked to stop,
	// the others were not. The access is revoked all the same; revoking
	// again cancels the rest.
	CancelFailed error
}

// CancelWarning is what the answer to a revoke says when the runs of
// the person could not all be canceled, or "" when they were.
func (r *Revoked) CancelWarning() string {
	if r == nil || r.CancelFailed == nil {
		return ""
	}
	return fmt.Sprintf("not every flow run %s started could be canceled (%d were): revoke their access again to cancel the rest (cardflow people revoke %s), or cancel each with cardflow flows cancel RUN_ID",
		r.Login, r.RunsCanceled, r.Login)
}

// enabledFlows maps a login's key (store.FoldCase) to the names of the enabled flows
// it enabled, sorted; logins maps the key to the login as one of those
// flows' enablings wrote it (logins differing only in case are one).
func (pp *People) enabledFlows(ctx context.Context) (names map[string][]string, logins map[string]string, _ error) {
	flows, err := pp.Store.ListFlows(ctx)
	if err != nil {
		return nil, nil, err
	}
	names, logins = map[string][]string{}, map[string]string{}
	for _, f := range flows {
		if by := f.EnabledBy; f.Enabled && by.Login != "" && (by.Type == store.ActorUser || by.Type == store.ActorToken) {
			key := store.FoldCase(by.Login)
			names[key] = append(names[key], f.Name)
			logins[key] = by.Login
		}
	}
	for _, ns := range names {
		slices.SortFunc(ns, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	}
	return names, logins, nil
}

// FlowsActingAs is a login that holds no access now (no live console
// session, no unexpired token) whose enabled flows still act as them: a
// revoke leaves the flows a person enabled running, and so does their
// signing out or their tokens expiring.
type FlowsActingAs struct {
	Login        string
	EnabledFlows []string // sorted
}

// List returns everyone who has access now, most recently active first
// (then by login, descending, as page cursors need a total order). The
// bootstrap admin is nobody's person: its sessions and tokens are not
// listed. Only admins may list.
func (pp *People) List(ctx context.Context, p Principal) ([]*Person, error) {
	l, err := pp.ListAll(ctx, p)
	if err != nil {
		return nil, err
	}
	return l.People, nil
}

// Listing is what ListAll finds: People (List's), Bound (the bindings
// of the logins that hold no access) and FlowsWithoutAccess, the logins that are not among People
// whose enabled flows act as them, by login ignoring case.
type Listing struct {
	People             []*Person
	Bound              []*store.PersonBinding
	FlowsWithoutAccess []FlowsActingAs
}

// ListAll returns List's people, the bindings of the logins bound to
// an account at the identity provider that hold no access now (no live
// console session, no unexpired token), by login ignoring case, and the
// logins that hold no access now whose enabled flows act as them, from one
// read: a login is among the people or the bindings, never both. A
// binding outlives its access, so that a person coming back is known by
// their account; it is all a revoke of such a login forgets.
func (pp *People) ListAll(ctx context.Context, p Principal) (*Listing, error) {
	if !p.Role.Allows(Admin) {
		return nil, problem.New(problem.Forbidden, "listing who has access needs the admin role; you have %s", p.Role).
			WithDetail("requiredRole", string(Admin))
	}
	sessions, err := pp.Store.ListSessionsOf(ctx, store.Actor{Type: store.ActorUser})
	if err != nil {
		return nil, err
	}
	tokens, err := pp.Store.ListAPITokens(ctx, "", "") // everyone's, the bootstrap admin's among them
	if err != nil {
		return nil, err
	}
	now := pp.now()
	// By login ignoring case, as Revoke takes them (store.FoldCase, the
	// store's rule): one person whose login's capitals changed at the
	// identity provider is one person.
	byLogin := map[string]*Person{}
	person := func(login string) *Person {
		key := store.FoldCase(login)
		if byLogin[key] == nil {
			byLogin[key] = &Person{Login: login}
		}
		return byLogin[key]
	}
	newest := map[*Person]time.Time{} // the newest session's start
	for _, ss := range sessions {     // oldest first
		if ss.Actor.Login == "" || !SessionLive(ss, now, pp.IdleTimeout) {
			continue
		}
		pr := person(ss.Actor.Login)
		pr.Sessions++
		if t, ok := newest[pr]; !ok || !ss.CreatedAt.Before(t) {
			newest[pr] = ss.CreatedAt
			pr.Login, pr.Name = ss.Actor.Login, ss.Name
		}
		if Role(ss.Role).rank() > pr.Role.rank() {
			pr.Role = Role(ss.Role)
		}
		pr.LastSeen = later(pr.LastSeen, ss.LastSeen)
		pr.LastActivity = later(pr.LastActivity, ss.LastSeen)
	}
	for _, t := range tokens {
		if t.OwnerType != store.ActorUser || t.OwnerLogin == "" || !now.Before(t.ExpiresAt) {
			continue
		}
		pr := person(t.OwnerLogin)
		pr.Tokens++
		if pr.SoonestExpiry.IsZero() || t.ExpiresAt.Before(pr.SoonestExpiry) {
			pr.SoonestExpiry = t.ExpiresAt
		}
		pr.LatestExpiry = later(pr.LatestExpiry, t.ExpiresAt)
		pr.LastActivity = later(pr.LastActivity, later(t.CreatedAt, t.LastUsedAt))
		if Role(t.Role).rank() > pr.Role.rank() {
			pr.Role = Role(t.Role)
		}
	}
	enabled, enablers, err := pp.enabledFlows(ctx)
	if err != nil {
		return nil, err
	}
	bindings, err := pp.Store.ListPersonBindings(ctx)
	if err != nil {
		return nil, err
	}
	unheld := make([]*store.PersonBinding, 0, len(bindings))
	for _, b := range bindings {
		if pr := byLogin[store.FoldCase(b.Login)]; pr != nil {
			pr.Subject, pr.Issuer = b.Subject, b.Issuer
		} else {
			unheld = append(unheld, b)
		}
	}
	out := make([]*Person, 0, len(byLogin))
	for _, pr := range byLogin {
		pr.EnabledFlows = enabled[store.FoldCase(pr.Login)]
		out = append(out, pr)
	}
	slices.SortFunc(out, func(a, b *Person) int {
		if c := b.LastActivity.Compare(a.LastActivity); c != 0 {
			return c
		}
		return strings.Compare(b.Login, a.Login)
	})
	acting := []FlowsActingAs{}
	for key, names := range enabled {
		if byLogin[key] == nil {
			acting = append(acting, FlowsActingAs{Login: enablers[key], EnabledFlows: names})
		}
	}
	slices.SortFunc(acting, func(a, b FlowsActingAs) int { return strings.Compare(store.FoldCase(a.Login), store.FoldCase(b.Login)) })
	return &Listing{People: out, Bound: unheld, FlowsWithoutAccess: acting}, nil
}

// Revoke ends every console session of the person login, on every server,
// and revokes every personal API token they own (the tokens their tokens
// created among them), in one transaction; their next request with any of
// them is refused. Signing in again gives them the role their groups give
// then. Only admins may revoke. An admin revoking their own access (self
// false) is refused: it ends the session or token in use and, with single
// sign-on, may leave nobody but the bootstrap admin able to sign in as an
// admin. Revoking also forgets the account at the identity provider the
// login is bound to (store.PersonBinding), in the same transaction, and
// Revoked names the binding that transaction removed, a binding made by a
// sign-in that ended just before among them: the next sign-in as login
// binds it anew, which is how a replaced account gets the login back. Then the
// flow runs the person started by hand and that are still queued or
// running are canceled (Runs), each audited as by p: a revoked person's
// bulk job stops with their access. A login that holds nothing, is bound
// to no account and started no such run is not found. When the runs
// cannot all be canceled, the access is revoked all the same, and
// Revoked.CancelFailed says so.
func (pp *People) Revoke(ctx context.Context, p Principal, login string, self bool) (*Revoked, error) {
	if !p.Role.Allows(Admin) {
		return nil, problem.New(problem.Forbidden, "revoking a person's access needs the admin role; you have %s", p.Role).
			WithDetail("requiredRole", string(Admin))
	}
	if login == "" {
		return nil, problem.New(problem.InvalidInput, "whose access to revoke? a login is required").
			WithRemedy("name the person by their login, as GET /api/v1/people lists it").WithDetail("field", "login")
	}
	if ownerType, me := p.Owner(); ownerType == store.ActorUser && strings.EqualFold(me, login) && !self {
		return nil, problem.New(problem.Conflict, "%s is you: revoking your own access ends the session or token you are using and every other one of yours, and you may be the only admin able to sign in", login).
			WithRemedy("to do it anyway, confirm with self=true (cardflow people revoke %s --self); the server's API token (the bootstrap admin) keeps working", login).
			WithDetail("field", "self")
	}
	// The binding is the one the revoke deleted, read in its transaction:
	// whether the revoke found anything at all depends on it, and the
	// answer names its issuer.
	sessions, tokens, binding, err := pp.Store.DeletePersonAccess(ctx, login)
	if err != nil {
		return nil, err
	}
	rev := pp.ended(ctx, login, p.Actor, sessions, tokens, binding)
	if sessions == 0 && len(tokens) == 0 && !rev.Unbound && rev.RunsCanceled == 0 && rev.CancelFailed == nil {
		pe := problem.New(problem.NotFound, "nobody signed in as %q has a console session or a personal API token, or a flow run they started that has not ended", login).
			WithRemedy("list who has access with GET /api/v1/people (cardflow people list); logins compare ignoring case")
		if near := pp.nearestLogin(ctx, p, login); near != "" {
			pe.WithRemedy("did you mean %s? (cardflow people revoke %s); cardflow people list (GET /api/v1/people) lists who has access", near, near).
				WithDetail("suggestion", near)
		}
		return nil, pe
	}
	return rev, nil
}

// EndNoRole ends the access of the person login as Revoke does, asked by
// no admin: when a sign-in of theirs was refused only because the groups
// in its verified ID token give no role (sso.NoRoleError), subject and
// issuer being that token's sub and iss. Their groups no longer give them
// a role, so the sessions and tokens earlier sign-ins gave them end now
// rather than when they expire. It ends them only when login is bound to
// that very account (store.PersonBinding), checked in the transaction
// that ends them: a login bound to another account is that account's,
// and a login bound to none was proved by nobody to be theirs, so it
// leaves both alone and returns a nil Revoked (for a login bound
// elsewhere, with the store's ErrSubjectTaken, for the log). The flow
// runs they started are canceled as by themselves.
func (pp *People) EndNoRole(ctx context.Context, login, subject, issuer string) (*Revoked, error) {
	sessions, tokens, binding, err := pp.Store.DeleteBoundPersonAccess(ctx, login, subject, issuer)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return pp.ended(ctx, login, store.Actor{Type: store.ActorUser, Login: login}, sessions, tokens, binding), nil
}

// ended is what a revoke of login by did, given what the store deleted:
// it cancels the flow runs login started (Runs), as by, and names the
// enabled flows they enabled.
func (pp *People) ended(ctx context.Context, login string, by store.Actor, sessions int, tokens []*store.APIToken, binding *store.PersonBinding) *Revoked {
	// After the access ends: a run being started with one of their
	// sessions or tokens was stored before they were deleted, and is
	// found here, or is refused (store.FlowRun.SessionID, TokenID).
	canceled, cancelErr := 0, error(nil)
	if pp.Runs != nil {
		canceled, cancelErr = pp.Runs.CancelStartedBy(ctx, login, by)
	}
	rev := &Revoked{Login: login, Sessions: sessions, Tokens: tokens, Unbound: binding != nil, RunsCanceled: canceled, CancelFailed: cancelErr}
	if binding != nil {
		rev.Issuer = binding.Issuer
	}
	enabled, _, err := pp.enabledFlows(ctx)
	if err != nil {
		// The access is revoked; only the list of their flows is missing.
		return rev
	}
	rev.EnabledFlows = enabled[store.FoldCase(login)]
	return rev
}

// nearestLogin is the login nearest to login (a misspelling, or its
// start) among those ListAll lists (people with access, bound sign-ins,
// logins whose enabled flows act as them); "" when none is near or the
// list cannot be read.
func (pp *People) nearestLogin(ctx context.Context, p Principal, login string) string {
	l, err := pp.ListAll(ctx, p)
	if err != nil {
		return ""
	}
	var known []string
	for _, person := range l.People {
		known = append(known, person.Login)
	}
	for _, b := range l.Bound {
		known = append(known, b.Login)
	}
	for _, f := range l.FlowsWithoutAccess {
		known = append(known, f.Login)
	}
	if near := spelling.Closest(login, known); len(near) > 0 {
		return near[0]
	}
	return ""
}

// RunsGoing returns the flow runs a revoke of login would cancel now:
// those they started by hand that are queued or running (none without
// Runs). It needs the admin role, as Revoke does.
func (pp *People) RunsGoing(ctx context.Context, p Principal, login string) ([]*store.FlowRun, error) {
	if !p.Role.Allows(Admin) {
		return nil, problem.New(problem.Forbidden, "seeing whose flow runs a revoke would cancel needs the admin role; you have %s", p.Role).
			WithDetail("requiredRole", string(Admin))
	}
	if pp.Runs == nil {
		return nil, nil
	}
	return pp.Runs.StartedBy(ctx, login)
}

func (pp *People) now() time.Time {
	if pp.Now != nil {
		return pp.Now().UTC()
	}
	return time.Now().UTC()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
