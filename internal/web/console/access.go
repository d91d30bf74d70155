package console

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/counttext"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/web"
)

func (c *Console) peopleRoutes(mux *web.Mux) {
	if c.People == nil {
		return
	}
	mux.Handle("GET /people", c.auth(c.listPeople))
	mux.Handle("GET /people/{login}/revoke", c.auth(c.confirmRevokePerson))
	mux.Handle("POST /people/{login}/revoke", c.auth(c.revokePerson))
}

// peopleData is the People page.
type peopleData struct {
	People []*access.Person
	Me     string // the signed-in person's login; "" for the bootstrap admin
	Now    time.Time
	Pager  pager
	// Bound are the logins bound to an account at the identity provider
	// that hold no access (access.People.ListAll), by login ignoring case,
	// paged with "boundAfter"; Issuer is the server's -oidc-issuer, ""
	// without single sign-on.
	Bound      []*store.PersonBinding
	BoundPager pager
	Issuer     string
	// FlowsWithoutAccess are the logins without access whose enabled
	// flows act as them.
	FlowsWithoutAccess []access.FlowsActingAs
}

// personKey orders the People page (most recently active first) and is
// its page cursor.
func personKey(p *access.Person) string {
	return fmt.Sprintf("%020d_%s", p.LastActivity.UnixNano(), p.Login)
}

func (c *Console) listPeople(w http.ResponseWriter, r *http.Request, s *reqState) {
	all, err := c.People.ListAll(r.Context(), s.principal)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	people, bound := all.People, all.Bound
	slices.SortFunc(people, func(a, b *access.Person) int { return strings.Compare(personKey(b), personKey(a)) })
	people, next := pageBefore(people, personKey, r.URL.Query().Get("before"))
	bound, boundNext := bindingsAfter(bound, r.URL.Query().Get("boundAfter"))
	d := peopleData{People: people, Me: myLogin(s.principal), Now: c.now(), Pager: newPager(r, "People", "before", next, true),
		Bound: bound, BoundPager: newPager(r, "Bound sign-ins", "boundAfter", boundNext, false), FlowsWithoutAccess: all.FlowsWithoutAccess}
	if c.SSO != nil {
		d.Issuer = c.SSO.Issuer()
	}
	c.render(w, r, s, http.StatusOK, "people", "People", d)
}

// bindingsAfter is the page of bindings (sorted by login ignoring case)
// that follows the login whose key (store.FoldCase) is after, and the
// cursor of the page after it ("" when none follows).
func bindingsAfter(all []*store.PersonBinding, after string) ([]*store.PersonBinding, string) {
	start := 0
	if after != "" {
		start = len(all)
		for i, b := range all {
			if store.FoldCase(b.Login) > after {
				start = i
				break
			}
		}
	}
	rest := all[start:]
	if len(rest) <= listPageSize {
		return rest, ""
	}
	return rest[:listPageSize], store.FoldCase(rest[listPageSize-1].Login)
}

// issuerName is an identity provider's issuer as the People page shows
// it: its host, and its path when it has one (an Okta org's custom
// authorization server, example.okta.com/oauth2/default, is another
// issuer than the org's own).
func issuerName(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return issuer
	}
	return u.Host + strings.TrimSuffix(u.Path, "/")
}

// myLogin is the login of the person p acts for; "" for the bootstrap
// admin.
func myLogin(p access.Principal) string {
	if ownerType, login := p.Owner(); ownerType == store.ActorUser {
		return login
	}
	return ""
}

// revokePersonData is the page that confirms revoking a person's access,
// or forgetting the binding of a login that holds nothing else.
type revokePersonData struct {
	*access.Person
	Self bool // the admin revoking is this person
	// Runs are the flow runs they started by hand that are queued or
	// running now: the revoke cancels them.
	Runs []*store.FlowRun
	// Forget asks about forgetting a binding (the People page's Forget
	// binding) that would also cancel Runs.
	Forget bool
}

// runsGoing is RunsGoing for a question: a failed read leaves the runs
// out (the question says in general words that they are canceled), logged.
func (c *Console) runsGoing(r *http.Request, s *reqState, login string) []*store.FlowRun {
	runs, err := c.People.RunsGoing(r.Context(), s.principal, login)
	if err != nil {
		c.log.WarnContext(r.Context(), "console: could not list the flow runs a revoke would cancel", slog.String("login", login), slog.Any("error", err))
		return nil
	}
	return runs
}

// confirmRevokePerson asks whether to end a person's access, saying what
// ends; revoking one's own says so and asks for that in the form.
func (c *Console) confirmRevokePerson(w http.ResponseWriter, r *http.Request, s *reqState) {
	people, err := c.People.List(r.Context(), s.principal)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	login := r.PathValue("login")
	i := slices.IndexFunc(people, func(p *access.Person) bool { return p.Login == login })
	if i < 0 {
		c.notFoundAt(w, r, s, messageData{Message: fmt.Sprintf("Nobody signed in as %q has a console session or a personal API token: their access may have ended already.", login),
			Remedy: "Pick the person again on the People page.", Link: "/people", LinkText: "Go to people"})
		return
	}
	d := revokePersonData{Person: people[i], Self: login == myLogin(s.principal), Runs: c.runsGoing(r, s, login)}
	c.render(w, r, s, http.StatusOK, "revokeperson", "Revoke the access of "+login, d)
}

