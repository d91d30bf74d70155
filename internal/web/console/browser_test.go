package console_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// One Chromium process serves every browser test of the package; each test
// has a browser context (cookies, storage) and tab to itself while it runs
// (see tabs).
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, pt := range tabs.free {
		pt.cancel()
	}
	if browser.cancel != nil {
		browser.cancel()
	}
	os.Exit(code)
}

// startBrowser starts headless Chromium with a fresh profile: Chromium's
// headless shell when it is installed (the same engine without the
// desktop browser around it, about half the CPU per test), else Chromium.
func startBrowser() {
	path, err := exec.LookPath("chromium-headless-shell")
	if err != nil {
		path, err = exec.LookPath("chromium")
	}
	if err != nil {
		browser.err = errors.New("the browser tests need Chromium's headless shell (or Chromium) on PATH: apt-get install chromium-headless-shell (.ci/run installs it)")
		return
	}
	dir, err := os.MkdirTemp("", "cardflow-console-chromium-")
	if err != nil {
		browser.err = err
		return
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// The tests run in parallel, each in its own tab: a tab the browser
		// deems hidden must run its timers and render as a visible one.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		// A new document (and often a new renderer process) for every
		// navigation within a site, RenderDocument, makes each page load cost
		// noticeably more CPU. PaintHolding is off in headless mode already.
		chromedp.Flag("disable-features", "RenderDocument,PaintHolding"),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 860),
	)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	browser.cancel = func() {
		cancelCtx()
		cancelAlloc()
		_ = os.RemoveAll(dir)
	}
	// Start the browser now. The first action must run on ctx itself, whose
	// cancellation ends the browser; the allocator bounds the start-up.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		browser.err = fmt.Errorf("start chromium at %s: %w", path, err)
		return
	}
	browser.ctx = ctx
}

// tab is a browser tab for one test, in a browser context of its own.
type tab struct {
	t   *testing.T
	ctx context.Context
	e   *env
}

// newTab is a tab for a test's actions. The tests run in parallel, so a
// test that takes seconds alone may take many times that on a loaded
// machine: the bound only stops a test that waits for what never comes (a
// selector that matches nothing).
func newTab(t *testing.T, e *env) *tab {
	t.Helper()
	return newTabFor(t, e, 3*time.Minute)
}

// newTabFor is a tab whose actions must all end within timeout.
func newTabFor(t *testing.T, e *env, timeout time.Duration) *tab {
	t.Helper()
	browser.once.Do(startBrowser)
	if browser.err != nil {
		t.Fatal(browser.err)
	}
	pt := tabs.take(t)
	ctx, cancelTimeout := context.WithTimeout(pt.ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		tabs.give(t, pt)
	})
	return &tab{t: t, ctx: ctx, e: e}
}

// tabs keeps the tabs that tests have finished with, each in its browser
// context, for the next tests: making a browser context with its tab and
// ending them costs Chromium more CPU than many tests spend in them
// (reusing them takes about a quarter off the CPU of most browser tests).
// A tab handed back is reset so that nothing of an earlier test shows: no
// page, no emulated screen, script on, no cookies or permissions (the
// console and the emulated org keep nothing else in the browser). A tab
// whose test failed, or whose reset fails, is closed instead.
var tabs tabPool

type tabPool struct {
	mu   sync.Mutex
	free []pooledTab
}

type pooledTab struct {
	ctx    context.Context // a chromedp context: its tab, its browser context
	cancel context.CancelFunc
}

func (p *tabPool) take(t *testing.T) pooledTab {
	t.Helper()
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		pt := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return pt
	}
	p.mu.Unlock()
	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	// Open the tab now: the first action must run on ctx itself, as the
	// tab's event loop lives as long as the context of its first action.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		t.Fatalf("open a tab: %v", err)
	}
	return pooledTab{ctx, cancel}
}

// give takes back a test's tab for the next test, or closes it.
func (p *tabPool) give(t *testing.T, pt pooledTab) {
	if t.Failed() {
		pt.cancel()
		return
	}
	ctx, cancel := context.WithTimeout(pt.ctx, 10*time.Second)
	defer cancel()
	if err := resetTab(ctx); err != nil {
		t.Logf("closing the tab instead of keeping it for the next test: %v", err)
		pt.cancel()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, pt)
}

// resetTab undoes what a test may have changed in its tab and browser
// context: it leaves a blank page with the browser's own screen and script
// on, and no cookies or granted permissions.
func resetTab(ctx context.Context) error {
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return err
	}
	if _, err := chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
		return err
	}
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
		return err
	}
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: false}); err != nil {
		return err
	}
	id := chromedp.FromContext(ctx).BrowserContextID
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.ResetPermissions, cdpbrowser.ResetPermissionsParams{BrowserContextID: id}); err != nil {
		return err
	}
	if _, err := chromedp.CallBrowser(ctx, storage.ClearCookies, storage.ClearCookiesParams{BrowserContextID: id}); err != nil {
		return err
	}
	left, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{BrowserContextID: id})
	if err != nil {
		return err
	}
	if len(left.Cookies) > 0 {
		return fmt.Errorf("%d cookies left after clearing them", len(left.Cookies))
	}
	return nil
}

// do runs actions, failing the test on error.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fatalf("%s: %v", what, err)
	}
}

// fatalf fails the test with the page's address and text.
func (b *tab) fatalf(format string, args ...any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 3*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	b.t.Fatalf(format+"\n(page %s)", append(args, loc)...)
}

// open navigates to a console path (or an absolute URL).
func (b *tab) open(path string) {
	b.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = b.e.url + path
	}
	b.do("open "+path, chromedp.Navigate(u))
}

