package app

import (
	"net/http"
	"slices"
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
}
