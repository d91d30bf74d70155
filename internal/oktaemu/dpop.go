package oktaemu

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// DPoP (RFC 9449) as Okta's org authorization server does it for service
// apps that require it (EVENTS.md §6.3): a token request needs a proof
// carrying the server's nonce (first answered with use_dpop_nonce and a
// DPoP-Nonce header); the access token is then of type DPoP and bound to
// the proof key's thumbprint; resource calls send "Authorization: DPoP"
// with a proof that carries ath, the hash of the access token.
const (
	// dpopNonceRenewal is how often the server's nonce changes; a nonce
	// is accepted for dpopNonceValidity after it was first handed out.
	dpopNonceRenewal  = 24 * time.Hour
	dpopNonceValidity = 3 * 24 * time.Hour
	// dpopIatWindow: a proof issued longer ago than this is refused (and a
	// proof from further in the future, for clock skew).
	dpopIatWindow = 5 * time.Minute
	dpopAlgs      = "RS256 RS384 RS512 ES256 ES384 ES512"
)

var dpopSigAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512}

// dpopError is a refused proof: the OAuth error code, its description and
// the HTTP status.
type dpopError struct {
	status     int
	code, desc string
	nonce      bool // answer with a fresh DPoP-Nonce header
}

func badProof(desc string) *dpopError {
	return &dpopError{status: http.StatusBadRequest, code: "invalid_dpop_proof", desc: desc}
}

// dpopClaims are a proof's claims.
type dpopClaims struct {
	HTM   string           `json:"htm"`
	HTU   string           `json:"htu"`
	IAT   *jwt.NumericDate `json:"iat"`
	JTI   string           `json:"jti"`
	Nonce string           `json:"nonce"`
	ATH   string           `json:"ath"`
}

// nonceServer is which server a DPoP nonce is of: the authorization
// server (token requests) or the resource server (API calls). Each hands
// out its own nonces (RFC 9449 §8, §9).
type nonceServer byte

const (
	noNonce       nonceServer = iota // the proof needs no nonce
	authzNonce                       // the authorization server's
	resourceNonce                    // the resource server's
)

