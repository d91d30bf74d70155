package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/chromedp/chromedp"
)

// TestBrowserNewTokenOnAPhone: the token a person has just created is
// shown in a field that fits a phone's screen, and the Name field of the
// form looks like the console's other text fields.
func TestBrowserNewTokenOnAPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()
	b.setWidth(phoneWidth)
	b.open("/tokens")
	if name, role := b.width(labelled("Name")), b.width(labelled("Role")); name != role {
		t.Errorf("the Name field is %.0f px wide and the Role field %.0f px; want the text field as wide as the other fields", name, role)
	}
	b.fill("Name", "deploy script")
	b.click(button("Create token"))
	tok, err := chromedp.Run(b.ctx, chromedp.Value(labelled("New token")))
	if err != nil || !strings.HasPrefix(tok, "cfp_") {
		b.fatalf("the New token field holds %q (%v); want the new token", tok, err)
	}
	b.checkWidth("token-created", phoneWidth)
	b.screenshot("phone-token-created")
}

// TestBrowserNewTokenCopyButton: the token a person has just created,
// shown once, has a Copy button (the one a service connection's public
// key has) that puts it on the clipboard and says so; where the browser
// gives the page no clipboard (plain http from another host than
// localhost) it selects the token and says to press Ctrl+C. The field
// had no button: the token had to be selected by hand.
func TestBrowserNewTokenCopyButton(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()
	b.allowClipboard()
	create := func(name string) string {
		t.Helper()
		b.open("/tokens")
		b.fill("Name", name)
		b.click(button("Create token"))
		f := b.keyField("new-token")
		if !strings.HasPrefix(f.Value, "cfp_") || !f.ReadOnly || f.Label != "New token" {
			b.fatalf("the new token's field: %+v; want the token, read-only, labelled New token", f)
		}
		if !f.ButtonShow {
			b.fatalf("the new token's field has no Copy button shown: %+v", f)
		}
		return f.Value
	}

	tok := create("deploy script")
	f := b.pressCopy("new-token")
	if f.Status != "Copied to the clipboard." || !f.Selected {
		t.Errorf("after Copy: %+v; want copied, and the whole token selected", f)
	}
	if clip := b.clipboard(); clip != tok {
		t.Errorf("clipboard %q; want the new token %q", clip, tok)
	}
	if name := eval[string](b, "read the button's name", `document.querySelector('button[data-copy="new-token"]').textContent`); name != "Copy New token" {
		t.Errorf("the Copy button is named %q; want %q", name, "Copy New token")
	}
	b.screenshot("token-copied")
	b.setWidth(phoneWidth)
	b.checkWidth("token-copied", phoneWidth)
	b.screenshot("phone-token-copied")

	// A page without the clipboard API (as over plain http from a host
	// that is not localhost) gets the token selected and the keys to press.
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	tok = create("backup job")
	b.do("take the clipboard away", chromedp.Evaluate[chromedp.Void](`Object.defineProperty(navigator, 'clipboard', {value: undefined}); void 0`))
	f = b.pressCopy("new-token")
	if f.Status != "Selected: press Ctrl+C (\u2318C on a Mac) to copy." || !f.Selected || f.Value != tok {
		t.Errorf("after Copy without a clipboard: %+v; want the token %q selected and the keys to press", f, tok)
	}
	b.screenshot("token-copy-selected")
}

// width is the rendered width in CSS pixels of the element sel.
func (b *tab) width(sel string) float64 {
	b.t.Helper()
	w, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[float64](sel, "offsetWidth"))
	if err != nil {
		b.fatalf("width of %s: %v", sel, err)
	}
	return w
}

// TestBrowserRevokeTokenAsksForConfirmation: Revoke on the API tokens page
// asks first, and only the confirmation revokes the token.
func TestBrowserRevokeTokenAsksForConfirmation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	code, out := e.api(t, http.MethodPost, "/api/v1/tokens", "application/json", `{"name":"nightly export","role":"viewer","expiresIn":"24h"}`)
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(out), &tok); code != http.StatusCreated || err != nil || tok.Token == "" {
		t.Fatalf("create a token: %d %s", code, out)
	}
	works := func() bool {
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
	revoke := button("Revoke")

	b := newTab(t, e)
	b.signIn()
	b.open("/tokens")
	b.click(link("Revoke"))
	b.wantText("Revoke the token nightly export?", "cannot be restored")
	b.screenshot("revoke-token-confirm")
	if !works() {
		t.Fatal("the token stopped working before the revocation was confirmed")
	}
	b.click(link("Cancel"))
	if got := b.text(`//table`); !strings.Contains(got, "nightly export") {
		b.fatalf("after Cancel the tokens list reads %q; want the token still there", got)
	}
	b.click(link("Revoke"))
	b.click(revoke)
	b.wantText("Revoked the token nightly export")
	if works() {
		t.Error("the token still works after the revocation was confirmed")
	}
}

// TestBrowserReloadAfterCreatingATokenMakesNoOther: creating a token ends
// on the Tokens page by a redirect (Post/Redirect/Get), so reloading that
// page or going back to it makes no second token. The new token is shown
// once: not again on a reload or back, not in the page's address, the
// server's log or the session.
func TestBrowserReloadAfterCreatingATokenMakesNoOther(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()
	b.open("/tokens")
	b.fill("Name", "deploy script")
	b.click(button("Create token"))
	tok, err := chromedp.Run(b.ctx, chromedp.Value(labelled("New token")))
	if err != nil || !strings.HasPrefix(tok, "cfp_") {
		b.fatalf("the New token field holds %q (%v); want the new token", tok, err)
	}
	if loc := b.location(); loc != e.url+"/tokens" {
		b.fatalf("after Create token the browser is at %s; want %s/tokens", loc, e.url)
	}
	sessions, err := e.store.ListSessionsOf(t.Context(), store.Actor{Type: store.ActorBootstrap})
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions %v, %v; want the tab's", sessions, err)
	}
	if sessions[0].Flashes != 0 {
		t.Errorf("the session still holds %d messages after the token was shown; want none", sessions[0].Flashes)
	}

	count := func(when string) {
		t.Helper()
		toks, err := e.store.ListAPITokens(t.Context(), "", "")
		if err != nil || len(toks) != 1 {
			b.fatalf("%s: %d tokens (%v); want the one created", when, len(toks), err)
		}
		if body := b.text(`body`); strings.Contains(body, tok) || strings.Contains(body, "Copy it now") {
			b.fatalf("%s the page shows the new token again:\n%s", when, body)
		}
		if got := b.text(`//table`); !strings.Contains(got, "deploy script") {
			b.fatalf("%s the tokens list reads %q; want the token created", when, got)
		}
	}
	b.do("reload", chromedp.Reload())
	count("after a reload")
	b.do("back", chromedp.NavigateBack())
	count("back on the page of the form")
	b.do("forward", chromedp.NavigateForward())
	count("forward again")
	if strings.Contains(e.logs.String(), tok) {
		t.Error("the server log holds the new token")
	}
}
