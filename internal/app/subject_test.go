package app

// A login is bound to the account at the identity provider (the ID
// token's sub) it was first signed in with: another account claiming the
// same login is refused on the console and with cardflow login, and gets
// nothing; a login stored before subjects were kept is bound by its next
// sign-in; a revoke forgets the binding.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// ssoSignIn signs login in to h's console with single sign-on and returns
// the callback's answer: the browser, its status and body.
func ssoSignIn(t *testing.T, h *harness, login string) (*consoleBrowser, int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &consoleBrowser{t: t, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	code, loc, _ := b.get(h.url + "/signin/sso")
	if code != http.StatusSeeOther {
		t.Fatalf("GET /signin/sso: status %d", code)
	}
	callback := h.emu.SignIn(t, loc, login, oktaemu.DemoPassword)
	code, _, body := b.get(callback.String())
	return b, code, body
}

func TestSignInRefusesAnotherSubject(t *testing.T) {
	t.Parallel()
	h := startSSOHarness(t, nil)
	st, ctx := h.app.Store, t.Context()
	ada := oktaemu.AdminLogin

	// Ada's token from before subjects were kept: her login is bound to
	// no account.
	if _, err := h.app.Tokens.Create(ctx, access.Principal{Actor: store.Actor{Type: store.ActorUser, Login: ada}, Role: access.Admin}, "old laptop", "", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PersonBinding(ctx, ada); err == nil {
		t.Fatal("a login stored before subjects were kept is bound")
	}
	// Her next sign-in binds it to her account.
	adaConsole := ssoBrowser(t, h, ada)
	if b, err := st.PersonBinding(ctx, ada); err != nil || b.Subject != oktaemu.AdminUserID {
		t.Fatalf("ada's binding after her sign-in: %+v, %v; want %s", b, err, oktaemu.AdminUserID)
	}
	if p := h.people(testAPIToken, 100)[ada]; p.Subject != oktaemu.AdminUserID || p.Sessions.Count != 1 || p.Tokens.Count != 1 {
		t.Errorf("ada in the people list: %+v; want her subject %s, 1 session, 1 token", p, oktaemu.AdminUserID)
	}

	// Riley, at an identity provider that lets people change their
	// claims, claims Ada's login and email.
	h.emu.SetClaims(t, oktaemu.ReadOnlyLogin, ada, ada)
	_, code, body := ssoSignIn(t, h, oktaemu.ReadOnlyLogin)
	want := ada + " belongs to another account at the identity provider (a different subject)"
	if code != http.StatusForbidden || !strings.Contains(body, want) || !strings.Contains(body, "a cardflow admin removes the person&#39;s access first") {
		t.Errorf("riley signing in to the console as %s: status %d; want 403 saying %q and the remedy\n%s", ada, code, want, body)
	}
	var e apiErr
	if code, data := h.callWith("", "POST", "/api/v1/auth/cli-token", json.RawMessage(cliLoginCode(t, h, oktaemu.ReadOnlyLogin)), &e); code != http.StatusForbidden ||
		e.Error.Code != "forbidden" || !strings.Contains(e.Error.Message, want) || !strings.Contains(fmt.Sprint(e.Error.Details["remedy"]), "cardflow people revoke "+ada) {
		t.Errorf("riley's cardflow login as %s: status %d %+v; want 403 forbidden saying %q\n%s", ada, code, e, want, data)
	}
	// Nothing was granted: Ada holds what she held, and no more.
	if p := h.people(testAPIToken, 100)[ada]; p.Sessions.Count != 1 || p.Tokens.Count != 1 || p.Subject != oktaemu.AdminUserID {
		t.Errorf("ada after the refused sign-ins: %+v; want 1 session, 1 token, her subject", p)
	}
	if !adaConsole.signedIn(h.url + "/connections") {
		t.Error("ada's session ended with the refusals")
	}
	var outcomes []string
	for _, ev := range h.audit("action=person.signin") {
		actor, _ := ev["actor"].(map[string]any)
		line := fmt.Sprint(actor["login"], " ", ev["outcome"])
		if ev["outcome"] != "success" && !strings.Contains(fmt.Sprint(ev["error"]), "different subject") {
			line += ": " + fmt.Sprint(ev["error"])
		}
		outcomes = append(outcomes, line)
	}
	if got, wantOut := strings.Join(outcomes, "; "), ada+" success; "+ada+" failure; "+ada+" failure"; got != wantOut {
		t.Errorf("person.signin audit events: %s; want %s", got, wantOut)
	}

	// Ada's account was replaced: an admin revokes her access, which
	// forgets the binding, and the next account to sign in as her login
	// is bound to it.
	var rev struct {
		SessionsEnded    int  `json:"sessionsEnded"`
		TokensRevoked    int  `json:"tokensRevoked"`
		SubjectForgotten bool `json:"subjectForgotten"`
	}
	if code, data := h.callWith(testAPIToken, "POST", "/api/v1/people/"+url.PathEscape(ada)+"/revoke", nil, &rev); code != http.StatusOK ||
		rev.SessionsEnded != 1 || rev.TokensRevoked != 1 || !rev.SubjectForgotten {
		t.Fatalf("revoking ada: status %d %+v; want 1 session, 1 token, the subject forgotten\n%s", code, rev, data)
	}
	if _, code, body := ssoSignIn(t, h, oktaemu.ReadOnlyLogin); code != http.StatusSeeOther {
		t.Fatalf("the new account signing in as %s after the revoke: status %d\n%s", ada, code, body)
	}
	if b, err := st.PersonBinding(ctx, ada); err != nil || b.Subject != oktaemu.ReadOnlyUserID {
		t.Errorf("%s's binding after the new account's sign-in: %+v, %v; want %s", ada, b, err, oktaemu.ReadOnlyUserID)
	}
	if _, code, _ := ssoSignIn(t, h, ada); code != http.StatusForbidden {
		t.Errorf("the old account signing in after the new one was bound: status %d; want 403", code)
	}
	// A revoke of a login that holds nothing but its binding (its
	// session ended) forgets it.
	if n, err := st.DeleteSessionsOf(ctx, store.Actor{Type: store.ActorUser, Login: ada}); err != nil || n != 1 {
		t.Fatalf("ending the new account's session: %d, %v", n, err)
	}
	if code, data := h.callWith(testAPIToken, "POST", "/api/v1/people/"+url.PathEscape(ada)+"/revoke", nil, &rev); code != http.StatusOK ||
		rev.SessionsEnded != 0 || rev.TokensRevoked != 0 || !rev.SubjectForgotten {
		t.Fatalf("revoking the new account: status %d %+v\n%s", code, rev, data)
	}
	if code, data := h.callWith(testAPIToken, "POST", "/api/v1/people/"+url.PathEscape(ada)+"/revoke", nil, &e); code != http.StatusNotFound {
		t.Errorf("revoking a login that holds nothing and is bound to nobody: status %d; want 404\n%s", code, data)
	}
}