// nonceAt is server's DPoP nonce for the renewal period n (emulator clock
// days since the epoch).
func (s *state) nonceAt(server nonceServer, n int64) string {
	mac := hmac.New(sha256.New, s.dpopSecret)
	var b [9]byte
	b[0] = byte(server)
	binary.BigEndian.PutUint64(b[1:], uint64(n))
	mac.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

func period(t time.Time) int64 { return t.Unix() / int64(dpopNonceRenewal/time.Second) }

// currentNonce is server's nonce to hand out now.
func (o *Org) currentNonce(server nonceServer) string {
	return o.st().nonceAt(server, period(o.now()))
}

// nonceValid reports whether server handed out nonce within the last
// three days of the emulator clock.
func (o *Org) nonceValid(server nonceServer, nonce string) bool {
	s := o.st()
	cur := period(o.now())
	for n := cur; n > cur-int64(dpopNonceValidity/dpopNonceRenewal); n-- {
		if hmac.Equal([]byte(nonce), []byte(s.nonceAt(server, n))) {
			return true
		}
	}
	return false
}

// verifyProof checks the DPoP proof of r for a request to method and htu
// (the origin and the percent-decoded path). accessToken, when not empty,
// must match the proof's ath; a proof to a server that needs its nonce
// (need) without a current one is answered use_dpop_nonce (400 from the
// authorization server, 401 from the resource server); a nonce that
// needs none must still be one of the org's. It returns the SHA-256 thumbprint of the proof's
// key. The proof's jti is recorded only when every check passes.
func (o *Org) verifyProof(r *http.Request, method, htu, accessToken string, need nonceServer) (string, *dpopError) {
	vals := r.Header.Values("DPoP")
	if len(vals) == 0 {
		return "", badProof("The DPoP proof JWT header is missing.")
	}
	if len(vals) > 1 {
		return "", badProof("The DPoP proof JWT is invalid.")
	}
	tok, err := jwt.ParseSigned(vals[0], dpopSigAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return "", badProof("The DPoP proof JWT is invalid.")
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return "", badProof("The DPoP proof JWT has an invalid 'typ' header; it must be 'dpop+jwt'.")
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() || !h.JSONWebKey.Valid() {
		return "", badProof("The DPoP proof JWT has no valid public 'jwk' header.")
	}
	var c dpopClaims
	if err := tok.Claims(h.JSONWebKey.Key, &c); err != nil {
		return "", badProof("The DPoP proof JWT signature is invalid.")
	}
	if c.HTM != method {
		return "", badProof("'htm' claim in the DPoP proof JWT is invalid.")
	}
	if u, err := url.Parse(c.HTU); err != nil || !strings.EqualFold(u.Scheme+"://"+u.Host, originOf(htu)) || u.Path != pathOf(htu) {
		return "", badProof("'htu' claim in the DPoP proof JWT is invalid.")
	}
	if c.IAT == nil {
		return "", badProof("'iat' claim in the DPoP proof JWT is invalid.")
	}
	iat := c.IAT.Time()
	if !o.eitherClock(func(now time.Time) bool { return !iat.Before(now.Add(-dpopIatWindow)) }) {
		return "", badProof("The DPoP proof JWT is issued more than five minutes in the past.")
	}
	if !o.eitherClock(func(now time.Time) bool { return !iat.After(now.Add(dpopIatWindow)) }) {
		return "", badProof("'iat' claim in the DPoP proof JWT is invalid.")
	}
	if c.JTI == "" || len(c.JTI) > 256 {
		return "", badProof("'jti' claim in the DPoP proof JWT is invalid.")
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		if !hmac.Equal([]byte(c.ATH), []byte(base64.RawURLEncoding.EncodeToString(sum[:]))) {
			return "", badProof("'ath' claim in the DPoP proof does not match the presented access_token.")
		}
	}
	switch {
	case need == authzNonce && !o.nonceValid(authzNonce, c.Nonce):
		return "", &dpopError{status: http.StatusBadRequest, code: "use_dpop_nonce", desc: "Authorization server requires nonce in DPoP proof.", nonce: true}
	case need == resourceNonce && !o.nonceValid(resourceNonce, c.Nonce):
		return "", &dpopError{status: http.StatusUnauthorized, code: "use_dpop_nonce", desc: "Resource server requires nonce in DPoP proof.", nonce: true}
	case need == noNonce && c.Nonce != "" && !o.nonceValid(authzNonce, c.Nonce) && !o.nonceValid(resourceNonce, c.Nonce):
		return "", badProof("'nonce' claim in the DPoP proof JWT is invalid.")
	}
	thumb, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", badProof("The DPoP proof JWT has no valid public 'jwk' header.")
	}
	s := o.st()
	now := o.now()
	s.mu.Lock()
	_, used := s.dpopJTIs[c.JTI]
	if !used {
		s.dpopJTIs[c.JTI] = now.Add(2 * dpopIatWindow)
		s.pruneJTIs(now)
	}
	s.mu.Unlock()
	if used {
		return "", badProof("The DPoP proof JWT has already been used.")
	}
	return base64.RawURLEncoding.EncodeToString(thumb), nil
}

// eitherClock reports whether ok holds on the configured clock or on the
// emulator clock: clients sign proofs and assertions with their own clock,
// which may or may not follow POST /_emulator/clock.
func (o *Org) eitherClock(ok func(now time.Time) bool) bool {
	return ok(o.cfg.Now()) || ok(o.now())
}

// pruneJTIs drops remembered proof ids that can no longer be replayed
// inside the iat window. The caller holds s.mu.
func (s *state) pruneJTIs(now time.Time) {
	if len(s.dpopJTIs) < 4096 {
		return
	}
	for id, until := range s.dpopJTIs {
		if now.After(until) {
			delete(s.dpopJTIs, id)
		}
	}
}

// writeDPoPTokenError answers a token request whose proof was refused.
func (o *Org) writeDPoPTokenError(w http.ResponseWriter, e *dpopError) {
	if e.nonce {
		w.Header().Set("DPoP-Nonce", o.currentNonce(authzNonce))
	}
	writeOAuthError(w, &oauthError{status: e.status, code: e.code, desc: e.desc})
}

// writeDPoPResourceError answers a resource call whose DPoP credentials
// were refused: the error is in WWW-Authenticate, the body is empty.
func (o *Org) writeDPoPResourceError(w http.ResponseWriter, e *dpopError) {
	if e.nonce {
		w.Header().Set("DPoP-Nonce", o.currentNonce(resourceNonce))
	}
	w.Header().Set("WWW-Authenticate", `DPoP algs="`+dpopAlgs+`", error="`+e.code+`", error_description="`+e.desc+`"`)
	w.WriteHeader(e.status)
}

// resourceDPoP checks the DPoP credentials of a resource call made with
// access token rec (already found live): the scheme must match the token's
// binding and the proof must be valid for this request and bound to the
// token's key, and carry the resource server's nonce when the token's app
// asks for one (needNonce).
func (o *Org) resourceDPoP(r *http.Request, scheme, token string, rec *tokenRec, needNonce bool) *dpopError {
	switch {
	case rec.jkt == "" && scheme == "dpop":
		return &dpopError{status: http.StatusUnauthorized, code: "invalid_token", desc: "The access token is not DPoP bound."}
	case rec.jkt == "":
		return nil
	case scheme != "dpop":
		return &dpopError{status: http.StatusBadRequest, code: "invalid_request",
			desc: "The resource request must use the DPoP authentication scheme when using a DPoP bound token."}
	case len(r.Header.Values("DPoP")) == 0:
		return &dpopError{status: http.StatusBadRequest, code: "invalid_request", desc: "The resource request requires a DPoP proof."}
	}
	need := noNonce
	if needNonce {
		need = resourceNonce
	}
	jkt, e := o.verifyProof(r, r.Method, origin(r)+r.URL.Path, token, need)
	if e != nil {
		return e
	}
	if jkt != rec.jkt {
		return badProof("The access_token is not bound to the provided DPoP proof.")
	}
	return nil
}

func originOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

func pathOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Path
}
