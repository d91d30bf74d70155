package console

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/counttext"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/web"
)

func (c *Console) tokenRoutes(mux *web.Mux) {
	if c.Tokens == nil {
		return
	}
	mux.Handle("GET /tokens", c.auth(c.listTokens))
	mux.Handle("POST /tokens", c.auth(c.createToken))
	mux.Handle("GET /tokens/{id}/revoke", c.auth(c.confirmRevokeToken))
	mux.Handle("POST /tokens/{id}/revoke", c.auth(c.revokeToken))
}

func (c *Console) auditRoutes(mux *web.Mux) {
	if c.Audit == nil {
		return
	}
	mux.Handle("GET /audit", c.auth(c.listAudit))
}

// tokensData is the Tokens page.
type tokensData struct {
	Tokens []*store.APIToken
	All    bool
	Roles  []access.Role    // the roles this person may give a token
	New    *access.NewToken // the token just created, shown once
	// Error is what was wrong with the name (or the request as a whole);
	// RoleError and ExpiresError what was wrong with the role and the
	// lifetime, each shown at its own field.
	Error, RoleError, ExpiresError string
	Name                           string
	Role                           string
	// Expires is the lifetime as the form sent it ("720h"), written back
	// as sent.
	Expires  string
	Now      time.Time
	Lifetime []tokenLifetime
	Pager    pager
}

// tokenKey orders the tokens list (oldest first) and is its page cursor.
func tokenKey(t *store.APIToken) string {
	return fmt.Sprintf("%020d_%s", t.CreatedAt.UnixNano(), t.ID)
}

// tokenLifetime is a choice of how long a new token lasts: the form
// sends Value (a Go duration, as the API takes it) and shows Label.
type tokenLifetime struct{ Value, Label string }

var tokenLifetimes = []tokenLifetime{
	{"24h", "1 day"}, {"168h", "7 days"}, {"720h", "30 days"}, {"2160h", "90 days"}, {"8760h", "365 days"},
}

// lifetimeChoices are the form's lifetimes, and sent as the form sent it
// when it is none of them (a form sent by a script, or a page kept open
// across an upgrade), so that the form written back shows what was asked
// for ("5h") rather than whichever lifetime comes first.
func lifetimeChoices(sent string) []tokenLifetime {
	if sent == "" || slices.ContainsFunc(tokenLifetimes, func(l tokenLifetime) bool { return l.Value == sent }) {
		return tokenLifetimes
	}
	label := sent
	if d, err := time.ParseDuration(sent); err == nil && d > 0 && d%(24*time.Hour) == 0 {
		label = counttext.Format(int(d/(24*time.Hour)), "day")
	}
	return append(slices.Clip(tokenLifetimes), tokenLifetime{sent, label})
}

func (c *Console) listTokens(w http.ResponseWriter, r *http.Request, s *reqState) {
	c.showTokens(w, r, s, http.StatusOK, tokensData{Expires: "720h", New: c.takeNewToken(w, r, s)})
}

