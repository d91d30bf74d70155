package console

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/sso"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/web"
)

const (
	// ssoCookie binds a pending single sign-on to the browser that started
	// it: it holds the state, which the callback must bring back.
	ssoCookie = "cardflow_sso"
	// signInRequestTTL bounds a pending single sign-on.
	signInRequestTTL = 10 * time.Minute
)

// signinData is the sign-in page.
type signinData struct {
	Next      string
	Token     string // the sign-in form's anti-forgery value
	Error     string
	SignedOut bool
	// Ended: the browser came with a session that has ended.
	Ended bool
	SSO   bool
}

// signinPage shows the sign-in form, or sends a signed-in browser on.
func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if ss := c.currentSession(r); ss != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	c.showSignin(w, r, http.StatusOK, signinData{Next: next, SignedOut: r.URL.Query().Get("signedout") == "1", Ended: r.URL.Query().Get("ended") == "1"})
}

func (c *Console) showSignin(w http.ResponseWriter, r *http.Request, status int, d signinData) {
	d.Token = randomString(24)
	d.SSO = c.SSO != nil
	c.setCookie(w, r, signinCookie, d.Token, 3600)
	c.render(w, r, nil, status, "signin", "Sign in", d)
}

// signin checks the API token (the bootstrap admin's) and starts a
// session.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.forbidden(w, r, "The sign-in form could not be read.")
		return
	}
	ck, err := r.Cookie(signinCookie)
	if !c.sameOrigin(r) || err != nil || !equalSecret(r.PostForm.Get(csrfField), ck.Value) {
		c.log.WarnContext(r.Context(), "console: sign-in post refused", slog.Bool("same_origin", c.sameOrigin(r)), slog.Bool("form_cookie", err == nil))
		c.forbidden(w, r, "The sign-in form is out of date or was sent from another site.")
		return
	}
	next := localPath(r.PostForm.Get("next"))
	addr, now := c.Limiter.ClientAddr(r), c.now()
	if ok, wait := c.Limiter.Allow(addr, now); !ok {
		// Named as the limiter counted them, as the API's refusal does:
		// refused single sign-ons lock the token sign-in out too.
		what := c.Limiter.Refusals(addr, now)
		c.log.WarnContext(r.Context(), "console: too many "+what.String()+" from one address; refusing it for a while", slog.String("client", addr))
		wait, until := web.RefusedUntil(now, wait)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)))
		c.showSignin(w, r, http.StatusTooManyRequests, signinData{Next: next,
			Error: "Too many " + what.String() + " from your address: every sign-in from it, with the right token too, is refused until " + until.Format(web.UntilLayout) + ". Then try again."})
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	ok := false
	if c.CheckToken != nil {
		if ok, err = c.CheckToken(r.Context(), token); err != nil {
			c.fail(w, r, nil, err)
			return
		}
	}
	if !ok && c.Tokens != nil && strings.HasPrefix(token, access.TokenPrefix) {
		if rec, err := c.Tokens.Identify(r.Context(), token); err == nil {
			// A personal API token: not a guess, so not counted against
			// the address; its holder learns what to use instead.
			c.log.InfoContext(r.Context(), "console: sign-in with a personal API token refused", slog.String("token", rec.ID), slog.String("client", addr))
			c.showSignin(w, r, http.StatusUnauthorized, signinData{Next: next, Error: personalTokenRefusal(rec, c.SSO != nil)})
			return
		} else if !errors.Is(err, access.ErrBadToken) {
			c.fail(w, r, nil, err)
			return
		}
	}
	if !ok {
		wait := c.Limiter.Fail(addr, now, access.WrongToken)
		c.log.InfoContext(r.Context(), "console: sign-in with a wrong API token", slog.String("client", addr))
		msg := "That is not this server's API token. It was printed when the server first started and is in the data directory's api-token file."
		if wait > 0 {
			// This failure used up the address's limit: the right token
			// is refused as well until it ends.
			_, until := web.RefusedUntil(now, wait)
			msg = "That is not this server's API token, and it was one too many from your address: every sign-in from it, with the right token too, is refused until " +
				until.Format(web.UntilLayout) + ". The token was printed when the server first started and is in the data directory's api-token file."
		}
		c.showSignin(w, r, http.StatusUnauthorized, signinData{Next: next, Error: msg})
		return
	}
	if _, err := c.startSession(w, r, access.Bootstrap); err != nil {
		c.fail(w, r, nil, err)
		return
	}
	c.setCookie(w, r, signinCookie, "", -1)
	c.audit(r, store.AuditEvent{Actor: access.Bootstrap.Actor, Action: store.ActionPersonSignIn, InputSummary: "console, API token"}, nil)
	c.log.InfoContext(r.Context(), "console: signed in", slog.String("actor", access.Bootstrap.Actor.String()))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// personalTokenRefusal says why a personal API token does not sign in to
