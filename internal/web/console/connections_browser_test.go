package console_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// connectionByNickname returns the stored connection named nickname.
func (e *env) connectionByNickname(t *testing.T, nickname string) *connection.View {
	t.Helper()
	v, err := e.manager.Get(context.Background(), nickname)
	if err != nil {
		t.Fatalf("get connection %q: %v", nickname, err)
	}
	return v
}

func TestBrowserNewConnectionWithDefaultScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)

	b.open("/")
	b.screenshot("signin")
	b.signIn()
	b.wantText("No connections yet")
	b.screenshot("connections-empty")

	b.click(link("New Connection"))
	b.wantText("Okta Devices")
	b.screenshot("new-connection-choose")
	b.click(link("Okta Devices"))
	for _, label := range []string{"Nickname", "Domain", "Client ID", "Client secret"} {
		b.do("find the field labelled "+label, chromedp.WaitVisible(labelled(label)))
	}
	typ, err := chromedp.Run(b.ctx, chromedp.AttributeValue(labelled("Client secret"), "type"))
	if err != nil || typ.Value != "password" {
		t.Fatalf("Client secret input type = %q (%v); want password", typ.Value, err)
	}
	b.fill("Nickname", "Prod devices")
	b.fill("Domain", e.emu.URL)
	b.fill("Client ID", "0oaworkflowsclient")
	b.fill("Client secret", "demo-workflows-secret")
	b.screenshot("new-connection-form")
	b.do("open the Permissions tab", chromedp.Click(`//label[normalize-space(.)="Permissions"]`))
	b.do("see the scope choices", chromedp.WaitVisible(labelled("Use default scopes")), chromedp.WaitVisible(labelled("Customize scopes (advanced)")))
	def, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[bool](labelled("Use default scopes"), "checked"))
	if err != nil || !def {
		t.Fatalf("Use default scopes checked = %v (%v); want it chosen by default", def, err)
	}
	b.screenshot("new-connection-permissions")

	b.click(button("Create"))
	b.screenshot("org-signin")
	b.orgSignIn("admin@example.com")
	b.wantText("Connected", "Prod devices", "admin@example.com")
	b.screenshot("callback-connected")

	b.click(link("the connection's page"))
	if got := b.text(`h1`); !strings.HasPrefix(got, "Prod devices") {
		b.fatalf("the link to the connection's page leads to %q; want Prod devices", got)
	}
	b.click(link("Connections"))
	row := b.text(`//tr[.//a[normalize-space(.)="Prod devices"]]`)
	for _, want := range []string{"Active", "Okta Devices", e.emu.URL, "admin@example.com"} {
		if !strings.Contains(row, want) {
			t.Errorf("connections row %q lacks %q", row, want)
		}
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Nodes(`//tr[.//a[normalize-space(.)="Prod devices"]]//span[contains(@class,"dot-ok")]`)); err != nil {
		t.Errorf("no green status icon on the active connection: %v", err)
	}
	b.screenshot("connections")

	b.click(link("Prod devices"))
	b.wantText("admin@example.com", "okta.devices.read", "okta.devices.manage", "Read Device", "Suspend Device")
	if strings.Contains(b.mainText(), "will fail") {
		t.Errorf("a default-scope connection lists cards that will fail:\n%s", b.mainText())
	}
	b.screenshot("connection")

	v := e.connectionByNickname(t, "Prod devices")
	if v.Status != "active" || v.ScopeMode != "default" {
		t.Errorf("stored connection: status %q mode %q; want active default", v.Status, v.ScopeMode)
	}

	b.click(button("Test"))
	b.wantText("Health check passed")
}

func TestBrowserNewConnectionWithCustomScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()
	b.createConnection("Read only", []string{"okta.devices.read"})
	b.orgSignIn("admin@example.com")
	b.wantText("Connected")

	v := e.connectionByNickname(t, "Read only")
	if v.ScopeMode != "custom" || !contains(v.GrantedScopes, "okta.devices.read") || contains(v.RequestedScopes, "okta.devices.manage") {
		t.Fatalf("stored connection: mode %q requested %v granted %v; want custom with okta.devices.read only", v.ScopeMode, v.RequestedScopes, v.GrantedScopes)
	}
	b.open("/connections/" + v.ID)
	row := b.text(`//table[@id="cards"]//tr[contains(., "Suspend Device")]`)
	if !strings.Contains(row, "will fail") || !strings.Contains(row, "Insufficient Scope") || !strings.Contains(row, "okta.devices.manage") {
		t.Errorf("Suspend Device row on a read-only connection = %q; want it to fail with Insufficient Scope naming okta.devices.manage", row)
	}
	row = b.text(`//table[@id="cards"]//tr[contains(., "Read Device")]`)
	if !strings.Contains(row, "works") {
		t.Errorf("Read Device row = %q; want works", row)
	}
	b.screenshot("connection-custom-scopes")
}

func TestBrowserNewConnectionShowsFieldErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()
	b.open("/connections/new?connector=okta-devices")
	b.fill("Nickname", "Typo org")
	b.fill("Domain", "example-admin.okta.com")
	b.fill("Client ID", "0oaworkflowsclient")
	b.fill("Client secret", "demo-workflows-secret")
	b.click(button("Create"))

	msg := b.text(`//div[contains(@class,"field")][.//label[normalize-space(.)="Domain"]]//p[contains(@class,"field-error")]`)
	if !strings.Contains(msg, "example.okta.com, not example-admin.okta.com") {
		t.Errorf("domain error next to the field = %q; want the -admin message", msg)
	}
	for label, want := range map[string]string{"Nickname": "Typo org", "Domain": "example-admin.okta.com", "Client ID": "0oaworkflowsclient", "Client secret": ""} {
		got, err := chromedp.Run(b.ctx, chromedp.Value(labelled(label)))
		if err != nil || got != want {
			t.Errorf("%s after the error = %q (%v); want %q", label, got, err, want)
		}
	}
	b.screenshot("new-connection-error")
	if list, err := e.manager.List(context.Background()); err != nil || len(list) != 0 {
		t.Errorf("connections after a refused create: %d (%v); want none", len(list), err)
	}

	b.do("open the Permissions tab", chromedp.Click(`//label[normalize-space(.)="Permissions"]`))
	b.do("choose custom scopes", chromedp.Click(labelled("Customize scopes (advanced)"), chromedp.NodeVisible))
	b.do("untick every scope", chromedp.Click(labelled("okta.devices.read")), chromedp.Click(labelled("okta.devices.manage")),
		chromedp.Click(labelled("okta.eventHooks.manage")), chromedp.Click(labelled("okta.logs.read")))
	b.do("back to the Connection tab", chromedp.Click(`//label[normalize-space(.)="Connection"]`))
	b.fill("Domain", e.emu.URL)
	b.fill("Client secret", "demo-workflows-secret")
	b.click(button("Create"))
	msg = b.text(`//p[@id="scopes-error"]`)
	if !strings.Contains(msg, "at least one") {
		t.Errorf("scopes error = %q; want it to ask for at least one scope", msg)
	}
}

func TestBrowserReauthorizeAfterRevokedGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()
	b.createConnection("Prod", nil)
	b.orgSignIn("admin@example.com")

	e.emu.RevokeGrant(t, "okta.devices.manage")
	v := e.connectionByNickname(t, "Prod")
	b.open("/connections/" + v.ID)
	b.click(link("Reauthorize"))
	keep, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[bool](labelled("Keep the current scopes"), "checked"))
	if err != nil || !keep {
		t.Fatalf("Keep the current scopes checked = %v (%v); want it chosen by default", keep, err)
	}
	b.screenshot("reauthorize")
	b.click(button("Reauthorize"))
	b.orgSignIn("admin@example.com")
	b.wantText("okta.devices.manage")

	b.open("/connections/" + v.ID)
	missing := b.text(`//*[@id="missing-scopes"]`)
	if !strings.Contains(missing, "okta.devices.manage") {
		t.Errorf("missing scopes = %q; want okta.devices.manage", missing)
	}
	row := b.text(`//table[@id="scopes"]//tr[contains(., "okta.devices.manage")]`)
	if !strings.Contains(row, "missing") {
		t.Errorf("scope row = %q; want requested but missing", row)
	}
	row = b.text(`//table[@id="cards"]//tr[contains(., "Suspend Device")]`)
	if !strings.Contains(row, "will fail") || !strings.Contains(row, "Insufficient Scope") {
		t.Errorf("Suspend Device row = %q; want it to fail with Insufficient Scope", row)
	}
	// Each mark reads on one line at 1280 px, its word beside its tick.
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	b.open("/connections/" + v.ID)
	lines := eval[[]int](b, "count the lines of the scope marks", `[...document.querySelectorAll('#scopes td[data-label="Requested"] span, #scopes td[data-label="Granted"] span')].map(s => s.getClientRects().length)`)
	if len(lines) == 0 || slices.ContainsFunc(lines, func(n int) bool { return n != 1 }) {
		t.Errorf("the scopes' marks take %v lines each; want one line each (✓ granted, ✗ missing)", lines)
	}
	b.screenshot("connection-missing-scope")

	if got := e.connectionByNickname(t, "Prod"); got.ID != v.ID || !contains(got.MissingScopes, "okta.devices.manage") {
		t.Errorf("after reauthorization: id %s missing %v; want id %s missing okta.devices.manage", got.ID, got.MissingScopes, v.ID)
	}
}