func (c *Console) showTokens(w http.ResponseWriter, r *http.Request, s *reqState, status int, d tokensData) {
	d.All = s.principal.Role.Allows(access.Admin)
	toks, err := c.Tokens.List(r.Context(), s.principal, d.All)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	// Tokens are few (people make them): the page is cut from the list,
	// newest first as the API lists them.
	slices.SortFunc(toks, func(a, b *store.APIToken) int { return strings.Compare(tokenKey(b), tokenKey(a)) })
	toks, next := pageBefore(toks, tokenKey, r.URL.Query().Get("before"))
	d.Pager = newPager(r, "Tokens", "before", next, true)
	d.Tokens, d.Now, d.Lifetime = toks, c.now(), lifetimeChoices(d.Expires)
	for _, role := range access.Roles {
		if s.principal.Role.Allows(role) {
			d.Roles = append(d.Roles, role)
		}
	}
	// The least role first: a token does only what its script needs, and
	// a person asks for more when it does more.
	if d.Role == "" && len(d.Roles) > 0 {
		d.Role = string(d.Roles[0])
	}
	c.render(w, r, s, status, "tokens", "API tokens", d)
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request, s *reqState) {
	f := r.PostForm
	d := tokensData{Name: f.Get("name"), Role: f.Get("role"), Expires: strings.TrimSpace(f.Get("expiresIn"))}
	expires, err := time.ParseDuration(d.Expires)
	if err != nil || expires == 0 {
		// Audited as the API audits it, naming who tried: the form
		// offers only lifetimes, so this one was sent by something else.
		v := d.Expires
		if len(v) > 40 {
			v = strings.ToValidUTF8(v[:40], "") + "…"
		}
		why := "is not a duration"
		if err == nil {
			why = "is no lifetime"
		}
		c.audit(r, store.AuditEvent{Actor: s.actor(), Action: store.ActionTokenCreate, InputSummary: web.CreateTokenSummary(d.Name, d.Role, nil) + ", expiresIn " + v},
			problem.New(problem.InvalidInput, "expiresIn %q %s", v, why))
		d.ExpiresError = "Choose how long the token lasts."
		c.showTokens(w, r, s, http.StatusBadRequest, d)
		return
	}
	tok, err := c.Tokens.Create(r.Context(), s.principal, d.Name, access.Role(strings.ToLower(d.Role)), expires)
	c.audit(r, store.AuditEvent{Actor: s.actor(), Action: store.ActionTokenCreate, InputSummary: web.CreateTokenSummary(d.Name, d.Role, tok)}, err)
	if err != nil {
		status, e := c.publicError(r.Context(), err)
		switch e.Field {
		case "expiresIn":
			// The API's words write the lifetime as access.Hours does
			// (1h30m0s); the form says it as it was sent (90m), under its
			// own label, and asks for one of its choices rather than a Go
			// duration.
			msg := strings.ReplaceAll(e.Message, "expiresIn "+access.Hours(expires), "expiresIn "+d.Expires)
			d.ExpiresError = sentence(strings.Replace(msg, "expiresIn ", "Expires in ", 1), "choose one of the lifetimes offered")
		case "role":
			d.RoleError = sentence(e.Message, e.Remedy)
		default:
			d.Error = sentence(e.Message, e.Remedy)
		}
		c.showTokens(w, r, s, status, d)
		return
	}
	// Post/Redirect/Get: the Tokens page shows the new token once, so that
	// reloading it does not send the form again and make a second token.
	if err := c.keepNewToken(w, r, s, tok); err != nil {
		c.log.ErrorContext(r.Context(), "console: could not seal a new token for the next page; showing it on the form's answer", slog.Any("cause", err))
		c.showTokens(w, r, s, http.StatusCreated, tokensData{New: tok, Expires: "720h"})
		return
	}
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
}

// confirmRevokeToken asks whether to revoke a token: one of the person's
// own, or for an admin anyone's (the tokens the Tokens page lists).
func (c *Console) confirmRevokeToken(w http.ResponseWriter, r *http.Request, s *reqState) {
	toks, err := c.Tokens.List(r.Context(), s.principal, s.principal.Role.Allows(access.Admin))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	i := slices.IndexFunc(toks, func(t *store.APIToken) bool { return t.ID == r.PathValue("id") })
	if i < 0 {
		c.notFoundAt(w, r, s, messageData{Message: fmt.Sprintf("No token of yours has the id %q: it may have been revoked already.", r.PathValue("id")),
			Remedy: "Pick the token again on the API tokens page.", Link: "/tokens", LinkText: "Go to API tokens"})
		return
	}
	c.render(w, r, s, http.StatusOK, "revoketoken", "Revoke "+toks[i].Name, toks[i])
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request, s *reqState) {
	rec, offspring, err := c.Tokens.Revoke(r.Context(), s.principal, r.PathValue("id"))
	c.audit(r, store.AuditEvent{Actor: s.actor(), Action: store.ActionTokenRevoke, InputSummary: web.RevokeTokenSummary(r.PathValue("id"), rec, offspring...)}, err)
	if err != nil {
		_, e := c.publicError(r.Context(), err)
		c.addFlash(r.Context(), s.session, flash{Kind: "error", Message: "The token was not revoked: " + e.Message, Remedy: e.Remedy})
	} else {
		msg := "Revoked the token " + rec.Name + ". It no longer signs anything in."
		switch n := len(offspring); n {
		case 0:
		case 1:
			msg = "Revoked the token " + rec.Name + " and the token created with it, " + offspring[0].Name + ". Neither signs anything in any more."
		default:
			msg = fmt.Sprintf("Revoked the token %s and the %d tokens created with it. None of them signs anything in any more.", rec.Name, n)
		}
		c.addFlash(r.Context(), s.session, flash{Kind: "ok", Message: msg})
	}
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
}

// auditData is the Audit page.
type auditData struct {
	Events []*store.AuditEvent
	// Action, Connection and Actor are the filters as asked for (the
	// connection by id or nickname, the actor by login); "" for any.
	Action, Connection, Actor string
	// ConnectionName is the nickname of the connection filtered by (""
	// when it has been deleted since).
	ConnectionName string
	// Actions are the audit actions the form offers, Nicknames the
	// connections' nicknames it suggests.
	Actions, Nicknames []string
	Pager              pager
	// Live maps the ids of the connections that still exist to their
	// nicknames: only those are links.
	Live map[string]string
	// FilterError says why a filter names nothing to list (an unknown or
	// misspelt action or connection); the page then lists no events.
	FilterError *filterError
	// UnknownConnection is set when that filter is the connection's.
	UnknownConnection bool
	// Plans is the plans filter as asked for: "" (include), "exclude"
	// or "only" (store.PlanFilter).
	Plans string
	// ActorSuggestion, when the actor filter matched no event, is the
	// login of an actor of the audit near it (web.ActorSuggestion), and
	// ActorSuggestionURL the page filtered by it.
	ActorSuggestion, ActorSuggestionURL string
}

