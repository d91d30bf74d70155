package connection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// Service connections act as an Okta API Services app: no person,
// no refresh token, no 90-day end. Tokens come from client_credentials
// with private_key_jwt; they are cached in the store until shortly before
// they expire and minted by one process at a time per connection (the same
// lease as user refreshes). The private key is sealed like every secret and
// never leaves the server: only its public JWK is shown.

// assertionLifetime is how long a client assertion is valid (Okta accepts
// at most an hour).
const assertionLifetime = 5 * time.Minute

// ServiceInput is what an administrator enters to create a service
// connection.
type ServiceInput struct {
	Connector string
	Nickname  string
	Domain    string
	ClientID  string
	// Scopes nil means the connector's default Okta API scopes.
	Scopes *[]string
	// PrivateKey is the app's private key as PEM or a private JWK; empty
	// means cardflow generates a key pair (KeyAlgorithm, default ES256)
	// and answers its public JWK.
	PrivateKey   keyring.Secret
	KeyAlgorithm string
	// KeyID is the kid the app knows PrivateKey's public key by, for a
	// key given as PEM (which carries none; its thumbprint otherwise) or
	// a JWK without one.
	KeyID string
	// DPoP makes every token request and API call carry a DPoP proof; it
	// is also switched on when the org asks for proofs.
	DPoP bool
}

// CreateService validates in, stores the service connection with its
// sealed keys and tries a first token request: the connection is active
// when the org accepts the key, else pending with the steps to finish in
// the Admin Console. It returns the connection and the public JWK to add
// to the app.
func (m *Manager) CreateService(ctx context.Context, in ServiceInput, actor store.Actor) (*View, json.RawMessage, error) {
	m.init()
	v, jwk, err := m.createService(ctx, in, actor)
	if err != nil {
		m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionCreate,
			InputSummary: "service connection, nickname " + truncate(in.Nickname, 100) + m.orgAsked(in.Domain, in.ClientID)}, err)
	}
	return v, jwk, err
}

func (m *Manager) createService(ctx context.Context, in ServiceInput, actor store.Actor) (*View, json.RawMessage, error) {
	nickname, err := validNickname(in.Nickname)
	if err != nil {
		return nil, nil, err
	}
	domain, err := ParseDomain(in.Domain, m.Policy)
	if err != nil {
		return nil, nil, err
	}
	clientID := strings.TrimSpace(in.ClientID)
	if fault := clientIDFault(clientID); fault != "" {
		return nil, nil, problem.New(problem.InvalidInput, "%s", fault).
			WithRemedy("copy the client ID from the API Services app's General tab in the Okta Admin Console").WithDetail("field", "clientId")
	}
	mode, scopes, err := m.selectScopes(in.Connector, in.Scopes)
	if err != nil {
		return nil, nil, err
	}
	scopes = apiScopes(scopes)
	if len(scopes) == 0 {
		return nil, nil, problem.New(problem.InvalidInput, "a service connection needs at least one Okta API scope").
			WithRemedy("choose the default scopes or tick at least one okta.* scope").WithDetail("field", "scopes")
	}
	var key *jose.JSONWebKey
	if pk := in.PrivateKey.Reveal(); strings.TrimSpace(pk) != "" {
		if key, err = parsePrivateKey(pk, in.KeyID); err != nil {
			return nil, nil, err
		}
	} else if in.KeyID != "" {
		return nil, nil, problem.New(problem.InvalidInput, "a key ID names the key given with it, and no private key is given").
			WithRemedy("give the app's private key with it, or leave the key ID out to let cardflow generate a key pair (named by its thumbprint)").WithDetail("field", "keyId")
	} else if key, err = generateKey(in.KeyAlgorithm); err != nil {
		return nil, nil, err
	}
	dpopKey, err := generateKey(AlgES256)
	if err != nil {
		return nil, nil, err
	}
	if taken, err := m.Store.GetConnectionByNickname(ctx, in.Connector, nickname); err == nil {
		return nil, nil, m.nicknameTaken(in.Connector, taken.Nickname)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, nil, internal("look up nickname", err)
	}
	now := m.now()
	c := &store.Connection{
		ID: idPrefix + randomID(16), Connector: in.Connector, Nickname: nickname, Domain: domain, Auth: store.AuthService,
		Status: store.StatusPending, StatusReason: servicePendingReason, Remedy: serviceSteps, StatusReasonCode: store.ReasonAwaitingKey,
		ScopeMode: mode, RequestedScopes: scopes, ClientID: clientID, DPoP: in.DPoP, CreatedAt: now, UpdatedAt: now,
	}
	if c.SealedPrivateKey, err = m.sealKey(key, c.ID, fieldPrivateKey); err != nil {
		return nil, nil, internal("seal private key", err)
	}
	if c.SealedDPoPKey, err = m.sealKey(dpopKey, c.ID, fieldDPoPKey); err != nil {
		return nil, nil, internal("seal DPoP key", err)
	}
	if err := m.Store.CreateConnection(ctx, c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, nil, m.nicknameTaken(in.Connector, nickname)
		}
		return nil, nil, internal("store connection", err)
	}
	pub, err := publicJWK(key)
	if err != nil {
		return nil, nil, internal("public key", err)
	}
	m.log.InfoContext(ctx, "service connection created", "connection", c.ID, "domain", c.Domain, "clientId", clientID, "kid", key.KeyID)
	m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionCreate, ConnectionID: c.ID, ActingAs: serviceActor(clientID),
		InputSummary: fmt.Sprintf("service connection %q, domain %s, client %s, key %s, scopes %s", nickname, domain, clientID, key.KeyID, strings.Join(scopes, " "))}, nil)
	// A first token request tells at once whether the org knows the key.
	if _, err := m.Token(ctx, c.ID); err != nil {
		m.log.InfoContext(ctx, "the new service connection has no token yet", "connection", c.ID, "error", err)
	}
	cur, err := m.Store.GetConnection(ctx, c.ID)
	if err != nil {
		return nil, nil, internal("read connection", err)
	}
	return m.view(cur), pub, nil
}

