package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/counttext"
	"github.com/cardflow/cardflow/internal/spelling"
)

func cmdPeopleList(ctx context.Context, e *env, args []string) error {
	_, o := newClientFlagSet(e, "people list", "people list [--json]")
	c, err := o.parseNoArgs(args)
	if err != nil {
		return err
	}
	all, err := readPeople(ctx, c)
	if err != nil {
		return err
	}
	if o.json {
		return printJSON(e.stdout, all)
	}
	if len(all.People) == 0 {
		fmt.Fprintln(e.stdout, "Nobody holds a console session or a personal API token (the server's API token aside).")
	} else {
		printPeople(e.stdout, all.People)
	}
	if len(all.Bound) > 0 {
		printBound(e.stdout, all.Bound)
	}
	if len(all.FlowsWithoutAccess) > 0 {
		printFlowsWithoutAccess(e.stdout, all.FlowsWithoutAccess)
	}
	return nil
}

// readPeople reads every page of both lists of GET /api/v1/people: the
// people holding access are few, and each answer holds a page of the
// bound logins too (its first unless asked for another).
func readPeople(ctx context.Context, c *client) (*api.PeopleList, error) {
	all := &api.PeopleList{People: []api.Person{}, Bound: []api.BoundSignIn{}, FlowsWithoutAccess: []api.FlowsActingAs{}}
	boundNext := ""
	for next, first := "/api/v1/people?limit=1000", true; next != ""; first = false {
		var page api.PeopleList
		if err := c.do(ctx, "GET", next, nil, &page); err != nil {
			return nil, err
		}
		all.People = append(all.People, page.People...)
		if first {
			all.Bound, boundNext = append(all.Bound, page.Bound...), page.BoundNext
			all.FlowsWithoutAccess = page.FlowsWithoutAccess
		}
		next = page.Next
	}
	for boundNext != "" {
		var page api.PeopleList
		if err := c.do(ctx, "GET", boundNext, nil, &page); err != nil {
			return nil, err
		}
		all.Bound = append(all.Bound, page.Bound...)
		boundNext = page.BoundNext
	}
	return all, nil
}

// printFlowsWithoutAccess is the table of the logins without access whose
// enabled flows act as them.
func printFlowsWithoutAccess(w io.Writer, acting []api.FlowsActingAs) {
	fmt.Fprintln(w, "\nFlows that act as people without access: their triggered runs act as the login that enabled them, who holds no console session or token now (cardflow flows disable NAME stops one; enabling it again makes it act as you).")
	t := newTable(w, "LOGIN", "FLOWS ENABLED")
	for _, a := range acting {
		t.row(a.Login, strings.Join(a.EnabledFlows, ", "))
	}
	t.flush()
}

// printBound is the table of the logins that hold nothing but their
// binding, each with its identity provider (marked when it is not the one
// the server signs in with now).
func printBound(w io.Writer, bound []api.BoundSignIn) {
	fmt.Fprintln(w, "\nBound sign-ins: logins that hold nothing but their binding to an account at the identity provider (a sign-in as one by another account, or from another issuer, is refused; cardflow people revoke LOGIN forgets the binding).")
	t := newTable(w, "LOGIN", "ISSUER", "BOUND SINCE")
	for _, b := range bound {
		issuer := b.Issuer
		switch {
		case issuer == "":
			issuer = "not recorded"
		case b.IssuerNotCurrent:
			issuer += " (not current: the server signs in with another)"
		}
		t.row(b.Login, issuer, when(b.BoundSince))
	}
	t.flush()
}

// printPeople is the table of the people holding access.
func printPeople(w io.Writer, people []api.Person) {
	t := newTable(w, "LOGIN", "ROLE", "SESSIONS", "LAST SEEN", "TOKENS", "TOKENS EXPIRE", "LAST ACTIVE", "FLOWS ENABLED")
	for _, p := range people {
		expire := "-"
		if p.Tokens.SoonestExpiry != nil && p.Tokens.LatestExpiry != nil {
			expire = when(*p.Tokens.SoonestExpiry)
			if !p.Tokens.LatestExpiry.Equal(*p.Tokens.SoonestExpiry) {
				expire += " to " + when(*p.Tokens.LatestExpiry)
			}
		}
		t.row(p.Login, p.Role, fmt.Sprint(p.Sessions.Count), whenPtr(p.Sessions.LastSeen), fmt.Sprint(p.Tokens.Count), expire, when(p.LastActivity), fmt.Sprint(len(p.EnabledFlows)))
	}
	t.flush()
}

func whenPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return when(*t)
}

