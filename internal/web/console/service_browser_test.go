package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// keyFieldState is what a person meets in a public-key field.
type keyFieldState struct {
	Value      string `json:"value"`
	ReadOnly   bool   `json:"readOnly"`
	Label      string `json:"label"`
	ButtonShow bool   `json:"buttonShown"`
	Status     string `json:"status"`
	Selected   bool   `json:"selected"`
}

const keyFieldScript = `((id) => {
  const f = document.getElementById(id);
  const b = document.querySelector('button[data-copy="' + id + '"]');
  const st = b ? b.parentElement.querySelector('.copy-status') : null;
  const l = document.querySelector('label[for="' + id + '"]');
  return {value: f ? f.value : '', readOnly: !!(f && f.readOnly), label: l ? l.textContent.trim() : '',
    buttonShown: !!(b && b.offsetParent !== null), status: st ? st.textContent : '',
    selected: !!(f && document.activeElement === f && f.selectionStart === 0 && f.selectionEnd === f.value.length && f.value.length > 0)};
})`

func (b *tab) keyField(id string) keyFieldState {
	b.t.Helper()
	return eval[keyFieldState](b, "read the key field "+id, keyFieldScript+`("`+id+`")`)
}

// allowClipboard lets the console's pages in the tab write to the
// clipboard and the test read it back: the clipboard is the person's.
func (b *tab) allowClipboard() {
	b.t.Helper()
	bctx := chromedp.FromContext(b.ctx).BrowserContextID
	// writeText asks for the sanitized write, readText for the read.
	for _, p := range []cdpbrowser.PermissionDescriptor{
		{Name: "clipboard-write"},
		{Name: "clipboard-read", AllowWithoutSanitization: true},
	} {
		if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &p, Setting: "granted", Origin: b.e.url, BrowserContextID: bctx}); err != nil {
			b.t.Fatalf("grant %s: %v", p.Name, err)
		}
	}
	// A headless browser's page never has the window's focus, and the
	// clipboard refuses a page without it; the person's window has it.
	if _, err := chromedp.Call(b.ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		b.t.Fatalf("give the page the window's focus: %v", err)
	}
}

// clipboard is the clipboard's text.
func (b *tab) clipboard() string {
	b.t.Helper()
	return eval[string](b, "read the clipboard", `navigator.clipboard.readText()`, chromedp.EvalAwaitPromise)
}

// pressCopy presses the Copy button of the field id and waits for its
// status to say what it did.
func (b *tab) pressCopy(id string) keyFieldState {
	b.t.Helper()
	b.do("press Copy of "+id, chromedp.Click(`button[data-copy="`+id+`"]`, chromedp.NodeVisible))
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.querySelector('button[data-copy="`+id+`"]').parentElement.querySelector('.copy-status').textContent !== ''`)); err != nil {
		b.fatalf("wait for the copy of %s: %v", id, err)
	}
	return b.keyField(id)
}

// fillNewService opens the New Connection form of a service connection
// and fills it in for the demo org's API Services app, named nickname.
func (b *tab) fillNewService(nickname string) {
	b.t.Helper()
	b.open("/connections/new-service?connector=okta-devices")
	b.fill("Nickname", nickname)
	b.fill("Domain", b.e.emu.URL)
	b.fill("Client ID", oktaemu.DemoServiceClientID)
}

// TestBrowserNewServiceConnection: from "New Connection" to a service
// connection with a generated key: the page shows the public JWK (no
// private member) in a labelled read-only field with a Copy button that
// puts it on the clipboard, and the Admin Console steps; once the key is on
// the app, Test makes the connection active, and the connection page names
// the service app and still shows the public key.
func TestBrowserNewServiceConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.open("/")
	b.signIn()
	b.allowClipboard()
	b.click(link("New Connection"))
	b.click(`#new-service`)
	b.fill("Nickname", "Robot")
	b.fill("Domain", e.emu.URL)
	b.fill("Client ID", oktaemu.DemoServiceClientID)
	b.screenshot("new-service-connection")
	b.click(button("Create"))
	b.wantText("add this public key to the app", "API Services", "Admin Roles", "okta.devices.manage")
	b.screenshot("service-public-key")
	f := b.keyField("public-jwk")
	if !strings.Contains(f.Value, `"kid"`) || strings.Contains(f.Value, `"d"`) {
		t.Fatalf("public JWK %q: want a kid and no private member", f.Value)
	}
	if !f.ReadOnly || f.Label == "" || !f.ButtonShow {
		t.Errorf("key field %+v; want read-only, labelled, with its Copy button shown", f)
	}
	if f := b.pressCopy("public-jwk"); f.Status != "Copied to the clipboard." || !f.Selected {
		t.Errorf("after Copy: %+v; want copied, and the whole field selected", f)
	}
	if clip := b.clipboard(); clip != f.Value {
		t.Errorf("clipboard %q; want the public JWK %q", clip, f.Value)
	}

	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, []byte(f.Value))
	b.click(link("open the connection"))
	b.click(button("Test"))
	b.do("see the connection active", chromedp.WaitVisible(`//span[contains(@class,"badge-ok")]`))
	b.wantText("Service app", oktaemu.DemoServiceClientID)
	if got := b.keyField("public-jwk"); got.Value != f.Value {
		t.Errorf("the connection page shows the key %q; want %q", got.Value, f.Value)
	}
	if v := e.connectionByNickname(t, "Robot"); v.Status != "active" || v.Auth != "service" {
		t.Errorf("connection %+v; want an active service connection", v)
	}

	// A card run's page says whom it acted as: the service app of a
	// service connection, and of a user connection nobody signed in to
	// yet, that it had no account, where "Acting as" was left empty.
	actingAs := func(connection string) string {
		t.Helper()
		code, body := e.api(t, http.MethodPost, "/api/v1/runs", "application/json",
			`{"card":"okta-devices/search-devices","connection":"`+connection+`","input":{"resultSet":"first200"}}`)
		var run struct{ ID string }
		if err := json.Unmarshal([]byte(body), &run); err != nil || run.ID == "" {
			t.Fatalf("run a card on %s: %d %s", connection, code, body)
		}
		b.open("/runs/" + run.ID)
		return b.text(`#run-acting-as`)
	}
	if got, want := actingAs("Robot"), "service app "+oktaemu.DemoServiceClientID; got != want {
		b.fatalf("a service connection's card run acted as %q; want %q", got, want)
	}
	b.screenshot("run-acting-as-service-app")
	if code, body := e.api(t, http.MethodPost, "/api/v1/connections", "application/json",
		`{"connector":"okta-devices","nickname":"Unsigned","domain":"`+e.emu.URL+`","clientId":"0oaworkflowsclient","clientSecret":"demo-workflows-secret"}`); code != http.StatusCreated {
		t.Fatalf("create a user connection: %d %s", code, body)
	}
	if got, want := actingAs("Unsigned"), "nobody: the connection had no authorized account when the run started"; got != want {
		b.fatalf("a card run of a connection nobody authorized acted as %q; want %q", got, want)
	}
}