func TestBrowserDeleteAsksForConfirmation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()
	b.createConnection("Old org", nil)
	b.orgSignIn("admin@example.com")
	v := e.connectionByNickname(t, "Old org")

	b.open("/connections/" + v.ID)
	b.click(link("Delete"))
	b.wantText("Delete Old org?")
	b.screenshot("delete-confirm")
	if _, err := e.manager.Get(context.Background(), v.ID); err != nil {
		t.Fatalf("the connection is gone before the confirmation: %v", err)
	}
	b.click(button("Delete"))
	b.wantText("Deleted the connection Old org")
	if _, err := e.manager.Get(context.Background(), v.ID); err == nil {
		t.Errorf("connection %s still exists after the confirmed delete", v.ID)
	}
}

// TestBrowserDeletedConnectionIsNoLink: once a connection is deleted, the
// pages of its runs and the audit log name it without a link that leads
// to "Not found".
func TestBrowserDeletedConnectionIsNoLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Old org", nil)
	keep := e.connect(t, "Prod", nil)
	code, out := e.api(t, "POST", "/api/v1/runs", "application/json", `{"card":"okta-devices/search-devices","connection":"Old org","input":{}}`)
	if code != 201 {
		t.Fatalf("run a card: %d %s", code, out)
	}
	var run struct{ ID string }
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatal(err)
	}
	if code, out := e.api(t, "DELETE", "/api/v1/connections/"+v.ID, "", ""); code != 200 {
		t.Fatalf("delete the connection: %d %s", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	b.open("/runs/" + run.ID)
	if got := b.text(`//dt[normalize-space(.)="Connection"]/following-sibling::dd[1]`); !strings.Contains(got, "Old org") || !strings.Contains(got, "deleted") {
		t.Errorf("the run's connection reads %q; want Old org, deleted", got)
	}
	links := func() []string {
		return eval[[]string](b, "list the links", `[...document.querySelectorAll('main a[href^="/connections/"]')].map(a => a.getAttribute('href'))`)
	}
	if l := links(); len(l) > 0 {
		t.Errorf("the run of the deleted connection links to %v; want no link to it", l)
	}
	b.open("/audit")
	for _, l := range links() {
		if strings.Contains(l, v.ID) {
			t.Errorf("the audit log links to the deleted connection: %s", l)
		}
	}
	if l := links(); !slices.Contains(l, "/connections/"+keep.ID) {
		t.Errorf("the audit log links %v; want a link to the connection that still exists, %s", l, keep.ID)
	}
	if got := b.text(`//a[@href="/connections/` + keep.ID + `"]`); got != "Prod" {
		t.Errorf("the audit log's link to %s reads %q; want its nickname, Prod", keep.ID, got)
	}
	// At 1280 px the log fits without scrolling sideways, a deleted
	// connection's id and the account acting included.
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	b.open("/audit")
	region := `//*[@aria-label="Audit events"]`
	scroll, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[float64](region, "scrollWidth"))
	if err != nil {
		b.fatalf("width of the audit log: %v", err)
	}
	if shown := b.width(region); scroll > shown {
		t.Errorf("the audit log is %.0f px wide in a %.0f px region: at 1280 px it scrolls sideways and hides its details", scroll, shown)
	}
	if got := b.text(`//tr[.//a[@href="/connections/` + keep.ID + `"]]/td[@data-label="Connection"]`); got != "Prod\nas "+oktaemu.AdminLogin && got != "Prod as "+oktaemu.AdminLogin {
		t.Errorf("the connection cell reads %q; want Prod and the account it acts as", got)
	}
	b.screenshot("audit")
}

func TestBrowserSignOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()

	// A form whose CSRF token was tampered with is refused, and the
	// session stays.
	b.do("tamper with the sign-out form's token", chromedp.SetValue(`//form[@action="/signout"]/input[@name="csrf"]`, "forged"))
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(button("Sign out")))
	if err != nil {
		b.fatalf("send the tampered form: %v", err)
	}
	if resp.Status != 403 {
		t.Errorf("sign-out with a forged token: status %d; want 403", resp.Status)
	}
	b.wantText("Request refused", "security token")
	b.screenshot("csrf-refused")
	b.open("/connections")
	if got := b.text(`h1`); got != "Connections" {
		b.fatalf("after the refused post the console shows %q; want Connections (still signed in)", got)
	}

	b.click(button("Sign out"))
	b.wantText("You have signed out.")
	b.open("/connections")
	if loc := b.location(); !strings.Contains(loc, "/signin") {
		t.Errorf("after sign-out /connections is at %s; want the sign-in page", loc)
	}

	b.fill("API token", "not-the-token")
	b.click(button("Sign in"))
	if msg := b.text(`//p[@id="token-error"]`); !strings.Contains(msg, "not this server's API token") {
		t.Errorf("wrong token message = %q", msg)
	}
}

// TestBrowserListShowsWhyAConnectionIsNotActive: the connections list
// and each connection's page show a status by one look (connStatus): an
// active connection green; a pending one (created, not authorized yet) a
// grey ring and "Pending" beside it, with a yellow banner on its page; a
// broken one (needs reauthorization, error) red, on both. Pending had the
// red of a broken connection, so red did not mean broken. The list's
// status opens to the reason and the fix.
func TestBrowserListShowsWhyAConnectionIsNotActive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Working", nil)
	// Created but never authorized: pending.
	pending, _ := e.createPending(t, "Half done", nil)
	broken := e.connect(t, "Broken", nil)
	if err := e.store.UpdateConnection(context.Background(), broken.ID, func(c *store.Connection) error {
		c.Status, c.StatusReason, c.Remedy = store.StatusNeedsReauthorization, "Okta refused the refresh token (invalid_grant)", "reauthorize the connection"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b := newTab(t, e)
	b.signIn()
	red := eval[string](b, "read the console's red", `getComputedStyle(document.documentElement).getPropertyValue('--bad').trim()`)
	// look reads the status dot of the element sel: its classes, its fill
	// and ring colours, and the text beside it.
	type look struct {
		Class  string `json:"class"`
		Fill   string `json:"fill"`
		Border string `json:"border"`
		Title  string `json:"title"`
		Text   string `json:"text"`
	}
	lookOf := func(sel string) look {
		t.Helper()
		return eval[look](b, "read the status of "+sel, `((sel) => {
  const box = document.evaluate(sel, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
  const dot = box && box.querySelector('.dot');
  if (!dot) { return {}; }
  const s = getComputedStyle(dot);
  return {class: dot.className, fill: s.backgroundColor, border: parseFloat(s.borderTopWidth) > 0 ? s.borderTopColor : '', title: dot.title || '', text: (box.querySelector('summary') || box).textContent.trim()};
})(`+strconv.Quote(sel)+`)`)
	}
	redRGB := eval[string](b, "resolve the red", `(() => { const d = document.createElement('div'); d.style.color = `+strconv.Quote(red)+`; document.body.append(d); const c = getComputedStyle(d).color; d.remove(); return c; })()`)
	isRed := func(l look) bool { return l.Fill == redRGB || l.Border == redRGB }

	row := func(nickname string) string {
		return `//tr[.//a[normalize-space(.)="` + nickname + `"]]//td[@data-label="Status"]`
	}
	if l := lookOf(row("Half done")); !strings.Contains(l.Class, "dot-pending") || isRed(l) || l.Text != "Pending" || !strings.Contains(l.Title, "Pending") {
		t.Errorf("the pending connection's status in the list: %+v; want the grey pending ring (not red %s), labelled Pending, its title the reason", l, redRGB)
	}
	if l := lookOf(row("Broken")); !strings.Contains(l.Class, "dot-bad") || !isRed(l) || l.Text != "Needs reauthorization" {
		t.Errorf("the broken connection's status in the list: %+v; want red, labelled Needs reauthorization", l)
	}
	if l := lookOf(row("Working")); !strings.Contains(l.Class, "dot-ok") || isRed(l) || l.Text != "Active" {
		t.Errorf("the active connection's status in the list: %+v; want green, labelled Active", l)
	}
	b.do("expand the reason", chromedp.Click(`//tr[.//a[normalize-space(.)="Half done"]]//summary`))
	reason := b.text(`//tr[.//a[normalize-space(.)="Half done"]]//details`)
	if !strings.Contains(reason, "Fix:") {
		t.Errorf("expanded status %q; want the reason and the fix", reason)
	}
	b.screenshot("connections-pending")
	b.setWidth(phoneWidth)
	b.open("/connections")
	b.screenshot("phone-connections-pending")

	// A connection's page shows its status as the list does, and the
	// banner saying why it is not active is red only when it is broken.
	for _, tc := range []struct {
		id, class, label, flash string
	}{
		{pending.ID, "pending", "Pending", "flash-warning"},
		{broken.ID, "bad", "Needs reauthorization", "flash-error"},
	} {
		b.open("/connections/" + tc.id)
		l := lookOf(`//*[@id="connection-status"]`)
		badge := eval[string](b, "read the badge's class", `document.getElementById('connection-status').className`)
		if !strings.Contains(l.Class, "dot-"+tc.class) || !strings.Contains(badge, "badge-"+tc.class) || l.Text != tc.label || isRed(l) != (tc.class == "bad") {
			t.Errorf("%s's page: badge %q, dot %+v; want dot-%s and badge-%s, labelled %s, red only if broken", tc.label, badge, l, tc.class, tc.class, tc.label)
		}
		// Its cards: of a pending connection they run once it is
		// authorized ("not yet", no red bar); of a broken one they fail.
		const search = `//table[@id="cards"]//tr[contains(., "Search Devices")]`
		cardRow, rowClass := b.text(search), eval[string](b, "read the card row's class",
			`document.evaluate(`+strconv.Quote(search)+`, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue.className`)
		if broken := tc.class == "bad"; strings.Contains(cardRow, "will fail") != broken || strings.Contains(rowClass, "row-bad") != broken || strings.Contains(cardRow, "not yet") == broken {
			t.Errorf("%s's Search Devices row %q (class %q); want %s", tc.label, cardRow, rowClass,
				map[bool]string{true: `"will fail" with the red bar`, false: `"not yet", without the red bar`}[broken])
		}
		if banner := eval[string](b, "read the banner's class", `document.getElementById('status-reason').className`); !strings.Contains(banner, tc.flash) {
			t.Errorf("%s's page: the banner's class is %q; want %s", tc.label, banner, tc.flash)
		}
		b.screenshot("phone-connection-" + tc.class)
	}
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	b.open("/connections/" + pending.ID)
	b.screenshot("connection-pending")
}

func TestBrowserReauthorizeCustomScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	read := []string{"okta.devices.read"}
	v := e.connect(t, "Narrow", &read)
	b := newTab(t, e)
	b.signIn()
	b.open("/connections/" + v.ID + "/reauthorize")
	b.do("see the scope choices", chromedp.WaitVisible(labelled("Use default scopes")), chromedp.WaitVisible(labelled("Customize scopes (advanced)")))
	b.do("choose custom scopes", chromedp.Click(labelled("Customize scopes (advanced)")))
	manage, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[bool](labelled("okta.devices.manage"), "checked", chromedp.NodeVisible))
	if err != nil || manage {
		t.Fatalf("okta.devices.manage ticked = %v (%v); want the current selection (read only)", manage, err)
	}
	b.do("tick manage", chromedp.Click(labelled("okta.devices.manage")))
	b.click(button("Reauthorize"))
	b.orgSignIn("admin@example.com")
	got := e.connectionByNickname(t, "Narrow")
	if got.ID != v.ID || got.ScopeMode != "custom" || !contains(got.GrantedScopes, "okta.devices.manage") {
		t.Errorf("after reauthorizing with manage ticked: id %s mode %s granted %v; want id %s, custom, with okta.devices.manage", got.ID, got.ScopeMode, got.GrantedScopes, v.ID)
	}
}

