package oktaemu

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// signingKey signs the org's ID tokens.
type signingKey struct {
	jwk    jose.JSONWebKey // public
	signer jose.Signer
}

// idClaims are the claims of an ID token.
type idClaims struct {
	Issuer            string   `json:"iss"`
	Subject           string   `json:"sub"`
	Audience          string   `json:"aud"`
	IssuedAt          int64    `json:"iat"`
	Expiry            int64    `json:"exp"`
	AuthTime          int64    `json:"auth_time"`
	Version           int      `json:"ver"`
	ID                string   `json:"jti"`
	AMR               []string `json:"amr"`
	IDP               string   `json:"idp"`
	Nonce             string   `json:"nonce,omitempty"`
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	Email             string   `json:"email"`
	Groups            []string `json:"groups,omitempty"`
}

// signer returns the org's signing key, generating it on first use.
func (o *Org) signer() *signingKey {
	o.keyOnce.Do(func() {
		priv := o.cfg.SigningKey
		if priv == nil {
			var err error
			if priv, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
				panic("oktaemu: generating the signing key: " + err.Error())
			}
		}
		pub := jose.JSONWebKey{Key: &priv.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
		thumb, err := pub.Thumbprint(crypto.SHA256)
		if err != nil {
			panic("oktaemu: key thumbprint: " + err.Error())
		}
		pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: pub.KeyID}},
			(&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			panic("oktaemu: signer: " + err.Error())
		}
		o.key = &signingKey{jwk: pub, signer: sig}
	})
	return o.key
}

func (k *signingKey) sign(claims *idClaims) (string, error) {
	return jwt.Signed(k.signer).Claims(claims).Serialize()
}

func (o *Org) keys(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "max-age=3600, must-revalidate")
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{o.signer().jwk}})
}

// assertionClaims are the claims of a private_key_jwt client assertion.
type assertionClaims struct {
	jwt.Claims
}

// assertionSkew is how far a client's clock may be off. Assertions are
// checked against the configured clock without the emulator offset, since
// clients sign them with their own clock.
const assertionSkew = 5 * time.Minute

// verifyAssertion authenticates a service app by its signed client
// assertion (RFC 7523): iss = sub = client id, aud = the URL of the
// endpoint invoked (/token, /introspect or /revoke), exp at most an hour
// ahead, signed with a key of the app's JWKS.
//
// The assertion's jti is checked here but recorded by useAssertion, once
// the request has passed its other checks: a client that must retry with
// a DPoP nonce may send the same assertion again.
func (o *Org) verifyAssertion(r *http.Request, assertion, clientID string) (*app, *assertionUse, *oauthError) {
	bad := func(desc string) (*app, *assertionUse, *oauthError) {
		return nil, nil, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: desc}
	}
	// Okta accepts RS256, RS384, RS512, ES256, ES384 and ES512 client
	// assertions, the algorithms of DPoP proofs too.
	tok, err := jwt.ParseSigned(assertion, dpopSigAlgs)
	if err != nil {
		return bad("The client_assertion token is malformed.")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return bad("The client_assertion token is malformed.")
	}
	if clientID != "" && clientID != unverified.Issuer {
		return bad("The client_assertion token's 'iss' does not match the client_id.")
	}
	s := o.st()
	s.mu.RLock()
	a := s.byClient[unverified.Issuer]
	var keys []jose.JSONWebKey
	if a != nil && a.jwks != nil {
		keys = slices.Clone(a.jwks.Keys)
	}
	inactive := a != nil && a.inactive
	s.mu.RUnlock()
	if a == nil || a.kind != "service" || inactive {
		return bad("Client authentication failed. Either the client or the client credentials are invalid.")
	}
	var c assertionClaims
	verified := false
	for _, k := range keys {
		if len(tok.Headers) > 0 && tok.Headers[0].KeyID != "" && k.KeyID != "" && k.KeyID != tok.Headers[0].KeyID {
			continue
		}
		if tok.Claims(k.Key, &c) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return bad("The client_assertion signature is invalid.")
	}
	switch {
	case c.Issuer != a.clientID || c.Subject != a.clientID:
		return bad("The client_assertion token must have 'iss' and 'sub' equal to the client_id.")
	case !c.Audience.Contains(origin(r) + r.URL.Path):
		return bad("The audience claim for client_assertion must be the endpoint invoked for the request.")
	case c.Expiry == nil || !o.eitherClock(func(now time.Time) bool { return !now.After(c.Expiry.Time().Add(assertionSkew)) }):
		return bad("The client_assertion token is expired.")
	case !o.eitherClock(func(now time.Time) bool { return !c.Expiry.Time().After(now.Add(time.Hour + assertionSkew)) }):
		return bad("The client_assertion token has an expiration too far into the future.")
	}
	if c.ID != "" {
		s.mu.RLock()
		_, used := s.jtis[c.ID]
		s.mu.RUnlock()
		if used {
			return bad(fmt.Sprintf("The client_assertion token has already been used (jti %s).", c.ID))
		}
	}
	return a, &assertionUse{jti: c.ID, until: c.Expiry.Time()}, nil
}

// assertionUse is a verified client assertion whose jti is not yet
// recorded.
type assertionUse struct {
	jti   string
	until time.Time
}

// useAssertion records the jti of a verified assertion; it fails when a
// concurrent request recorded it first.
func (o *Org) useAssertion(u *assertionUse) *oauthError {
	if u == nil || u.jti == "" {
		return nil
	}
	s := o.st()
	s.mu.Lock()
	_, used := s.jtis[u.jti]
	s.jtis[u.jti] = u.until
	s.mu.Unlock()
	if used {
		return &oauthError{status: http.StatusUnauthorized, code: "invalid_client",
			desc: fmt.Sprintf("The client_assertion token has already been used (jti %s).", u.jti)}
	}
	return nil
}
