package connection

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// tokenSet is what cardflow keeps of a token endpoint answer.
type tokenSet struct {
	Access  string
	Refresh string // empty when the answer carried none
	IDToken string // empty when the answer carried none
	Expiry  time.Time
	Scopes  []string
	// ScopeGiven is false when the answer had no "scope", which per
	// RFC 6749 §5.1 means the scopes requested were granted.
	ScopeGiven bool
}

// defaultTokenLifetime is assumed when the org omits expires_in: short, so
// a wrong guess costs an early refresh, never a failed call.
const defaultTokenLifetime = 5 * time.Minute

// maxTokenLifetime bounds a stated expires_in; org access tokens last an
// hour, and a huge value would stop refreshes for good.
const maxTokenLifetime = 24 * time.Hour

// parseTokenResponse checks a successful token endpoint answer (RFC 6749
// §5.1) and extracts what cardflow stores. The expiry is computed on
// cardflow's clock (now), not the oauth2 package's. requested is used when
// the answer has no scope. Errors never contain token values.
func parseTokenResponse(tok *oauth2.Token, now time.Time, requested []string) (*tokenSet, error) {
	if tok == nil || tok.AccessToken == "" {
		return nil, errors.New("the token response has no access_token")
	}
	if tt := tok.TokenType; tt != "" && !strings.EqualFold(tt, "bearer") {
		return nil, fmt.Errorf("the token response has token_type %q; only Bearer tokens are supported", cleanText(tt, 32))
	}
	ts := &tokenSet{Access: tok.AccessToken, Refresh: tok.RefreshToken}
	if !printableToken(ts.Access) || (ts.Refresh != "" && !printableToken(ts.Refresh)) {
		return nil, errors.New("the token response holds a token with characters a token cannot have")
	}
	expiresIn := expiresInOf(tok)
	life := time.Duration(expiresIn) * time.Second
	switch {
	case expiresIn <= 0:
		life = defaultTokenLifetime
	case expiresIn > int64(maxTokenLifetime/time.Second):
		life = maxTokenLifetime
	}
	ts.Expiry = now.Add(life)
	switch v := tok.Extra("scope").(type) {
	case nil:
		ts.Scopes = append([]string(nil), requested...)
	case string:
		ts.Scopes, ts.ScopeGiven = parseScopes(v), true
	default:
		return nil, errors.New("the token response has a scope that is not a string")
	}
	switch v := tok.Extra("id_token").(type) {
	case nil:
	case string:
		if v != "" && !printableToken(v) {
			return nil, errors.New("the token response has a malformed id_token")
		}
		ts.IDToken = v
	default:
		return nil, errors.New("the token response has an id_token that is not a string")
	}
	return ts, nil
}

// expiresInOf is the answer's expires_in: tok.ExpiresIn, or, when that is
// not set, the member of the answer itself. golang.org/x/oauth2's
// clientcredentials package (service connections) returns its tokens
// without ExpiresIn, keeping only an expiry on its own clock.
func expiresInOf(tok *oauth2.Token) int64 {
	if tok.ExpiresIn != 0 {
		return tok.ExpiresIn
	}
	switch v := tok.Extra("expires_in").(type) {
	case float64: // a JSON number
		switch {
		case v <= 0:
			return 0
		case v >= math.MaxInt64:
			return math.MaxInt64
		}
		return int64(v)
	case int64: // a form-encoded answer
		return v
	case string: // a JSON string, which the code exchange accepts too
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return n
	}
	return 0
}

// printableToken reports whether s could be a token value: printable ASCII
// without spaces (RFC 6750 §2.1 b64token is stricter still).
func printableToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
