package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite"
)

// TestAuditNothingMatched: an audit list with no event says that nothing
// matched and names the filters given, as tokens list says "No tokens.",
// where it printed the table's header alone.
func TestAuditNothingMatched(t *testing.T) {
	s := startServer(t)
	code, out, errOut := runCLI(t, s.vars, "audit", "--action", "flow.disable", "--actor", "Nobody Here", "--plans", "exclude")
	if want := "No audit events match --action flow.disable --actor 'Nobody Here' --plans exclude.\n"; code != exitOK || out != want {
		t.Errorf("audit with filters nothing matches: exit %d\n%q%s; want %q", code, out, errOut, want)
	}
	code, out, errOut = runCLI(t, s.vars, "audit", "--action", "flow.disable", "--json")
	if code != exitOK || !strings.Contains(out, `"events": []`) {
		t.Errorf("audit --json with nothing matched: exit %d\n%s%s; want the empty list", code, out, errOut)
	}
}

// TestAuditOfTheBootstrapAdmin: audit --actor bootstrap lists what the
// server's API token (CARDFLOW_API_TOKEN, the bootstrap admin, recorded
// with no login) and its tokens did, and nobody else's, where no --actor
// value selected them.
func TestAuditOfTheBootstrapAdmin(t *testing.T) {
	s := startServer(t)
	code, out, errOut := runCLI(t, s.vars, "tokens", "create", "--name", "deploy", "--role", "viewer", "--expires-in", "24h")
	tok := regexp.MustCompile(`cfp_\S+`).FindString(out)
	if code != exitOK || tok == "" {
		t.Fatalf("tokens create: exit %d\n%s%s", code, out, errOut)
	}
	// The token's own create, refused for its role: an event of a token of
	// the bootstrap admin.
	asToken := map[string]string{"CARDFLOW_SERVER": s.url, "CARDFLOW_API_TOKEN": tok}
	if code, out, errOut := runCLI(t, asToken, "tokens", "create", "--name", "more", "--role", "admin"); code == exitOK {
		t.Fatalf("a viewer's token creating an admin token: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "audit", "--actor", "bootstrap")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(lines) != 3 || !strings.Contains(lines[1], "token deploy of the bootstrap admin") || !strings.Contains(lines[2], "bootstrap admin") ||
		!strings.Contains(out, "token.create") {
		t.Errorf("audit --actor bootstrap: exit %d\n%s%s; want the header, the token's refused create and the bootstrap admin's create", code, out, errOut)
	}
	_, out, errOut = runCLI(t, s.vars, "audit", "-h")
	if !strings.Contains(out+errOut, "bootstrap for the server's API token") {
		t.Errorf("audit -h does not say what --actor bootstrap selects:\n%s%s", out, errOut)
	}
}

// TestAuditActorDidYouMean: an --actor no event matches, near the login of
// an actor of the audit (a typo, or its start), has audit ask whether that
// login was meant, in the API (actorSuggestion) and the CLI; an actor of
// the audit whose events the other filters leave out gets no suggestion.
func TestAuditActorDidYouMean(t *testing.T) {
	var dir string
	s := startServerWith(t, oktaemu.Config{Devices: 2}, func(c *app.Config) { dir = c.DataDir })
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "cardflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const login = "ada.lovelace@example.com"
	if err := st.AppendAudit(t.Context(), &store.AuditEvent{Time: s.emu.Now(), Actor: store.Actor{Type: store.ActorUser, Login: login},
		Action: store.ActionPersonSignIn, Outcome: "success"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--actor", "ada.lovelace@exmaple.com"}, "No audit events match --actor ada.lovelace@exmaple.com; did you mean --actor " + login + "?\n"},
		{[]string{"audit", "--actor", "ada", "--plans", "exclude"}, "No audit events match --actor ada --plans exclude; did you mean --actor " + login + "?\n"},
		{[]string{"audit", "--actor", "grace.hopper@example.com"}, "No audit events match --actor grace.hopper@example.com.\n"},
		{[]string{"audit", "--actor", "ADA.lovelace@example.com", "--action", "flow.disable"}, "No audit events match --action flow.disable --actor ADA.lovelace@example.com.\n"},
	} {
		code, out, errOut := runCLI(t, s.vars, tc.args...)
		if code != exitOK || out != tc.want {
			t.Errorf("%s: exit %d\n%q%s; want %q", strings.Join(tc.args, " "), code, out, errOut, tc.want)
		}
	}
	if status, body := s.api(t, "GET", "/api/v1/audit?actor=ada.lovelace@exmaple.com", ""); status != 200 || !strings.Contains(body, `"actorSuggestion": "`+login+`"`) {
		t.Errorf("GET /api/v1/audit?actor=(a typo): %d\n%s; want actorSuggestion %s", status, body, login)
	}
}
