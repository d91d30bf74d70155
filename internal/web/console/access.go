package console

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/access"
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
}

// personKey orders the People page (most recently active first) and is
// its page cursor.
func personKey(p *access.Person) string {
	return fmt.Sprintf("%020d_%s", p.LastActivity.UnixNano(), p.Login)
}

func (c *Console) listPeople(w http.ResponseWriter, r *http.Request, s *reqState) {
	people, err := c.People.List(r.Context(), s.principal)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	slices.SortFunc(people, func(a, b *access.Person) int { return strings.Compare(personKey(b), personKey(a)) })
	people, next := pageBefore(people, personKey, r.URL.Query().Get("before"))
	d := peopleData{People: people, Me: myLogin(s.principal), Now: c.now(), Pager: newPager(r, "People", "before", next, true)}
	c.render(w, r, s, http.StatusOK, "people", "People", d)
}

// myLogin is the login of the person p acts for; "" for the bootstrap
// admin.
func myLogin(p access.Principal) string {
	if ownerType, login := p.Owner(); ownerType == store.ActorUser {
		return login
	}
	return ""
}

// revokePersonData is the page that confirms revoking a person's access.
type revokePersonData struct {
	*access.Person
	Self bool // the admin revoking is this person
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
	d := revokePersonData{Person: people[i], Self: login == myLogin(s.principal)}
	c.render(w, r, s, http.StatusOK, "revokeperson", "Revoke the access of "+login, d)
}

func (c *Console) revokePerson(w http.ResponseWriter, r *http.Request, s *reqState) {
	login := r.PathValue("login")
	rev, err := c.People.Revoke(r.Context(), s.principal, login, r.PostForm.Get("self") == "true")
	c.audit(r, store.AuditEvent{Actor: s.actor(), Action: store.ActionPersonRevoke, InputSummary: web.RevokePersonSummary(login, rev)}, err)
	if err != nil {
		_, e := c.publicError(r.Context(), err)
		c.addFlash(r.Context(), s.session, flash{Kind: "error", Message: "The access of " + login + " was not revoked: " + e.Message, Remedy: e.Remedy})
		http.Redirect(w, r, "/people", http.StatusSeeOther)
		return
	}
	if rev.Login == myLogin(s.principal) && rev.Sessions > 0 {
		// This very session ended with the rest: to the sign-in page.
		http.Redirect(w, r, "/signin?signedout=1", http.StatusSeeOther)
		return
	}
	msg := fmt.Sprintf("Revoked the access of %s: %s ended, %s revoked and %s they started canceled, on every server. Signing in again gives them the role their groups give them then.",
		login, plural(rev.Sessions, "console session"), plural(len(rev.Tokens), "personal API token"), plural(rev.RunsCanceled, "flow run"))
	if rev.Unbound {
		msg += " The login is no longer bound to an account at the identity provider: the next sign-in as " + login + " binds it anew."
	}
	if n := len(rev.EnabledFlows); n > 0 {
		msg += fmt.Sprintf(" %s they enabled still running as them: %s. Disable them, or enable them again yourself to run them as you.",
			plural(n, "flow"), strings.Join(rev.EnabledFlows, ", "))
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

func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
