// Package sso signs people in to cardflow with an OpenID Connect provider
// (typically the admins' own Okta org): the authorization request with
// PKCE, state and nonce, the code exchange, ID token verification
// (signature, issuer, audience, expiry, nonce), and the mapping of the
// ID token's groups claim to a cardflow role. The provider is called only
// on the issuer's host and the hosts the operator allowed: a discovery
// document that places an endpoint cardflow uses anywhere else is refused
// (EndpointHostError), and redirects are not followed.
package sso

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/timetext"
)

// DefaultScopes are asked for at sign-in: the groups scope makes Okta put
// the groups claim in the ID token.
var DefaultScopes = []string{oidc.ScopeOpenID, "profile", "email", "groups"}

// Config configures a Provider.
type Config struct {
	// Issuer is the provider's issuer URL (for Okta, https://ORG.okta.com
	// or a custom authorization server's issuer). Required.
	Issuer string
	// ClientID and ClientSecret are the OIDC web app's. Required.
	ClientID     string
	ClientSecret keyring.Secret
	// Roles maps groups to roles; a person in none of them may not sign in.
	Roles access.GroupRoles
	// Scopes are asked for at sign-in; nil means DefaultScopes.
	Scopes []string
	// HTTP reaches the provider; nil means a client with a 15 s timeout.
	// Redirects are never followed, whatever its CheckRedirect.
	HTTP *http.Client
	// Now is the clock ID tokens are checked against; nil means time.Now.
	Now func() time.Time
	// AllowedHosts are hosts besides the issuer's where the discovery
	// document may place the endpoints cardflow uses (-oidc-allow-host,
	// repeatable), each as ParseAllowedHost takes it. A document that
	// places one elsewhere is refused.
	AllowedHosts []string
}

// Provider is an OpenID Connect relying party. Discovery happens on first
// use (or Discover) and again after a failure, so a server starts while
// its provider is unreachable. A discovery document that places an
// endpoint cardflow uses on another host than the issuer's (and those of
// Config.AllowedHosts) is refused (EndpointHostError), at every discovery.
// Safe for concurrent use.
type Provider struct {
	cfg     Config
	allowed []origin // parsed AllowedHosts

	mu sync.Mutex
	p  *oidc.Provider
}

// New checks cfg and returns a Provider.
func New(cfg Config) (*Provider, error) {
	u, err := url.Parse(cfg.Issuer)
	if err == nil && u.User != nil {
		// The issuer is answered to anyone (GET /api/v1/auth/config) and
		// named in errors; no provider's issuer holds a password.
		return nil, fmt.Errorf("-oidc-issuer %s must not hold a user name or password: give the provider's issuer URL, e.g. https://example.okta.com", u.Redacted())
	}
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("-oidc-issuer %q must be the provider's issuer URL, e.g. https://example.okta.com", keyring.RedactURL(cfg.Issuer))
	}
	if cfg.ClientID == "" {
		return nil, errors.New("-oidc-client-id is required with -oidc-issuer")
	}
	if cfg.ClientSecret == "" {
		return nil, errors.New("CARDFLOW_OIDC_CLIENT_SECRET is required with -oidc-issuer (the OIDC app's client secret)")
	}
	if len(cfg.Roles) == 0 {
		return nil, errors.New("-oidc-role is required with -oidc-issuer: map at least one group to a role, e.g. -oidc-role admin=cardflow-admins")
	}
	var allowed []origin
	for _, v := range cfg.AllowedHosts {
		o, err := parseAllowedHost(v)
		if err != nil {
			return nil, err
		}
		allowed = append(allowed, o)
	}
	if cfg.Scopes == nil {
		cfg.Scopes = DefaultScopes
	}
	hc := &http.Client{Timeout: 15 * time.Second}
	if cfg.HTTP != nil {
		c := *cfg.HTTP
		hc = &c
	}
	hc.CheckRedirect = refuseRedirect
	cfg.HTTP = hc
	return &Provider{cfg: cfg, allowed: allowed}, nil
}

// RedirectError is a provider's answer that redirects elsewhere. cardflow
// calls the discovery document, the keys and the token endpoint only at
// the addresses the issuer names: followed, a 307 from the token endpoint
// would resend the code, the PKCE verifier and the client's credentials
// to whatever host it names.
type RedirectError struct {
	URL, Location string // the origin and path asked; the target's origin
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("the single sign-on provider answered %s with a redirect to %s, %s", e.URL, e.Location, redirectRefused)
}

