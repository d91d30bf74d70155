package app

// A login is bound to the subject and the issuer of its first sign-in: a
// server whose -oidc-issuer moved to another identity provider refuses a
// bound login's sign-in there, saying where it was bound and where the
// sign-in comes from and how to forget the binding, until an admin
// revokes the person; a login bound before issuers were kept takes the
// issuer of its next sign-in with its subject.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

func TestSignInFromAnotherIssuerIsRefused(t *testing.T) {
	t.Parallel()
	h := startSSOHarness(t, nil)
	st, ctx := h.app.Store, t.Context()
	ada, riley := oktaemu.AdminLogin, oktaemu.ReadOnlyLogin

	// Ada signs in at the first identity provider: her login is bound to
	// her subject there. Riley's login was bound before issuers were
	// kept (a binding of no issuer), and his next sign-in fills it in.
	ssoBrowser(t, h, ada)
	if b, err := st.PersonBinding(ctx, ada); err != nil || b.Subject != oktaemu.AdminUserID || b.Issuer != h.emu.URL {
		t.Fatalf("ada's binding after her sign-in: %+v, %v; want %s at %s", b, err, oktaemu.AdminUserID, h.emu.URL)
	}
	if p := h.people(testAPIToken, 100)[ada]; p.Issuer != h.emu.URL {
		t.Errorf("ada in the people list: %+v; want her issuer %s", p, h.emu.URL)
	}
	now := time.Now()
	if err := st.StartSignIn(ctx, "si-riley-old", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSession(ctx, &store.Session{ID: "riley-old", Actor: store.Actor{Type: store.ActorUser, Login: riley}, Role: "operator", CSRF: "c",
		SignIn: "si-riley-old", Subject: oktaemu.ReadOnlyUserID, CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	ssoBrowser(t, h, riley)
	if b, err := st.PersonBinding(ctx, riley); err != nil || b.Issuer != h.emu.URL {
		t.Fatalf("riley's binding of no issuer after his sign-in: %+v, %v; want the issuer %s", b, err, h.emu.URL)
	}

	// The operator moves -oidc-issuer to another identity provider, where
	// the same people have accounts (with the same subjects, and other
	// subjects: both are refused).
	h.stop()
	next := emutest.Start(t, oktaemu.Config{Devices: 1})
	h2 := startServer(t, next, h.dataDir, func(c *Config) { ssoConfig(c, next.URL) })
	st = h2.app.Store
	_, code, body := ssoSignIn(t, h2, ada)
	want := fmt.Sprintf("login %s was bound at the identity provider %s, and this sign-in comes from %s", ada, h.emu.URL, next.URL)
	if code != http.StatusForbidden || !strings.Contains(body, want) || strings.Contains(body, "different subject") ||
		!strings.Contains(body, "revoking the person&#39;s access (Forget binding under Bound sign-ins on the People page), then sign in again") {
		t.Errorf("ada's console sign-in at the new identity provider: status %d; want 403 saying %q and the remedy\n%s", code, want, body)
	}
	next.SetClaims(t, oktaemu.UserLogin, ada, ada) // another account there claims ada's login
	var e apiErr
	if code, data := h2.callWith("", "POST", "/api/v1/auth/cli-token", json.RawMessage(cliLoginCode(t, h2, oktaemu.UserLogin)), &e); code != http.StatusForbidden ||
		!strings.Contains(e.Error.Message, want) || !strings.Contains(fmt.Sprint(e.Error.Details["remedy"]), "cardflow people revoke "+ada) ||
		e.Error.Details["boundIssuer"] != h.emu.URL || e.Error.Details["issuer"] != next.URL {
		t.Errorf("another account's cardflow login as %s at the new identity provider: status %d %+v; want 403 saying %q\n%s", ada, code, e, want, data)
	}
	var failures []string
	for _, ev := range h2.audit("action=person.signin") {
		if ev["outcome"] == "failure" {
			failures = append(failures, fmt.Sprint(ev["error"]))
		}
	}
	if len(failures) != 2 || !strings.Contains(failures[0], want) || !strings.Contains(failures[1], want) {
		t.Errorf("failed person.signin events at the new identity provider: %q; want two saying %q", failures, want)
	}
	if !strings.Contains(h2.logs.String(), "sign-in refused: the login is bound at another identity provider") {
		t.Errorf("the server's log lacks the warning of the refused sign-in:\n%s", h2.logs)
	}
	if b, err := st.PersonBinding(ctx, ada); err != nil || b.Issuer != h.emu.URL || b.Subject != oktaemu.AdminUserID {
		t.Errorf("ada's binding after the refusals: %+v, %v; want it unchanged", b, err)
	}

	// The remedy: an admin revokes her (which forgets the binding), and
	// her next sign-in binds the login at the new identity provider.
	var rev struct {
		SubjectForgotten bool `json:"subjectForgotten"`
	}
	if code, data := h2.callWith(testAPIToken, "POST", "/api/v1/people/"+url.PathEscape(ada)+"/revoke", nil, &rev); code != http.StatusOK || !rev.SubjectForgotten {
		t.Fatalf("revoking ada: status %d %+v\n%s", code, rev, data)
	}
	if _, code, body := ssoSignIn(t, h2, ada); code != http.StatusSeeOther {
		t.Fatalf("ada's sign-in at the new identity provider after the revoke: status %d\n%s", code, body)
	}
	if b, err := st.PersonBinding(ctx, ada); err != nil || b.Issuer != next.URL {
		t.Errorf("ada's binding after her sign-in at the new identity provider: %+v, %v; want %s", b, err, next.URL)
	}
}
