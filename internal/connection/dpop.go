package connection

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// DPoP (RFC 9449) for service connections whose org requires it or that
// set it: every token request and API call carries a proof signed with the
// connection's DPoP key (kept sealed in the store, so that every server can
// use the DPoP-bound token). The org's nonce is cached per org origin and
// replaced whenever the org answers use_dpop_nonce.

type dpopClaims struct {
	HTM   string           `json:"htm"`
	HTU   string           `json:"htu"`
	IAT   *jwt.NumericDate `json:"iat"`
	JTI   string           `json:"jti"`
	Nonce string           `json:"nonce,omitempty"`
	ATH   string           `json:"ath,omitempty"`
}

// dpopProof signs a proof for a request to method and htu (scheme, host
// and percent-decoded path, no query), with the hash of accessToken when
// not empty and nonce when not empty.
func (m *Manager) dpopProof(key *jose.JSONWebKey, method, htu, accessToken, nonce string) (string, error) {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm), Key: key.Key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return "", err
	}
	c := dpopClaims{HTM: method, HTU: htu, IAT: jwt.NewNumericDate(m.now()), JTI: randomID(16), Nonce: nonce}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		c.ATH = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return jwt.Signed(sig).Claims(c).Serialize()
}

func (m *Manager) dpopNonce(origin string) string {
	if v, ok := m.nonces.Load(origin); ok {
		return v.(string)
	}
	return ""
}

func (m *Manager) setDPoPNonce(origin, nonce string) {
	if nonce != "" {
		m.nonces.Store(origin, nonce)
	}
}

// resourceNonce is the latest nonce the org's resource server asked for
// in the proofs of API calls (RFC 9449 §9), or "": Okta asks for none
// today. It is kept apart from the authorization server's.
func (m *Manager) resourceNonce(origin string) string {
	if v, ok := m.rsNonces.Load(origin); ok {
		return v.(string)
	}
	return ""
}

func (m *Manager) setResourceNonce(origin, nonce string) {
	if nonce != "" {
		m.rsNonces.Store(origin, nonce)
	}
}

// dpopTokenTransport adds a fresh DPoP proof to each token request.
type dpopTokenTransport struct {
	m      *Manager
	key    *jose.JSONWebKey
	origin string
	base   http.RoundTripper
}

func (t *dpopTokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	proof, err := t.m.dpopProof(t.key, req.Method, req.URL.Scheme+"://"+req.URL.Host+req.URL.Path, "", t.m.dpopNonce(t.origin))
	if err != nil {
		closeBody(req)
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("DPoP", proof)
	resp, err := t.base.RoundTrip(r)
	if err == nil {
		t.m.setDPoPNonce(t.origin, resp.Header.Get("DPoP-Nonce"))
	}
	return resp, err
}