func TestBrowserReauthorizeCustomToDefaultScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	read := []string{"okta.devices.read"}
	v := e.connect(t, "Narrow", &read)
	b := newTab(t, e)
	b.signIn()
	b.open("/connections/" + v.ID + "/reauthorize")
	b.do("choose the default scopes", chromedp.Click(labelled("Use default scopes")))
	b.click(button("Reauthorize"))
	b.orgSignIn("admin@example.com")
	got := e.connectionByNickname(t, "Narrow")
	want := []string{"okta.devices.read", "okta.devices.manage"}
	if got.ID != v.ID || got.ScopeMode != "default" || !contains(got.GrantedScopes, want[0]) || !contains(got.GrantedScopes, want[1]) {
		t.Errorf("after reauthorizing with Use default scopes: id %s mode %s granted %v; want id %s, default, with %v", got.ID, got.ScopeMode, got.GrantedScopes, v.ID, want)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestBrowserChangeClientSecret: a client secret the org refuses is
// refused on the New Connection form beside its field, the other fields
// kept; a connection whose app's secret is rotated at the org before the
// sign-in ends in error; Reauthorize says to give it the new secret, and
// on its page Change secret refuses an empty secret and the old one (the
// connection unchanged), and the new one leads to the org's sign-in, and
// the connection works again.
func TestBrowserChangeClientSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()
	b.open("/connections")
	b.click(link("New Connection"))
	b.click(link("Okta Devices"))
	b.fill("Nickname", "Rotated")
	b.fill("Domain", e.emu.URL)
	b.fill("Client ID", "0oaworkflowsclient")
	b.fill("Client secret", "not-the-secret")
	b.click(button("Create"))
	b.wantText("There is a problem", "invalid_client")
	if msg := b.text(`//p[@id="clientSecret-error"]`); !strings.Contains(msg, "invalid_client") {
		t.Errorf("error next to the secret field = %q; want the org's refusal", msg)
	}
	if got, err := chromedp.Run(b.ctx, chromedp.Value(labelled("Nickname"))); err != nil || got != "Rotated" {
		t.Errorf("Nickname after the refusal = %q (%v); want it kept", got, err)
	}
	b.screenshot("new-connection-secret-refused")
	b.fill("Client secret", "demo-workflows-secret")
	b.click(button("Create"))
	newSecret := e.emu.RotateClientSecret(t, oktaemu.DemoAppID)
	b.orgSignIn("admin@example.com")
	v := e.connectionByNickname(t, "Rotated")
	if v.Status != store.StatusError {
		t.Fatalf("signed in after the app's secret was rotated: status %q; want error", v.Status)
	}
	// Reauthorizing does not help: it says to give the new secret.
	b.open("/connections/" + v.ID)
	b.click(link("Reauthorize"))
	b.click(button("Reauthorize"))
	b.wantText("There is a problem", "invalid_client", "Change secret on the connection's page")
	b.screenshot("reauthorize-secret-rotated")

	b.open("/connections/" + v.ID)
	b.click(link("Change secret"))
	for _, label := range []string{"Client ID", "New client secret"} {
		b.do("find the field labelled "+label, chromedp.WaitVisible(labelled(label)))
	}
	if got, err := chromedp.Run(b.ctx, chromedp.Value(labelled("Client ID"))); err != nil || got != "0oaworkflowsclient" {
		t.Errorf("Client ID field = %q (%v); want the current client ID", got, err)
	}
	b.click(button("Save and reauthorize"))
	b.wantText("There is a problem", "new client secret is required")
	if msg := b.text(`//p[@id="clientSecret-error"]`); !strings.Contains(msg, "required") {
		t.Errorf("error next to the secret field = %q", msg)
	}
	b.screenshot("change-secret-error")

	b.fill("New client secret", "demo-workflows-secret")
	b.click(button("Save and reauthorize"))
	b.wantText("There is a problem", "invalid_client", "the connection was not changed")

	b.fill("New client secret", newSecret)
	b.click(button("Save and reauthorize"))
	b.orgSignIn("admin@example.com")
	// Its first sign-in failed: this one is its first authorization.
	b.wantText("is connected")
	if v := e.connectionByNickname(t, "Rotated"); v.Status != store.StatusActive {
		t.Fatalf("after the new secret and the sign-in: status %q (%s); want active", v.Status, v.StatusReason)
	}
	b.open("/connections/" + v.ID)
	b.click(button("Test"))
	b.wantText("Health check passed")
	if strings.Contains(b.mainText(), "demo-workflows-secret") || strings.Contains(b.mainText(), newSecret) {
		t.Errorf("the connection page shows a client secret")
	}
}