// click clicks sel and waits for the navigation it causes to load.
func (b *tab) click(sel string) {
	b.t.Helper()
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(sel)); err != nil {
		b.fatalf("click %s: %v", sel, err)
	}
}

// button is the XPath of a button (or submit input) with exactly text.
func button(text string) string {
	return fmt.Sprintf(`//button[normalize-space(.)=%q]`, text)
}

// labelled is the XPath of the form control whose <label> reads text.
func labelled(text string) string {
	return fmt.Sprintf(`//*[@id=//label[normalize-space(.)=%q]/@for]`, text)
}

// link is the XPath of a link with exactly text.
func link(text string) string {
	return fmt.Sprintf(`//a[normalize-space(.)=%q]`, text)
}

// fill types value into the control labelled label.
func (b *tab) fill(label, value string) {
	b.t.Helper()
	b.do("fill "+label, chromedp.Clear(labelled(label)), typeText(labelled(label), value))
}

// typeText focuses the visible control sel and enters text as the browser
// enters typed, pasted or dictated text (input events, one protocol call).
// chromedp.SendKeys sends three key events a character, each a round trip
// to the page; keep it for keys a page reacts to (Tab, Enter).
func typeText(sel, text string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := chromedp.Focus(sel, chromedp.NodeVisible)(ctx, t); err != nil {
			return chromedp.Void{}, err
		}
		_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: text})
		return chromedp.Void{}, err
	}
}

// text returns the visible text of the element sel.
func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(sel))
	if err != nil {
		b.fatalf("text of %s: %v", sel, err)
	}
	return s
}

// mainText returns the page's main content as text.
func (b *tab) mainText() string {
	b.t.Helper()
	return b.text(`main`)
}

// location returns the tab's address.
func (b *tab) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.fatalf("location: %v", err)
	}
	return loc
}

// wantText fails unless the main content contains every want.
func (b *tab) wantText(want ...string) {
	b.t.Helper()
	got := b.mainText()
	for _, w := range want {
		if !strings.Contains(got, w) {
			b.fatalf("page text lacks %q; got:\n%s", w, got)
		}
	}
}

// screenshot saves the whole page as NAME.png in the screenshot folder:
// $CARDFLOW_SCREENSHOTS, else testoutput/screenshots at the module root.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fatalf("screenshot %s: %v", name, err)
	}
	dir, err := screenshotDir()
	if err != nil {
		b.t.Fatalf("screenshot folder: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatalf("save screenshot: %v", err)
	}
}

func screenshotDir() (string, error) {
	dir := os.Getenv("CARDFLOW_SCREENSHOTS")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		root := wd
		for {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(root)
			if parent == root {
				return "", errors.New("no go.mod above " + wd)
			}
			root = parent
		}
		dir = filepath.Join(root, "testoutput", "screenshots")
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// signIn signs the tab in to the console with the API token.
func (b *tab) signIn() {
	b.t.Helper()
	b.open("/connections")
	if loc := b.location(); !strings.Contains(loc, "/signin") {
		b.fatalf("a fresh browser at /connections is at %s; want the sign-in page", loc)
	}
	b.fill("API token", testToken)
	b.click(button("Sign in"))
	if got := b.text(`h1`); got != "Connections" {
		b.fatalf("after sign-in the page heading is %q; want Connections", got)
	}
}

// createConnection fills the New Connection form and presses Create;
// custom, when not nil, picks "Customize scopes (advanced)" with those
// scopes ticked. It stops on the org's sign-in page.
func (b *tab) createConnection(nickname string, custom []string) {
	b.t.Helper()
	b.open("/connections")
	b.click(link("New Connection"))
	b.click(link("Okta Devices"))
	b.fill("Nickname", nickname)
	b.fill("Domain", b.e.emu.URL)
	b.fill("Client ID", "0oaworkflowsclient")
	b.fill("Client secret", "demo-workflows-secret")
	if custom != nil {
		b.do("open the Permissions tab", chromedp.Click(`//label[normalize-space(.)="Permissions"]`))
		b.do("choose custom scopes", chromedp.Click(labelled("Customize scopes (advanced)"), chromedp.NodeVisible))
		for _, sc := range []string{"okta.devices.read", "okta.devices.manage"} {
			checked, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[bool](labelled(sc), "checked", chromedp.NodeVisible))
			if err != nil {
				b.fatalf("read checkbox %s: %v", sc, err)
			}
			want := false
			for _, c := range custom {
				want = want || c == sc
			}
			if checked != want {
				b.do("toggle "+sc, chromedp.Click(labelled(sc)))
			}
		}
		b.screenshot("new-connection-custom-scopes")
	}
	b.click(button("Create"))
}

// orgSignIn signs in on the emulated org's sign-in page and waits for the
// callback page.
func (b *tab) orgSignIn(login string) {
	b.t.Helper()
	if loc := b.location(); !strings.HasPrefix(loc, b.e.emu.URL+"/") {
		b.fatalf("expected the org's sign-in page at %s; the browser is at %s", b.e.emu.URL, loc)
	}
	b.do("type the org credentials",
		typeText(`//input[@name="username"]`, login),
		typeText(`//input[@name="password"]`, "Demo-Passw0rd!"))
	b.click(`//form//button[@type="submit"]`)
	if loc := b.location(); !strings.HasPrefix(loc, b.e.url+"/oauth/callback") {
		b.fatalf("after the org sign-in the browser is at %s; want %s/oauth/callback", loc, b.e.url)
	}
}
