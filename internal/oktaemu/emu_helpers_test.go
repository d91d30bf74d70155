package oktaemu_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

const sswsAdmin = "SSWS " + oktaemu.DemoAPIToken

// emuResp is a response read in full.
type emuResp struct {
	status int
	header http.Header
	body   string
}

// errorCode returns the errorCode of an Okta error body.
func (r emuResp) errorCode() string { return oktaErrorCode([]byte(r.body)) }

// emuCall sends a request to the org. body "" sends none (with
// Content-Length: 0 for POST).
func emuCall(t *testing.T, s *emutest.Server, method, path, authz, body string) emuResp {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return emuDo(t, s, req)
}

func emuDo(t *testing.T, s *emutest.Server, req *http.Request) emuResp {
	t.Helper()
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return emuResp{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func emuOAuth(s *emutest.Server, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: oktaemu.DemoClientID, ClientSecret: oktaemu.DemoClientSecret,
		Endpoint: oauth2.Endpoint{AuthURL: s.URL + "/oauth2/v1/authorize", TokenURL: s.URL + "/oauth2/v1/token",
			AuthStyle: oauth2.AuthStyleInHeader},
		RedirectURL: "http://127.0.0.1:8080/oauth/callback",
		Scopes:      scopes,
	}
}

// emuScopes are the auto-granted scopes plus extra.
func emuScopes(extra ...string) []string {
	return append(append([]string{}, oktaemu.AutoGrantedScopes()...), extra...)
}

// emuLogin runs the code flow with PKCE as login and returns the tokens.
func emuLogin(t *testing.T, s *emutest.Server, login string, scopes ...string) *oauth2.Token {
	t.Helper()
	conf := emuOAuth(s, scopes...)
	verifier := oauth2.GenerateVerifier()
	cb := s.SignIn(t, conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)), login, oktaemu.DemoPassword)
	if e := cb.Query().Get("error"); e != "" {
		t.Fatalf("sign-in as %s: %s: %s", login, e, cb.Query().Get("error_description"))
	}
	tok, err := conf.Exchange(context.Background(), cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// emuForm posts a form to the token (or another OAuth) endpoint with the
// demo client's secret in the Authorization header.
func emuForm(t *testing.T, s *emutest.Server, path string, form url.Values) emuResp {
	t.Helper()
	req, err := http.NewRequest("POST", s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(oktaemu.DemoClientID, oktaemu.DemoClientSecret)
	return emuDo(t, s, req)
}

// emuDevicesByStatus returns the ids of the org's devices in each status.
func emuDevicesByStatus(t *testing.T, s *emutest.Server) map[string][]string {
	t.Helper()
	r := emuCall(t, s, "GET", "/api/v1/devices", sswsAdmin, "")
	if r.status != 200 {
		t.Fatalf("list devices: %d %s", r.status, r.body)
	}
	var devs []struct{ ID, Status string }
	if err := json.Unmarshal([]byte(r.body), &devs); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, d := range devs {
		out[d.Status] = append(out[d.Status], d.ID)
	}
	return out
}