func (c *Console) revokePerson(w http.ResponseWriter, r *http.Request, s *reqState) {
	login := r.PathValue("login")
	forget := r.PostForm.Get("forget") == "binding"
	if forget && c.holdsAccess(w, r, s, login) {
		return
	}
	if forget && r.PostForm.Get("confirmed") != "yes" {
		// Forgetting a binding is a revoke: when it would also cancel
		// runs they started, ask first, naming them.
		if runs := c.runsGoing(r, s, login); len(runs) > 0 {
			d := revokePersonData{Person: &access.Person{Login: login}, Runs: runs, Forget: true}
			c.render(w, r, s, http.StatusOK, "revokeperson", "Forget the binding of "+login, d)
			return
		}
	}
	rev, err := c.People.Revoke(r.Context(), s.principal, login, r.PostForm.Get("self") == "true")
	c.audit(r, store.AuditEvent{Actor: s.actor(), Action: store.ActionPersonRevoke, InputSummary: web.RevokePersonSummary(login, rev)}, err)
	if err != nil {
		_, e := c.publicError(r.Context(), err)
		what := "The access of " + login + " was not revoked: "
		if forget {
			what = "The binding of " + login + " was not forgotten: "
		}
		c.addFlash(r.Context(), s.session, flash{Kind: "error", Message: what + e.Message, Remedy: e.Remedy})
		http.Redirect(w, r, "/people", http.StatusSeeOther)
		return
	}
	if forget && rev.Sessions == 0 && len(rev.Tokens) == 0 && rev.RunsCanceled == 0 && rev.CancelFailed == nil {
		// Nothing but the binding: what else a revoke ends (what they
		// signed in with meanwhile, their runs) is said as for any revoke.
		msg := "Forgot the binding of " + login + " to its account at " + boundAt(rev) + ": the next sign-in as " + login + " binds it anew, at the identity provider cardflow signs in with then."
		if !rev.Unbound {
			msg = login + " was bound to no account at the identity provider any more: the next sign-in as " + login + " binds it."
		}
		c.addFlash(r.Context(), s.session, flash{Kind: "ok", Message: msg})
		http.Redirect(w, r, "/people", http.StatusSeeOther)
		return
	}
	if rev.Login == myLogin(s.principal) && rev.Sessions > 0 {
		// This very session ended with the rest: to the sign-in page.
		http.Redirect(w, r, "/signin?signedout=1", http.StatusSeeOther)
		return
	}
	msg := fmt.Sprintf("Revoked the access of %s: %s ended, %s revoked and %s they started canceled, on every server. Signing in again gives them the role their groups give them then.",
		login, counttext.Format(rev.Sessions, "console session"), counttext.Format(len(rev.Tokens), "personal API token"), counttext.Format(rev.RunsCanceled, "flow run"))
	if rev.Unbound {
		msg += " The login is no longer bound to its account at " + boundAt(rev) + ": the next sign-in as " + login + " binds it anew."
	}
	if n := len(rev.EnabledFlows); n > 0 {
		msg += fmt.Sprintf(" %s they enabled still running as them: %s. Disable them, or enable them again yourself to run them as you.",
			counttext.Format(n, "flow"), strings.Join(rev.EnabledFlows, ", "))
	}
	if warning := rev.CancelWarning(); warning != "" {
		c.log.ErrorContext(r.Context(), "console: revoked a person's access, but could not cancel every flow run they started", slog.String("login", login),
			slog.Int("canceled", rev.RunsCanceled), slog.Any("error", rev.CancelFailed))
		c.addFlash(r.Context(), s.session, flash{Kind: "error", Message: msg, Remedy: "But " + warning + "."})
		http.Redirect(w, r, "/people", http.StatusSeeOther)
		return
	}
	c.addFlash(r.Context(), s.session, flash{Kind: "ok", Message: msg})
	http.Redirect(w, r, "/people", http.StatusSeeOther)
}

// boundAt names the identity provider of the binding a revoke forgot:
// its issuer, or "the identity provider" for a binding made before
// issuers were kept.
func boundAt(rev *access.Revoked) string {
	if rev.Issuer == "" {
		return "the identity provider"
	}
	return rev.Issuer
}

// holdsAccess refuses, with a message on the People page, to forget the
// binding of a login that signed in since the page listed it among those
// that hold nothing: forgetting it is a revoke, which would end what they
// hold now. It reports whether it refused.
func (c *Console) holdsAccess(w http.ResponseWriter, r *http.Request, s *reqState, login string) bool {
	people, err := c.People.List(r.Context(), s.principal)
	if err != nil {
		c.fail(w, r, s, err)
		return true
	}
	if !slices.ContainsFunc(people, func(p *access.Person) bool { return store.FoldCase(p.Login) == store.FoldCase(login) }) {
		return false
	}
	c.addFlash(r.Context(), s.session, flash{Kind: "error", Message: "The binding of " + login + " was not forgotten: " + login + " holds access now (signed in since the page was shown).",
		Remedy: "To end their access and forget the binding, use Revoke access in Who has access."})
	http.Redirect(w, r, "/people", http.StatusSeeOther)
	return true
}