const servicePendingReason = "the org has not accepted the connection's key yet"

// serviceSteps are the Admin Console steps for an API Services app.
const serviceSteps = "in the Okta Admin Console: Applications › Create App Integration › API Services; on the General tab set Client authentication to Public key / Private key and add the public key (JWK) cardflow showed; on Okta API Scopes grant the connection's scopes; on Admin Roles assign a role that may manage devices (Mobile Administrator or Super Administrator); then test the connection"

// serviceActor is how audit events and errors name a service app.
func serviceActor(clientID string) string { return "service app " + clientID }

// RotateKey creates a new key pair for a service connection and returns its
// public JWK to add to the app. cardflow keeps using the current key until
// a token request with the new one succeeds, then drops the old key.
func (m *Manager) RotateKey(ctx context.Context, idOrNickname, alg string, actor store.Actor) (*View, json.RawMessage, error) {
	m.init()
	c, err := m.lookup(ctx, "", idOrNickname)
	if err == nil && c.Auth != store.AuthService {
		err = problem.New(problem.InvalidInput, "connection %q signs in as a person and has no key to rotate", c.Nickname).
			WithRemedy("rotate keys of service connections only; a user connection is renewed by reauthorizing")
	}
	var key *jose.JSONWebKey
	if err == nil {
		key, err = generateKey(alg)
	}
	if err != nil {
		m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionRotateKey, InputSummary: "connection " + truncate(idOrNickname, 100)}, err)
		return nil, nil, err
	}
	unlock, err := m.lockConn(ctx, c.ID, nil)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	sealed, err := m.sealKey(key, c.ID, fieldNextPrivateKey)
	if err != nil {
		return nil, nil, internal("seal private key", err)
	}
	var stored *store.Connection
	if err := m.Store.UpdateConnection(ctx, c.ID, func(cur *store.Connection) error {
		cur.SealedNextPrivateKey, cur.UpdatedAt = sealed, m.now()
		stored = cur
		return nil
	}); err != nil {
		return nil, nil, internal("store key", err)
	}
	pub, err := publicJWK(key)
	if err != nil {
		return nil, nil, internal("public key", err)
	}
	m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionRotateKey, ConnectionID: stored.ID, ActingAs: serviceActor(stored.ClientID),
		InputSummary: "new key " + key.KeyID + " (used once the org accepts it)"}, nil)
	return m.view(stored), pub, nil
}

