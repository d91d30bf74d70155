package connection

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// Key algorithms a service connection can generate.
const (
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
)

// badKey explains a private key cardflow cannot use.
func badKey(format string, args ...any) *problem.Error {
	return problem.New(problem.InvalidInput, format, args...).
		WithRemedy("give the private key of the API Services app as PEM (PKCS#8, PKCS#1 or SEC 1) or as a private JWK (RSA of at least 2048 bits, or EC P-256, P-384 or P-521), or leave it out to let cardflow generate one").
		WithDetail("field", "privateKey")
}

// maxKeyID bounds a key ID given with a private key.
const maxKeyID = 200

// parsePrivateKey reads a PEM or JWK private key into a JWK with its alg
// and a kid: the JWK's own, else keyID (the kid the app knows the key by,
// given with it), else its SHA-256 thumbprint. A JWK whose kid is not
// keyID is refused: one of them is not the app's.
func parsePrivateKey(text, keyID string) (*jose.JSONWebKey, error) {
	text = strings.TrimSpace(text)
	if keyID != "" && (len(keyID) > maxKeyID || strings.IndexFunc(keyID, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0) {
		return nil, problem.New(problem.InvalidInput, "the key ID must be up to %d printable ASCII characters without spaces", maxKeyID).
			WithRemedy("copy the key's KID from the app's Public keys list (General tab, Client Credentials) in the Okta Admin Console").WithDetail("field", "keyId")
	}
	var key any
	kid := keyID
	switch {
	case strings.HasPrefix(text, "{"):
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON([]byte(text)); err != nil {
			return nil, badKey("the private key is not a valid JWK")
		}
		if k.IsPublic() {
			return nil, badKey("the JWK is a public key; cardflow needs the private key (the public one goes to Okta)")
		}
		if k.Use != "" && k.Use != "sig" {
			return nil, badKey("the JWK is for %q, not for signing (use \"sig\"); a client assertion needs a signing key", truncate(k.Use, 20))
		}
		if keyID != "" && k.KeyID != "" && k.KeyID != keyID {
			return nil, problem.New(problem.InvalidInput, "the JWK's kid is %q and the key ID given with it %q: the app knows the key by one of them only", truncate(k.KeyID, 40), truncate(keyID, 40)).
				WithRemedy("leave the key ID out to use the JWK's kid, or give the key ID the app's Public keys list shows for it").WithDetail("field", "keyId")
		}
		if k.KeyID != "" {
			kid = k.KeyID
		}
		j, err := keyJWK(k.Key, kid)
		if err != nil {
			return nil, err
		}
		if k.Algorithm != "" && k.Algorithm != j.Algorithm {
			// The JWK names its algorithm: keep it when the key can sign
			// with it and Okta accepts it, refuse it when it contradicts
			// the key.
			if _, isRSA := j.Key.(*rsa.PrivateKey); !isRSA || (k.Algorithm != "RS384" && k.Algorithm != "RS512") {
				return nil, badKey("the JWK's alg is %q, which does not fit its key (%s): Okta accepts RS256, RS384 or RS512 for an RSA key and ES256, ES384 or ES512 for an EC key of the curve P-256, P-384 or P-521",
					truncate(k.Algorithm, 20), keyKind(j))
			}
			j.Algorithm = k.Algorithm
		}
		return j, nil
	case strings.HasPrefix(text, "-----BEGIN"):
		block, _ := pem.Decode([]byte(text))
		if block == nil {
			return nil, badKey("the private key is not valid PEM")
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, problem.New(problem.InvalidInput, "the PEM private key is encrypted with a passphrase, which cardflow does not ask for (it seals the key itself)").
				WithRemedy("decrypt it first (openssl pkey -in KEY.pem -out plain.pem asks for the passphrase), give cardflow plain.pem and delete that file afterwards").
				WithDetail("field", "privateKey")
		}
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			return nil, badKey("the PEM block is %q, not a private key", block.Type)
		}
		if err != nil {
			return nil, badKey("the PEM private key cannot be read")
		}
	default:
		return nil, badKey("the private key is neither PEM nor a JWK")
	}
	return keyJWK(key, kid)
}

// keyKind describes a JWK's key for messages: "RSA 2048 bits", "EC P-256".
func keyKind(j *jose.JSONWebKey) string {
	switch k := j.Key.(type) {
	case *rsa.PrivateKey:
		return fmt.Sprintf("RSA %d bits", k.N.BitLen())
	case *ecdsa.PrivateKey:
		return "EC " + k.Curve.Params().Name
	}
	return "unknown"
}

