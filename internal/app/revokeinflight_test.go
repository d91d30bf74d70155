package app

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestRevokeDuringSignIn: a console sign-in and a cardflow login that
// asked the identity provider who signed in before an admin revoked the
// person, and got the answer after, give neither a session nor a token.
// Another person's sign-in in flight at the revoke finishes: a revoke
// refused every sign-in in flight, whoever's it turned out to be.
func TestRevokeDuringSignIn(t *testing.T) {
	t.Parallel()
	h := startSSOHarness(t, nil)
	riley := ssoBrowser(t, h, oktaemu.ReadOnlyLogin) // so that there is something to revoke

	// Riley signs in again in another browser, and with cardflow login;
	// the identity provider's answers are held.
	again := ssoBrowser(t, h, oktaemu.AdminLogin) // a browser with a cookie jar, signed in as someone else
	hold := h.emu.Hold(t, http.MethodPost, "/oauth2/v1/token", 0)
	code, loc, _ := again.get(h.url + "/signin/sso")
	if code != http.StatusSeeOther {
		t.Fatalf("GET /signin/sso: status %d", code)
	}
	callback := h.emu.SignIn(t, loc, oktaemu.ReadOnlyLogin, oktaemu.DemoPassword)
	type answer struct {
		status   int
		location string
		body     string
		err      error
	}
	console := make(chan answer, 1)
	go func() {
		resp, err := again.http.Get(callback.String())
		if err != nil {
			console <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		console <- answer{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body)}
	}()
	cliLoginAsync := func(login string) <-chan answer {
		cli := make(chan answer, 1)
		redeem := cliLoginCode(t, h, login)
		go func() {
			client := &http.Client{Timeout: 30 * time.Second}
			resp, err := client.Post(h.url+"/api/v1/auth/cli-token", "application/json", bytes.NewReader(redeem))
			if err != nil {
				cli <- answer{err: err}
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			cli <- answer{status: resp.StatusCode, body: string(body)}
		}()
		return cli
	}
	cli := cliLoginAsync(oktaemu.ReadOnlyLogin)
	other := cliLoginAsync(oktaemu.UserLogin) // someone else signing in meanwhile
	if err := hold.Await(t.Context(), 3); err != nil {
		t.Fatalf("the sign-ins never asked the identity provider: %v", err)
	}

	var rev struct {
		SessionsEnded int `json:"sessionsEnded"`
	}
	if code, data := h.callWith(testAPIToken, "POST", "/api/v1/people/"+url.PathEscape(oktaemu.ReadOnlyLogin)+"/revoke", nil, &rev); code != http.StatusOK || rev.SessionsEnded != 1 {
		t.Fatalf("revoking riley: status %d %+v\n%s", code, rev, data)
	}
	hold.Release()

	got := <-console
	if got.err != nil {
		t.Fatal(got.err)
	}
	if got.status == http.StatusSeeOther || !strings.Contains(got.body, "revoked") {
		t.Errorf("console sign-in finished after the revoke: status %d, Location %q; want it refused, saying the access was revoked\n%s", got.status, got.location, got.body)
	}
	got = <-cli
	if got.err != nil {
		t.Fatal(got.err)
	}
	if got.status != http.StatusUnauthorized || !strings.Contains(got.body, "revoked") {
		t.Errorf("cardflow login finished after the revoke: status %d; want 401 saying the access was revoked\n%s", got.status, got.body)
	}
	got = <-other
	if got.err != nil {
		t.Fatal(got.err)
	}
	if got.status != http.StatusCreated {
		t.Errorf("another person's cardflow login in flight at the revoke: status %d; want 201, a token\n%s", got.status, got.body)
	}
	if riley.signedIn(h.url + "/connections") {
		t.Error("riley's first session works after the revoke")
	}
	if p, ok := h.people(testAPIToken, 100)[oktaemu.ReadOnlyLogin]; ok {
		t.Errorf("riley has access after the revoke: %+v", p)
	}

	// Signing in after the revoke works (with the role the groups give).
	ssoBrowser(t, h, oktaemu.ReadOnlyLogin)
	cliLogin(t, h, oktaemu.ReadOnlyLogin)
	if p := h.people(testAPIToken, 100)[oktaemu.ReadOnlyLogin]; p.Sessions.Count != 1 || p.Tokens.Count != 1 {
		t.Errorf("riley's access after signing in again: %+v; want 1 session and 1 token", p)
	}
}

// cliLoginCode signs login in at the identity provider as cardflow login
// does (a loopback redirect, PKCE) and returns the body that redeems the
// code at /api/v1/auth/cli-token.
func cliLoginCode(t *testing.T, h *harness, login string) []byte {
	t.Helper()
	var cfg struct {
		AuthorizationEndpoint string   `json:"authorizationEndpoint"`
		ClientID              string   `json:"clientId"`
		Scopes                []string `json:"scopes"`
	}
	if code, data := h.callWith("", "GET", "/api/v1/auth/config", nil, &cfg); code != http.StatusOK {
		t.Fatalf("auth config: status %d\n%s", code, data)
	}
	redirect := "http://127.0.0.1:41999/callback"
	verifier, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	q := url.Values{"client_id": {cfg.ClientID}, "response_type": {"code"}, "scope": {strings.Join(cfg.Scopes, " ")},
		"redirect_uri": {redirect}, "state": {"st-" + randomHex(t)}, "nonce": {nonce},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	back := h.emu.SignIn(t, cfg.AuthorizationEndpoint+"?"+q.Encode(), login, oktaemu.DemoPassword)
	body, err := json.Marshal(map[string]any{"code": back.Query().Get("code"), "codeVerifier": verifier, "redirectUri": redirect, "nonce": nonce})
	if err != nil {
		t.Fatal(err)
	}
	return body
}
