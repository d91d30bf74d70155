package connection

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
)

// maxMetadataBytes caps the discovery document and the key set.
const maxMetadataBytes = 1 << 20

// metadataError is an org's discovery document or key set that could not
// be fetched or read, said without any of the org's answer (an error page
// would otherwise end up in a connection's status).
type metadataError struct{ msg string }

func (e *metadataError) Error() string { return e.msg }

// idTokenVerifier fetches the org's OpenID discovery document and signing
// keys (through the guarded client) and returns a verifier of ID tokens
// issued by origin for clientID. It does what oidc.NewProvider and its
// remote key set do, but says what went wrong in its own words.
func (m *Manager) idTokenVerifier(ctx context.Context, origin, clientID string) (*oidc.IDTokenVerifier, error) {
	var disc struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := m.fetchMetadata(ctx, origin+"/.well-known/openid-configuration", "the org's OpenID discovery document", &disc); err != nil {
		return nil, err
	}
	if disc.Issuer != origin {
		return nil, fmt.Errorf("the org's discovery document names the issuer %q, not %q", cleanText(disc.Issuer, 200), origin)
	}
	if disc.JWKSURI == "" {
		return nil, &metadataError{"the org's OpenID discovery document names no jwks_uri"}
	}
	// The keys are fetched from the org only: an org's jwks_uri is on its
	// own origin, and cardflow calls no host the operator did not allow.
	if u, err := url.Parse(disc.JWKSURI); err != nil || u.Scheme+"://"+strings.ToLower(u.Host) != origin || u.User != nil {
		where := "an unusable address"
		if err == nil {
			where = cleanText(u.Scheme+"://"+u.Host, 200)
		}
		return nil, fmt.Errorf("the org's discovery document names its signing keys (jwks_uri) at %s, not on the org %s; cardflow fetches them only from the org", where, origin)
	}
	var set jose.JSONWebKeySet
	if err := m.fetchMetadata(ctx, disc.JWKSURI, "the org's signing keys", &set); err != nil {
		return nil, err
	}
	var keys []crypto.PublicKey
	for _, k := range set.Keys {
		if k.Use == "" || k.Use == "sig" {
			keys = append(keys, k.Key)
		}
	}
	if len(keys) == 0 {
		return nil, &metadataError{"the org's signing keys hold no signing key"}
	}
	cfg := &oidc.Config{ClientID: clientID, Now: m.now, SupportedSigningAlgs: disc.Algs}
	return oidc.NewVerifier(origin, &oidc.StaticKeySet{PublicKeys: keys}, cfg), nil
}

// fetchMetadata GETs u and decodes its JSON into v; what names the
// document in errors.
func (m *Manager) fetchMetadata(ctx context.Context, u, what string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &metadataError{fmt.Sprintf("%s has an unusable address", what)}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := m.httpClient().Do(req)
	if err != nil {
		return &metadataError{fmt.Sprintf("%s could not be fetched: %s", what, transportCause(err))}
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return &metadataError{fmt.Sprintf("%s answered %d %s", what, resp.StatusCode, http.StatusText(resp.StatusCode))}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "" && mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return &metadataError{fmt.Sprintf("%s answered %s instead of JSON", what, cleanText(mt, 100))}
	}
	b, err := ReadCapped(resp.Body, maxMetadataBytes)
	if err != nil {
		return &metadataError{fmt.Sprintf("%s could not be read: %s", what, transportCause(err))}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &metadataError{fmt.Sprintf("%s could not be read: it is not valid JSON", what)}
	}
	return nil
}
