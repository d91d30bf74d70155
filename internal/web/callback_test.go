package web

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/connection"
)

// TestCallbackPageMissingScopes checks the page shown after an
// authorization that was not granted every scope: each missing scope once,
// the cards that fail without it, and for a scope only one event delivery
// needs, that flows cannot start from the event cards with that delivery
// (not that the event cards fail: the other delivery may work).
func TestCallbackPageMissingScopes(t *testing.T) {
	missing := []string{card.ScopeManage, card.ScopeEventHooks}
	v := &connection.View{Nickname: "corp", GrantedScopes: []string{card.ScopeRead, card.ScopeLogs}, MissingScopes: missing,
		MissingScopeCards: map[string][]string{}}
	for _, sc := range missing {
		v.MissingScopeCards[sc] = card.CardsNeeding("okta-devices", sc)
	}
	page := callbackPage{Title: "Connected", OK: true}
	fillCallback(&page, &connection.CallbackResult{OK: true, Nickname: "corp", Connection: v})
	var b strings.Builder
	if err := callbackTmpl.Execute(&b, page); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, sc := range missing {
		if n := strings.Count(html, sc); n != 1 {
			t.Errorf("the page names %s %d times; want once:\n%s", sc, n, html)
		}
	}
	manage, hooks, _ := strings.Cut(html[strings.Index(html, card.ScopeManage):], card.ScopeEventHooks)
	if !strings.Contains(manage, "these cards will fail with Insufficient Scope: okta-devices/activate-device") || strings.Contains(manage, "device-removed") {
		t.Errorf("the okta.devices.manage entry = %q; want the manage cards, which fail", manage)
	}
	if !strings.Contains(hooks, "flows cannot start from these event cards with hook delivery: okta-devices/") || strings.Contains(hooks, "will fail") {
		t.Errorf("the okta.eventHooks.manage entry = %q; want the event cards, for hook delivery only", hooks)
	}
	// Each entry is a sentence.
	if unended := regexp.MustCompile(`<dd><code>[^<]*</code>[^<]*[^.]</dd>`).FindAllString(html, -1); len(unended) > 0 {
		t.Errorf("missing-scope entries without a full stop: %q", unended)
	}
}

// TestCallbackPageFailureSentences: a refused authorization's message and
// remedy end as sentences ("..., then reauthorize" ended without one).
func TestCallbackPageFailureSentences(t *testing.T) {
	page := callbackPage{Title: "Authorization failed", Nickname: "corp",
		Message: `the account you signed in with is not assigned to the OAuth app (Okta said "access_denied")`,
		Remedy:  "assign that account to the OAuth app, then reauthorize"}
	var b strings.Builder
	if err := callbackTmpl.Execute(&b, page); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{`(Okta said &#34;access_denied&#34;).</p>`, "then reauthorize.</p>"} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q:\n%s", want, html)
		}
	}
}

// TestCallbackPageMessageStartsASentence: a refusal of no known connection
// (an unknown or used sign-in response) opens the page's sentence with its
// message, which starts with a capital ("this sign-in response ..." did
// not).
func TestCallbackPageMessageStartsASentence(t *testing.T) {
	page := callbackPage{Title: "Authorization failed",
		Message: "this sign-in response is unknown or was already used (each one works once)",
		Remedy:  "start the authorization again from cardflow (reauthorize the connection) and finish it in one go"}
	var b strings.Builder
	if err := callbackTmpl.Execute(&b, page); err != nil {
		t.Fatal(err)
	}
	if want := "<p>This sign-in response is unknown or was already used (each one works once).</p>"; !strings.Contains(b.String(), want) {
		t.Errorf("the page lacks %q:\n%s", want, b.String())
	}
}

// TestCallbackPageCompleted: the reloaded page of an authorization that
// succeeded gives the next step, the console's or the CLI's, and not the
// "close this window" line of the page it replaces.
func TestCallbackPageCompleted(t *testing.T) {
	for _, tt := range []struct {
		console bool
		want    string
	}{
		{true, `Open the <a href="/">cardflow console</a> to see the connection.`},
		{false, "Run <code class=\"cmd\"><span>cardflow</span> <span>connections</span> <span>list</span></code> to see the connection."},
	} {
		var b strings.Builder
		if err := callbackTmpl.Execute(&b, callbackPage{Title: "Authorization completed", Completed: true, Console: tt.console}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "This authorization was completed already") || !strings.Contains(b.String(), tt.want) || strings.Contains(b.String(), "close this window") {
			t.Errorf("console %v: the page lacks %q or says to close the window:\n%s", tt.console, tt.want, b.String())
		}
	}
}
