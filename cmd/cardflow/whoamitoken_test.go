package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestWhoamiNamesTheTokenAndItsEnd: whoami with a personal API token says
// which token it is (its id, as tokens list shows it) and when it expires,
// where it named the token's name alone and a person could not tell which
// of their tokens of that name it was, nor how long it had; with the
// server's API token it says neither.
func TestWhoamiNamesTheTokenAndItsEnd(t *testing.T) {
	s := startServer(t)
	code, out, errOut := runCLI(t, s.vars, "tokens", "create", "--name", "ci", "--role", "viewer", "--expires-in", "24h", "--json")
	var tok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &tok) != nil {
		t.Fatalf("tokens create: exit %d\n%s%s", code, out, errOut)
	}
	asToken := map[string]string{"CARDFLOW_SERVER": s.url, "CARDFLOW_API_TOKEN": tok.Token}
	code, out, errOut = runCLI(t, asToken, "whoami")
	want := regexp.MustCompile(`^token ci of the bootstrap admin \(viewer\) at ` + regexp.QuoteMeta(s.url) + `; token ` + tok.ID + `, expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+\n$`)
	if code != exitOK || !want.MatchString(out) {
		t.Errorf("whoami with a personal token: exit %d %q%s; want it to match %s", code, out, errOut, want)
	}
	code, out, _ = runCLI(t, asToken, "whoami", "--json")
	if code != exitOK || !strings.Contains(out, `"tokenId": "`+tok.ID+`"`) || !strings.Contains(out, `"tokenExpiresAt": "`) {
		t.Errorf("whoami --json with a personal token: exit %d\n%s; want tokenId and tokenExpiresAt", code, out)
	}
	if code, out, _ := runCLI(t, s.vars, "whoami"); code != exitOK || out != "bootstrap admin (admin) at "+s.url+"\n" {
		t.Errorf("whoami with the server's API token: exit %d %q; want who and the role alone", code, out)
	}
}
