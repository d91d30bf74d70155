package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/counttext"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// TokenView converts a stored token to its public shape (never its hash).
func TokenView(t *store.APIToken) api.Token {
	return api.Token{ID: t.ID, Name: t.Name, Role: t.Role, Owner: &api.Actor{Type: t.OwnerType, Login: t.OwnerLogin},
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: timePtr(t.LastUsedAt)}
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalOf(r.Context())
	var req api.TokenRequest
	tok, err := s.newToken(r, w, p, &req)
	// Every refusal is audited, naming who tried, the body's too.
	summary := CreateTokenSummary(req.Name, req.Role, tok)
	if tok == nil && req.ExpiresIn != "" {
		summary += ", expiresIn " + truncate(req.ExpiresIn, 40)
	}
	s.audit(r, store.AuditEvent{Actor: p.Actor, Action: store.ActionTokenCreate, InputSummary: summary}, err)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := TokenView(tok.APIToken)
	out.Token = tok.Token
	writeJSON(w, http.StatusCreated, out)
}

// newToken reads the request's body into req and creates the token it
// asks p for.
func (s *Server) newToken(r *http.Request, w http.ResponseWriter, p access.Principal, req *api.TokenRequest) (*access.NewToken, error) {
	if err := s.decodeJSON(w, r, req, false); err != nil {
		return nil, err
	}
	var expiresIn time.Duration
	if req.ExpiresIn != "" {
		d, err := time.ParseDuration(req.ExpiresIn)
		if err != nil {
			p := problem.New(problem.InvalidInput, "expiresIn %q is not a duration", req.ExpiresIn).
				WithRemedy("give a Go duration such as \"24h\" or \"720h\"").WithDetail("field", "expiresIn")
			if h, ok := inHours(req.ExpiresIn); ok {
				p.WithRemedy("give it in hours, %q: a Go duration has no days or weeks", h)
			}
			return nil, p
		}
		if d == 0 {
			// Tokens.Create reads 0 as "not given": a token asked to
			// last "0" would last the default 720h without a word.
			return nil, problem.New(problem.InvalidInput, "expiresIn %q is no lifetime: a token lasts from 1m to %s", req.ExpiresIn, access.Hours(access.MaxTokenLifetime)).
				WithRemedy("give a Go duration such as \"24h\" or \"720h\", or leave expiresIn out for the default").WithDetail("field", "expiresIn")
		}
		expiresIn = d
	}
	return s.Tokens.Create(r.Context(), p, req.Name, access.Role(strings.ToLower(req.Role)), expiresIn)
}

