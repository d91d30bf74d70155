package connection

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/cardflow/cardflow/internal/problem"
)

// credentialProbeToken is the token a credential check asks the org about:
// no token of any org, so a check that passes learns only that the client
// authenticated ({"active": false}).
const credentialProbeToken = "cardflow-credential-check"

// refusedCredentials asks the org whether clientID and secret authenticate
// an OAuth app, before they are stored: the introspection endpoint (RFC
// 7662) authenticates its client first and answers invalid_client when
// they do not. Only that answer refuses them: it returns a problem naming
// the clientSecret field and the fix (keep ends the remedy). Anything else
// (the org unreachable, an error page, a rate limit) lets them through,
// and the sign-in says what is wrong, as without the check. It spares the
// administrator a sign-in that could only fail, and a working connection
// the loss of its tokens to a mistyped secret.
func (m *Manager) refusedCredentials(ctx context.Context, domain, clientID, secret, keep string) *problem.Error {
	cctx, cancel := context.WithTimeout(ctx, tokenCallTimeout)
	defer cancel()
	form := url.Values{"token": {credentialProbeToken}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, OriginOf(domain)+"/oauth2/v1/introspect", strings.NewReader(form.Encode()))
	if err != nil {
		return nil
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := m.httpClient().Do(req)
	if err != nil {
		m.log.DebugContext(ctx, "client credential check got no answer; the sign-in will tell", "domain", domain, "cause", transportCause(err))
		return nil
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusBadRequest {
		return nil
	}
	body, _ := ReadCapped(resp.Body, 64<<10)
	var oe struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &oe) != nil || oe.Error != "invalid_client" {
		return nil
	}
	return problem.New(problem.InvalidInput, "the org refused client ID %s with this client secret (invalid_client): they do not match an active OAuth app of %s", clientID, domain).
		WithRemedy("copy the client ID and secret from the OAuth app's General tab in the Okta Admin Console (Applications), and check that the app is active%s", keep).
		WithDetail("field", "clientSecret")
}