// mintService requests a new access token for service connection c (the
// caller holds its lease) and commits it before returning it. An active
// connection asks only for the scopes granted last time, so that a scope
// the app does not grant costs no extra requests each hour; allScopes, or
// a connection that is not active, asks for every requested scope.
func (m *Manager) mintService(ctx context.Context, c *store.Connection, allScopes bool) (*Token, error) {
	key, err := m.openKey(c.SealedPrivateKey, c.ID, fieldPrivateKey)
	if err != nil {
		return nil, err
	}
	var next *jose.JSONWebKey
	if len(c.SealedNextPrivateKey) > 0 {
		if next, err = m.openKey(c.SealedNextPrivateKey, c.ID, fieldNextPrivateKey); err != nil {
			return nil, err
		}
	}
	dpopKey, err := m.openKey(c.SealedDPoPKey, c.ID, fieldDPoPKey)
	if err != nil {
		return nil, err
	}
	ask := c.RequestedScopes
	if !allScopes && c.Status == store.StatusActive && len(c.GrantedScopes) > 0 {
		ask = slices.DeleteFunc(slices.Clone(c.RequestedScopes), func(s string) bool { return !slices.Contains(c.GrantedScopes, s) })
		if len(ask) == 0 {
			ask = c.RequestedScopes
		}
	}
	useDPoP := c.DPoP
	promoted := false
	var tok *oauth2.Token
	var granted []string
	if next != nil {
		tok, granted, err = m.serviceTokenRequest(ctx, c, ask, next, dpopKey, &useDPoP)
		promoted = err == nil
		if isOAuthCode(err, "invalid_client") {
			// The org does not know the new key yet: keep using the old one.
			tok, granted, err = m.serviceTokenRequest(ctx, c, ask, key, dpopKey, &useDPoP)
		}
	} else {
		tok, granted, err = m.serviceTokenRequest(ctx, c, ask, key, dpopKey, &useDPoP)
	}
	if err != nil {
		perr := m.serviceFailed(ctx, c, err)
		if wait, ok := passingTokenFailure(err, m.now()); ok {
			return nil, &transientRefresh{err: perr, wait: wait}
		}
		return nil, perr
	}
	// The expiry on cardflow's clock, as for user tokens; DPoP is the one
	// token type besides Bearer a service connection accepts.
	tokType := "Bearer"
	checked := *tok
	if strings.EqualFold(tok.TokenType, "DPoP") {
		tokType, checked.TokenType = "DPoP", ""
	}
	ts, err := parseTokenResponse(&checked, m.now(), granted)
	if err != nil {
		return nil, problem.New(problem.UpstreamError, "the org's token response is not usable: %s", err.Error()).
			WithRemedy("try again shortly; check the app's settings if it persists")
	}
	access := ts.Access
	sealedAccess, err := m.Keyring.Seal([]byte(access), sealedAAD(c.ID, fieldAccessToken))
	if err != nil {
		return nil, internal("seal token", err)
	}
	var sealedKey []byte
	if promoted {
		if sealedKey, err = m.sealKey(next, c.ID, fieldPrivateKey); err != nil {
			return nil, internal("seal private key", err)
		}
	}
	// A connection in error becomes active again only once it can do
	// what it is for: the org may issue tokens to an app whose admin role
	// was taken away (a test put it in error for that), and marking it
	// active would only make its cards fail with forbidden.
	var roleless *problem.Error
	if c.Status == store.StatusError && hasDeviceRead(granted) {
		var probeKey *jose.JSONWebKey
		if tokType == "DPoP" {
			probeKey = dpopKey
		}
		if m.serviceLacksRole(ctx, c, &Token{AccessToken: keyring.Secret(access), Type: tokType, BaseURL: OriginOf(c.Domain), dpopKey: probeKey}) {
			roleless = noAdminRole(c.Nickname, c.ClientID)
		}
	}
	wasActive := false
	var stored *store.Connection
	err = m.updateConnection(ctx, c.ID, func(cur *store.Connection) error {
		now := m.now()
		cur.SealedAccessToken, cur.AccessTokenExpiry, cur.AccessTokenType = sealedAccess, ts.Expiry.UTC(), tokType
		cur.GrantedScopes, cur.DPoP = granted, useDPoP
		if promoted {
			cur.SealedPrivateKey, cur.SealedNextPrivateKey = sealedKey, nil
		}
		if roleless != nil && cur.Status == store.StatusError {
			cur.StatusReason, cur.Remedy, cur.StatusReasonCode, cur.UpdatedAt = roleless.Message, roleless.Remedy, store.ReasonNoAdminRole, now
			stored = cur
			return nil
		}
		roleless = nil
		wasActive = cur.Status == store.StatusActive
		cur.Status, cur.StatusReason, cur.Remedy, cur.StatusReasonCode = store.StatusActive, "", "", ""
		cur.ServiceRetries, cur.ServiceRetryAt = 0, time.Time{}
		cur.AuthorizedLogin = serviceActor(cur.ClientID)
		if !wasActive || cur.AuthorizedAt.IsZero() {
			cur.AuthorizedAt = now
		}
		cur.LastUsedAt, cur.UpdatedAt = now, now
		stored = cur
		return nil
	})
	if err != nil {
		return nil, internal("store token", err)
	}
	if roleless != nil {
		m.log.InfoContext(ctx, "service connection still in error: the org issues its tokens, but its app has no admin role", "connection", c.ID)
		return nil, roleless.WithDetail("connection", c.ID)
	}
	if promoted {
		m.log.InfoContext(ctx, "the org accepted the new key; the old key is dropped", "connection", c.ID, "kid", next.KeyID)
		m.audit(ctx, store.AuditEvent{Actor: store.ServerActor, Action: store.ActionConnectionKeyRotated, ConnectionID: c.ID, ActingAs: serviceActor(c.ClientID),
			InputSummary: "now using key " + next.KeyID}, nil)
	}
	if !wasActive {
		m.audit(ctx, store.AuditEvent{Actor: store.ServerActor, Action: store.ActionConnectionAuthorize, ConnectionID: c.ID, ActingAs: serviceActor(c.ClientID),
			InputSummary: "service app token; granted " + strings.Join(granted, " ")}, nil)
		if m.OnActive != nil {
			m.OnActive(c.ID)
		}
	}
	return m.tokenOf(stored, access), nil
}

