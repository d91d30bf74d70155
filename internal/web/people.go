package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/counttext"
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
	all, err := s.People.ListAll(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	people, bound := all.People, all.Bound
	// Most recently active first, paged by (lastActivity, login); the
	// people holding access are few, so the page is cut here.
	var out api.PeopleList
	people, out.Next = cut(page, r, q, people, func(pr *access.Person) (time.Time, string) { return pr.LastActivity, pr.Login }, "limit", "boundAfter")
	out.People = make([]api.Person, 0, len(people))
	for _, pr := range people {
		out.People = append(out.People, PersonView(pr))
	}
	// The logins holding nothing but their binding, by login ignoring
	// case (as the store lists them), paged on their own.
	if after := q.Get("boundAfter"); after != "" {
		key := store.FoldCase(after)
		bound = slices.DeleteFunc(bound, func(b *store.PersonBinding) bool { return store.FoldCase(b.Login) <= key })
	}
	if n := pageLimit(page.limit); len(bound) > n {
		bound = bound[:n]
		out.BoundNext = nextAddress(r, q, url.Values{"boundAfter": {bound[n-1].Login}}, "limit", "before", "beforeId")
	}
	out.Bound = make([]api.BoundSignIn, 0, len(bound))
	current := ""
	if s.SSO != nil {
		current = s.SSO.Issuer()
	}
	for _, b := range bound {
		out.Bound = append(out.Bound, BoundSignInView(b, current))
	}
	out.FlowsWithoutAccess = make([]api.FlowsActingAs, 0, len(all.FlowsWithoutAccess))
	for _, f := range all.FlowsWithoutAccess {
		out.FlowsWithoutAccess = append(out.FlowsWithoutAccess, api.FlowsActingAs{Login: f.Login, EnabledFlows: f.EnabledFlows})
	}
	writeJSON(w, http.StatusOK, out)
}

// BoundSignInView converts the binding of a login that holds nothing else
// to its API form; current is the issuer the server signs in with now
// ("" without single sign-on), which a binding elsewhere is marked
// against.
func BoundSignInView(b *store.PersonBinding, current string) api.BoundSignIn {
	return api.BoundSignIn{Login: b.Login, Subject: b.Subject, Issuer: b.Issuer, BoundSince: b.BoundAt,
		IssuerNotCurrent: current != "" && b.Issuer != "" && b.Issuer != current}
}

func (s *Server) revokePerson(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalOf(r.Context())
	login := r.PathValue("login")
	self, err := queryBool(r.URL.Query().Get("self"), "self", "use self=true only to revoke your own access")
	if err != nil {
		s.writeError(w, r, err)
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
		SubjectForgotten: rev.Unbound, Issuer: rev.Issuer, FlowRunsCanceled: rev.RunsCanceled, Warning: rev.CancelWarning()})
}

// RevokePersonSummary is how a person.revoke audit event names the person
// and what ended: "LOGIN: 2 console sessions ended, 1 token revoked
// (cardflow login)", then ", its binding to ISSUER forgotten" when the
// login was bound to an account at the identity provider ISSUER (", its
// binding forgotten" for one bound before issuers were kept), then ", 3 flow runs
// canceled" when the revoke canceled runs they started (each has its
// flow.cancel event), or only the login asked for when rev is nil.
func RevokePersonSummary(login string, rev *access.Revoked) string {
	out := truncate(login, 200)
	if rev == nil {
		return out
	}
	return out + ": " + RevokedSummary(rev)
}

// RevokedSummary is what a revoke ended, as RevokePersonSummary names it
// after the login: "2 console sessions ended, 1 token revoked (cardflow
// login)", and so on.
func RevokedSummary(rev *access.Revoked) string {
	var names []string
	for _, t := range rev.Tokens {
		names = append(names, truncate(t.Name, 100))
	}
	out := fmt.Sprintf("%s ended, %s revoked", counttext.Format(rev.Sessions, "console session"), counttext.Format(len(rev.Tokens), "token"))
	if len(names) > 0 {
		out += " (" + truncate(strings.Join(names, ", "), 400) + ")"
	}
	if rev.Unbound && rev.Issuer != "" {
		out += ", its binding to " + truncate(rev.Issuer, 200) + " forgotten"
	} else if rev.Unbound {
		out += ", its binding forgotten"
	}
	if rev.RunsCanceled > 0 || rev.CancelFailed != nil {
		out += ", " + counttext.Format(rev.RunsCanceled, "flow run") + " canceled"
	}
	if rev.CancelFailed != nil {
		out += " (the others could not be)"
	}
	return out
}
