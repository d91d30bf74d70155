package web

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// TestTokenGivenForItsIDIsNotKept: a personal API token sent where a
// token's id goes (DELETE /api/v1/tokens/cfp_...; a person pasting a leaked
// token to revoke it) is refused without being echoed, audited or logged,
// where the refusal, the token.revoke audit event every viewer reads and
// the request log all held the live token; a refused request of a role
// too weak, whose audit event names the path, keeps it out too. The token
// is left alone (not looked up by its address), and whoami with it answers
// its id, which a revoke takes.
func TestTokenGivenForItsIDIsNotKept(t *testing.T) {
	if access.TokenPrefix != api.PersonalTokenPrefix {
		t.Fatalf("access.TokenPrefix %q, api.PersonalTokenPrefix %q; want them equal", access.TokenPrefix, api.PersonalTokenPrefix)
	}
	st := sqlitetest.Open(t)
	tokens := &access.Tokens{Store: st}
	ts, logs := newTestServer(t, &Server{Tokens: tokens, People: &access.People{Store: st}, Limiter: &access.Limiter{}, History: st})
	alice := access.Principal{Actor: store.Actor{Type: store.ActorUser, Login: "alice@example.com"}, Role: access.Admin}
	leaked, err := tokens.Create(t.Context(), alice, "laptop", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	viewer, err := tokens.Create(t.Context(), alice, "reader", access.Viewer, 0)
	if err != nil {
		t.Fatal(err)
	}
	secretPart := strings.TrimPrefix(leaked.Token, access.TokenPrefix)

	resp, m := do(t, "DELETE", ts.URL+"/api/v1/tokens/"+leaked.Token, testToken, "")
	body, _ := json.Marshal(m)
	if resp.StatusCode != 404 || strings.Contains(string(body), secretPart) || !strings.Contains(string(body), "is a personal API token itself, not a token's id") {
		t.Errorf("DELETE /api/v1/tokens/TOKEN: %d %s; want 404 saying it is a token itself, without it", resp.StatusCode, body)
	}
	// A role too weak for the route: refused before the handler, audited
	// with the path.
	if resp, m := do(t, "POST", ts.URL+"/api/v1/people/"+leaked.Token+"/revoke", viewer.Token, ""); resp.StatusCode != 403 {
		t.Errorf("a viewer's people revoke: %d %v; want 403", resp.StatusCode, m)
	}
	evs, err := st.ListAudit(t.Context(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if strings.Contains(ev.InputSummary+ev.Error, secretPart) {
			t.Errorf("audit event %s %q / %q holds the token", ev.Action, ev.InputSummary, ev.Error)
		}
	}
	if len(evs) < 2 || evs[1].Action != store.ActionTokenRevoke || evs[1].InputSummary != "token cfp_…" {
		t.Errorf("audit events %+v; want the revoke's naming the token as cfp_…", evs)
	}
	if strings.Contains(logs.String(), secretPart) {
		t.Errorf("the server's log holds the token:\n%s", logs)
	}
	if _, err := tokens.Authenticate(t.Context(), leaked.Token); err != nil {
		t.Errorf("the token after the refused revoke: %v; want it left alone", err)
	}

	resp, m = do(t, "GET", ts.URL+"/api/v1/whoami", leaked.Token, "")
	if resp.StatusCode != 200 || m["tokenId"] != leaked.ID {
		t.Errorf("whoami with the token: %d %v; want its tokenId %s", resp.StatusCode, m, leaked.ID)
	}
	if _, m := do(t, "GET", ts.URL+"/api/v1/whoami", testToken, ""); m["tokenId"] != nil {
		t.Errorf("whoami with the server's API token: %v; want no tokenId", m)
	}
}

// TestRedactTokens: every personal API token in a text is cut to its
// prefix, the rest left as it was.
func TestRedactTokens(t *testing.T) {
	for in, want := range map[string]string{
		"DELETE /api/v1/tokens/cfp_ab-C_9": "DELETE /api/v1/tokens/cfp_…",
		"/a/cfp_x1/b/cfp_y2?z":             "/a/cfp_…/b/cfp_…?z",
		"no token here":                    "no token here",
		"cfp_":                             "cfp_",
		"POST /api/v1/people/cfp_SECRET.x/revoke": "POST /api/v1/people/cfp_….x/revoke",
	} {
		if got := access.RedactTokens(in); got != want {
			t.Errorf("RedactTokens(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestRevokedTokenSaysSo: a request with a personal API token that no
// longer exists (revoked) is told that the personal token is not known,
// revoked or mistyped, and to make a new one, where it read "missing,
// wrong, expired or revoked API token" as for any guess; it still counts
// against the address, as a guess does. Another token keeps the generic
// answer.
func TestRevokedTokenSaysSo(t *testing.T) {
	st := sqlitetest.Open(t)
	tokens := &access.Tokens{Store: st}
	lim := &access.Limiter{}
	ts, _ := newTestServer(t, &Server{Tokens: tokens, People: &access.People{Store: st}, Limiter: lim, History: st})
	alice := access.Principal{Actor: store.Actor{Type: store.ActorUser, Login: "alice@example.com"}, Role: access.Admin}
	tok, err := tokens.Create(t.Context(), alice, "laptop", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tokens.Revoke(t.Context(), alice, tok.ID); err != nil {
		t.Fatal(err)
	}
	resp, m := do(t, "GET", ts.URL+"/api/v1/whoami", tok.Token, "")
	body, _ := json.Marshal(m)
	if resp.StatusCode != 401 || !strings.Contains(string(body), "the personal API token (cfp_…) is not known to this server: it was revoked") ||
		!strings.Contains(string(body), "create a new token") || strings.Contains(string(body), strings.TrimPrefix(tok.Token, "cfp_")) {
		t.Errorf("a revoked token: %d %s; want 401 saying it was revoked or mistyped, and to make a new one, without the token", resp.StatusCode, body)
	}
	resp, m = do(t, "GET", ts.URL+"/api/v1/whoami", "not-a-token", "")
	if body, _ := json.Marshal(m); resp.StatusCode != 401 || !strings.Contains(string(body), "missing, wrong, expired or revoked API token") {
		t.Errorf("a made-up token: %d %s; want the generic answer", resp.StatusCode, body)
	}
}