// inHours writes a lifetime given in days or weeks ("30d", "2w"), which
// people write and Go durations lack, in hours ("720h", "336h").
func inHours(v string) (string, bool) {
	v = strings.TrimSpace(strings.ToLower(v))
	per := map[string]int{"d": 24, "day": 24, "days": 24, "w": 7 * 24, "week": 7 * 24, "weeks": 7 * 24}
	i := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	if i <= 0 {
		return "", false
	}
	n, err := strconv.Atoi(v[:i])
	h, ok := per[strings.TrimSpace(v[i:])]
	if err != nil || !ok || n > 1e6 {
		return "", false
	}
	return strconv.Itoa(n*h) + "h", true
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalOf(r.Context())
	all, err := queryBool(r.URL.Query().Get("all"), "all", "use all=true for everyone's tokens (admins), or leave it out for your own")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	page, err := readTimePage(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	toks, err := s.Tokens.List(r.Context(), p, all)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Newest first (as List answers) and paged by (createdAt, id), as
	// every other list. A person's tokens are few, so the page is cut here.
	var out api.TokenList
	toks, out.Next = cut(page, r, q, toks, func(t *store.APIToken) (time.Time, string) { return t.CreatedAt, t.ID }, "all", "limit")
	out.Tokens = make([]api.Token, 0, len(toks))
	for _, t := range toks {
		out.Tokens = append(out.Tokens, TokenView(t))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalOf(r.Context())
	rec, offspring, err := s.Tokens.Revoke(r.Context(), p, r.PathValue("id"))
	s.audit(r, store.AuditEvent{Actor: p.Actor, Action: store.ActionTokenRevoke, InputSummary: RevokeTokenSummary(r.PathValue("id"), rec, offspring...)}, err)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalOf(r.Context())
	out := api.Whoami{Actor: actorJSON(p.Actor), Role: string(p.Role), TokenID: p.TokenID}
	if p.TokenID != "" && !p.ExpiresAt.IsZero() {
		out.TokenExpiresAt = timePtr(p.ExpiresAt)
	}
	writeJSON(w, http.StatusOK, out)
}

// audit records an event with its outcome; a failure to record is logged,
// not returned (the action itself happened or failed already).
func (s *Server) audit(r *http.Request, e store.AuditEvent, err error) {
	if s.History == nil {
		return
	}
	e.Time = s.now()
	e.Outcome = "success"
	if err != nil {
		e.Outcome = "failure"
		_, pub := publicError(r.Context(), err)
		e.Error = pub.Message
	}
	if aerr := s.History.AppendAudit(r.Context(), &e); aerr != nil {
		s.log.ErrorContext(r.Context(), "could not record an audit event", slog.String("action", e.Action), slog.Any("cause", aerr))
	}
}

// TokenSummary is how a token.create audit event names the token asked
// for (the API's and the console's): "token NAME (ROLE)", each cut short;
// "token NAME" when no role was asked for (the creator's), and "a token
// without a name" for a name left out (or not read, from a body that
// could not be).
func TokenSummary(name, role string) string {
	out := "token " + truncate(name, 100)
	if name == "" {
		out = "a token without a name"
	}
	if role != "" {
		out += " (" + truncate(role, 20) + ")"
	}
	return out
}

// CreateTokenSummary is how a token.create audit event names the token:
// the one made, with its role and expiry, when tok is not nil (a role left
// out is the creator's); else the name and role asked for.
func CreateTokenSummary(name, role string, tok *access.NewToken) string {
	if tok == nil {
		return TokenSummary(name, role)
	}
	return TokenSummary(tok.Name, tok.Role) + ", expires " + timetext.Format(tok.ExpiresAt)
}

// RevokeTokenSummary is how a token.revoke audit event names the token:
// "token NAME (ROLE) of OWNER", and the tokens it created that went with
// it, or only the id asked for when rec is nil (nothing was revoked).
func RevokeTokenSummary(id string, rec *store.APIToken, offspring ...*store.APIToken) string {
	if rec == nil {
		return "token " + truncate(access.RedactTokens(id), 64)
	}
	owner := rec.OwnerLogin
	if owner == "" {
		owner = "the bootstrap admin"
	}
	out := TokenSummary(rec.Name, rec.Role) + " of " + owner
	if len(offspring) > 0 {
		var names []string
		for _, t := range offspring {
			names = append(names, truncate(t.Name, 100))
		}
		out += ", with the tokens it created: " + truncate(strings.Join(names, ", "), 400)
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// loopbackRedirect reports whether uri is a loopback redirect URI of
// cardflow login (RFC 8252 §7.3): http, 127.0.0.1, [::1] or localhost, with
// a port.
func loopbackRedirect(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.Port() == "" || u.User != nil || u.Fragment != "" {
		return false
	}
	switch u.Hostname() {
	case "127.0.0.1", "::1", "localhost":
		return true
	}
	return false
}

// LoweredSummary is what a sign-in with role lowered (store.RoleLowered),
// for its person.signin audit event: "; lowered to viewer: 1 console
// session, 2 tokens (cardflow login, ci)", or "" when it lowered nothing.
func LoweredSummary(role access.Role, l store.RoleLowered) string {
	if !l.Any() {
		return ""
	}
	return "; lowered to " + string(role) + ": " + LoweredText(l)
}

// LoweredText names what a sign-in lowered: "1 console session, 2 tokens
// (cardflow login, ci)".
func LoweredText(l store.RoleLowered) string {
	var parts []string
	if l.Sessions > 0 {
		parts = append(parts, counttext.Format(l.Sessions, "console session"))
	}
	if len(l.Tokens) > 0 {
		parts = append(parts, counttext.Format(len(l.Tokens), "token")+" ("+strings.Join(l.Tokens, ", ")+")")
	}
	return strings.Join(parts, ", ")
}

// LogLowered logs what a sign-in of login with role lowered, if anything.
func LogLowered(ctx context.Context, log *slog.Logger, login string, role access.Role, l store.RoleLowered) {
	if l.Any() {
		log.InfoContext(ctx, "a sign-in with a lower role lowered the person's other sessions and tokens to it", slog.String("login", login),
			slog.String("role", string(role)), slog.Int("sessions", l.Sessions), slog.Any("tokens", l.Tokens))
	}
}
