package oktaemu

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

type tokenKind int

const (
	kindAccess tokenKind = iota + 1
	kindRefresh
)

// tokenRec is an issued access or refresh token.
type tokenRec struct {
	kind             tokenKind
	clientID, userID string
	scopes           []string
	issued, expires  time.Time
	revoked          bool
	family           *family // nil for client credentials tokens
	rotatedAt        time.Time
	jkt              string // the DPoP key thumbprint a DPoP access token is bound to
}

func (t *tokenRec) live(now time.Time) bool { return !t.revoked && now.Before(t.expires) }

// family is every token of one login (one code exchange and its refreshes).
type family struct {
	tokens   []*tokenRec
	authTime time.Time
	// refreshExpires is when every refresh token of the login expires:
	// 90 days after the code exchange, kept by rotation (EVENTS.md §7).
	refreshExpires time.Time
	// scopes are the login's. Every refresh token of the family carries
	// them, even when a refresh narrowed its access token's (RFC 6749 §6).
	scopes []string
}

func (f *family) revoke() {
	for _, t := range f.tokens {
		t.revoked = true
	}
}

type oauthError struct {
	status       int
	code, desc   string
	wwwAuthBasic bool
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.wwwAuthBasic {
		w.Header().Set("WWW-Authenticate", `Basic realm="Okta"`)
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
}

var (
	errInvalidClient = &oauthError{status: http.StatusUnauthorized, code: "invalid_client",
		desc: "Client authentication failed. Either the client or the client credentials are invalid."}
	errBadCode    = &oauthError{status: http.StatusBadRequest, code: "invalid_grant", desc: "The authorization code is invalid or has expired."}
	errBadRefresh = &oauthError{status: http.StatusBadRequest, code: "invalid_grant", desc: "The refresh token is invalid or expired."}
)

func badRequest(code, desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: code, desc: desc}
}

// clientAuth authenticates the client of a token, introspect or revoke
// request: client_secret_basic, client_secret_post or private_key_jwt.
// A private_key_jwt assertion's jti is recorded as used here, except by
// the token endpoint, which records it with useAssertion after its own
// checks (clientAuthDeferred).
func (o *Org) clientAuth(r *http.Request) (*app, *oauthError) {
	a, use, oerr := o.clientAuthDeferred(r)
	if oerr != nil {
		return nil, oerr
	}
	if oerr := o.useAssertion(use); oerr != nil {
		return nil, oerr
	}
	return a, nil
}

func (o *Org) clientAuthDeferred(r *http.Request) (*app, *assertionUse, *oauthError) {
	s := o.st()
	f := r.Form
	if at := f.Get("client_assertion_type"); at != "" {
		if at != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			return nil, nil, badRequest("invalid_request", "The client_assertion_type is not supported.")
		}
		return o.verifyAssertion(r, f.Get("client_assertion"), f.Get("client_id"))
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, nil, errInvalidClient
		}
	} else {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	s.mu.RLock()
	a := s.byClient[id]
	ok := a != nil && a.kind == "web" && !a.inactive && secret != "" && a.secretMatches(secret)
	s.mu.RUnlock()
	if !ok {
		e := *errInvalidClient
		e.wwwAuthBasic = basic
		return nil, nil, &e
	}
	return a, nil, nil
}

