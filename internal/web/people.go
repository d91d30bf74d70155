package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// PersonView converts a person's access to its public shape.
func PersonView(p *access.Person) api.Person {
	return api.Person{Login: p.Login, Name: p.Name, Role: string(p.Role),
		Sessions:     api.PersonSessions{Count: p.Sessions, LastSeen: timePtr(p.LastSeen)},
		Tokens:       api.PersonTokens{Count: p.Tokens, SoonestExpiry: timePtr(p.SoonestExpiry), LatestExpiry: timePtr(p.LatestExpiry)},
		LastActivity: p.LastActivity, EnabledFlows: orEmpty(p.EnabledFlows), Subject: p.Subject, Issuer: p.Issuer}
}

// orEmpty is names, or an empty list for none (JSON [] rather than null).
func orEmpty(names []string) []string {
	if names == nil {
		return []string{}
	}
	return names
}

func (s *Server) listPeople(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalOf(r.Context())
	q := r.URL.Query()
	page, err := readTimePage(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	people, err := s.People.List(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Most recently active first, paged by (lastActivity, login); the
	// people holding access are few, so the page is cut here.
	var out api.PeopleList
	people, out.Next = cut(page, r, q, people, func(pr *access.Person) (time.Time, string) { return pr.LastActivity, pr.Login }, "limit")
	out.People = make([]api.Person, 0, len(people))
	for _, pr := range people {
		out.People = append(out.People, PersonView(pr))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) revokePerson(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalOf(r.Context())
	login := r.PathValue("login")
	self := false
	switch v := r.URL.Query().Get("self"); v {
	case "", "false":
	case "true":
		self = true
	default:
		s.writeError(w, r, problem.New(problem.InvalidInput, "self must be true or false, not %q", v).
			WithRemedy("use self=true only to revoke your own access").WithDetail("field", "self"))
		return
	}
	rev, err := s.People.Revoke(r.Context(), p, login, self)
	s.audit(r, store.AuditEvent{Actor: p.Actor, Action: store.ActionPersonRevoke, InputSummary: RevokePersonSummary(login, rev)}, err)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if rev.CancelFailed != nil {
		s.log.ErrorContext(r.Context(), "revoked a person's access, but could not cancel every flow run they started", slog.String("login", login),
			slog.Int("canceled", rev.RunsCanceled), slog.Any("error", rev.CancelFailed))
	}
	writeJSON(w, http.StatusOK, api.PersonRevoked{Login: rev.Login, SessionsEnded: rev.Sessions, TokensRevoked: len(rev.Tokens), EnabledFlows: orEmpty(rev.EnabledFlows),
		SubjectForgotten: rev.Unbound, FlowRunsCanceled: rev.RunsCanceled, Warning: rev.CancelWarning()})
}

// RevokePersonSummary is how a person.revoke audit event names the person
// and what ended: "LOGIN: 2 console sessions ended, 1 token revoked
// (cardflow login)", then ", its subject forgotten" when the login was
// bound to an account at the identity provider, then ", 3 flow runs
// canceled" when the revoke canceled runs they started (each has its
// flow.cancel event), or only the login asked for when rev is nil.
func RevokePersonSummary(login string, rev *access.Revoked) string {
	out := truncate(login, 200)
	if rev == nil {
		return out
	}
	var names []string
	for _, t := range rev.Tokens {
		names = append(names, truncate(t.Name, 100))
	}
	out += fmt.Sprintf(": %s ended, %s revoked", count(rev.Sessions, "console session"), count(len(rev.Tokens), "token"))
	if len(names) > 0 {
		out += " (" + truncate(strings.Join(names, ", "), 400) + ")"
	}
	if rev.Unbound {
		out += ", its subject forgotten"
	}
	if rev.RunsCanceled > 0 || rev.CancelFailed != nil {
		out += ", " + count(rev.RunsCanceled, "flow run") + " canceled"
	}
	if rev.CancelFailed != nil {
		out += " (the others could not be)"
	}
	return out
}

func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
