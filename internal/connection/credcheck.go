package connection

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// credentialProbeToken is the token a credential check asks the org about:
// no token of any org, so a check that passes learns only that the client
// authenticated ({"active": false}).
const credentialProbeToken = "cardflow-credential-check"

// refusedCredentials is a problem naming the clientSecret field and the
// fix (keep ends the remedy) when the org refuses clientID and secret
// (orgRefuses), before they are stored.
func (m *Manager) refusedCredentials(ctx context.Context, domain, clientID, secret, keep string) *problem.Error {
	if !m.orgRefuses(ctx, domain, clientID, secret) {
		return nil
	}
	return problem.New(problem.InvalidInput, "the org refused client ID %s with this client secret (invalid_client): they do not match an active OAuth app of %s", clientID, domain).
		WithRemedy("copy the client ID and secret from the OAuth app's General tab in the Okta Admin Console (Applications), and check that the app is active%s", keep).
		WithDetail("field", "clientSecret")
}

// storedSecretRefused is a problem when the org refuses the client ID and
// secret stored with user connection c (orgRefuses), before a
// reauthorization: a secret rotated at the org since is refused with how
// to give the connection the new one, not after a sign-in. A secret that
// cannot be unsealed is left to the callback, which says so.
func (m *Manager) storedSecretRefused(ctx context.Context, c *store.Connection) error {
	secret, err := m.Keyring.Open(c.SealedClientSecret, sealedAAD(c.ID, fieldClientSecret))
	if err != nil || !m.orgRefuses(ctx, c.Domain, c.ClientID, string(secret)) {
		return nil
	}
	return problem.New(problem.InvalidInput, "the org refuses the client ID and secret of connection %q (invalid_client): the OAuth app's client secret was changed, or the app was deactivated", c.Nickname).
		WithRemedy("give the connection the app's current secret (Change secret on its console page, or cardflow connections update %s --client-secret-stdin), which reauthorizes it; if the app was deactivated, activate it again in the Okta Admin Console (Applications), then reauthorize", c.ID).
		WithDetail("connection", c.ID)
}

// orgRefuses asks the org whether clientID and secret authenticate an
// OAuth app: the introspection endpoint (RFC 7662) authenticates its
// client first and answers invalid_client when they do not. Only that
// answer is a refusal. Anything else (the org unreachable, an error page,
// a rate limit) is not, and the sign-in says what is wrong, as without
// the question. It spares the administrator a sign-in that could only
// fail, and a working connection the loss of its tokens to a mistyped
// secret.
func (m *Manager) orgRefuses(ctx context.Context, domain, clientID, secret string) bool {
	cctx, cancel := context.WithTimeout(ctx, tokenCallTimeout)
	defer cancel()
	resp, err := m.postIntrospect(cctx, domain, clientID, secret, credentialProbeToken, "access_token")
	if err != nil {
		m.log.DebugContext(ctx, "client credential check got no answer; the sign-in will tell", "domain", domain, "cause", transportCause(err))
		return false
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusBadRequest {
		return false
	}
	body, _ := ReadCapped(resp.Body, 64<<10)
	var oe struct {
		Error string `json:"error"`
	}
	return json.Unmarshal(body, &oe) == nil && oe.Error == "invalid_client"
}

// postIntrospect asks the org's introspection endpoint (RFC 7662) about
// token as the client clientID with secret (client_secret_basic, as the
// code exchange authenticates).
func (m *Manager) postIntrospect(ctx context.Context, domain, clientID, secret, token, hint string) (*http.Response, error) {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, OriginOf(domain)+"/oauth2/v1/introspect", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	return m.httpClient().Do(req)
}
