package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/sso"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// idpSSO is an identity provider whose every code signs in as id.
type idpSSO struct{ id *sso.Identity }

func (f *idpSSO) Issuer() string   { return f.id.Issuer }
func (f *idpSSO) ClientID() string { return "client" }
func (f *idpSSO) Scopes() []string { return sso.DefaultScopes }
func (f *idpSSO) AuthorizationEndpoint(context.Context) (string, error) {
	return f.id.Issuer + "/authorize", nil
}
func (f *idpSSO) AuthURL(context.Context, string, string, string, string) (string, error) {
	return f.id.Issuer + "/authorize", nil
}
func (f *idpSSO) Exchange(context.Context, string, string, string, string) (*sso.Identity, error) {
	id := *f.id
	return &id, nil
}

// TestCLISignInFromAnotherIssuer: cardflow login of a login bound at one
// identity provider, from another (the server's -oidc-issuer moved), is
// refused 403 saying where the login was bound, where the sign-in comes
// from, and how to forget the binding, whatever the subject; the audit
// event and the server's warning say so too. Another subject at the
// login's issuer keeps the refusal of another subject.
func TestCLISignInFromAnotherIssuer(t *testing.T) {
	st := sqlitetest.Open(t)
	idp := &idpSSO{id: &sso.Identity{Subject: "00u-ada", Issuer: "https://old.example.com", Login: "ada@example.com", Role: access.Admin}}
	ts, logs := newTestServer(t, &Server{Tokens: &access.Tokens{Store: st}, People: &access.People{Store: st}, SSO: idp,
		Limiter: &access.Limiter{}, History: st})
	signIn := func() (int, map[string]any) {
		t.Helper()
		resp, m := do(t, "POST", ts.URL+"/api/v1/auth/cli-token", "", `{"code":"c","codeVerifier":"v","nonce":"n","redirectUri":"http://127.0.0.1:8765/callback"}`)
		return resp.StatusCode, m
	}
	if code, m := signIn(); code != 201 && code != 200 {
		t.Fatalf("ada's first sign-in: %d %v", code, m)
	}

	idp.id.Issuer = "https://new.example.com"
	for _, sub := range []string{"00u-ada", "00u-other"} {
		idp.id.Subject = sub
		code, m := signIn()
		e, _ := m["error"].(map[string]any)
		details, _ := e["details"].(map[string]any)
		msg, _ := e["message"].(string)
		remedy, _ := details["remedy"].(string)
		want := "the login ada@example.com was bound at the identity provider https://old.example.com, and this sign-in comes from https://new.example.com"
		if code != 403 || !strings.Contains(msg, want) || strings.Contains(msg, "different subject") ||
			!strings.Contains(remedy, "cardflow people revoke ada@example.com") || details["boundIssuer"] != "https://old.example.com" || details["issuer"] != "https://new.example.com" {
			t.Errorf("ada's sign-in from the new issuer with subject %s: %d %v; want 403 saying %q and the remedy", sub, code, m, want)
		}
	}
	idp.id.Issuer, idp.id.Subject = "https://old.example.com", "00u-other"
	if code, m := signIn(); code != 403 || !strings.Contains(m["error"].(map[string]any)["message"].(string), "(a different subject)") {
		t.Errorf("another subject at ada's issuer: %d %v; want 403 naming a different subject", code, m)
	}

	evs, err := st.ListAudit(t.Context(), store.AuditFilter{Action: store.ActionPersonSignIn})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, ev := range evs {
		if ev.Outcome == "failure" {
			failed = append(failed, ev.Error)
		}
	}
	if len(failed) != 3 || !strings.Contains(strings.Join(failed, "\n"), "this sign-in comes from https://new.example.com") {
		t.Errorf("failed person.signin events: %q; want three, naming the new issuer", failed)
	}
	var warned int
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "cardflow login refused: the login is bound at another identity provider" {
			warned++
			if rec["boundIssuer"] != "https://old.example.com" || rec["issuer"] != "https://new.example.com" || rec["login"] != "ada@example.com" || rec["subject"] == "" {
				t.Errorf("the warning %v; want the login, subject, issuer and bound issuer", rec)
			}
		}
	}
	if warned != 2 {
		t.Errorf("%d warnings of a sign-in from another identity provider; want 2\n%s", warned, logs)
	}
}