func (o *Org) token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, badRequest("invalid_request", "The request body is not a valid form."))
		return
	}
	a, use, oerr := o.clientAuthDeferred(r)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	jkt := ""
	if a.kind == "service" && a.dpop {
		var derr *dpopError
		if jkt, derr = o.verifyProof(r, http.MethodPost, origin(r)+"/oauth2/v1/token", "", authzNonce); derr != nil {
			o.writeDPoPTokenError(w, derr)
			return
		}
	}
	if oerr := o.useAssertion(use); oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	var resp map[string]any
	switch gt := r.Form.Get("grant_type"); {
	case gt == "authorization_code" && a.kind == "web":
		resp, oerr = o.exchangeCode(r, a)
	case gt == "refresh_token" && a.kind == "web":
		resp, oerr = o.refresh(r, a)
	case gt == "client_credentials" && a.kind == "service":
		resp, oerr = o.clientCredentials(r, a, jkt)
	case gt == "authorization_code" || gt == "refresh_token" || gt == "client_credentials":
		configured := "[authorization_code, refresh_token]"
		if a.kind == "service" {
			configured = "[client_credentials]"
		}
		oerr = badRequest("unauthorized_client", "The client is not authorized to use the provided grant type. Configured grant types: "+configured+".")
	case gt == "":
		oerr = badRequest("invalid_request", "The token request must specify a 'grant_type'.")
	default:
		oerr = badRequest("unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
	}
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (o *Org) exchangeCode(r *http.Request, a *app) (map[string]any, *oauthError) {
	f := r.Form
	s := o.st()
	now := o.now()
	verifier := f.Get("code_verifier")
	s.mu.Lock()
	c := s.codes[f.Get("code")]
	switch {
	case c == nil || c.used || !now.Before(c.expires) || c.clientID != a.clientID:
		s.mu.Unlock()
		return nil, errBadCode
	case f.Get("redirect_uri") != c.redirectURI:
		s.mu.Unlock()
		return nil, badRequest("invalid_grant", "The 'redirect_uri' does not match the redirection URI used in the authorization request.")
	case c.challenge != "" && verifier == "":
		s.mu.Unlock()
		return nil, badRequest("invalid_request", "PKCE verification failed: the 'code_verifier' parameter is required.")
	case c.challenge != "" && s256(verifier) != c.challenge:
		s.mu.Unlock()
		return nil, badRequest("invalid_grant", "PKCE verification failed.")
	}
	c.used = true
	fam := &family{authTime: c.authTime, scopes: c.scopes, refreshExpires: now.Add(refreshLifetime)}
	resp, claims := o.issue(s, a, c.userID, c.scopes, fam, now, origin(r))
	if claims != nil {
		claims.Nonce = c.nonce
	}
	s.mu.Unlock()
	return o.withIDToken(resp, claims)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (o *Org) refresh(r *http.Request, a *app) (map[string]any, *oauthError) {
	f := r.Form
	s := o.st()
	now := o.now()
	s.mu.Lock()
	resp, claims, oerr := o.rotate(s, a, f.Get("refresh_token"), f.Get("scope"), now, origin(r))
	s.mu.Unlock()
	if oerr != nil {
		return nil, oerr
	}
	return o.withIDToken(resp, claims)
}

// rotate redeems refresh token rt (ROTATE with a leeway; reuse after the
// leeway revokes the login). The caller holds s.mu.
func (o *Org) rotate(s *state, a *app, rt, scope string, now time.Time, iss string) (map[string]any, *idClaims, *oauthError) {
	t := s.tokens[rt]
	if t == nil || t.kind != kindRefresh || t.clientID != a.clientID || !t.live(now) {
		return nil, nil, errBadRefresh
	}
	if !t.rotatedAt.IsZero() && now.Sub(t.rotatedAt) > refreshLeeway {
		t.family.revoke()
		return nil, nil, errBadRefresh
	}
	scopes := t.scopes
	if scope != "" {
		scopes = strings.Fields(scope)
		for _, sc := range scopes {
			if !slices.Contains(t.scopes, sc) {
				return nil, nil, badRequest("invalid_scope", "The requested scope is invalid, unknown, or malformed.")
			}
		}
	}
	// An Okta API scope the app no longer grants is left out of the new
	// access token; the refresh token keeps the login's scopes, so a scope
	// granted again comes back with the next refresh (doc.go).
	scopes = slices.DeleteFunc(slices.Clone(scopes), func(sc string) bool {
		return strings.HasPrefix(sc, "okta.") && a.grantFor(sc) == nil
	})
	resp, claims := o.issue(s, a, t.userID, scopes, t.family, now, iss)
	if _, rotated := resp["refresh_token"]; rotated && t.rotatedAt.IsZero() {
		t.rotatedAt = now
	}
	return resp, claims, nil
}

// clientCredentials issues a service app's access token: one hour, no
// refresh token, bound to DPoP key jkt when not empty.
func (o *Org) clientCredentials(r *http.Request, a *app, jkt string) (map[string]any, *oauthError) {
	scopes := strings.Fields(r.Form.Get("scope"))
	if len(scopes) == 0 {
		return nil, badRequest("invalid_scope", "The authorization server resource does not have any configured default scopes, 'scope' must be provided.")
	}
	s := o.st()
	now := o.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range scopes {
		if !strings.HasPrefix(sc, "okta.") || a.grantFor(sc) == nil {
			return nil, badRequest("invalid_scope", "The requested scope is invalid, unknown, or malformed.")
		}
	}
	resp, _ := o.issue(s, a, "", scopes, nil, now, origin(r))
	if jkt != "" {
		s.tokens[resp["access_token"].(string)].jkt = jkt
		resp["token_type"] = "DPoP"
	}
	return resp, nil
}

// issue records a new access token with scopes (and, when the login of fam
// granted offline_access, a refresh token with the login's scopes) and
// returns the token response and, when openid is in scopes, the ID token
// claims to sign. fam is nil for client credentials. The caller holds s.mu.
func (o *Org) issue(s *state, a *app, userID string, scopes []string, fam *family, now time.Time, iss string) (map[string]any, *idClaims) {
	at := randomToken(64)
	rec := &tokenRec{kind: kindAccess, clientID: a.clientID, userID: userID, scopes: scopes, issued: now,
		expires: now.Add(accessLifetime), family: fam}
	s.tokens[at] = rec
	resp := map[string]any{"token_type": "Bearer", "expires_in": int(accessLifetime / time.Second),
		"access_token": at, "scope": strings.Join(scopes, " ")}
	if fam == nil {
		return resp, nil
	}
	fam.tokens = append(fam.tokens, rec)
	if slices.Contains(fam.scopes, "offline_access") {
		rt := randomToken(43)
		rrec := &tokenRec{kind: kindRefresh, clientID: a.clientID, userID: userID, scopes: fam.scopes, issued: now,
			expires: fam.refreshExpires, family: fam}
		s.tokens[rt] = rrec
		fam.tokens = append(fam.tokens, rrec)
		resp["refresh_token"] = rt
	}
	u := s.users[userID]
	if !slices.Contains(scopes, "openid") || u == nil {
		return resp, nil
	}
	c := &idClaims{Issuer: iss, Subject: u.id, Audience: a.clientID, IssuedAt: now.Unix(), Expiry: now.Add(accessLifetime).Unix(),
		AuthTime: fam.authTime.Unix(), Version: 1, ID: "ID." + randomToken(32), AMR: []string{"pwd"}, IDP: stableID("00o", "org"),
		Name: u.name(), PreferredUsername: u.preferredUsername(), Email: u.emailClaim()}
	if slices.Contains(scopes, "groups") {
		c.Groups = s.groupsOf(u.id)
	}
	return resp, c
}

// withIDToken signs claims (when not nil) into resp's id_token.
func (o *Org) withIDToken(resp map[string]any, claims *idClaims) (map[string]any, *oauthError) {
	if claims == nil {
		return resp, nil
	}
	tok, err := o.signer().sign(claims)
	if err != nil {
		return nil, &oauthError{status: http.StatusInternalServerError, code: "server_error", desc: "The ID token could not be signed."}
	}
	resp["id_token"] = tok
	return resp, nil
}

// bearerRecord returns the live access token of an Authorization: Bearer
// header.
func (o *Org) bearerRecord(r *http.Request) (*tokenRec, *user) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, nil
	}
	s := o.st()
	now := o.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tokens[strings.TrimSpace(tok)]
	if t == nil || t.kind != kindAccess || !t.live(now) {
		return nil, nil
	}
	return t, s.users[t.userID]
}

