package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserRevokePersonAccess: an admin signed in with single sign-on
// sees on the People page who has access, and Revoke access, once
// confirmed, ends the person's console session and tokens and forgets
// their binding, naming its identity provider; a person who is not an
// admin sees no People page.
func TestBrowserRevokePersonAccess(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)

	// Riley (operator) on the console and with a token of cardflow login.
	riley := newTab(t, e)
	riley.ssoSignIn(oktaemu.ReadOnlyLogin)
	if got := riley.text("h1"); got != "Connections" {
		riley.fatalf("after single sign-on riley's heading is %q; want Connections", got)
	}
	if strings.Contains(riley.text("nav"), "People") {
		riley.fatalf("an operator's navigation offers People")
	}
	riley.open("/people")
	riley.wantText("This needs the admin role; you have the operator role.")
	tok, err := e.app.Tokens.Create(t.Context(), access.Principal{Actor: store.Actor{Type: store.ActorUser, Login: oktaemu.ReadOnlyLogin}, Role: access.Operator},
		"cardflow login", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	tokenWorks := func() bool {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.url+"/api/v1/whoami", nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}

	// A flow Riley enabled while an admin runs as Riley, and goes on
	// doing so after the revocation: the confirmation and the outcome
	// say so.
	trigger := []byte(`{"every":"1h0m0s","kind":"schedule","timezone":"UTC"}`)
	fl := &store.Flow{Name: "nightly-cleanup", Source: []byte("name: nightly-cleanup\n"), Trigger: trigger, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if _, err := e.store.PutFlow(t.Context(), fl); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetFlowEnabled(t.Context(), fl.ID, trigger, true, time.Now().Add(time.Hour), store.Actor{Type: store.ActorUser, Login: oktaemu.ReadOnlyLogin}); err != nil {
		t.Fatal(err)
	}

	ada := newTab(t, e)
	ada.ssoSignIn(oktaemu.AdminLogin)
	ada.click(link("People"))
	if got := ada.text("h1"); got != "People" {
		ada.fatalf("the People link leads to %q; want People", got)
	}
	row := ada.text(`//tr[td[contains(., "` + oktaemu.ReadOnlyLogin + `")]]`)
	for _, want := range []string{"operator", "1, last seen", "1, expires"} {
		if !strings.Contains(row, want) {
			ada.fatalf("riley's row reads %q; want %q in it", row, want)
		}
	}
	if own := ada.text(`//tr[td[contains(., "` + oktaemu.AdminLogin + `")]]`); !strings.Contains(strings.ToLower(own), "you") {
		ada.fatalf("ada's own row reads %q; want it marked as hers", own)
	}
	ada.screenshot("people")

	revoke := button("Revoke access")
	rileysRevoke := `//a[@aria-label="Revoke access of ` + oktaemu.ReadOnlyLogin + `"]`
	ada.click(rileysRevoke)
	ada.wantText("Revoke the access of "+oktaemu.ReadOnlyLogin+"?", "their console session", "their personal API token", "cannot be restored",
		"1 flow they enabled keeps running as them: nightly-cleanup")
	ada.screenshot("revoke-person-confirm")
	ada.click(link("Cancel"))
	riley.open("/connections")
	if got := riley.text("h1"); got != "Connections" || !tokenWorks() {
		riley.fatalf("riley's access ended before the revocation was confirmed")
	}

	ada.click(rileysRevoke)
	ada.click(revoke)
	ada.wantText("Revoked the access of "+oktaemu.ReadOnlyLogin+": 1 console session ended, 1 personal API token revoked and 0 flow runs they started canceled",
		"1 flow they enabled still running as them: nightly-cleanup",
		"The login is no longer bound to its account at "+e.emu.URL+": the next sign-in as "+oktaemu.ReadOnlyLogin+" binds it anew.")
	if strings.Contains(ada.text(`//table`), oktaemu.ReadOnlyLogin) {
		ada.fatalf("riley is still listed after the revocation")
	}
	ada.screenshot("person-revoked")
	riley.open("/connections")
	if loc := riley.location(); !strings.Contains(loc, "/signin") {
		riley.fatalf("riley's browser reached %s after the revocation; want the sign-in page", loc)
	}
	if tokenWorks() {
		t.Error("riley's token works after the revocation")
	}

	// Oneself: the page says so, and confirming signs out.
	ada.open("/people")
	ada.click(`//a[@aria-label="Revoke access of ` + oktaemu.AdminLogin + `"]`)
	ada.wantText("This is you.")
	ada.screenshot("revoke-own-access-confirm")
	ada.click(button("Revoke my own access"))
	if loc := ada.location(); !strings.Contains(loc, "/signin") {
		ada.fatalf("after revoking her own access ada is at %s; want the sign-in page", loc)
	}
	ada.open("/people")
	if loc := ada.location(); !strings.Contains(loc, "/signin") {
		ada.fatalf("ada reached %s after revoking her own access; want the sign-in page", loc)
	}
}