// Filtered reports whether any filter is set.
func (d auditData) Filtered() bool {
	return d.Action != "" || d.Connection != "" || d.Actor != "" || d.Plans != ""
}

// PlansText says what the plans filter keeps, for the sentence above the
// list: "" when it keeps everything.
func (d auditData) PlansText() string { return plansText(d.Plans, "flow plans and their reads") }

func (c *Console) listAudit(w http.ResponseWriter, r *http.Request, s *reqState) {
	if clean, ok := cleanFilterAddress(r.URL); ok {
		http.Redirect(w, r, clean, http.StatusFound)
		return
	}
	q := r.URL.Query()
	d := auditData{Action: strings.TrimSpace(q.Get("action")), Connection: strings.TrimSpace(q.Get("connection")),
		Actor: strings.TrimSpace(q.Get("actor")), Actions: store.AuditActions, Plans: strings.TrimSpace(q.Get("plans"))}
	f := store.AuditFilter{Action: d.Action, ConnectionID: d.Connection, Limit: listPageSize + 1}
	web.FilterActor(&f, d.Actor)
	f.Plans, d.FilterError = plansFilter(d.Plans)
	status := http.StatusBadRequest // of a filter error
	if c.Connections != nil {
		conns, err := c.Connections.List(r.Context())
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
		d.Live, d.Nicknames = connection.Nicknames(conns), sortedNicknames(conns)
	}
	if d.Action != "" && !slices.Contains(store.AuditActions, d.Action) && d.FilterError == nil {
		d.FilterError = &filterError{Message: fmt.Sprintf("unknown audit action %q", d.Action),
			Remedy: "Pick an action from the Action list above."}
		if near := flow.Nearest(d.Action, store.AuditActions...); near != "" {
			d.FilterError.Suggestion, d.FilterError.SuggestionText = listURL(r, "action", near), near
		}
	}
	if web.AuditPlansMismatch(d.Action, f.Plans) != nil && d.FilterError == nil {
		d.FilterError = auditPlansMismatch(d.Action, f.Plans)
	}
	if d.Connection != "" && c.Connections != nil && d.FilterError == nil {
		var (
			fe  *filterError
			err error
		)
		f.ConnectionID, d.ConnectionName, fe, err = c.connectionFilter(r, d.Connection, "audit trail")
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
		if fe != nil {
			d.FilterError, d.UnknownConnection, status = fe, true, http.StatusNotFound
		}
	}
	if v := q.Get("before"); v != "" && d.FilterError == nil {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			f.BeforeID = id
		} else {
			d.FilterError = badCursor(r.URL.Path, setValues(q, "action", "connection", "actor", "plans"), "before", v,
				"the audit trail", "an audit event's id, a whole number such as 4180", "Show the newest audit events")
		}
	}
	if d.FilterError != nil {
		c.render(w, r, s, status, "audit", "Error: Audit", d)
		return
	}
	events, err := c.Audit.ListAudit(r.Context(), f)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	next := ""
	if len(events) > listPageSize {
		events = events[:listPageSize]
		next = strconv.FormatInt(events[len(events)-1].ID, 10)
	}
	if len(events) == 0 && f.BeforeID == 0 {
		if d.ActorSuggestion, err = web.ActorSuggestion(r.Context(), c.Audit, f.ActorLogin); err != nil {
			c.fail(w, r, s, err)
			return
		}
		if d.ActorSuggestion != "" {
			d.ActorSuggestionURL = listURL(r, "actor", d.ActorSuggestion)
		}
	}
	// The pages keep the filters set, not the empty fields of the form.
	d.Events, d.Pager = events, newPagerAt(r.URL.Path, setValues(q, "action", "connection", "actor", "plans", "before"), "Audit events", "before", next, true)
	c.render(w, r, s, http.StatusOK, "audit", "Audit", d)
}

// auditPlansMismatch is the console's wording of web.AuditPlansMismatch:
// why the audit filter of action and plans lists no event.
func auditPlansMismatch(action string, plans store.PlanFilter) *filterError {
	if plans == store.PlansExclude {
		return &filterError{Message: fmt.Sprintf("every %s event is a flow plan's, so Exclude under Flow plans leaves them all out", action),
			Remedy: "Pick Include under Flow plans, or another action."}
	}
	return &filterError{Message: fmt.Sprintf("no %s event is a flow plan's: flow plans make only %s and %s events", action, store.ActionCardRun, store.ActionFlowPlan),
		Remedy: fmt.Sprintf("Pick Include under Flow plans, or the action %s or %s.", store.ActionCardRun, store.ActionFlowPlan)}
}