func (o *Org) userinfo(w http.ResponseWriter, r *http.Request) {
	t, u := o.bearerRecord(r)
	if t == nil || u == nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token is invalid."`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if !slices.Contains(t.scopes, "openid") {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", error_description="The access token must provide access to at least one of these scopes - profile, email, address or phone"`)
		w.WriteHeader(http.StatusForbidden)
		return
	}
	info := map[string]any{"sub": u.id}
	if slices.Contains(t.scopes, "profile") {
		info["name"] = u.name()
		info["given_name"] = u.firstName
		info["family_name"] = u.lastName
		info["preferred_username"] = u.preferredUsername()
		info["locale"] = "en_US"
		info["zoneinfo"] = "America/Los_Angeles"
		info["updated_at"] = u.created.Unix()
	}
	if slices.Contains(t.scopes, "email") {
		info["email"] = u.emailClaim()
		info["email_verified"] = true
	}
	if slices.Contains(t.scopes, "groups") {
		s := o.st()
		s.mu.RLock()
		groups := s.groupsOf(u.id)
		s.mu.RUnlock()
		if groups != nil {
			info["groups"] = groups
		}
	}
	writeJSON(w, http.StatusOK, info)
}

func (o *Org) introspect(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	a, oerr := o.clientAuth(r)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	s := o.st()
	now := o.now()
	s.mu.RLock()
	t := s.tokens[r.Form.Get("token")]
	var resp map[string]any
	if t != nil && t.clientID == a.clientID && t.live(now) {
		// Okta's IntrospectionResponse: token_type "is always Bearer", for
		// refresh tokens too; uid comes only with a user's access token.
		resp = map[string]any{"active": true, "scope": strings.Join(t.scopes, " "), "client_id": t.clientID,
			"exp": t.expires.Unix(), "iat": t.issued.Unix(), "iss": origin(r), "aud": origin(r), "token_type": "Bearer"}
		if u := s.users[t.userID]; u != nil {
			resp["sub"], resp["username"] = u.login, u.login
			if t.kind == kindAccess {
				resp["uid"] = u.id
			}
		} else {
			resp["sub"] = t.clientID
		}
	}
	s.mu.RUnlock()
	if resp == nil {
		resp = map[string]any{"active": false}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (o *Org) revoke(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	a, oerr := o.clientAuth(r)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	s := o.st()
	s.mu.Lock()
	if t := s.tokens[r.Form.Get("token")]; t != nil && t.clientID == a.clientID {
		if t.kind == kindRefresh && t.family != nil {
			t.family.revoke()
		}
		t.revoked = true
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}
