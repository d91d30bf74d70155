package connection

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// CallbackResult says what an authorization attempt did, for the page the
// browser lands on. It never holds a secret.
type CallbackResult struct {
	// OK is true when the connection was (re)authorized.
	OK              bool
	ConnectionID    string
	Nickname        string
	Reauthorization bool
	// Code is the problem code of a failure; empty on success.
	Code    problem.Code
	Message string
	Remedy  string
	// Warnings are things to know despite success, such as a previous
	// refresh token that could not be revoked. Scopes not granted are in
	// Connection (MissingScopes, MissingScopeCards).
	Warnings   []string
	Connection *View
	// AlreadyCompleted is set, and nothing else, when the state was used
	// by an authorization that succeeded: the callback page was loaded
	// again. Anyone holding the URL gets it, so it names nothing.
	AlreadyCompleted bool
}

// completionTTL is how long a succeeded authorization's state is
// remembered, for a reload of the callback page.
const completionTTL = 24 * time.Hour

// stateHash is what is stored of a succeeded authorization's state.
func stateHash(state string) string {
	h := sha256.Sum256([]byte("cardflow oauth state\x00" + state))
	return hex.EncodeToString(h[:])
}

// Callback completes an authorization from the query of the request the org
// redirected the browser to. A state that is missing,
// unknown or already used is an error (a *problem.Error) and nothing else
// happens, except that the state of an authorization that succeeded in
// the last completionTTL gives a result with AlreadyCompleted alone. Once the state names a connection, the outcome — success or the
// reason and the fix — is in the result and err is nil; err is then only
// set for internal failures. A failed reauthorization of an active
// connection leaves it active with its working tokens.
func (m *Manager) Callback(ctx context.Context, q url.Values) (*CallbackResult, error) {
	m.init()
	state := q.Get("state")
	if state == "" {
		err := problem.New(problem.InvalidInput, "the sign-in response has no state, so it cannot be matched to a connection").
			WithRemedy("start the authorization again from cardflow (create or reauthorize the connection)")
		// Not audited: it names no connection and nobody, and anyone can
		// send it, so each would be a row anybody could add to the audit log.
		m.log.WarnContext(ctx, "OAuth callback without a state refused")
		return nil, err
	}
	ar, err := m.Store.ConsumeAuthRequest(ctx, state)
	if errors.Is(err, store.ErrNotFound) {
		if done, err := m.Store.AuthCompleted(ctx, stateHash(state), m.now()); err != nil {
			m.log.WarnContext(ctx, "cannot read whether an OAuth state was completed", "error", err)
		} else if done {
			m.log.InfoContext(ctx, "OAuth callback of a completed authorization loaded again")
			return &CallbackResult{AlreadyCompleted: true}, nil
		}
		err := problem.New(problem.InvalidInput, "this sign-in response is unknown or was already used (each one works once)").
			WithRemedy("start the authorization again from cardflow (reauthorize the connection) and finish it in one go")
		m.log.WarnContext(ctx, "OAuth callback with an unknown or used state refused")
		return nil, err
	}
	if err != nil {
		return nil, internal("read authorization request", err)
	}
	c, err := m.Store.GetConnection(ctx, ar.ConnectionID)
	if errors.Is(err, store.ErrNotFound) {
		err := problem.New(problem.NotFound, "the connection being authorized no longer exists").
			WithRemedy("create the connection again")
		m.audit(ctx, store.AuditEvent{Actor: ar.Actor, Action: store.ActionConnectionAuthorize, ConnectionID: ar.ConnectionID}, err)
		return nil, err
	}
	if err != nil {
		return nil, internal("read connection", err)
	}
	a := &attempt{m: m, ar: ar, c: c}
	if m.now().After(ar.ExpiresAt) {
		return a.fail(ctx, store.ReasonSignInExpired, problem.New(problem.InvalidInput, "the sign-in took longer than %d minutes and its request expired", int(AuthRequestTTL/time.Minute)).
			WithRemedy("reauthorize the connection to start again"))
	}
	if e := q.Get("error"); e != "" {
		code, p := authorizeError(ar, cleanText(e, 64), cleanText(q.Get("error_description"), 300))
		return a.fail(ctx, code, p)
	}
	code := q.Get("code")
	if code == "" {
		return a.fail(ctx, store.ReasonOrgAnswerUnusable, problem.New(problem.UpstreamError, "the org sent neither an authorization code nor an error").
			WithRemedy("reauthorize the connection to start again"))
	}
	return a.complete(ctx, code)
}

