package main

// cardflow people list and revoke, against a real server with single
// sign-on through the emulated org's cardflow app.

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/oktaemu"
)

func TestPeopleListRevoke(t *testing.T) {
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

	code, out, errOut := runCLI(t, ada, "people", "list")
	if code != exitOK {
		t.Fatalf("people list: exit %d\n%s%s", code, out, errOut)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 2 {
			rows[f[0]] = f
		}
	}
	if f := rows[oktaemu.ReadOnlyLogin]; len(f) < 5 || f[1] != "operator" || f[2] != "0" || f[3] != "-" || f[4] != "1" {
		t.Errorf("people list row of riley %q; want operator, no session, 1 token\n%s", f, out)
	}
	if f := rows[oktaemu.AdminLogin]; len(f) < 2 || f[1] != "admin" {
		t.Errorf("people list row of ada %q; want admin\n%s", f, out)
	}
	if code, out, errOut := runCLI(t, riley, "people", "list"); code != exitFailure || !strings.Contains(errOut, "admin role") {
		t.Errorf("people list as an operator: exit %d; want refused, naming the admin role\n%s%s", code, out, errOut)
	}

	code, out, errOut = runCLI(t, ada, "people", "revoke", oktaemu.ReadOnlyLogin, "--yes")
	if want := "Revoked the access of " + oktaemu.ReadOnlyLogin + ": 0 console sessions ended, 1 personal API token revoked, 0 flow runs they started canceled, on every server"; code != exitOK || !strings.Contains(out, want) {
		t.Fatalf("people revoke: exit %d; want %q\n%s%s", code, want, out, errOut)
	}
	if code, out, errOut := runCLI(t, riley, "whoami"); code == exitOK {
		t.Errorf("whoami with riley's revoked token: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, ada, "people", "revoke", "nobody@example.com", "--yes"); code != exitFailure || !strings.Contains(errOut, `nobody signed in as "nobody@example.com"`) {
		t.Errorf("people revoke of nobody: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, ada, "people", "revoke", oktaemu.AdminLogin, "--yes"); code != exitFailure || !strings.Contains(errOut, "--self") {
		t.Errorf("people revoke of oneself without --self: exit %d; want refused, saying how to confirm\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, ada, "whoami"); code != exitOK {
		t.Fatalf("whoami after the refused revocation of oneself: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, ada, "people", "revoke", oktaemu.AdminLogin, "--self", "--yes"); code != exitOK || !strings.Contains(out, "1 personal API token revoked") {
		t.Fatalf("people revoke of oneself with --self: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, ada, "whoami"); code == exitOK {
		t.Errorf("whoami after revoking one's own access: exit %d\n%s%s", code, out, errOut)
	}
}

// TestPeopleListBoundSignIns: people list shows, after who has access,
// the logins that hold nothing but their binding (here riley's, signed
// out), with the issuer they are bound at and since when, in its table and
// its JSON; revoking one says which issuer's binding it forgot.
func TestPeopleListBoundSignIns(t *testing.T) {
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
	if code, out, errOut := runCLI(t, riley, "logout"); code != exitOK {
		t.Fatalf("logout of riley: exit %d\n%s%s", code, out, errOut)
	}

	code, out, errOut := runCLI(t, ada, "people", "list")
	if code != exitOK {
		t.Fatalf("people list: exit %d\n%s%s", code, out, errOut)
	}
	people, bound, ok := strings.Cut(out, "\nBound sign-ins: ")
	if !ok || strings.Contains(people, oktaemu.ReadOnlyLogin) || !strings.Contains(people, oktaemu.AdminLogin) {
		t.Fatalf("people list: want ada among who has access, then riley under Bound sign-ins\n%s", out)
	}
	var row []string
	for _, line := range strings.Split(bound, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == oktaemu.ReadOnlyLogin {
			row = f
		}
	}
	if len(row) < 3 || row[1] != emu.URL || !strings.HasPrefix(row[2], "20") {
		t.Errorf("riley's Bound sign-ins row %q; want the issuer %s and since when\n%s", row, emu.URL, out)
	}

	code, out, errOut = runCLI(t, ada, "people", "list", "--json")
	var list api.PeopleList
	if code != exitOK || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("people list --json: exit %d\n%s%s", code, out, errOut)
	}
	if len(list.Bound) != 1 || list.Bound[0].Login != oktaemu.ReadOnlyLogin || list.Bound[0].Issuer != emu.URL || list.Bound[0].Subject == "" || list.Bound[0].BoundSince.IsZero() {
		t.Errorf("people list --json: bound %+v; want riley's binding at %s\n%s", list.Bound, emu.URL, out)
	}

	code, out, errOut = runCLI(t, ada, "people", "revoke", oktaemu.ReadOnlyLogin, "--yes")
	if want := "The login is no longer bound to its account at " + emu.URL + ": the next sign-in as " + oktaemu.ReadOnlyLogin + " binds it anew."; code != exitOK || !strings.Contains(out, want) {
		t.Errorf("people revoke of riley: exit %d; want %q\n%s%s", code, want, out, errOut)
	}
	if code, out, errOut := runCLI(t, ada, "people", "list"); code != exitOK || strings.Contains(out, "Bound sign-ins") {
		t.Errorf("people list after forgetting riley's binding: exit %d; want no Bound sign-ins\n%s%s", code, out, errOut)
	}
}

// TestPrintRevokedNamesEnabledFlows: the flows a revoked person enabled,
// which keep running as them, are named with what to do.
func TestPrintRevokedNamesEnabledFlows(t *testing.T) {
	for _, tt := range []struct {
		flows []string
		want  string
	}{
		{nil, ""},
		{[]string{"nightly"}, "1 flow they enabled still runs as them: nightly. Disable them"},
		{[]string{"nightly", "offboard"}, "2 flows they enabled still run as them: nightly, offboard."},
	} {
		var b strings.Builder
		printRevoked(&b, &api.PersonRevoked{Login: "bob@example.com", SessionsEnded: 1, EnabledFlows: tt.flows})
		if got := b.String(); (tt.want == "") != !strings.Contains(got, "they enabled") || !strings.Contains(got, tt.want) {
			t.Errorf("flows %v: %q; want %q", tt.flows, got, tt.want)
		}
	}
}

// TestPrintBoundMarksAnotherIssuer: people list marks a binding at an
// identity provider the server no longer signs in with, as the console's
// People page does ("not current"), and says which were bound before
// issuers were kept.
func TestPrintBoundMarksAnotherIssuer(t *testing.T) {
	var b strings.Builder
	printBound(&b, []api.BoundSignIn{
		{Login: "bo@example.com", Issuer: "https://old-idp.example.com", IssuerNotCurrent: true},
		{Login: "cy@example.com"},
		{Login: "dee@example.com", Issuer: "https://idp.example.com"},
	})
	out := b.String()
	for login, want := range map[string]string{
		"bo@example.com":  "https://old-idp.example.com (not current: the server signs in with another)",
		"cy@example.com":  "not recorded",
		"dee@example.com": "https://idp.example.com ",
	} {
		var line string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, login) {
				line = l
			}
		}
		if !strings.Contains(line, want) {
			t.Errorf("the row of %s reads %q; want %q in it\n%s", login, line, want, out)
		}
	}
	if strings.Count(out, "not current") != 1 {
		t.Errorf("people list marks %d bindings not current; want Bo's alone\n%s", strings.Count(out, "not current"), out)
	}
}