// serviceTokenRequest runs client_credentials with key for the scopes ask.
// An invalid_scope answer (Okta refuses the whole request when one scope is
// not granted) makes it find the granted ones among all of c's requested
// scopes one by one and ask for those. It switches DPoP on when the org
// asks for proofs and follows its nonce.
func (m *Manager) serviceTokenRequest(ctx context.Context, c *store.Connection, ask []string, key, dpopKey *jose.JSONWebKey, useDPoP *bool) (*oauth2.Token, []string, error) {
	tok, err := m.clientCredentials(ctx, c, key, dpopKey, useDPoP, ask)
	if err == nil {
		return tok, grantedOf(tok, ask), nil
	}
	if !isOAuthCode(err, "invalid_scope") || len(c.RequestedScopes) < 2 {
		return nil, nil, err
	}
	var granted []string
	for _, s := range c.RequestedScopes {
		if _, err := m.clientCredentials(ctx, c, key, dpopKey, useDPoP, []string{s}); err == nil {
			granted = append(granted, s)
		} else if !isOAuthCode(err, "invalid_scope") {
			return nil, nil, err
		}
	}
	if len(granted) == 0 {
		return nil, nil, err
	}
	tok, err = m.clientCredentials(ctx, c, key, dpopKey, useDPoP, granted)
	if err != nil {
		return nil, nil, err
	}
	return tok, grantedOf(tok, granted), nil
}

// grantedOf is the token's scope, or what was asked for when it has none.
func grantedOf(tok *oauth2.Token, asked []string) []string {
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		return strings.Fields(s)
	}
	return slices.Clone(asked)
}