// attempt is one authorization being completed.
type attempt struct {
	m  *Manager
	ar *store.AuthRequest
	c  *store.Connection
	// signedIn is the login of the account that signed in, once its ID
	// token is verified: a failure after that is audited as acting as
	// it, not as the account of the connection's previous sign-in.
	signedIn string
}

func (a *attempt) complete(ctx context.Context, code string) (*CallbackResult, error) {
	m, c, ar := a.m, a.c, a.ar
	// Once the code is redeemed the outcome must be stored even if the
	// browser goes away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshWorkTimeout)
	defer cancel()
	secret, err := m.Keyring.Open(c.SealedClientSecret, sealedAAD(c.ID, fieldClientSecret))
	if err != nil {
		return a.fail(ctx, store.ReasonStoredSecretUnreadable, unreadable("client secret", c.SealedClientSecret, err))
	}
	verifier, err := m.Keyring.Open(ar.SealedVerifier, verifierAAD(c.ID, ar.State))
	if err != nil {
		return a.fail(ctx, store.ReasonStoredSecretUnreadable, unreadable("PKCE verifier", ar.SealedVerifier, err))
	}
	cfg := m.oauthConfig(c, string(secret), ar.RequestedScopes)
	tctx, cancel := context.WithTimeout(ctx, tokenCallTimeout)
	tok, err := cfg.Exchange(m.oauthContext(tctx), code, oauth2.VerifierOption(string(verifier)))
	cancel()
	err = withoutBody(err)
	if err != nil {
		code, p := exchangeError(ar, OriginOf(c.Domain), err)
		return a.fail(ctx, code, p)
	}
	ts, err := parseTokenResponse(tok, m.now(), ar.RequestedScopes)
	if err != nil {
		if tok.RefreshToken != "" {
			m.revokeQuietly(ctx, c, string(secret), tok.RefreshToken)
		}
		return a.fail(ctx, store.ReasonOrgAnswerUnusable, problem.New(problem.UpstreamError, "the org's token response is not usable: %s", err.Error()).
			WithRemedy("reauthorize the connection; if it happens again, check the OAuth app's settings"))
	}
	// From here on the org has issued tokens; a failure revokes them.
	failRevoking := func(code string, p *problem.Error) (*CallbackResult, error) {
		if ts.Refresh != "" {
			m.revokeQuietly(ctx, c, string(secret), ts.Refresh)
		}
		return a.fail(ctx, code, p)
	}
	if lost := missingAutoGranted(ts.Scopes); len(lost) > 0 {
		return failRevoking(store.ReasonScopeNotGranted, revokedAutoScope(lost))
	}
	if ts.Refresh == "" {
		return failRevoking(store.ReasonScopeNotGranted, revokedAutoScope([]string{"offline_access"}))
	}
	if len(apiScopes(ar.RequestedScopes)) > 0 && len(apiScopes(ar.RequestedScopes)) == len(missingScopes(ar.RequestedScopes, ts.Scopes)) {
		return failRevoking(store.ReasonScopeNotGranted, consentRequired(ar))
	}
	if ts.IDToken == "" {
		return failRevoking(store.ReasonOrgAnswerUnusable, problem.New(problem.UpstreamError, "the org returned no ID token although openid was requested").
			WithRemedy("check that the OAuth app is an OpenID Connect app, then reauthorize"))
	}
	who, err := m.verifyIDToken(ctx, c, ar.Nonce, ts)
	var me *metadataError
	if errors.As(err, &me) {
		return failRevoking(store.ReasonIDTokenUnverified, problem.New(problem.UpstreamError, "the org's ID token could not be verified: %s", me.msg).
			WithRemedy("authorize again in a moment; if it keeps happening, check the org's status (status.okta.com) and what stands between cardflow and the org").Wrap(err))
	}
	var expired *oidc.TokenExpiredError
	if errors.As(err, &expired) {
		// The org just issued it, for an hour: this host's clock, which
		// the verification reads, is ahead of the org's.
		return failRevoking(store.ReasonClockSkew, problem.New(problem.UpstreamError, "the org's ID token, issued just now for an hour, is expired by this host's clock (it expired at %s; this host's clock says %s): this host's clock is ahead of the org's",
			timetext.Format(expired.Expiry), timetext.Format(m.now())).
			WithRemedy("set this host's clock right (synchronise it with NTP: chrony, systemd-timesyncd), then reauthorize").Wrap(err))
	}
	if err != nil {
		return failRevoking(store.ReasonIDTokenUnverified, problem.New(problem.UpstreamError, "the org's ID token could not be verified: %s", err.Error()).
			WithRemedy("check that the domain is the org's own domain, then reauthorize").Wrap(err))
	}
	a.signedIn = who.Login
	if hasDeviceRead(ts.Scopes) {
		if p := m.probe(ctx, c, ts.Access, who.Login); p != nil {
			return failRevoking(probeReasonCode(p), p)
		}
	}
	refreshExpires, seen, dated, err := m.introspectExpiry(ctx, c, string(secret), ts.Refresh)
	var clock *orgClockSeen
	if dated {
		clock = &seen
	}
	if err != nil {
		// Not fatal: the connection works, only its end date is unknown
		// until the org tells it: learnExpiry asks again at the
		// connection's next use or expiry check.
		m.log.WarnContext(ctx, "could not read the refresh token's expiry", "connection", c.ID, "error", err)
	}
	m.expiryReset(c.ID)
	cur, oldRefresh, err := m.storeAuthorization(ctx, ar, ts, who, refreshExpires, clock)
	if err != nil {
		return failRevoking(store.ReasonInternalError, internal("store the authorization", err))
	}
	if err := m.Store.RecordAuthCompletion(ctx, stateHash(ar.State), m.now().Add(completionTTL)); err != nil {
		// Only a reload of the page is the worse for it.
		m.log.WarnContext(ctx, "cannot record the completed authorization", "connection", cur.ID, "error", err)
	}
	again := reauthorization(ar, c)
	res := &CallbackResult{OK: true, ConnectionID: cur.ID, Nickname: cur.Nickname, Reauthorization: again}
	if again {
		res.Message = fmt.Sprintf("%s is reauthorized and acts as %s", cur.Nickname, who.Login)
	} else {
		res.Message = fmt.Sprintf("%s is connected and acts as %s", cur.Nickname, who.Login)
	}
	// Scopes requested but not granted are in res.Connection
	// (MissingScopes, MissingScopeCards), not repeated as warnings.
	if ar.Reauthorize && c.AuthorizedUserID != "" && c.AuthorizedUserID != who.Subject {
		// Another account, perhaps the one the browser was signed in
		// with: what the connection may do, and whom Okta names for it,
		// changed with it.
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s acted as %s before this sign-in: its cards and flows now act as %s, with that account's admin role, and Okta's System Log names that account for what they do; if that is not meant, reauthorize it and sign in as %s",
			cur.Nickname, c.AuthorizedLogin, who.Login, c.AuthorizedLogin))
	}
	if oldRefresh != "" && oldRefresh != ts.Refresh {
		if err := m.revoke(ctx, cur, string(secret), oldRefresh); err != nil {
			m.log.WarnContext(ctx, "could not revoke the previous refresh token", "connection", cur.ID, "error", err)
			res.Warnings = append(res.Warnings, "the previous refresh token could not be revoked at the org ("+err.Error()+"); it stops working when it expires or is revoked in the Admin Console")
		}
	}
	res.Connection = m.view(cur)
	summary := "initial authorization"
	if again {
		summary = "reauthorization"
	}
	summary += "; granted " + strings.Join(apiScopes(ts.Scopes), " ")
	if ar.Reauthorize && c.AuthorizedUserID != "" && c.AuthorizedUserID != who.Subject {
		summary += "; acted as " + c.AuthorizedLogin + " before"
	}
	m.audit(ctx, store.AuditEvent{Actor: ar.Actor, Action: store.ActionConnectionAuthorize, ConnectionID: cur.ID, ActingAs: who.Login, InputSummary: summary}, nil)
	m.log.InfoContext(ctx, "connection authorized", "connection", cur.ID, "actingAs", who.Login, "reauthorization", again,
		"granted", strings.Join(ts.Scopes, " "))
	return res, nil
}