// the console, and what does: single sign-on (when the server has it) as
// its owner, or the server's API token.
func personalTokenRefusal(rec *store.APIToken, sso bool) string {
	owner := rec.OwnerLogin
	if owner == "" {
		owner = "the bootstrap admin"
	}
	msg := fmt.Sprintf("That is a personal API token (%s, of %s), for the command line and the API (CARDFLOW_API_TOKEN), not the console: the console signs in ", rec.Name, owner)
	switch {
	case sso && rec.OwnerLogin != "":
		msg += "with single sign-on (Sign in with SSO, as " + rec.OwnerLogin + "), or, as the bootstrap admin, with the server's API token."
	case sso:
		msg += "with single sign-on (Sign in with SSO), or, as the bootstrap admin, with the server's API token."
	default:
		msg += "with the server's API token only."
	}
	return msg + " The server's API token was printed when the server first started and is in the data directory's api-token file."
}

// startSSO sends the browser to the identity provider with a new state,
// nonce and PKCE verifier, kept in the database (the verifier sealed) and
// the state also in a cookie of this browser.
func (c *Console) startSSO(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := c.now()
	addr := c.SignInStarts.ClientAddr(r)
	if ok, wait := c.SignInStarts.Allow(addr, now); !ok {
		c.log.WarnContext(ctx, "console: too many single sign-ons started from one address; refusing it for a while", slog.String("client", addr))
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second).Seconds())+1))
		c.signinFailed(w, r, http.StatusTooManyRequests, problem.New(problem.RateLimited,
			"Too many sign-ins were started from your address. Wait a minute, then sign in again."))
		return
	}
	c.SignInStarts.Fail(addr, now, access.SignInStart) // counts the start
	if err := c.Sessions.DeleteExpiredSignInRequests(ctx, now); err != nil {
		c.log.WarnContext(ctx, "console: could not remove expired sign-ins", slog.Any("cause", err))
	}
	state, nonce, verifier := randomString(32), randomString(32), oauth2.GenerateVerifier()
	sealed, err := c.Keyring.Seal([]byte(verifier), verifierAAD(state))
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	req := &store.SignInRequest{State: state, SealedVerifier: sealed, Nonce: nonce, Next: localPath(r.URL.Query().Get("next")),
		CreatedAt: now, ExpiresAt: now.Add(signInRequestTTL)}
	if err := c.Sessions.CreateSignInRequest(ctx, req); err != nil {
		c.fail(w, r, nil, err)
		return
	}
	u, err := c.SSO.AuthURL(ctx, c.callbackURL(r), state, nonce, verifier)
	if err != nil {
		c.signinFailed(w, r, http.StatusBadGateway, err)
		return
	}
	c.setCookie(w, r, ssoCookie, state, int(signInRequestTTL.Seconds()))
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// ssoCallback finishes a single sign-on: the state must be this browser's
// and unused, the code is redeemed with the PKCE verifier, the ID token
// verified, and the person's groups must give a role.
func (c *Console) ssoCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	state := q.Get("state")
	ck, err := r.Cookie(ssoCookie)
	c.setCookie(w, r, ssoCookie, "", -1)
	if state == "" || err != nil || !equalSecret(ck.Value, state) {
		if c.signedInAlready(w, r) {
			return
		}
		c.log.WarnContext(ctx, "console: sign-in callback with a state this browser did not start", slog.Bool("cookie", err == nil))
		c.signinFailed(w, r, http.StatusBadRequest, problem.New(problem.InvalidInput, "This sign-in was not started by this browser, or it was already finished."))
		return
	}
	req, err := c.Sessions.ConsumeSignInRequest(ctx, state)
	if errors.Is(err, store.ErrNotFound) {
		if c.signedInAlready(w, r) {
			return
		}
		c.signinFailed(w, r, http.StatusBadRequest, problem.New(problem.InvalidInput, "This sign-in was already used or has expired."))
		return
	}
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if !c.now().Before(req.ExpiresAt) {
		c.signinFailed(w, r, http.StatusBadRequest, problem.New(problem.InvalidInput, "This sign-in took longer than %s and has expired.", signInRequestTTL))
		return
	}
	if e := q.Get("error"); e != "" {
		desc := q.Get("error_description")
		if desc == "" {
			desc = e
		}
		c.signinFailed(w, r, http.StatusForbidden, problem.New(problem.Forbidden, "The identity provider refused the sign-in: %s", desc).
			WithRemedy("%s", sso.RefusedRemedy(e, c.SSO.ClientID())))
		return
	}
	verifier, err := c.Keyring.Open(req.SealedVerifier, verifierAAD(state))
	if err != nil {
		// Sealed by a server with a key this one lacks: a key rotation
		// passed it, and a server with the key answers the next sign-in.
		if c.KeyringBehind != nil {
			if behind := c.KeyringBehind(ctx, err); behind != nil {
				err = fmt.Errorf("%w (%w)", behind, err)
			}
		}
		c.fail(w, r, nil, err)
		return
	}
	// Started before the identity provider says who signed in, so that
	// revoking their access meanwhile refuses the session.
	signIn := randomString(16)
	if err := c.Sessions.StartSignIn(ctx, signIn, c.now().Add(access.SignInTTL)); err != nil {
		c.fail(w, r, nil, err)
		return
	}
	id, err := c.SSO.Exchange(ctx, q.Get("code"), string(verifier), c.callbackURL(r), req.Nonce)
	if err != nil {
		if err := c.Sessions.EndSignIn(ctx, signIn); err != nil && !errors.Is(err, store.ErrNotFound) {
			c.log.WarnContext(ctx, "console: could not forget a failed sign-in", slog.Any("cause", err))
		}
	}
	var noRole *sso.NoRoleError
	if errors.As(err, &noRole) {
		p := noRole.Problem()
		ended := web.EndNoRole(ctx, c.log, c.People, id)
		c.audit(r, store.AuditEvent{Actor: store.Actor{Type: store.ActorUser, Login: id.Login}, Action: store.ActionPersonSignIn, InputSummary: "console, single sign-on" + ended}, p)
		c.log.InfoContext(ctx, "console: signed in person has no role", slog.String("login", id.Login))
		c.signinFailed(w, r, http.StatusForbidden, p)
		return
	}
	if err != nil {
		if problem.CodeOf(err) == problem.UpstreamError {
			// The provider's answer to the server's configuration or
			// clock (or an outage there): the operator's to fix, as the
			// API logs it.
			c.log.ErrorContext(ctx, "console: single sign-on failed", slog.Any("cause", err))
		}
		if sso.Refused(err) {
			now := c.now()
			if wait := c.Limiter.Fail(c.Limiter.ClientAddr(r), now, access.RefusedSignIn); wait > 0 {
				err = web.OneTooMany(err, now, wait)
			}
		}
		c.signinFailed(w, r, 0, err)
		return
	}
	p := access.Principal{Actor: store.Actor{Type: store.ActorUser, Login: id.Login}, Role: id.Role, Name: id.Name, SignIn: signIn, Subject: id.Subject, Issuer: id.Issuer}
	ss, err := c.startSession(w, r, p)
	if errors.Is(err, store.ErrRevoked) || errors.Is(err, store.ErrSubjectTaken) {
		if errors.Is(err, store.ErrSubjectTaken) {
			// Refused before the session was stored: the sign-in is
			// still in flight.
			if err := c.Sessions.EndSignIn(ctx, signIn); err != nil && !errors.Is(err, store.ErrNotFound) {
				c.log.WarnContext(ctx, "console: could not forget a refused sign-in", slog.Any("cause", err))
			}
			why, attrs := web.SubjectTakenWarning(id, err)
			c.log.WarnContext(ctx, "console: sign-in refused: "+why, attrs...)
		}
		c.audit(r, store.AuditEvent{Actor: p.Actor, Action: store.ActionPersonSignIn, InputSummary: "console, single sign-on, role " + string(id.Role)}, err)
		c.signinFailed(w, r, 0, err)
		return
	} else if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	c.audit(r, store.AuditEvent{Actor: p.Actor, Action: store.ActionPersonSignIn, InputSummary: "console, single sign-on, role " + string(id.Role) + web.LoweredSummary(id.Role, ss.Lowered)}, nil)
	c.log.InfoContext(ctx, "console: signed in", slog.String("actor", p.Actor.String()), slog.String("role", string(p.Role)))
	web.LogLowered(ctx, c.log, id.Login, id.Role, ss.Lowered)
	if ss.Lowered.Any() {
		c.addFlash(ctx, ss, flash{Kind: "warning", Message: "Your groups give you the " + string(id.Role) + " role now: your other sign-ins and tokens were lowered to it (" +
			web.LoweredText(ss.Lowered) + ")."})
	}
	http.Redirect(w, r, req.Next, http.StatusSeeOther)
}

