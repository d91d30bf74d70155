package web

import (
	"context"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/sso"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// refusingSSO is an identity provider that refuses every code.
type refusingSSO struct{ *idpSSO }

func (refusingSSO) Exchange(context.Context, string, string, string, string) (*sso.Identity, error) {
	return nil, problem.New(problem.Unauthenticated, "the sign-in code was already used").WithRemedy("start the sign-in again")
}

// TestLockoutNamesWhatWasRefused: an address locked out by single
// sign-ons the provider refused is told so, by the API and by cardflow
// login's redemption, where it read "too many wrong API tokens" (and the
// redemption "too many failed sign-ins" after wrong tokens); one locked
// out by both names both. The refused sign-in that locks the address out
// says so and until when, where only the next request learned it.
func TestLockoutNamesWhatWasRefused(t *testing.T) {
	st := sqlitetest.Open(t)
	const signIn = `{"code":"c","codeVerifier":"v","nonce":"n","redirectUri":"http://127.0.0.1:8765/callback"}`
	for _, tc := range []struct {
		name        string
		wrongTokens int
		want        string
	}{
		{"refused sign-ins", 0, "too many refused single sign-ons from your address"},
		{"refused sign-ins and a wrong token", 1, "too many wrong API tokens and refused single sign-ons from your address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, _ := newTestServer(t, &Server{Tokens: &access.Tokens{Store: st}, People: &access.People{Store: st},
				SSO: refusingSSO{&idpSSO{id: &sso.Identity{Issuer: "https://idp.example.com"}}}, Limiter: &access.Limiter{Burst: 3}, History: st})
			for i := range 3 - tc.wrongTokens {
				resp, m := do(t, "POST", ts.URL+"/api/v1/auth/cli-token", "", signIn)
				e, _ := m["error"].(map[string]any)
				msg, _ := e["message"].(string)
				details, _ := e["details"].(map[string]any)
				remedy, _ := details["remedy"].(string)
				if resp.StatusCode != 401 || !strings.HasPrefix(msg, "the sign-in code was already used") {
					t.Fatalf("a sign-in the provider refuses: %d %v; want 401 saying why", resp.StatusCode, m)
				}
				// The one that uses up the address's limit says so.
				last := tc.wrongTokens == 0 && i == 2
				if said, _, _ := strings.Cut(msg, ";"); strings.Contains(said, "one sign-in refused too many from your address") != last ||
					strings.Contains(remedy, "every request and sign-in from your address is refused until then") != last || (details["refusedUntil"] != nil) != last ||
					!strings.HasSuffix(remedy, "start the sign-in again") {
					t.Errorf("refused sign-in %d: %v; want it to say it locked the address out only when it did (%v), and still how to start again", i+1, m, last)
				}
			}
			for range tc.wrongTokens {
				if resp, m := do(t, "GET", ts.URL+"/api/v1/whoami", "not-the-token", ""); resp.StatusCode != 401 {
					t.Fatalf("a wrong token: %d %v; want 401", resp.StatusCode, m)
				}
			}
			for what, call := range map[string]func() (int, map[string]any){
				"the API token": func() (int, map[string]any) {
					resp, m := do(t, "GET", ts.URL+"/api/v1/whoami", testToken, "")
					return resp.StatusCode, m
				},
				"cardflow login": func() (int, map[string]any) {
					resp, m := do(t, "POST", ts.URL+"/api/v1/auth/cli-token", "", signIn)
					return resp.StatusCode, m
				},
			} {
				code, m := call()
				e, _ := m["error"].(map[string]any)
				msg, _ := e["message"].(string)
				details, _ := e["details"].(map[string]any)
				remedy, _ := details["remedy"].(string)
				if code != 429 || !strings.HasPrefix(msg, tc.want) || !strings.Contains(remedy, "every request and sign-in from your address is refused until then") || details["refusedUntil"] == nil {
					t.Errorf("%s after the lockout: %d %v; want 429 saying %q, until when", what, code, m, tc.want)
				}
				if said, _, _ := strings.Cut(msg, ";"); tc.wrongTokens == 0 && strings.Contains(said, "token") {
					t.Errorf("%s after refused sign-ins alone: %q speaks of tokens", what, msg)
				}
			}
		})
	}
}