// keyJWK wraps a private key as a JWK with its signing alg and kid.
func keyJWK(key any, kid string) (*jose.JSONWebKey, error) {
	alg := ""
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, badKey("the RSA key has %d bits; Okta needs at least 2048", k.N.BitLen())
		}
		alg = AlgRS256
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			alg = AlgES256
		case elliptic.P384():
			alg = "ES384"
		case elliptic.P521():
			alg = "ES512"
		default:
			return nil, badKey("the EC key's curve is not P-256, P-384 or P-521")
		}
	default:
		return nil, badKey("the key is neither RSA nor EC, the kinds of key Okta accepts for an API Services app")
	}
	j := &jose.JSONWebKey{Key: key, Algorithm: alg, Use: "sig"}
	if kid == "" {
		pub := j.Public()
		thumb, err := pub.Thumbprint(crypto.SHA256)
		if err != nil {
			return nil, badKey("the key's thumbprint cannot be computed")
		}
		kid = base64.RawURLEncoding.EncodeToString(thumb)
	}
	j.KeyID = kid
	return j, nil
}

// generateKey makes a new key pair for alg (ES256 when empty).
func generateKey(alg string) (*jose.JSONWebKey, error) {
	var key any
	var err error
	switch strings.ToUpper(alg) {
	case "", AlgES256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgRS256:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, problem.New(problem.InvalidInput, "cannot generate a %q key", truncate(alg, 20)).
			WithRemedy("choose ES256 or RS256").WithDetail("field", "keyAlgorithm")
	}
	if err != nil {
		return nil, internal("generate key", err)
	}
	return keyJWK(key, "")
}

// publicJWK is the public half of k as JSON, to paste into the org's app.
func publicJWK(k *jose.JSONWebKey) (json.RawMessage, error) {
	pub := k.Public()
	return pub.MarshalJSON()
}

// signingKey returns a signer for k with its kid in the header.
func signerFor(k *jose.JSONWebKey, opts *jose.SignerOptions) (jose.Signer, error) {
	return jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Algorithm), Key: k}, opts)
}

// rotationAfterTest says where the key rotation of service connection c
// (as read before a passed check) stands after the check, which signed
// with the new key first: the org accepted it (the check switched to it:
// the old key is to be removed from the app), or not yet (the check
// signed with the old key: the new one is to be added, the old one kept).
func (m *Manager) rotationAfterTest(ctx context.Context, c *store.Connection) string {
	cur, err := m.Store.GetConnection(ctx, c.ID)
	if err != nil {
		return ""
	}
	oldKid, newKid := m.keyIDOf(c, c.SealedPrivateKey, fieldPrivateKey), m.keyIDOf(c, c.SealedNextPrivateKey, fieldNextPrivateKey)
	if len(cur.SealedNextPrivateKey) == 0 {
		return fmt.Sprintf("the org accepted the new key %s: cardflow signs with it now. Remove the old key %s from the API Services app %s (General tab › Client Credentials).",
			newKid, oldKid, c.ClientID)
	}
	return fmt.Sprintf("the org does not accept the new key %s yet, so the check signed with the old key %s: the rotation is not done. Add the new key (New public key in cardflow connections show) to the API Services app %s (General tab › Client Credentials › Add key), then test again; keep the old key on the app until a test says the new one is in use.",
		newKid, oldKid, c.ClientID)
}

// keyIDOf is the kid of a sealed JWK field of c, or "(unreadable)".
func (m *Manager) keyIDOf(c *store.Connection, sealed []byte, field string) string {
	k, err := m.openKey(sealed, c.ID, field)
	if err != nil || k.KeyID == "" {
		return "(unreadable)"
	}
	return k.KeyID
}

// openKey opens a sealed JWK field of connection id.
func (m *Manager) openKey(sealed []byte, id, field string) (*jose.JSONWebKey, error) {
	b, err := m.Keyring.Open(sealed, sealedAAD(id, field))
	if err != nil {
		return nil, unreadable("private key", sealed, err)
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(b); err != nil {
		return nil, internal("read stored key", err)
	}
	return &k, nil
}

// sealKey seals JWK k as field of connection id.
func (m *Manager) sealKey(k *jose.JSONWebKey, id, field string) ([]byte, error) {
	b, err := k.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return m.Keyring.Seal(b, sealedAAD(id, field))
}

// publicJWKOf is the public JWK of the sealed key field of service
// connection c, or nil when there is none or it cannot be opened (logged:
// a view never fails on it).
func (m *Manager) publicJWKOf(c *store.Connection, sealed []byte, field string) json.RawMessage {
	if len(sealed) == 0 {
		return nil
	}
	k, err := m.openKey(sealed, c.ID, field)
	if err == nil {
		var pub json.RawMessage
		if pub, err = publicJWK(k); err == nil {
			return pub
		}
	}
	m.log.Error("cannot show the public key of a service connection", "connection", c.ID, "field", field, "error", err)
	return nil
}