// redirectRefused ends a RedirectError's message; ID token verification
// keeps only the text of its cause, so Exchange finds it by this.
const redirectRefused = "which cardflow does not follow"

func refuseRedirect(req *http.Request, via []*http.Request) error {
	asked := via[len(via)-1].URL
	return &RedirectError{URL: asked.Scheme + "://" + asked.Host + asked.Path, Location: req.URL.Scheme + "://" + req.URL.Host}
}

// redirectProblem is the problem of a refused redirect, said by msg.
func redirectProblem(msg string, err error) *problem.Error {
	return problem.New(problem.UpstreamError, "%s", msg).
		WithRemedy("check -oidc-issuer: it must be the provider's issuer exactly (as its discovery document names it), reachable without redirects").Wrap(err)
}

// Issuer returns the provider's issuer URL.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// ClientID returns the OIDC app's client ID.
func (p *Provider) ClientID() string { return p.cfg.ClientID }

// Scopes returns the scopes asked for at sign-in.
func (p *Provider) Scopes() []string { return p.cfg.Scopes }

// Roles returns the group to role mapping.
func (p *Provider) Roles() access.GroupRoles { return p.cfg.Roles }

func (p *Provider) provider(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p != nil {
		return p.p, nil
	}
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, p.cfg.HTTP), p.cfg.Issuer)
	var mismatch *oidc.IssuerMismatchError
	var redirect *RedirectError
	if errors.As(err, &redirect) {
		return nil, redirectProblem(redirect.Error(), err)
	}
	if errors.As(err, &mismatch) {
		// ID tokens carry the provider's own issuer, which must be the
		// configured one exactly (a trailing slash is the usual slip).
		return nil, problem.New(problem.UpstreamError, "the single sign-on provider at %s names its issuer %q, not %q", p.cfg.Issuer, mismatch.Discovered, p.cfg.Issuer).
			WithRemedy("start the server with -oidc-issuer %s (exactly the provider's issuer)", mismatch.Discovered).Wrap(err)
	}
	if err != nil {
		return nil, problem.New(problem.UpstreamError, "the single sign-on provider %s cannot be reached or is not an OpenID Connect issuer", p.cfg.Issuer).
			WithRemedy("check -oidc-issuer (it must serve /.well-known/openid-configuration) and the network, then try again").Wrap(err)
	}
	if err := p.checkEndpoints(op); err != nil {
		var eh *EndpointHostError
		if errors.As(err, &eh) {
			return nil, eh.Problem()
		}
		return nil, problem.New(problem.UpstreamError, "the single sign-on provider's discovery document at %s could not be read", p.cfg.Issuer).
			WithRemedy("check -oidc-issuer and the provider's configuration").Wrap(err)
	}
	p.p = op
	return op, nil
}

// Discover reads the provider's discovery document now, unless it was
// read already, and returns the problem that sign-ins would meet: the
// server does it at start to refuse a document that places endpoints on
// other hosts (an EndpointHostError, found with errors.As) before anyone
// signs in.
func (p *Provider) Discover(ctx context.Context) error {
	_, err := p.provider(ctx)
	return err
}

func (p *Provider) oauth2Config(op *oidc.Provider, redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret.Reveal(),
		Endpoint:     op.Endpoint(),
		RedirectURL:  redirectURI,
		Scopes:       p.cfg.Scopes,
	}
}

// AuthorizationEndpoint returns the provider's authorization endpoint.
func (p *Provider) AuthorizationEndpoint(ctx context.Context) (string, error) {
	op, err := p.provider(ctx)
	if err != nil {
		return "", err
	}
	return op.Endpoint().AuthURL, nil
}

// AuthURL returns the provider's sign-in URL for one sign-in: the state
// and nonce are the caller's to keep and check, verifier its PKCE code
// verifier (oauth2.GenerateVerifier).
func (p *Provider) AuthURL(ctx context.Context, redirectURI, state, nonce, verifier string) (string, error) {
	op, err := p.provider(ctx)
	if err != nil {
		return "", err
	}
	return p.oauth2Config(op, redirectURI).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), nil
}

// Identity is a person who signed in.
type Identity struct {
	// Subject is the ID token's sub: the account at the provider, which
	// the person's login is bound to (access.Principal.Subject).
	Subject string
	// Issuer is the ID token's iss, the provider the subject belongs to
	// (a subject is unique only within it): the configured issuer, which
	// the token was verified against. Bound with the subject
	// (access.Principal.Issuer).
	Issuer string
	Login  string // preferred_username, else email, else sub; a claim some providers let people change
	Name   string
	Email  string
	Groups []string
	Role   access.Role
}

