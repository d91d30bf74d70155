package connection

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/cardflow/cardflow/internal/problem"
)

// TestParsePrivateKeyJWKAlgAndUse: a private JWK's alg and use are read,
// not overwritten: an RSA key named for RS384 or RS512 signs with it, and
// an alg the key cannot sign with (or a key meant for encryption) is
// refused with a message that says so, instead of being relabelled.
func TestParsePrivateKeyJWKAlgAndUse(t *testing.T) {
	ec256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwk := func(key any, alg, use string) string {
		b, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: "k1", Algorithm: alg, Use: use})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name, key string
		wantAlg   string // "" means refused
		wantErr   []string
	}{
		{"EC without alg", jwk(ec256, "", ""), "ES256", nil},
		{"EC P-256 with ES256", jwk(ec256, "ES256", "sig"), "ES256", nil},
		{"EC P-384 with ES384", jwk(ec384, "ES384", ""), "ES384", nil},
		{"RSA without alg", jwk(rsaKey, "", ""), "RS256", nil},
		{"RSA with RS384", jwk(rsaKey, "RS384", "sig"), "RS384", nil},
		{"RSA with RS512", jwk(rsaKey, "RS512", ""), "RS512", nil},
		{"EC with an RSA alg", jwk(ec256, "RS256", ""), "", []string{`alg is "RS256"`, "EC P-256"}},
		{"EC P-256 with ES384", jwk(ec256, "ES384", ""), "", []string{`alg is "ES384"`, "EC P-256"}},
		{"RSA with an EC alg", jwk(rsaKey, "ES256", ""), "", []string{`alg is "ES256"`, "RSA 2048 bits"}},
		{"RSA with PS256", jwk(rsaKey, "PS256", ""), "", []string{`alg is "PS256"`, "RS256, RS384 or RS512"}},
		{"an encryption key", jwk(ec256, "", "enc"), "", []string{`for "enc"`, "signing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := parsePrivateKey(tt.key, "")
			if tt.wantAlg != "" {
				if err != nil || k.Algorithm != tt.wantAlg || k.KeyID != "k1" {
					t.Fatalf("parsePrivateKey: %+v, %v; want alg %s, kid k1", k, err, tt.wantAlg)
				}
				// It signs with that alg.
				if _, err := (&Manager{}).assertion(k, "client", "https://example.okta.com/oauth2/v1/token"); err != nil {
					t.Errorf("sign with %s: %v", tt.wantAlg, err)
				}
				return
			}
			wantProblem(t, err, problem.InvalidInput, tt.wantErr...)
		})
	}
}

// TestParsePrivateKeyEncryptedPEM: a PEM key encrypted with a passphrase
// (PKCS#8's ENCRYPTED PRIVATE KEY, or OpenSSL's older Proc-Type header) is
// refused saying so and how to decrypt it, where it read as a PEM block
// that is "not a private key" or a key that "cannot be read".
func TestParsePrivateKeyEncryptedPEM(t *testing.T) {
	for _, b := range []*pem.Block{
		{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("not decrypted")},
		{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"}, Bytes: []byte("not decrypted")},
	} {
		_, err := parsePrivateKey(string(pem.EncodeToMemory(b)), "")
		p, ok := problem.As(err)
		if !ok || p.Code != problem.InvalidInput || !strings.Contains(p.Message, "encrypted with a passphrase") || !strings.Contains(p.Remedy, "openssl pkey -in KEY.pem -out plain.pem") {
			t.Errorf("%s: %v; want it refused as encrypted, with the way to decrypt it", b.Type, err)
		}
	}
}
