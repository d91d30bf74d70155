package app

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestSignInWithLowerRoleLowersTheRest: a person taken out of the
// operators' group at the org who signs in again, on the console or with
// cardflow login, holds no more than the viewer role anywhere: their
// other console sessions and their tokens are lowered to it at once, and
// the sign-in's audit event says what it lowered.
func TestSignInWithLowerRoleLowersTheRest(t *testing.T) {
	t.Parallel()
	h := startSSOHarness(t, nil)
	h.connect("Prod")

	// Riley, an operator, on the console and with cardflow login, whose
	// token makes one of its own.
	desk := ssoBrowser(t, h, oktaemu.ReadOnlyLogin)
	cli := cliLogin(t, h, oktaemu.ReadOnlyLogin)
	var ci tokenJSON
	if code, data := h.callWith(cli.Token, "POST", "/api/v1/tokens", map[string]any{"name": "ci", "role": "operator"}, &ci); code != http.StatusCreated {
		t.Fatalf("riley's token making a token: status %d\n%s", code, data)
	}
	run := map[string]any{"card": "okta-devices/read-device", "connection": "Prod", "input": map[string]any{"deviceId": "guo-nonexistent"}}
	if code, data := h.callWith(ci.Token, "POST", "/api/v1/runs", run, nil); code == http.StatusForbidden {
		t.Fatalf("an operator's token running a card: 403\n%s", data)
	}

	// Riley moves to the viewers at the org and signs in on a laptop.
	h.emu.SetGroupMember(t, oktaemu.OperatorsGroup, oktaemu.ReadOnlyLogin, false)
	h.emu.SetGroupMember(t, oktaemu.ViewersGroup, oktaemu.ReadOnlyLogin, true)
	laptop := ssoBrowser(t, h, oktaemu.ReadOnlyLogin)
	if _, _, page := laptop.get(h.url + "/connections"); !strings.Contains(page, "Your groups give you the viewer role now: your other sign-ins and tokens were lowered to it (1 console session, 2 tokens (cardflow login, ci)).") {
		t.Errorf("the first page after the viewer's sign-in does not say what it lowered:\n%s", page)
	}
	for name, b := range map[string]*consoleBrowser{"the new session": laptop, "the earlier session": desk} {
		_, _, page := b.get(h.url + "/connections")
		if m := roleTag.FindStringSubmatch(page); m == nil || m[1] != "viewer" {
			t.Errorf("%s's role: %v; want viewer", name, m)
		}
	}
	for name, tok := range map[string]string{"cardflow login's token": cli.Token, "the token it made": ci.Token} {
		var e apiErr
		if code, data := h.callWith(tok, "POST", "/api/v1/runs", run, &e); code != http.StatusForbidden || e.Error.Details["requiredRole"] != "operator" {
			t.Errorf("%s running a card after the viewer's sign-in: status %d; want 403 naming the operator role\n%s", name, code, data)
		}
		var who struct {
			Role string `json:"role"`
		}
		if code, data := h.callWith(tok, "GET", "/api/v1/whoami", nil, &who); code != http.StatusOK || who.Role != "viewer" {
			t.Errorf("%s's whoami: status %d, role %q; want viewer\n%s", name, code, who.Role, data)
		}
	}
	if p := h.people(testAPIToken, 100)[oktaemu.ReadOnlyLogin]; p.Role != "viewer" || p.Sessions.Count != 2 || p.Tokens.Count != 2 {
		t.Errorf("riley in the people list: %+v; want viewer, 2 sessions, 2 tokens", p)
	}
	var summaries []string
	for _, ev := range h.audit("action=person.signin") {
		summaries = append(summaries, ev["inputSummary"].(string))
	}
	want := "console, single sign-on, role viewer; lowered to viewer: 1 console session, 2 tokens (cardflow login, ci)"
	if len(summaries) != 3 || !slices.Contains(summaries, want) {
		t.Errorf("person.signin audit events: %q; want 3, the laptop's %q", summaries, want)
	}
	if n := len(h.logLines("a sign-in with a lower role lowered the person's other sessions and tokens to it")); n != 1 {
		t.Errorf("%d log lines of the lowering; want 1", n)
	}

	// Back among the operators: signing in again raises nothing already
	// given; the new sign-in has the operator role.
	h.emu.SetGroupMember(t, oktaemu.ViewersGroup, oktaemu.ReadOnlyLogin, false)
	h.emu.SetGroupMember(t, oktaemu.OperatorsGroup, oktaemu.ReadOnlyLogin, true)
	again := cliLogin(t, h, oktaemu.ReadOnlyLogin)
	if code, data := h.callWith(again.Token, "POST", "/api/v1/runs", run, nil); code == http.StatusForbidden {
		t.Errorf("the operator's new cardflow login token running a card: 403\n%s", data)
	}
	if code, _ := h.callWith(ci.Token, "POST", "/api/v1/runs", run, nil); code != http.StatusForbidden {
		t.Errorf("the lowered token after an operator's sign-in: status %d; want 403, a role is never raised", code)
	}
	if again.Lowered != nil {
		t.Errorf("the operator's cardflow login answer says it lowered %+v; want nothing", again.Lowered)
	}

	// A viewer again: cardflow login's answer names what it lowered (the
	// operator's token of the sign-in before), for the CLI to say.
	h.emu.SetGroupMember(t, oktaemu.OperatorsGroup, oktaemu.ReadOnlyLogin, false)
	h.emu.SetGroupMember(t, oktaemu.ViewersGroup, oktaemu.ReadOnlyLogin, true)
	last := cliLogin(t, h, oktaemu.ReadOnlyLogin)
	if l := last.Lowered; l == nil || l.Role != "viewer" || l.Sessions != 0 || !slices.Equal(l.Tokens, []string{"cardflow login"}) {
		t.Errorf("the viewer's cardflow login answer says it lowered %+v; want the viewer role, no session, the token cardflow login", l)
	}
}