// Exchange redeems an authorization code at the provider, verifies the ID
// token (signature, issuer, audience, expiry and nonce) and maps the
// person's groups to a role. A person in no mapped group gets a forbidden
// problem that says so.
func (p *Provider) Exchange(ctx context.Context, code, verifier, redirectURI, nonce string) (*Identity, error) {
	op, err := p.provider(ctx)
	if err != nil {
		return nil, err
	}
	hctx := oidc.ClientContext(ctx, p.cfg.HTTP)
	tok, err := p.oauth2Config(op, redirectURI).Exchange(hctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			// The error's text repeats the answer's body when it has no
			// OAuth error code, and a proxy's page may repeat the request:
			// the client secret (sent in the form when the Basic header
			// was refused), the code and its verifier. The log keeps the
			// status and the parsed error only.
			re.Body = nil
		}
		var redirect *RedirectError
		if errors.As(err, &redirect) {
			return nil, redirectProblem(redirect.Error(), err)
		}
		if errors.As(err, &re) && re.ErrorCode != "" && providerDown(re) {
			return nil, problem.New(problem.UpstreamError, "the single sign-on provider could not redeem the sign-in code now: %s", oauthReason(re)).
				WithRemedy("try again in a few minutes; if it persists, check the provider's status (for Okta, status.okta.com)").Wrap(err)
		}
		if errors.As(err, &re) && re.ErrorCode != "" {
			// A provider's description may quote what it was sent.
			re.ErrorDescription = scrub(re.ErrorDescription, code, verifier, p.cfg.ClientSecret.Reveal())
			if misconfigured(re) {
				return nil, p.configProblem(re).Wrap(err)
			}
			return nil, refusal(re, redirectURI).Wrap(err)
		}
		return nil, problem.New(problem.UpstreamError, "the single sign-on provider did not answer the code exchange").
			WithRemedy("try again; if it persists, check that cardflow can reach %s", p.cfg.Issuer).Wrap(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, problem.New(problem.UpstreamError, "the single sign-on provider returned no ID token").
			WithRemedy("make sure the OIDC app allows the openid scope")
	}
	vcfg := &oidc.Config{ClientID: p.cfg.ClientID, Now: p.cfg.Now}
	idt, err := op.Verifier(vcfg).Verify(hctx, raw)
	if err != nil && strings.Contains(err.Error(), redirectRefused) {
		return nil, redirectProblem("the single sign-on provider's signing keys answered with a redirect, "+redirectRefused, err)
	}
	if err != nil {
		return nil, p.unverified(err, raw).Wrap(err)
	}
	if idt.Nonce != nonce || nonce == "" {
		return nil, problem.New(problem.Unauthenticated, "the ID token was not issued for this sign-in (nonce mismatch)").
			WithRemedy("start the sign-in again")
	}
	var claims struct {
		PreferredUsername string   `json:"preferred_username"`
		Email             string   `json:"email"`
		Name              string   `json:"name"`
		Groups            []string `json:"groups"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, problem.New(problem.UpstreamError, "the ID token's claims could not be read").Wrap(err)
	}
	id := &Identity{Subject: idt.Subject, Issuer: idt.Issuer, Login: claims.PreferredUsername, Name: claims.Name, Email: claims.Email, Groups: claims.Groups}
	if id.Login == "" {
		id.Login = id.Email
	}
	if id.Login == "" {
		id.Login = id.Subject
	}
	role, ok := p.cfg.Roles.RoleFor(claims.Groups)
	if !ok {
		groups := "no groups"
		if len(claims.Groups) > 0 {
			groups = "the groups " + strings.Join(claims.Groups, ", ")
		}
		return id, &NoRoleError{Login: id.Login, Groups: groups, Mapping: p.cfg.Roles.Describe()}
	}
	id.Role = role
	return id, nil
}

// NoRoleError means a person signed in but is in none of the groups that
// give a cardflow role.
type NoRoleError struct {
	Login   string
	Groups  string // "no groups" or "the groups a, b"
	Mapping string // access.GroupRoles.Describe
}

func (e *NoRoleError) Error() string {
	return fmt.Sprintf("%s signed in, but is in none of the groups that give a cardflow role (the identity provider sent %s; roles come from %s)",
		e.Login, e.Groups, e.Mapping)
}

// Problem is the error as a problem: forbidden, with the remedy.
func (e *NoRoleError) Problem() *problem.Error {
	return problem.New(problem.Forbidden, "%s", e.Error()).
		WithRemedy("ask your identity provider's administrator to add you to one of those groups (and, for Okta, to send the groups claim for them), then sign in again")
}

// RefusedRemedy says how to get past a sign-in that the provider sent back
// with the OAuth error code (RFC 6749 §4.1.2.1) instead of a code; clientID
// is cardflow's sign-in app. Okta answers access_denied to a person who is
// not assigned to the app.
func RefusedRemedy(code, clientID string) string {
	if code == "access_denied" {
		return fmt.Sprintf("ask the identity provider's administrator to assign you (or a group of yours) to cardflow's sign-in app, client ID %s, then sign in again", clientID)
	}
	return fmt.Sprintf("sign in again; if the provider refuses again, ask its administrator to check cardflow's sign-in app, client ID %s", clientID)
}

// providerDown reports whether the token endpoint's OAuth error answer is
// the provider failing (a 5xx status, or the error codes RFC 6749 §4.1.2.1
// gives for it: server_error, temporarily_unavailable) rather than a
// refusal of the code, the verifier or the client.
func providerDown(re *oauth2.RetrieveError) bool {
	if re.Response != nil && re.Response.StatusCode >= 500 {
		return true
	}
	return re.ErrorCode == "server_error" || re.ErrorCode == "temporarily_unavailable"
}

// Refused reports whether an error of Exchange is a refusal of what the
// sign-in brought (the code and its verifier, or an ID token the code gave
// for another sign-in's nonce): a wrong guess would meet it. The provider
// failing to answer, refusing cardflow's app, or giving an ID token that
// does not verify (problem.UpstreamError) is not one, and must not count
// against the client's address.
func Refused(err error) bool {
	return problem.CodeOf(err) == problem.Unauthenticated
}

// misconfigured reports whether the token endpoint's OAuth error answer
// refuses cardflow's OIDC app rather than what the sign-in brought: its
// client ID or secret (invalid_client), or the grant the app may use
// (unauthorized_client, unsupported_grant_type). Every sign-in fails the
// same until the server's configuration or the app is fixed, whoever
// signs in.
func misconfigured(re *oauth2.RetrieveError) bool {
	switch re.ErrorCode {
	case "invalid_client", "unauthorized_client", "unsupported_grant_type":
		return true
	}
	return false
}

// configProblem is the problem of a sign-in the provider refused for
// cardflow's OIDC app (misconfigured): the provider's, not the person's
// (problem.UpstreamError, which Refused does not count as a wrong guess),
// with the remedy for the admin who runs the server.
func (p *Provider) configProblem(re *oauth2.RetrieveError) *problem.Error {
	if re.ErrorCode == "invalid_client" {
		return problem.New(problem.UpstreamError, "the single sign-on provider refused cardflow's client ID or secret (%s), so no one can sign in with single sign-on now", oauthReason(re)).
			WithRemedy("ask the admin who runs cardflow to start it with the client ID (-oidc-client-id, now %s) and secret (CARDFLOW_OIDC_CLIENT_SECRET) of the OIDC app, from the app's General tab at the provider; the server's API token still signs in", p.cfg.ClientID)
	}
	return problem.New(problem.UpstreamError, "the single sign-on provider refused cardflow's OIDC app the authorization code grant (%s), so no one can sign in with single sign-on now", oauthReason(re)).
		WithRemedy("ask the provider's administrator to allow the grant type Authorization Code for the app with client ID %s; the server's API token still signs in", p.cfg.ClientID)
}

// unverified is the problem of an ID token, from the provider's token
// endpoint in answer to the code, that does not verify: its time (the
// server's clock off from the provider's), its audience (-oidc-client-id),
// its issuer (-oidc-issuer) or its signature (the keys of another
// authorization server than the one that issued it, or keys that could not
// be fetched). No one can bring such a token by guessing, since it comes
// from the provider over its own connection, and every sign-in fails the
// same until the server is fixed: it is the provider's answer to the
// server's configuration (problem.UpstreamError, which Refused does not
// count against the person's address), with the setting to fix.
func (p *Provider) unverified(err error, raw string) *problem.Error {
	const still = "; the server's API token still signs in"
	var expired *oidc.TokenExpiredError
	msg := scrub(err.Error()) // a keys answer's body may follow
	switch {
	case errors.As(err, &expired):
		now := time.Now()
		if p.cfg.Now != nil {
			now = p.cfg.Now()
		}
		ahead := fmt.Sprintf("more than %s", now.Sub(expired.Expiry).Truncate(time.Minute))
		if iat, ok := issuedAt(raw); ok {
			ahead = fmt.Sprintf("about %s", now.Sub(iat).Round(time.Minute))
		}
		return problem.New(problem.UpstreamError, "the ID token the single sign-on provider just issued had expired by this server's clock (it expired at %s; the server's clock says %s), so no one can sign in with single sign-on now: the server's clock is %s ahead of the provider's",
			timetext.Format(expired.Expiry), timetext.Format(now), ahead).
			WithRemedy("ask the admin who runs cardflow to set the server's clock right (NTP); no setting of cardflow's is wrong%s", still)
	case strings.Contains(msg, "before the nbf"):
		return problem.New(problem.UpstreamError, "the ID token the single sign-on provider just issued is not valid yet by this server's clock, so no one can sign in with single sign-on now: the server's clock is behind the provider's (%s)", msg).
			WithRemedy("ask the admin who runs cardflow to set the server's clock right (NTP); no setting of cardflow's is wrong%s", still)
	case strings.Contains(msg, "expected audience"):
		return problem.New(problem.UpstreamError, "the single sign-on provider's ID token is not for cardflow's client ID %s (%s), so no one can sign in with single sign-on now", p.cfg.ClientID, msg).
			WithRemedy("ask the admin who runs cardflow to start it with -oidc-client-id set to the client ID of the OIDC app the sign-in uses (its General tab at the provider)%s", still)
	case strings.Contains(msg, "issued by a different provider"):
		return problem.New(problem.UpstreamError, "the single sign-on provider's ID token names another issuer than -oidc-issuer %s (%s), so no one can sign in with single sign-on now", p.cfg.Issuer, msg).
			WithRemedy("ask the admin who runs cardflow to start it with -oidc-issuer set to the issuer the provider's ID tokens name%s", still)
	case strings.Contains(msg, "fetching keys") || strings.Contains(msg, "get keys failed") || strings.Contains(msg, "failed to decode keys"):
		return problem.New(problem.UpstreamError, "the single sign-on provider's signing keys (the jwks_uri of -oidc-issuer %s) could not be read, so no ID token can be verified now (%s)", p.cfg.Issuer, msg).
			WithRemedy("try again in a few minutes; if it persists, check that cardflow can reach the provider's keys, and the provider's status (for Okta, status.okta.com)")
	case strings.Contains(msg, "signature"):
		return problem.New(problem.UpstreamError, "the single sign-on provider's ID token is not signed with a key of -oidc-issuer %s (its jwks_uri), so no one can sign in with single sign-on now", p.cfg.Issuer).
			WithRemedy("ask the admin who runs cardflow to check -oidc-issuer: it must be the authorization server that issues the sign-in's tokens (for Okta, the org, https://ORG.okta.com, or a custom authorization server, https://ORG.okta.com/oauth2/ID, whichever the OIDC app signs in with)%s", still)
	}
	return problem.New(problem.UpstreamError, "the ID token from the single sign-on provider did not verify (%s), so no one can sign in with single sign-on now", msg).
		WithRemedy("ask the admin who runs cardflow to check -oidc-issuer, -oidc-client-id and the server's clock%s", still)
}

// issuedAt reads the iat claim of a JWT without verifying it: when the
// provider issued an ID token by its own clock, to tell how far the
// server's is from it.
func issuedAt(raw string) (time.Time, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		IssuedAt int64 `json:"iat"`
	}
	if err != nil || json.Unmarshal(b, &claims) != nil || claims.IssuedAt == 0 {
		return time.Time{}, false
	}
	return time.Unix(claims.IssuedAt, 0), true
}

// oauthReason describes an OAuth error answer for people.
func oauthReason(re *oauth2.RetrieveError) string {
	if re.ErrorDescription != "" {
		return re.ErrorCode + ": " + re.ErrorDescription
	}
	return re.ErrorCode
}

// refusal is the problem of a code exchange the provider refused with an
// OAuth error answer (RFC 6749 §5.2), other than its failing: what the
// provider's error_description lets tell apart (a PKCE verifier that does
// not fit the challenge, a redirect URI other than the sign-in's, a code
// expired or already used), each with its remedy. redirectURI is the one
// cardflow sent, which is no secret.
func refusal(re *oauth2.RetrieveError, redirectURI string) *problem.Error {
	said := ""
	if re.ErrorDescription != "" {
		said = fmt.Sprintf(" (the provider said: %s)", re.ErrorDescription)
	}
	const again = "start the sign-in again (in the console, Sign in with SSO; for the CLI, cardflow login)"
	switch grantRefusal(re) {
	case refusedVerifier:
		return problem.New(problem.Unauthenticated, "the single sign-on provider refused the sign-in: the PKCE code verifier does not fit the code challenge the sign-in started with%s", said).
			WithRemedy("%s, and finish it where it started: a sign-in's code is redeemed only with the verifier of the same sign-in, so a callback address copied from another browser or another cardflow login, or an old one opened again, fails", again)
	case refusedRedirect:
		return problem.New(problem.Unauthenticated, "the single sign-on provider refused the sign-in: the redirect URI sent with the code, %s, is not the one the sign-in started with%s", redirectURI, said).
			WithRemedy("%s; if it happens again, cardflow is reached at more than one address: start every server with -public-url set to the one address people use, so that the sign-in starts and ends at the same callback", again)
	case refusedExpired:
		return problem.New(problem.Unauthenticated, "the sign-in code expired before cardflow redeemed it%s", said).
			WithRemedy("%s and let it finish without waiting on the way back: a code is good for a few minutes; if it happens again, check the server's clock and how long cardflow takes to reach the provider", again)
	case refusedUsed:
		return problem.New(problem.Unauthenticated, "the sign-in code was already used%s", said).
			WithRemedy("%s: a code is good for one sign-in, and going Back to the provider's page, or reloading the callback, brings a used one", again)
	case refusedCode:
		return problem.New(problem.Unauthenticated, "the sign-in code was refused: it was already used or has expired, or belongs to another sign-in%s", said).
			WithRemedy("%s: a code is good for one sign-in, for a few minutes, where it started", again)
	}
	return problem.New(problem.Unauthenticated, "the sign-in could not be completed: %s", oauthReason(re)).
		WithRemedy("start the sign-in again")
}

// The kinds of refused code exchange that grantRefusal tells apart.
const (
	refusedOther    = iota
	refusedCode     // invalid_grant that says no more (Okta: "invalid or has expired")
	refusedVerifier // PKCE verification failed
	refusedRedirect // redirect_uri not the authorization request's
	refusedExpired  // the code expired
	refusedUsed     // the code was redeemed already
)

// grantRefusal tells what a refused code exchange was refused for, from
// its error code and the provider's error_description: Okta says "PKCE
// verification failed." and "The 'redirect_uri' does not match the
// redirection URI used in the authorization request.", and "The
// authorization code is invalid or has expired." for a used, an expired and
// an unknown code alike; other providers say which ("Code is expired",
// "already redeemed").
func grantRefusal(re *oauth2.RetrieveError) int {
	d := strings.ToLower(re.ErrorDescription)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(d, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("pkce", "code_verifier", "code verifier", "code_challenge", "code challenge"):
		return refusedVerifier
	case re.ErrorCode != "invalid_grant":
		return refusedOther
	case has("redirect_uri", "redirect uri", "redirection uri", "reply url", "reply address"):
		return refusedRedirect
	case has("invalid", "not valid", "unknown", "not found"):
		return refusedCode
	case has("expired", "expiry", "too old"):
		if has("used", "redeemed") {
			return refusedCode
		}
		return refusedExpired
	case has("already used", "already been used", "redeemed"):
		return refusedUsed
	}
	return refusedCode
}

// scrub takes the secrets cardflow sent (the code, the verifier, the
// client secret) out of a provider's error description, and cuts it to a
// line of at most 300 characters: it is shown to people and kept in the
// audit.
func scrub(desc string, secrets ...string) string {
	for _, s := range secrets {
		if s != "" {
			desc = strings.ReplaceAll(desc, s, "[redacted]")
		}
	}
	desc = strings.Join(strings.FieldsFunc(desc, func(r rune) bool { return r < ' ' || r == 0x7f }), " ")
	if r := []rune(desc); len(r) > 300 {
		desc = string(r[:300]) + "…"
	}
	return strings.TrimSpace(desc)
}