// TestBrowserServiceKeyWithoutScript: with script switched off the public
// key is still readable and selectable in its read-only field, the Copy
// button (which would do nothing) is not shown, and a pending service
// connection's page lists the Admin Console steps.
func TestBrowserServiceKeyWithoutScript(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	code, out := e.api(t, "POST", "/api/v1/connections", "application/json",
		`{"connector":"okta-devices","auth":"service","nickname":"Robot","domain":"`+e.emu.URL+`","clientId":"`+oktaemu.DemoServiceClientID+`"}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, out)
	}
	v := e.connectionByNickname(t, "Robot")
	b := newTab(t, e)
	b.signIn()
	if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	b.open("/connections/" + v.ID)
	b.wantText("Public key", "In the Okta Admin Console", "Admin Roles")
	f := b.keyField("public-jwk")
	if f.Value != string(v.PublicJWK) || !f.ReadOnly || f.ButtonShow {
		t.Errorf("without script: %+v; want the JWK %s read-only, no Copy button", f, v.PublicJWK)
	}
	b.screenshot("service-key-without-script")
}

// TestBrowserReloadAfterCreatingAServiceConnection: a new service
// connection's key page is reached by a redirect (Post/Redirect/Get), so
// reloading it shows the same key and steps again: it sent the form
// again, which the taken nickname refused, and the key page was lost.
func TestBrowserReloadAfterCreatingAServiceConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()
	b.fillNewService("Robot")
	b.click(button("Create"))
	robot := e.connectionByNickname(t, "Robot")
	if loc := b.location(); loc != e.url+"/connections/"+robot.ID+"/key" {
		b.fatalf("after Create the browser is at %s; want %s/connections/%s/key", loc, e.url, robot.ID)
	}
	b.wantText("Robot: add this public key to the app", "Not active yet", "In the Okta Admin Console")
	first := b.keyField("public-jwk").Value
	if !strings.Contains(first, `"kid"`) {
		b.fatalf("public JWK %q; want the connection's", first)
	}
	b.do("reload", chromedp.Reload())
	b.wantText("Robot: add this public key to the app", "Not active yet", "In the Okta Admin Console")
	if again := b.keyField("public-jwk").Value; again != first {
		t.Errorf("after a reload the page shows the key %q; want the same %q", again, first)
	}
	if got := b.mainText(); strings.Contains(got, "already") {
		t.Errorf("the reloaded page reads:\n%s\nwant no refusal of a second connection", got)
	}

	// A user connection has no key page.
	prod := e.connect(t, "Prod", nil)
	b.open("/connections/" + prod.ID + "/key")
	b.wantText("Prod is a user connection", "has no key")
}

// TestBrowserKeyPageSaysWhyOnceTheKeyIsAdded: a service connection whose
// key the org accepts but whose app has lost its admin role is not
// "waiting for its key" on its key page: the page says why it is not
// active (no_admin_role) and how to fix it, as the connection's page
// does, where it kept asking for the key to be added.
func TestBrowserKeyPageSaysWhyOnceTheKeyIsAdded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()
	b.fillNewService("Robot")
	b.click(button("Create"))
	b.wantText("Not active yet", "add it to the API Services app")
	robot := e.connectionByNickname(t, "Robot")
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, []byte(b.keyField("public-jwk").Value))
	e.emu.UnassignClientRole(t, oktaemu.DemoServiceClientID, "SUPER_ADMIN")
	if code, body := e.api(t, http.MethodPost, "/api/v1/connections/"+robot.ID+"/test", "application/json", ""); code != http.StatusOK || !strings.Contains(body, "no_admin_role") {
		t.Fatalf("test the connection without its role: %d %s; want no_admin_role", code, body)
	}

	b.open("/connections/" + robot.ID + "/key")
	b.wantText("no_admin_role", "How to fix it:")
	if got := b.text("#status-reason"); strings.Contains(got, "Not active yet") || strings.Contains(got, "until you add it") {
		t.Errorf("the key page of a connection whose key the org accepts reads %q; want the reason it is not active, not to add the key", got)
	}
	if got := b.text("#status-reason-code"); got != "no_admin_role" {
		t.Errorf("reason code on the key page %q; want no_admin_role", got)
	}
	b.screenshot("service-key-page-no-role")
}
