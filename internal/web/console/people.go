package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/web"
)

func (c *Console) tokenRoutes(mux *web.Mux) {
	if c.Tokens == nil {
		return
	}
	mux.Handle("GET /tokens", c.auth(c.listTokens))
	mux.Handle("POST /tokens", c.auth(c.createToken))
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
	Tokens   []*store.APIToken
	All      bool
	Roles    []access.Role // the roles this person may give a token
	New      *access.NewToken
	Error    string
	Name     string
	Role     string
	Expires  string
	Now      time.Time
	Lifetime []string
}

var tokenLifetimes = []string{"24h", "168h", "720h", "2160h", "8760h"}

func (c *Console) listTokens(w http.ResponseWriter, r *http.Request, s *reqState) {
	c.showTokens(w, r, s, http.StatusOK, tokensData{Expires: "720h"})
}

func (c *Console) showTokens(w http.ResponseWriter, r *http.Request, s *reqState, status int, d tokensData) {
	d.All = s.principal.Role.Allows(access.Admin)
	toks, err := c.Tokens.List(r.Context(), s.principal, d.All)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	d.Tokens, d.Now, d.Lifetime = toks, c.now(), tokenLifetimes
	for _, role := range access.Roles {
		if s.principal.Role.Allows(role) {
			d.Roles = append(d.Roles, role)
		}
	}
	if d.Role == "" {
		d.Role = string(s.principal.Role)
	}
	c.render(w, r, s, status, "tokens", "API tokens", d)
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request, s *reqState) {
	f := r.PostForm
	d := tokensData{Name: f.Get("name"), Role: f.Get("role"), Expires: f.Get("expiresIn")}
	expires, err := time.ParseDuration(d.Expires)
	if err != nil {
		d.Error = "Choose how long the token lasts."
		c.showTokens(w, r, s, http.StatusBadRequest, d)
		return
	}
	tok, err := c.Tokens.Create(r.Context(), s.principal, d.Name, access.Role(strings.ToLower(d.Role)), expires)
	c.audit(r, store.AuditEvent{Actor: s.actor(), Action: "token.create", InputSummary: "token " + d.Name + " (" + d.Role + ")"}, err)
	if err != nil {
		status, e := c.publicError(r.Context(), err)
		d.Error = e.Message
		c.showTokens(w, r, s, status, d)
		return
	}
	d = tokensData{New: tok, Expires: "720h"}
	c.showTokens(w, r, s, http.StatusCreated, d)
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request, s *reqState) {
	rec, err := c.Tokens.Revoke(r.Context(), s.principal, r.PathValue("id"))
	summary := "token " + r.PathValue("id")
	if rec != nil {
		summary = "token " + rec.Name + " (" + rec.Role + ") of " + (store.Actor{Type: store.ActorToken, Login: rec.OwnerLogin, TokenName: rec.Name}).String()
	}
	c.audit(r, store.AuditEvent{Actor: s.actor(), Action: "token.revoke", InputSummary: summary}, err)
	if err != nil {
		_, e := c.publicError(r.Context(), err)
		c.addFlash(r.Context(), s.session, flash{Kind: "error", Message: "The token was not revoked: " + e.Message, Remedy: e.Remedy})
	} else {
		c.addFlash(r.Context(), s.session, flash{Kind: "ok", Message: "Revoked the token " + rec.Name + ". It no longer signs anything in."})
	}
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
}

// auditData is the Audit page.
type auditData struct {
	Events []*store.AuditEvent
	Actor  string
}

func (c *Console) listAudit(w http.ResponseWriter, r *http.Request, s *reqState) {
	d := auditData{Actor: r.URL.Query().Get("actor")}
	events, err := c.Audit.ListAudit(r.Context(), store.AuditFilter{ActorLogin: d.Actor, Limit: 200})
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	d.Events = events
	c.render(w, r, s, http.StatusOK, "audit", "Audit", d)
}
