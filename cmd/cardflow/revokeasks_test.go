package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestPeopleRevokeAsksAboutSomeoneListed: on a terminal, people revoke
// checks the login against people list before it asks: a misspelt one is
// refused with the nearest login and no question (a yes would have met a
// 404), and a listed one is asked about as listed (its capitals, what it
// holds), then, once it holds nothing but its binding, with that binding.
func TestPeopleRevokeAsksAboutSomeoneListed(t *testing.T) {
	emu, url := startSSOServer(t)
	riley := map[string]string{"CARDFLOW_SERVER": url, "XDG_CONFIG_HOME": t.TempDir()}
	ada := map[string]string{"CARDFLOW_SERVER": url, "XDG_CONFIG_HOME": t.TempDir()}
	for _, p := range []struct {
		vars  map[string]string
		login string
	}{{riley, oktaemu.ReadOnlyLogin}, {ada, oktaemu.AdminLogin}} {
		if code, out, errOut := runLogin(t, emu, p.vars, p.login); code != exitOK {
			t.Fatalf("login as %s: exit %d\n%s%s", p.login, code, out, errOut)
		}
	}
	accepted := func() bool {
		code, _, _ := runCLI(t, riley, "whoami")
		return code == exitOK
	}

	code, out, errOut := runCLIAnswering(t, ada, true, "yes\n", "people", "revoke", "readonyl@example.com")
	if code != exitFailure || out != "" || strings.Contains(errOut, "Type yes") ||
		!strings.Contains(errOut, `nobody signed in as "readonyl@example.com" has a console session, a personal API token or a sign-in binding`) ||
		!strings.Contains(errOut, "did you mean "+oktaemu.ReadOnlyLogin+"? (cardflow people revoke "+oktaemu.ReadOnlyLogin+")") {
		t.Errorf("people revoke of a misspelt login on a terminal: exit %d; want it refused with the nearest login, without a question\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLIAnswering(t, ada, true, "yes\n", "people", "revoke", "nobody@example.com", "--json")
	var refused struct {
		Error jsonError `json:"error"`
	}
	if lines := strings.Split(strings.TrimSpace(errOut), "\n"); code != exitFailure || strings.Contains(errOut, "Type yes") ||
		json.Unmarshal([]byte(lines[len(lines)-1]), &refused) != nil || !strings.HasPrefix(refused.Error.Remedy, "cardflow people list lists who has access") {
		t.Errorf("people revoke --json of an unknown login on a terminal: exit %d; want it refused without a question, the remedy apart\n%s%s", code, out, errOut)
	}
	if !accepted() {
		t.Fatal("riley's token was revoked by a refused people revoke")
	}

	upper := strings.ToUpper(oktaemu.ReadOnlyLogin)
	code, out, errOut = runCLIAnswering(t, ada, true, "no\n", "people", "revoke", upper)
	for _, want := range []string{"Revoke the access of " + oktaemu.ReadOnlyLogin + "?", "They hold 0 console sessions and 1 personal API token (operator).",
		"the access of " + oktaemu.ReadOnlyLogin + " was not revoked: the answer was not yes"} {
		if code != exitFailure || !strings.Contains(errOut, want) {
			t.Errorf("people revoke %s answered no: exit %d; want %q\n%s%s", upper, code, want, out, errOut)
		}
	}
	if !accepted() {
		t.Fatal("riley's token was revoked though the answer was no")
	}
	code, out, errOut = runCLIAnswering(t, ada, true, "yes\n", "people", "revoke", upper)
	if code != exitOK || !strings.Contains(out, "1 personal API token revoked") || accepted() {
		t.Fatalf("people revoke %s answered yes: exit %d; want riley's token revoked\n%s%s", upper, code, out, errOut)
	}

	// Only riley's binding is left (people list's Bound sign-ins).
	if code, out, errOut := runLogin(t, emu, riley, oktaemu.ReadOnlyLogin); code != exitOK {
		t.Fatalf("login as riley again: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, riley, "logout"); code != exitOK {
		t.Fatalf("logout of riley: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLIAnswering(t, ada, true, "no\n", "people", "revoke", oktaemu.ReadOnlyLogin)
	if want := "They hold nothing but their binding to an account at " + emu.URL + ", which it forgets"; code != exitFailure || !strings.Contains(errOut, want) {
		t.Errorf("people revoke of a login bound only, answered no: exit %d; want %q\n%s%s", code, want, out, errOut)
	}
}

// TestTokensRevokeAsksAboutAToken: on a terminal, tokens revoke of an id
// asks only about a token that is there, naming it (its name, owner, role
// and expiry); an id that names none is refused without a question, and a
// token's name given for its id is refused naming the token's id.
func TestTokensRevokeAsksAboutAToken(t *testing.T) {
	s := startServer(t)
	code, out, errOut := runCLI(t, s.vars, "tokens", "create", "--name", "ci", "--role", "viewer", "--json")
	var tok struct {
		ID string `json:"id"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &tok) != nil || tok.ID == "" {
		t.Fatalf("tokens create: exit %d\n%s%s", code, out, errOut)
	}

	code, out, errOut = runCLIAnswering(t, s.vars, true, "yes\n", "tokens", "revoke", "tok_nothere")
	if code != exitFailure || out != "" || strings.Contains(errOut, "Type yes") ||
		!strings.Contains(errOut, `no token you may revoke has the id "tok_nothere": nothing was revoked`) {
		t.Errorf("tokens revoke of an id that names none: exit %d; want it refused without a question\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLIAnswering(t, s.vars, true, "yes\n", "tokens", "revoke", "ci")
	if code != exitFailure || out != "" || strings.Contains(errOut, "Type yes") ||
		!strings.Contains(errOut, `"ci" is the name of the token `+tok.ID+" (token ci of the bootstrap admin, viewer, expires ") {
		t.Errorf("tokens revoke of a token's name: exit %d; want it refused naming the token's id, without a question\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLIAnswering(t, s.vars, true, "no\n", "tokens", "revoke", tok.ID)
	if want := "Revoke the token " + tok.ID + " (token ci of the bootstrap admin, viewer, expires "; code != exitFailure || !strings.Contains(errOut, want) {
		t.Errorf("tokens revoke %s answered no: exit %d; want %q\n%s%s", tok.ID, code, want, out, errOut)
	}
}