// clientCredentials makes one token request (with the DPoP retries).
func (m *Manager) clientCredentials(ctx context.Context, c *store.Connection, key, dpopKey *jose.JSONWebKey, useDPoP *bool, scopes []string) (*oauth2.Token, error) {
	origin := OriginOf(c.Domain)
	tokenURL := origin + "/oauth2/v1/token"
	var last error
	for range 3 {
		assertion, err := m.assertion(key, c.ClientID, tokenURL)
		if err != nil {
			return nil, internal("sign client assertion", err)
		}
		cfg := clientcredentials.Config{ClientID: c.ClientID, TokenURL: tokenURL, Scopes: scopes, AuthStyle: oauth2.AuthStyleInParams,
			EndpointParams: url.Values{
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion":      {assertion},
			}}
		hc := m.httpClient()
		if *useDPoP {
			base := hc.Transport
			if base == nil {
				base = http.DefaultTransport
			}
			hc = &http.Client{Transport: &dpopTokenTransport{m: m, key: dpopKey, origin: origin, base: base}, Timeout: hc.Timeout, CheckRedirect: noRedirects}
		}
		tctx, cancel := context.WithTimeout(context.WithValue(ctx, oauth2.HTTPClient, hc), tokenCallTimeout)
		tok, err := cfg.Token(tctx)
		cancel()
		err = withoutBody(err)
		if err == nil {
			return tok, nil
		}
		last = err
		var re *oauth2.RetrieveError
		switch {
		case !errors.As(err, &re):
			return nil, err
		case re.ErrorCode == "use_dpop_nonce" && *useDPoP:
			continue // the transport cached the new nonce
		case re.ErrorCode == "invalid_dpop_proof" && !*useDPoP:
			*useDPoP = true // the org requires DPoP
			continue
		}
		return nil, err
	}
	return nil, last
}

