package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSignInWithAPersonalTokenSaysWhatToUse: a personal API token given
// on the console's sign-in form is refused saying what it is (its name
// and owner) and what signs in to the console instead, and is not
// counted as a wrong token against the address; before, it was "not this
// server's API token", as a guess is, which sent its holder looking for a
// mistyped token. A token that is no personal token still gets the usual
// refusal.
func TestSignInWithAPersonalTokenSaysWhatToUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	status, body := e.api(t, "POST", "/api/v1/tokens", "application/json", `{"name":"ci","role":"viewer"}`)
	var tok struct {
		Token string `json:"token"`
	}
	if status != http.StatusCreated || json.Unmarshal([]byte(body), &tok) != nil || tok.Token == "" {
		t.Fatalf("create a token: %d %s", status, body)
	}
	c := client(t)
	signIn := func(token string) (int, string) {
		t.Helper()
		_, page := get(t, c, e.url+"/signin")
		resp, body := post(t, c, e.url+"/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {token}}, nil)
		return resp.StatusCode, body
	}
	code, page := signIn(tok.Token)
	want := "That is a personal API token (ci, of the bootstrap admin), for the command line and the API (CARDFLOW_API_TOKEN), not the console: the console signs in with the server&#39;s API token only."
	if code != http.StatusUnauthorized || !strings.Contains(page, want) {
		t.Errorf("sign-in with a personal token: %d; want 401 saying %q\n%s", code, want, page)
	}
	// Twenty of them would have locked the address out as wrong tokens.
	for range 20 {
		signIn(tok.Token)
	}
	if code, page := signIn("cfp_not-a-token"); code != http.StatusUnauthorized || !strings.Contains(page, "That is not this server&#39;s API token.") || strings.Contains(page, "one too many") {
		t.Errorf("sign-in with a made-up cfp_ token after 21 personal ones: %d; want the usual refusal, the address not locked out\n%s", code, page)
	}
	if code, _ := signIn(testToken); code != http.StatusSeeOther {
		t.Errorf("sign-in with the server's API token after them: %d; want 303", code)
	}
}