// signedInAlready sends a browser that holds a live session on to the
// console when the callback it brings cannot sign it in (its sign-in was
// finished, or not started by it), and reports whether it did: going back
// through the identity provider's page after signing in, as Back does at
// Okta, whose own session answers at once, brings the finished sign-in's
// state again, and "You are not signed in" would be untrue. The callback's
// code is not used.
func (c *Console) signedInAlready(w http.ResponseWriter, r *http.Request) bool {
	ss := c.currentSession(r)
	if ss == nil {
		return false
	}
	c.log.InfoContext(r.Context(), "console: sign-in callback of a signed-in browser that it cannot finish; sent on with its session", slog.String("actor", ss.Actor.String()))
	http.Redirect(w, r, "/connections", http.StatusSeeOther)
	return true
}

// signinFailed shows why a single sign-on failed, with a way to start
// again. status 0 takes the error's own status.
func (c *Console) signinFailed(w http.ResponseWriter, r *http.Request, status int, err error) {
	st, e := c.publicError(r.Context(), err)
	if status == 0 {
		status = st
	}
	c.render(w, r, nil, status, "message", "Sign-in failed", messageData{
		Heading:  "You are not signed in",
		Message:  e.Message,
		Remedy:   e.Remedy,
		Link:     "/signin",
		LinkText: "Back to sign-in",
	})
}