// TestSignInWithNoRoleEndsAccess: a person taken out of every cardflow
// group at the org who signs in again, on the console or with cardflow
// login, is refused as before, and the console sessions and tokens they
// already hold end at once, as a revoke ends them; the refused sign-in's
// audit event says what ended. The next such sign-in ends nothing more.
func TestSignInWithNoRoleEndsAccess(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"console", "cardflow login"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			h := startSSOHarness(t, nil)
			riley := oktaemu.ReadOnlyLogin
			desk := ssoBrowser(t, h, riley)
			cli := cliLogin(t, h, riley)
			var ci tokenJSON
			if code, data := h.callWith(cli.Token, "POST", "/api/v1/tokens", map[string]any{"name": "ci", "role": "operator"}, &ci); code != http.StatusCreated {
				t.Fatalf("riley's token making a token: status %d\n%s", code, data)
			}

			// Riley leaves the operators, her only cardflow group.
			h.emu.SetGroupMember(t, oktaemu.OperatorsGroup, riley, false)
			for range 2 {
				noRoleSignIn(t, h, how, riley)
			}
			if desk.signedIn(h.url + "/connections") {
				t.Error("riley's earlier console session still signs her in")
			}
			for name, tok := range map[string]string{"cardflow login's token": cli.Token, "the token it made": ci.Token} {
				if code, data := h.callWith(tok, "GET", "/api/v1/whoami", nil, nil); code != http.StatusUnauthorized {
					t.Errorf("%s after the refused sign-in: status %d; want 401\n%s", name, code, data)
				}
			}
			if p, ok := h.people(testAPIToken, 100)[riley]; ok {
				t.Errorf("riley still in the people list: %+v", p)
			}
			var summaries []string
			for _, ev := range h.audit("action=person.signin") {
				if ev["outcome"] != "success" {
					summaries = append(summaries, ev["inputSummary"].(string))
				}
			}
			want := "; their groups give no role, so their access ended: 1 console session ended, 2 tokens revoked (cardflow login, ci), its binding to "
			if len(summaries) != 2 || !slices.ContainsFunc(summaries, func(s string) bool { return strings.Contains(s, want) && strings.HasSuffix(s, " forgotten") }) ||
				!slices.ContainsFunc(summaries, func(s string) bool { return !strings.Contains(s, "access ended") }) {
				t.Errorf("refused person.signin audit events: %q; want 2, one naming what ended (%q), the other nothing", summaries, want)
			}
			if n := len(h.logLines("a sign-in whose groups give no role ended the person's access")); n != 1 {
				t.Errorf("%d log lines of the access ended; want 1", n)
			}
		})
	}
}

// TestSignInWithNoRoleLeavesAnotherAccount: a sign-in with no role by
// another account claiming a bound login ends nothing of the login's.
func TestSignInWithNoRoleLeavesAnotherAccount(t *testing.T) {
	t.Parallel()
	h := startSSOHarness(t, nil)
	ada := oktaemu.AdminLogin
	adaConsole := ssoBrowser(t, h, ada)
	adaCLI := cliLogin(t, h, ada)

	// Riley, in no cardflow group, claims Ada's login and email.
	h.emu.SetGroupMember(t, oktaemu.OperatorsGroup, oktaemu.ReadOnlyLogin, false)
	h.emu.SetClaims(t, oktaemu.ReadOnlyLogin, ada, ada)
	noRoleSignIn(t, h, "console", oktaemu.ReadOnlyLogin)
	noRoleSignIn(t, h, "cardflow login", oktaemu.ReadOnlyLogin)

	if !adaConsole.signedIn(h.url + "/connections") {
		t.Error("ada's console session ended with riley's sign-ins")
	}
	if code, data := h.callWith(adaCLI.Token, "GET", "/api/v1/whoami", nil, nil); code != http.StatusOK {
		t.Errorf("ada's token after riley's sign-ins: status %d; want 200\n%s", code, data)
	}
	if p := h.people(testAPIToken, 100)[ada]; p.Sessions.Count != 1 || p.Tokens.Count != 1 || p.Subject != oktaemu.AdminUserID {
		t.Errorf("ada after riley's sign-ins: %+v; want 1 session, 1 token, her subject", p)
	}
	for _, ev := range h.audit("action=person.signin") {
		if s := ev["inputSummary"].(string); strings.Contains(s, "access ended") {
			t.Errorf("a person.signin audit event says access ended: %q", s)
		}
	}
	if n := len(h.logLines("a sign-in with no role left the access of its login alone: the login is bound to another subject")); n != 2 {
		t.Errorf("%d log lines of the access left alone; want 2", n)
	}
}

// noRoleSignIn signs login in on the console or with cardflow login (how)
// and expects the refusal of a person whose groups give no role.
func noRoleSignIn(t *testing.T, h *harness, how, login string) {
	t.Helper()
	const want = "none of the groups that give a cardflow role"
	if how == "console" {
		if _, code, body := ssoSignIn(t, h, login); code != http.StatusForbidden || !strings.Contains(body, want) {
			t.Fatalf("%s signing in to the console: status %d; want 403 saying %q\n%s", login, code, want, body)
		}
		return
	}
	var e apiErr
	if code, data := h.callWith("", "POST", "/api/v1/auth/cli-token", json.RawMessage(cliLoginCode(t, h, login)), &e); code != http.StatusForbidden || !strings.Contains(e.Error.Message, want) {
		t.Fatalf("%s's cardflow login: status %d; want 403 saying %q\n%s", login, code, want, data)
	}
}
