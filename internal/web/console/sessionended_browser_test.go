package console_test

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserFormAfterTheSessionEnded: a form sent after the console
// session ended (signed out elsewhere, revoked, idle too long) is refused
// with a Sign in again link that leads back to the form's page; Sign out
// pressed then says that there was nothing to sign out of, not to sign in
// and repeat it.
func TestBrowserFormAfterTheSessionEnded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	endSession := func() {
		t.Helper()
		sessions, err := e.store.ListSessionsOf(t.Context(), store.Actor{Type: store.ActorBootstrap})
		if err != nil || len(sessions) != 1 {
			t.Fatalf("sessions %v, %v; want the tab's", sessions, err)
		}
		if err := e.store.DeleteSession(t.Context(), sessions[0].ID); err != nil {
			t.Fatal(err)
		}
	}

	b.signIn()
	b.open("/tokens")
	b.fill("Name", "deploy script")
	endSession()
	b.click(button("Create token"))
	b.wantText("Your console session has ended, so the form was not sent.", "Sign in again, then repeat the action.")
	b.screenshot("session-ended-form")
	b.click(link("Sign in again"))
	b.fill("API token", testToken)
	b.click(button("Sign in"))
	if loc := b.location(); loc != e.url+"/tokens" {
		b.fatalf("after signing in again the browser is at %s; want the form's page %s/tokens", loc, e.url)
	}

	endSession()
	b.click(button("Sign out"))
	b.wantText("Your console session has ended, so there was nothing to sign out of: you are signed out.")
	if strings.Contains(b.mainText(), "repeat the action") {
		b.fatalf("Sign out after the session ended asks to sign in and repeat it:\n%s", b.mainText())
	}
	b.click(link("Sign in again"))
	if loc := b.location(); loc != e.url+"/signin" {
		b.fatalf("Sign in again leads to %s; want %s/signin", loc, e.url)
	}
}