// storeAuthorization swaps the new tokens in with one version-checked
// update, under the connection's refresh lease so that no refresh
// interleaves (old tokens serve until this commit). It returns the
// stored connection and the refresh token it replaced. clock, when set,
// is what the org's answer to the introspection told of its clock.
func (m *Manager) storeAuthorization(ctx context.Context, ar *store.AuthRequest, ts *tokenSet, who *identity, refreshExpires time.Time, clock *orgClockSeen) (*store.Connection, string, error) {
	unlock, err := m.lockConn(ctx, ar.ConnectionID, nil)
	if err != nil {
		return nil, "", err
	}
	defer unlock()
	var cur *store.Connection
	var old string
	err = m.Store.UpdateConnection(ctx, ar.ConnectionID, func(c *store.Connection) error {
		old = ""
		if len(c.SealedRefreshToken) > 0 {
			if b, err := m.Keyring.Open(c.SealedRefreshToken, sealedAAD(c.ID, fieldRefreshToken)); err == nil {
				old = string(b)
			} else {
				m.log.WarnContext(ctx, "cannot open the previous refresh token", "connection", c.ID, "error", err)
			}
		}
		if err := m.sealTokens(c, ts); err != nil {
			return err
		}
		now := m.now()
		c.Status, c.StatusReason, c.Remedy, c.StatusReasonCode = store.StatusActive, "", "", ""
		c.ScopeMode, c.RequestedScopes, c.GrantedScopes = ar.ScopeMode, ar.RequestedScopes, ts.Scopes
		c.RefreshStartedAt = time.Time{}
		// The sign-in's time is the org's, as the refresh token's expiry
		// is: with this host's clock off from the org's, expiry minus
		// sign-in is still Okta's 90 days, and the dates shown agree.
		signedIn := who.IssuedAt
		if signedIn.IsZero() {
			signedIn = now
		}
		if signedIn.Truncate(time.Second).Equal(c.AuthorizedAt.Truncate(time.Second)) {
			// A sign-in again within the second (iat is in seconds): it is
			// told apart from the last one (other servers notice a new
			// authorization by its time).
			signedIn = c.AuthorizedAt.Add(time.Nanosecond)
		}
		c.AuthorizedUserID, c.AuthorizedLogin, c.AuthorizedName, c.AuthorizedAt = who.Subject, who.Login, who.Name, signedIn
		c.RefreshTokenExpiresAt, c.ExpiryNotifiedAt = refreshExpires, time.Time{}
		if clock != nil && !clock.agrees(c.OrgClockOffset) {
			// The expiry is judged by the org's clock, as the org told it
			// with the expiry.
			c.OrgClockOffset = clock.offset()
		}
		c.UpdatedAt = now
		cur = c
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if m.OnActive != nil {
		m.OnActive(cur.ID)
	}
	return cur, old, nil
}

// sealTokens seals a token set into c (refresh kept when ts has none).
func (m *Manager) sealTokens(c *store.Connection, ts *tokenSet) error {
	var err error
	if c.SealedAccessToken, err = m.Keyring.Seal([]byte(ts.Access), sealedAAD(c.ID, fieldAccessToken)); err != nil {
		return err
	}
	if ts.Refresh != "" {
		if c.SealedRefreshToken, err = m.Keyring.Seal([]byte(ts.Refresh), sealedAAD(c.ID, fieldRefreshToken)); err != nil {
			return err
		}
	}
	if ts.IDToken != "" {
		if c.SealedIDToken, err = m.Keyring.Seal([]byte(ts.IDToken), sealedAAD(c.ID, fieldIDToken)); err != nil {
			return err
		}
	}
	c.AccessTokenExpiry = ts.Expiry
	if ts.ScopeGiven || len(c.GrantedScopes) == 0 {
		c.GrantedScopes = ts.Scopes
	}
	return nil
}

// reauthorization reports whether the sign-in ar completes authorizes c
// again: started by reauthorize (ar.Reauthorize) for a connection that
// was authorized before. A connection that never was (created with
// --no-wait, its first sign-in given up) is authorized for the first
// time, however its sign-in was started.
func reauthorization(ar *store.AuthRequest, c *store.Connection) bool {
	return ar.Reauthorize && !c.AuthorizedAt.IsZero()
}

// fail records a failed attempt: the connection goes to status error with
// the reason, remedy and code (a store.Reason*), except that an active
// connection being reauthorized stays active with its working tokens.
func (a *attempt) fail(ctx context.Context, code string, p *problem.Error) (*CallbackResult, error) {
	m := a.m
	if r, ok := strings.CutSuffix(p.Remedy, "then reauthorize"); ok {
		// Says how, as the connection's other remedies do.
		p.Remedy = r + "then " + problem.Reauthorize(a.c.Nickname)
	}
	res := &CallbackResult{ConnectionID: a.c.ID, Nickname: a.c.Nickname, Reauthorization: reauthorization(a.ar, a.c),
		Code: p.Code, Message: p.Message, Remedy: p.Remedy}
	var cur *store.Connection
	err := m.Store.UpdateConnection(ctx, a.c.ID, func(c *store.Connection) error {
		cur = c
		if a.ar.Reauthorize && c.Status == store.StatusActive {
			return errKeepWorking
		}
		c.Status, c.StatusReason, c.Remedy, c.StatusReasonCode, c.UpdatedAt = store.StatusError, p.Message, p.Remedy, code, m.now()
		return nil
	})
	switch {
	case errors.Is(err, errKeepWorking):
		res.Message = "reauthorization failed: " + p.Message
		res.Warnings = append(res.Warnings, "the connection keeps working with its previous authorization")
	case err != nil:
		m.log.ErrorContext(ctx, "cannot record a failed authorization", "connection", a.c.ID, "error", err)
		cur = nil
	}
	if cur != nil {
		res.Connection = m.view(cur)
	}
	m.log.WarnContext(ctx, "authorization failed", "connection", a.c.ID, "code", string(p.Code), "reason", p.Message, "cause", errText(p.Err))
	summary := map[bool]string{true: "reauthorization", false: "initial authorization"}[reauthorization(a.ar, a.c)]
	actingAs := a.c.AuthorizedLogin
	if a.signedIn != "" {
		// Who signed in, not whom the connection acted as before.
		actingAs = a.signedIn
		if a.c.AuthorizedLogin != "" && !strings.EqualFold(a.c.AuthorizedLogin, a.signedIn) {
			summary += "; signed in as " + a.signedIn + ", where the connection acted as " + a.c.AuthorizedLogin
			if errors.Is(err, errKeepWorking) {
				summary += ", as it still does"
			}
		}
	}
	m.audit(ctx, store.AuditEvent{Actor: a.ar.Actor, Action: store.ActionConnectionAuthorize, ConnectionID: a.c.ID, ActingAs: actingAs,
		InputSummary: summary}, p)
	return res, nil
}

// errKeepWorking: a failed reauthorization leaves an active connection as
// it is.
var errKeepWorking = errors.New("the connection keeps its previous authorization")

// identity is the authorizing account, from the verified ID token.
type identity struct {
	Subject string
	Login   string
	Name    string
	// IssuedAt is when the org issued the tokens of the sign-in (the ID
	// token's iat), by the org's clock, which the refresh token's 90
	// days (its introspected exp) also go by; zero when not given.
	IssuedAt time.Time
}

// verifyIDToken checks the ID token's signature against the org's JWKS,
// its issuer (the org origin), audience (the client ID), expiry and nonce,
// and the access token hash when present.
func (m *Manager) verifyIDToken(ctx context.Context, c *store.Connection, nonce string, ts *tokenSet) (*identity, error) {
	origin := OriginOf(c.Domain)
	octx, cancel := context.WithTimeout(ctx, tokenCallTimeout)
	defer cancel()
	verifier, err := m.idTokenVerifier(octx, origin, c.ClientID)
	if err != nil {
		return nil, err
	}
	idt, err := verifier.Verify(octx, ts.IDToken)
	if err != nil {
		return nil, err
	}
	if idt.Nonce != nonce {
		return nil, errors.New("its nonce does not match the authorization request")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(ts.Access); err != nil {
			return nil, errors.New("its at_hash does not match the access token")
		}
	}
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
		Name              string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, err
	}
	who := &identity{Subject: idt.Subject, Login: claims.PreferredUsername, Name: claims.Name, IssuedAt: idt.IssuedAt.UTC()}
	if who.Login == "" {
		who.Login = claims.Email
	}
	if who.Login == "" {
		who.Login = idt.Subject
	}
	return who, nil
}

func missingAutoGranted(granted []string) []string {
	var out []string
	for _, s := range autoGrantedScopes {
		if !slices.Contains(granted, s) {
			out = append(out, s)
		}
	}
	return out
}

// authorizeError explains an error the org sent back to the redirect URI,
// with its store.Reason*.
func authorizeError(ar *store.AuthRequest, code, desc string) (string, *problem.Error) {
	said := code
	if desc != "" {
		said += ": " + desc
	}
	switch code {
	case "access_denied":
		if strings.Contains(strings.ToLower(desc), "not assigned") {
			return store.ReasonAccountNotAssigned, problem.New(problem.Forbidden, "the account you signed in with is not assigned to the OAuth app (Okta said %q)", said).
				WithRemedy("assign that account to the OAuth app (in Workflows: Okta Workflows OAuth) on the app's Assignments tab, or sign in with an assigned super admin, then reauthorize")
		}
		return store.ReasonAccessDenied, problem.New(problem.Forbidden, "the org denied the authorization (Okta said %q)", said).
			WithRemedy("sign in with a super admin assigned to the OAuth app and allow access, then reauthorize")
	case "consent_required":
		return store.ReasonScopeNotGranted, consentRequired(ar)
	case "invalid_scope":
		if lost := namedAutoScopes(desc); len(lost) > 0 {
			return store.ReasonScopeNotGranted, revokedAutoScope(lost)
		}
		return store.ReasonScopeNotGranted, problem.New(problem.InsufficientScope, "the org rejected the requested scopes (Okta said %q)", said).
			WithRemedy("check the grants on the app's Okta API Scopes tab (with custom scopes, tick only granted ones), then reauthorize")
	}
	return store.ReasonAuthorizationRefused, problem.New(problem.UpstreamError, "the org refused the authorization (Okta said %q)", said).
		WithRemedy("fix what Okta names, then reauthorize the connection")
}

// exchangeError explains a failed code exchange, with its store.Reason*.
func exchangeError(ar *store.AuthRequest, origin string, err error) (string, *problem.Error) {
	oe, ok := asOAuthError(err)
	if !ok {
		cause := transportCause(err)
		remedy := "check that the domain is right and the org is reachable, then reauthorize"
		if cause == causeBroke || cause == causeUnusable {
			remedy = "reauthorize the connection (an authorization code is good for one try); if it happens again, check what stands between cardflow and the org"
		}
		return store.ReasonOrgUnreachable, problem.New(problem.UpstreamError, "could not finish the authorization with the org at %s: %s", origin, cause).
			WithRemedy("%s", remedy).Wrap(err)
	}
	switch oe.Code {
	case "invalid_client":
		return store.ReasonClientSecretRefused, problem.New(problem.InvalidInput, "the client secret was rejected by the org (invalid_client): the client ID or secret does not match the OAuth app").
			WithRemedy("copy the client ID and secret from the OAuth app's General tab in the Okta Admin Console and give them to this connection: Change secret on its console page, or cardflow connections update %s --client-secret-stdin [--client-id ID]; it reauthorizes with them", ar.ConnectionID).Wrap(oe)
	case "invalid_grant":
		return store.ReasonCodeRefused, problem.New(problem.InvalidInput, "the org rejected the authorization code (invalid_grant: it expired, was already used, or belongs to another request)").
			WithRemedy("reauthorize the connection to start again").Wrap(oe)
	case "consent_required", "invalid_scope":
		return authorizeError(ar, oe.Code, oe.Description)
	}
	return store.ReasonAuthorizationRefused, problem.New(problem.UpstreamError, "the org refused to exchange the authorization code (%s)", oe.Error()).
		WithRemedy("reauthorize the connection; if it fails again, check the OAuth app's settings").Wrap(oe)
}

func consentRequired(ar *store.AuthRequest) *problem.Error {
	api := apiScopes(ar.RequestedScopes)
	return problem.New(problem.InsufficientScope, "none of the requested Okta API scopes (%s) is granted to the OAuth app, so the org refused the authorization (consent_required)",
		strings.Join(api, ", ")).
		WithRemedy("grant them on the app's Okta API Scopes tab in the Okta Admin Console, then reauthorize").
		WithDetail("requestedScopes", api)
}

func revokedAutoScope(lost []string) *problem.Error {
	s := strings.Join(lost, ", ")
	p := problem.New(problem.InsufficientScope, "the OAuth app no longer grants %s, which cardflow always requests", s).WithDetail("scopes", lost)
	if !slices.Contains(lost, "offline_access") {
		return p.WithRemedy("grant %s again on the app's Okta API Scopes tab, then reauthorize", s)
	}
	// Okta issues refresh tokens (offline_access) only to an app whose
	// grant types include Refresh Token, which is not a scope grant.
	others := slices.DeleteFunc(slices.Clone(lost), func(sc string) bool { return sc == "offline_access" })
	if len(others) == 0 {
		return p.WithRemedy("%s, then reauthorize", refreshGrantRemedy)
	}
	return p.WithRemedy("grant %s again on the app's Okta API Scopes tab, and %s, then reauthorize", strings.Join(others, ", "), refreshGrantRemedy)
}

// refreshGrantRemedy says how to let an OAuth app have refresh tokens.
const refreshGrantRemedy = "tick Refresh Token under Grant type on the OAuth app's General tab (General Settings › Edit): Okta issues refresh tokens (offline_access) only to an app allowed that grant type"

// namedAutoScopes returns the auto-granted scopes named in an error text.
func namedAutoScopes(desc string) []string {
	words := strings.FieldsFunc(strings.ToLower(desc), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == '_' || r == '.')
	})
	for i, w := range words {
		words[i] = strings.Trim(w, ".")
	}
	var out []string
	for _, s := range autoGrantedScopes {
		if slices.Contains(words, s) {
			out = append(out, s)
		}
	}
	return out
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