// assertion signs a private_key_jwt client assertion (RFC 7523): iss = sub
// = the client ID, aud = the token URL, a unique jti, five minutes.
func (m *Manager) assertion(key *jose.JSONWebKey, clientID, tokenURL string) (string, error) {
	sig, err := signerFor(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	now := m.now()
	return jwt.Signed(sig).Claims(jwt.Claims{Issuer: clientID, Subject: clientID, Audience: jwt.Audience{tokenURL},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		Expiry: jwt.NewNumericDate(now.Add(assertionLifetime)), ID: randomID(16)}).Serialize()
}

func isOAuthCode(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}

// passingTokenFailure reports whether a failed token request may pass if
// sent again (a 5xx, 429 or temporarily_unavailable answer, an error page,
// an answer lost on the network) and how long the org asked to wait.
func passingTokenFailure(err error, now time.Time) (time.Duration, bool) {
	if oe, ok := asOAuthError(err); ok {
		return transientAnswer(oe, err, now)
	}
	var ne net.Error
	switch {
	case errors.As(err, new(*AddressError)), errors.As(err, new(*RedirectError)), errors.Is(err, ErrResponseTooLarge):
		return 0, false
	case errors.As(err, &ne), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return 0, true
	}
	return 0, false
}

// serviceFailed explains a failed token request and records it on the
// connection: a pending connection stays pending (the admin may not have
// finished the Admin Console steps), an active one goes to error.
func (m *Manager) serviceFailed(ctx context.Context, c *store.Connection, err error) error {
	var p *problem.Error
	var re *oauth2.RetrieveError
	code := ""
	switch {
	case errors.As(err, &re) && refusedForTime(re):
		code = store.ReasonClockSkew
		what := "client assertion"
		if re.ErrorCode == "invalid_dpop_proof" {
			what = "DPoP proof"
		}
		p = problem.New(problem.UpstreamError, "the org refused the %s of service connection %q for its time (%s: %s): %s", what, c.Nickname, re.ErrorCode, cleanText(re.ErrorDescription, 200), hostClockOff(re.Response, m.now())).
			WithRemedy("set this host's clock right (synchronise it with NTP: chrony, systemd-timesyncd): cardflow signs the connection's client assertions and DPoP proofs with it, and the org takes them only within minutes of its own time; the key is not in question. cardflow tests the connection again in the background, or test it")
	case errors.As(err, &re) && re.ErrorCode == "invalid_client":
		code = store.ReasonKeyRefused
		key := "the connection's public key (JWK)"
		if len(c.SealedNextPrivateKey) > 0 {
			// Neither key is accepted: the one to add is the key the
			// connection is rotating to, not the one it leaves.
			key = "the connection's new public key (JWK), which rotate-key made (New public key in cardflow connections show, nextPublicJwk in the API, New JWK on its console page; the org accepts neither it nor the current key)"
		}
		p = problem.New(problem.NeedsReauthorization, "the org does not accept the key of service connection %q (invalid_client: %s)", c.Nickname, cleanText(re.ErrorDescription, 200)).
			WithRemedy("add %s to the API Services app %s: General tab › Client Credentials › Public key / Private key › Add key, and check that %s is the client ID of an API Services app of %s; if the app was deactivated, activate it again in the Okta Admin Console (Applications); then test the connection", key, c.ClientID, c.ClientID, c.Domain)
	case errors.As(err, &re) && re.ErrorCode == "invalid_scope":
		code = store.ReasonScopeNotGranted
		p = problem.New(problem.InsufficientScope, "none of the requested scopes (%s) is granted to the API Services app %s (invalid_scope)", strings.Join(c.RequestedScopes, ", "), c.ClientID).
			WithRemedy("grant them on the app's Okta API Scopes tab in the Okta Admin Console, then test the connection").WithDetail("requestedScopes", c.RequestedScopes)
	case errors.As(err, &re) && (re.ErrorCode == "unauthorized_client" || re.ErrorCode == "invalid_dpop_proof"):
		p = problem.New(problem.UpstreamError, "the org refused the service connection's token request (%s: %s)", re.ErrorCode, cleanText(re.ErrorDescription, 200)).
			WithRemedy("check that the app is an API Services app using Public key / Private key client authentication")
	case errors.As(err, &re):
		p = problem.New(problem.UpstreamError, "the org refused the service connection's token request (%s)", orDefault(re.ErrorCode, fmt.Sprintf("HTTP %d", re.Response.StatusCode))).
			WithRemedy("try again shortly; check the app's settings if it persists")
	default:
		if pe, ok := problem.As(err); ok {
			return pe
		}
		return problem.New(problem.UpstreamError, "could not get a token from the org at %s: %s", OriginOf(c.Domain), transportCause(err)).
			WithRemedy("check that the domain is right and the org is reachable, then try again").Wrap(err)
	}
	if code != "" {
		status := store.StatusError
		if c.Status == store.StatusPending {
			status = store.StatusPending
		}
		m.updateService(ctx, c.ID, func(cur *store.Connection) {
			cur.Status, cur.StatusReason, cur.Remedy, cur.StatusReasonCode = status, p.Message, p.Remedy, code
		})
	}
	m.log.WarnContext(ctx, "service token request failed", "connection", c.ID, "reason", p.Message)
	return p.WithDetail("connection", c.ID).Wrap(err)
}

// refusedForTime reports whether the org refused a token request for the
// time of what cardflow signed with this host's clock, not for its key:
// the client assertion expired or its exp too far ahead (invalid_client:
// "The client_assertion token is expired.", "... has an expiration too far
// into the future."), a DPoP proof's iat out of the org's window
// (invalid_dpop_proof: "The DPoP proof JWT is issued more than five minutes
// in the past.", "'iat' claim in the DPoP proof JWT is invalid.").
func refusedForTime(re *oauth2.RetrieveError) bool {
	if re.ErrorCode != "invalid_client" && re.ErrorCode != "invalid_dpop_proof" {
		return false
	}
	desc := strings.ToLower(re.ErrorDescription)
	for _, w := range []string{"expired", "expiration", "in the past", "in the future", "into the future", "not yet valid", "'iat'", "'exp'", "'nbf'"} {
		if strings.Contains(desc, w) {
			return true
		}
	}
	return false
}

// hostClockOff says how far this host's clock (now) is off from the org's,
// by the Date of the org's answer resp.
func hostClockOff(resp *http.Response, now time.Time) string {
	var at time.Time
	if resp != nil {
		at, _ = http.ParseTime(resp.Header.Get("Date"))
	}
	d := now.Sub(at).Round(time.Second)
	switch {
	case at.IsZero():
		return "this host's clock is probably off from the org's"
	case d >= time.Second:
		return fmt.Sprintf("this host's clock is %s ahead of the org's (its answer is dated %s)", d, timetext.Format(at))
	case d <= -time.Second:
		return fmt.Sprintf("this host's clock is %s behind the org's (its answer is dated %s)", -d, timetext.Format(at))
	}
	return "the date of the org's answer agrees with this host's clock: check that the clock keeps time"
}

// updateService applies change to the stored connection (in its locked
// update, with the notice of the status change it makes).
func (m *Manager) updateService(ctx context.Context, id string, change func(*store.Connection)) {
	err := m.updateConnection(ctx, id, func(c *store.Connection) error {
		change(c)
		c.UpdatedAt = m.now()
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		m.log.ErrorContext(ctx, "cannot update connection", "connection", id, "error", err)
	}
}

// failsOtherwise reports whether service connection c, in error before
// (prev) and still, fails now for another kind of reason: its
// StatusReasonCode differs (the org does not accept its key, none of its
// scopes is granted, its app has no admin role), while the reason's text
// may differ from one test to the next for the same cause (the org's
// error description), and the remedy's from one cardflow version to the
// next. A connection stored in error before the codes were kept (migration
// 0040) has none: with it, as the versions before did, the kind is the
// remedy, each way having its own.
func failsOtherwise(prev, c *store.Connection) bool {
	if c.Auth != store.AuthService || prev.Status != store.StatusError || c.Status != store.StatusError {
		return false
	}
	if prev.StatusReasonCode == "" || c.StatusReasonCode == "" {
		return prev.Remedy != c.Remedy
	}
	return prev.StatusReasonCode != c.StatusReasonCode
}

// serviceTest checks a service connection: a new token, then the
// read-only device call, which tells whether the app has an admin role.
func (m *Manager) serviceTest(ctx context.Context, c *store.Connection) *TestResult {
	current := ""
	if at, err := m.Keyring.Open(c.SealedAccessToken, sealedAAD(c.ID, fieldAccessToken)); err == nil {
		current = string(at)
	}
	tok, err := m.refreshScopes(ctx, c.ID, orDefault(current, "-"), true, false)
	if err != nil {
		return m.testFailure(ctx, c.ID, err)
	}
	if !hasDeviceRead(tok.Scopes) {
		return &TestResult{OK: true, Status: store.StatusActive}
	}
	status, code, err := readOneDevice(ctx, m.HTTPClient(c.ID), c.Domain)
	if err != nil {
		return m.testFailure(ctx, c.ID, problem.New(problem.UpstreamError, "could not check the app's permissions: %s", transportCause(err)).
			WithRemedy("check that the org is reachable, then try again"))
	}
	if status == http.StatusOK {
		return &TestResult{OK: true, Status: store.StatusActive}
	}
	p := problem.New(problem.UpstreamError, "the org answered HTTP %d to a read-only device call", status).WithRemedy("try again")
	if refusedForRole(status, code, nil) {
		p = noAdminRole(c.Nickname, c.ClientID)
		m.updateService(ctx, c.ID, func(cur *store.Connection) {
			cur.Status, cur.StatusReason, cur.Remedy, cur.StatusReasonCode = store.StatusError, p.Message, p.Remedy, store.ReasonNoAdminRole
		})
	}
	return m.testFailure(ctx, c.ID, p)
}

// serviceLacksRole reports whether the org answers a read-only device
// call with tok (a new token of service connection c, not stored yet) with
// E0000006: its app has no admin role that allows it. Any other answer,
// or none, is false: the token works, and what else fails is for the
// cards to report.
func (m *Manager) serviceLacksRole(ctx context.Context, c *store.Connection, tok *Token) bool {
	return refusedForRole(readOneDevice(ctx, m.clientWithToken(tok), c.Domain))
}

// refusedForRole reports whether readOneDevice's answer is E0000006: the
// token's app or account has no admin role that may read devices.
func refusedForRole(status int, errorCode string, err error) bool {
	return err == nil && status == http.StatusForbidden && errorCode == okta.CodeForbidden
}

// readOneDevice makes the read-only device call that tells whether a
// token's app may read devices (GET /api/v1/devices?limit=1 at domain,
// with client): the answer's status and Okta's error code.
func readOneDevice(ctx context.Context, client *http.Client, domain string) (status int, errorCode string, err error) {
	pctx, cancel := context.WithTimeout(ctx, tokenCallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, OriginOf(domain)+"/api/v1/devices?limit=1", nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := ReadCapped(resp.Body, 64<<10)
	var oe struct {
		ErrorCode string `json:"errorCode"`
	}
	_ = json.Unmarshal(body, &oe)
	return resp.StatusCode, oe.ErrorCode, nil
}

// noAdminRole is the problem of a service app whose admin roles do not
// allow a device call (Okta answers E0000006).
func noAdminRole(nickname, clientID string) *problem.Error {
	return problem.New(problem.Forbidden, "the API Services app %s of connection %q has no admin role that allows this device call (the org answered E0000006)", clientID, nickname).
		WithRemedy("in the Okta Admin Console open the app's Admin Roles tab and assign a role that may manage devices (Mobile Administrator or Super Administrator), then test the connection again").
		WithDetail("clientId", clientID)
}
