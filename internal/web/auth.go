package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/sso"
	"github.com/cardflow/cardflow/internal/store"
)

// SSO is single sign-on with an OpenID Connect provider; *sso.Provider
// satisfies it.
type SSO interface {
	Issuer() string
	ClientID() string
	Scopes() []string
	AuthorizationEndpoint(ctx context.Context) (string, error)
	AuthURL(ctx context.Context, redirectURI, state, nonce, verifier string) (string, error)
	Exchange(ctx context.Context, code, verifier, redirectURI, nonce string) (*sso.Identity, error)
}

func (s *Server) authConfig(w http.ResponseWriter, r *http.Request) {
	ep, err := s.SSO.AuthorizationEndpoint(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.AuthConfig{Issuer: s.SSO.Issuer(), AuthorizationEndpoint: ep, ClientID: s.SSO.ClientID(), Scopes: s.SSO.Scopes()})
}

// CLITokenLifetime is how long the token of cardflow login lasts.
const CLITokenLifetime = 30 * 24 * time.Hour

// cliToken redeems the authorization code cardflow login received on its
// loopback redirect (the server holds the client secret; the CLI holds the
// PKCE verifier), and answers a personal API token of the person's role.
func (s *Server) cliToken(w http.ResponseWriter, r *http.Request) {
	addr, now := s.Limiter.ClientAddr(r), s.now()
	if ok, wait := s.Limiter.Allow(addr, now); !ok {
		s.writeError(w, r, s.lockedOut(r, addr, now, wait, "then sign in again"))
		return
	}
	var req api.CLITokenRequest
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Code == "" || req.CodeVerifier == "" || req.Nonce == "" {
		s.writeError(w, r, problem.New(problem.InvalidInput, "code, codeVerifier and nonce are required").WithRemedy("sign in with cardflow login"))
		return
	}
	if !loopbackRedirect(req.RedirectURI) {
		s.writeError(w, r, problem.New(problem.InvalidInput, "redirectUri must be a loopback address such as http://127.0.0.1:PORT/callback").
			WithRemedy("sign in with cardflow login, which listens on a loopback address").WithDetail("field", "redirectUri"))
		return
	}
	// Started before the identity provider says who signed in, so that
	// revoking their access meanwhile refuses the token.
	signIn, err := s.Tokens.StartSignIn(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id, err := s.SSO.Exchange(r.Context(), req.Code, req.CodeVerifier, req.RedirectURI, req.Nonce)
	var noRole *sso.NoRoleError
	switch {
	case errors.As(err, &noRole):
		s.Tokens.EndSignIn(r.Context(), signIn)
		ended := EndNoRole(r.Context(), s.log, s.People, id)
		s.audit(r, store.AuditEvent{Actor: store.Actor{Type: store.ActorUser, Login: id.Login}, Action: store.ActionPersonSignIn, InputSummary: "cardflow login" + ended}, noRole.Problem())
		s.writeError(w, r, noRole.Problem())
		return
	case err != nil:
		s.Tokens.EndSignIn(r.Context(), signIn)
		if sso.Refused(err) {
			if wait := s.Limiter.Fail(addr, now, access.RefusedSignIn); wait > 0 {
				err = OneTooMany(err, now, wait)
			}
		}
		s.writeError(w, r, err)
		return
	}
	p := access.Principal{Actor: store.Actor{Type: store.ActorUser, Login: id.Login}, Role: id.Role, Name: id.Name, SignIn: signIn, Subject: id.Subject, Issuer: id.Issuer}
	name := req.Name
	if name == "" {
		name = "cardflow login"
	}
	tok, err := s.Tokens.Create(r.Context(), p, name, id.Role, CLITokenLifetime)
	var lowered store.RoleLowered
	if tok != nil {
		lowered = tok.Lowered
	}
	s.audit(r, store.AuditEvent{Actor: p.Actor, Action: store.ActionPersonSignIn, InputSummary: "cardflow login; " + CreateTokenSummary(name, string(id.Role), tok) + LoweredSummary(id.Role, lowered)}, err)
	if errors.Is(err, store.ErrSubjectTaken) {
		// Refused before the token was stored: the sign-in is still in
		// flight.
		s.Tokens.EndSignIn(r.Context(), signIn)
		why, attrs := SubjectTakenWarning(id, err)
		s.log.WarnContext(r.Context(), "cardflow login refused: "+why, attrs...)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "signed in with cardflow login", slog.String("login", id.Login), slog.String("role", string(id.Role)))
	LogLowered(r.Context(), s.log, id.Login, id.Role, lowered)
	out := TokenView(tok.APIToken)
	out.Token = tok.Token
	if lowered.Any() {
		out.Lowered = &api.RoleLowered{Role: string(id.Role), Sessions: lowered.Sessions, Tokens: lowered.Tokens}
	}
	writeJSON(w, http.StatusCreated, out)
}

// OneTooMany is the refusal err of a sign-in (cardflow login's, the
// console's) that used up its address's limit, refused from now for wait:
// it says so, and until when, as the refusal of a wrong token that does,
// where it said only why the sign-in was refused, and the next one met the
// lockout unwarned.
func OneTooMany(err error, now time.Time, wait time.Duration) error {
	pe, ok := problem.As(err)
	if !ok {
		return err
	}
	wait, until := RefusedUntil(now, wait)
	out := *pe
	out.Details = maps.Clone(pe.Details)
	out.Message = strings.TrimSuffix(pe.Message, ".") + " (one sign-in refused too many from your address)"
	return out.WithRemedy("wait %s (until %s): every request and sign-in from your address is refused until then, even with the right token; then %s",
		wait, until.Format(UntilLayout), pe.Remedy).WithDetail("refusedUntil", until.Format(time.RFC3339))
}

// SubjectTakenWarning is what the server's log says of a sign-in refused
// because its login is bound to another account (store.ErrSubjectTaken):
// why, and the login with the refused account's subject and issuer, for
// tracing who tried, and the issuer the login is bound at when the
// sign-in comes from another (store.IssuerChangedError).
func SubjectTakenWarning(id *sso.Identity, err error) (string, []any) {
	attrs := []any{slog.String("login", id.Login), slog.String("subject", id.Subject), slog.String("issuer", id.Issuer)}
	var moved *store.IssuerChangedError
	if errors.As(err, &moved) {
		return "the login is bound at another identity provider", append(attrs, slog.String("boundIssuer", moved.Bound))
	}
	return "the login is bound to another subject", attrs
}

// EndNoRole ends the access of the person whose sign-in, verified as id,
// was refused because its groups give no role (sso.NoRoleError), as a
// revoke ends it, when their login is bound to that very account
// (access.People.EndNoRole; a nil people ends nothing). It logs what it
// ended, or why it ended nothing, and returns what the refused sign-in's
// person.signin audit event adds to its summary: "; their groups give no
// role, so their access ended: 1 console session ended, ..." (as
// RevokedSummary), or "" when the login is bound to no account or to
// another (which is not this person's to end).
func EndNoRole(ctx context.Context, log *slog.Logger, people *access.People, id *sso.Identity) string {
	if people == nil || id == nil || id.Subject == "" {
		return ""
	}
	rev, err := people.EndNoRole(ctx, id.Login, id.Subject, id.Issuer)
	switch {
	case errors.Is(err, store.ErrSubjectTaken):
		why, attrs := SubjectTakenWarning(id, err)
		log.WarnContext(ctx, "a sign-in with no role left the access of its login alone: "+why, attrs...)
		return ""
	case err != nil:
		log.ErrorContext(ctx, "a sign-in with no role could not end the person's access", slog.String("login", id.Login), slog.Any("cause", err))
		return fmt.Sprintf("; their groups give no role, but their access could not be ended (see the server's log): revoke it with cardflow people revoke %s", id.Login)
	case rev == nil:
		return ""
	}
	names := make([]string, 0, len(rev.Tokens))
	for _, t := range rev.Tokens {
		names = append(names, t.Name)
	}
	log.InfoContext(ctx, "a sign-in whose groups give no role ended the person's access", slog.String("login", id.Login),
		slog.Int("sessions", rev.Sessions), slog.Any("tokens", names), slog.Bool("unbound", rev.Unbound), slog.Int("runsCanceled", rev.RunsCanceled))
	if rev.CancelFailed != nil {
		log.ErrorContext(ctx, "ended a person's access, but could not cancel every flow run they started", slog.String("login", id.Login),
			slog.Int("canceled", rev.RunsCanceled), slog.Any("error", rev.CancelFailed))
	}
	return "; their groups give no role, so their access ended: " + RevokedSummary(rev)
}