// callbackURL is the console's single sign-on redirect URI.
func (c *Console) callbackURL(r *http.Request) string {
	if c.PublicURL != "" {
		return strings.TrimSuffix(c.PublicURL, "/") + "/auth/callback"
	}
	return c.scheme(r) + "://" + r.Host + "/auth/callback"
}

// verifierAAD binds a sealed PKCE verifier to its sign-in.
func verifierAAD(state string) string { return "signin/" + state + "/verifier" }

// signout ends the session, in the database, so on every server.
func (c *Console) signout(w http.ResponseWriter, r *http.Request, s *reqState) {
	if err := c.Sessions.DeleteSession(r.Context(), s.session.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		c.fail(w, r, s, err)
		return
	}
	c.setCookie(w, r, sessionCookie, "", -1)
	c.audit(r, store.AuditEvent{Actor: s.actor(), Action: store.ActionPersonSignOut, InputSummary: "console"}, nil)
	c.log.InfoContext(r.Context(), "console: signed out", slog.String("actor", s.actor().String()))
	http.Redirect(w, r, "/signin?signedout=1", http.StatusSeeOther)
}

// audit records a sign-in or sign-out; failures to record are logged.
func (c *Console) audit(r *http.Request, e store.AuditEvent, err error) {
	if c.Audit == nil {
		return
	}
	e.Time = c.now()
	e.Outcome = "success"
	if err != nil {
		e.Outcome = "failure"
		if p, ok := problem.As(err); ok {
			e.Error = p.Message
		}
	}
	if aerr := c.Audit.AppendAudit(r.Context(), &e); aerr != nil {
		c.log.ErrorContext(r.Context(), "console: could not record an audit event", slog.String("action", e.Action), slog.Any("cause", aerr))
	}
}