func cmdPeopleRevoke(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "people revoke", "people revoke LOGIN [--self] [--yes] [--json]\n\n"+
		"Ends a person's console sessions, revokes their personal API tokens and cancels the flow\n"+
		"runs they started, on every server; this cannot be undone. It asks first on a terminal\n"+
		"(--yes: without asking).")
	var self, yes bool
	fs.BoolVar(&self, "self", false, "confirm revoking your own access (it signs you out everywhere, and you may be the only admin who signs in with single sign-on)")
	fs.BoolVar(&yes, "yes", false, yesFlag)
	login, c, err := o.parseOneArg(args, "login")
	if err != nil {
		return err
	}
	again := e.self + " people revoke " + shellArg(login)
	if self {
		again += " --self"
	}
	if err := needsAnswer(e, yes, "people revoke", fmt.Sprintf("revoke the access of %s", login), again+" --yes"); err != nil {
		return err
	}
	if !yes {
		if err := confirmRevokePerson(ctx, e, c, login); err != nil {
			return err
		}
	}
	path := "/api/v1/people/" + pathEscape(login) + "/revoke"
	if self {
		path += "?self=true"
	}
	return exchange(ctx, c, o, e.stdout, "POST", path, nil, printRevoked)
}

// confirmRevokePerson asks before the access of login is revoked, naming
// the person as people list does and what they hold. A login that holds
// nothing people list shows (no console session, personal API token or
// binding) is refused without a question, with the nearest login listed:
// the question would be about nobody.
func confirmRevokePerson(ctx context.Context, e *env, c *client, login string) error {
	all, err := readPeople(ctx, c)
	if err != nil {
		return err
	}
	lines := []string{
		"It ends their console sessions and revokes their personal API tokens on every server, and cancels the flow runs they started; this cannot be undone.",
		"Signing in again gives them the role their groups give them then; the flows they enabled go on running as them.",
	}
	named, held := "", ""
	if i := slices.IndexFunc(all.People, func(p api.Person) bool { return strings.EqualFold(p.Login, login) }); i >= 0 {
		p := all.People[i]
		named = p.Login
		held = fmt.Sprintf("They hold %s and %s (%s).", counttext.Format(p.Sessions.Count, "console session"), counttext.Format(p.Tokens.Count, "personal API token"), p.Role)
	} else if i := slices.IndexFunc(all.Bound, func(b api.BoundSignIn) bool { return strings.EqualFold(b.Login, login) }); i >= 0 {
		b := all.Bound[i]
		named = b.Login
		at := b.Issuer
		if at == "" {
			at = "the identity provider"
		}
		held = fmt.Sprintf("They hold nothing but their binding to an account at %s, which it forgets: the next sign-in as %s binds it anew.", at, b.Login)
	}
	if named == "" {
		return notHolding(all, login)
	}
	return confirm(e, fmt.Sprintf("Revoke the access of %s?", named), append([]string{held}, lines...), "revoke it",
		fmt.Sprintf("the access of %s was not revoked", named))
}

// notHolding is the refusal, before any question, of revoking login,
// which holds nothing people list shows: as the server words its own, with
// the nearest login listed. A login that holds nothing but flow runs it
// started, which people list does not show, is revoked with --yes.
func notHolding(all *api.PeopleList, login string) error {
	var known []string
	for _, p := range all.People {
		known = append(known, p.Login)
	}
	for _, b := range all.Bound {
		known = append(known, b.Login)
	}
	for _, f := range all.FlowsWithoutAccess {
		known = append(known, f.Login)
	}
	remedy := "cardflow people list lists who has access; logins compare ignoring case"
	if near := spelling.Closest(login, known); len(near) > 0 {
		remedy = fmt.Sprintf("did you mean %s? (cardflow people revoke %s); cardflow people list lists who has access", near[0], shellArg(near[0]))
	}
	remedy += "; --yes revokes without this check, and cancels the flow runs they started that have not ended, which people list does not show"
	return fmt.Errorf("nobody signed in as %q has a console session, a personal API token or a sign-in binding: nothing was revoked\nRemedy: %s", login, remedy)
}

// printRevoked says what a revoke ended, how many flow runs of the
// person's it canceled, and which flows the person enabled keep running as
// them.
func printRevoked(w io.Writer, r *api.PersonRevoked) {
	fmt.Fprintf(w, "Revoked the access of %s: %s ended, %s revoked, %s they started canceled, on every server. Signing in again gives them the role their groups give them then.\n",
		r.Login, counttext.Format(r.SessionsEnded, "console session"), counttext.Format(r.TokensRevoked, "personal API token"), counttext.Format(r.FlowRunsCanceled, "flow run"))
	if r.Warning != "" {
		fmt.Fprintf(w, "But %s.\n", r.Warning)
	}
	if r.SubjectForgotten {
		at := r.Issuer
		if at == "" {
			at = "the identity provider" // bound before issuers were kept
		}
		fmt.Fprintf(w, "The login is no longer bound to its account at %s: the next sign-in as %s binds it anew.\n", at, r.Login)
	}
	if n := len(r.EnabledFlows); n > 0 {
		runs := "still run"
		if n == 1 {
			runs = "still runs"
		}
		fmt.Fprintf(w, "%s they enabled %s as them: %s. Disable them (cardflow flows disable NAME), or enable them again yourself to run them as you (cardflow flows enable NAME).\n",
			counttext.Format(n, "flow"), runs, strings.Join(r.EnabledFlows, ", "))
	}
}
