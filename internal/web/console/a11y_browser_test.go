package console_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// The accessibility checks of every console page: no sideways scrolling at
// phone widths, axe-core's WCAG 2.1 A and AA rules, text contrast of the
// status badges and chips, and a visible focus indicator (≥ 3:1) on every
// control reached with Tab.

// axeSource is axe-core, vendored under testdata/axe (see its README): the
// tests inject it from the repository and never download it.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// phoneWidth and narrowWidth are the widths every page must fit without
// scrolling sideways: a common phone, and WCAG 1.4.10's 320 CSS px.
const (
	phoneWidth  = 390
	narrowWidth = 320
)

// newPhoneTab is a tab that emulates a phone (mobile viewport, so that a
// page without a viewport meta tag lays out at 980 px and fails).
func newPhoneTab(t *testing.T, e *env) *tab {
	t.Helper()
	// The walk visits some twenty pages, each at two widths, with axe-core
	// and a walk through its controls.
	b := newTabFor(t, e, 5*time.Minute)
	b.setWidth(phoneWidth)
	return b
}

func (b *tab) setWidth(w int64) {
	b.t.Helper()
	b.do(fmt.Sprintf("emulate a %d px phone", w), chromedp.EmulateViewport(w, 800, chromedp.EmulateMobile, chromedp.EmulateScale(1)))
}

// eval evaluates a script and decodes its result into T.
func eval[T any](b *tab, what, script string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](script, opts...))
	if err != nil {
		b.fatalf("%s: %v", what, err)
	}
	return v
}

// overflowScript measures the page's width against the viewport and names
// the widest elements that stick out on the right.
const overflowScript = `((cw) => {
  const de = document.documentElement;
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= cw + 0.5) continue;
    // Skip what a scrolling ancestor inside the screen clips (an absolutely
    // positioned element escapes it unless something between is positioned).
    let clipped = false, escapes = ['absolute', 'fixed'].includes(getComputedStyle(el).position);
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.overflowX !== 'visible' && !escapes && p.getBoundingClientRect().right <= cw + 0.5) { clipped = true; break; }
      if (s.position !== 'static') escapes = false;
    }
    if (clipped) continue;
    out.push({el: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''), right: Math.round(r.right)});
  }
  out.sort((a, b) => b.right - a.right);
  return {viewportMeta: !!document.querySelector('meta[name=viewport][content*="width=device-width"]'), scrollWidth: de.scrollWidth, innerWidth: window.innerWidth, culprits: out.slice(0, 6)};
})`

type overflowReport struct {
	ViewportMeta bool `json:"viewportMeta"`
	ScrollWidth  int  `json:"scrollWidth"`
	InnerWidth   int  `json:"innerWidth"`
	Culprits     []struct {
		El    string `json:"el"`
		Right int    `json:"right"`
	} `json:"culprits"`
}

// checkWidth fails when the page does not lay out at the device's width
// (no viewport meta tag) or scrolls sideways.
func (b *tab) checkWidth(name string, width int) {
	b.t.Helper()
	r := eval[overflowReport](b, "measure "+name, fmt.Sprintf("%s(%d)", overflowScript, width))
	if !r.ViewportMeta {
		b.t.Errorf("%s has no viewport meta tag (width=device-width), so phones show it at 980 px, zoomed out", name)
		return
	}
	// A phone widens the layout viewport to fit what sticks out.
	if r.InnerWidth > width || r.ScrollWidth > width {
		b.t.Errorf("%s at %d px scrolls sideways: %d px wide; sticking out: %v", name, width, max(r.InnerWidth, r.ScrollWidth), r.Culprits)
	}
}

// axeScript runs axe-core's WCAG 2.0/2.1 A and AA rules on the page.
const axeScript = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\s+/g, ' '))})))`

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkAxe runs axe-core on the page and fails on every violation.
func (b *tab) checkAxe(name string) {
	b.t.Helper()
	if !eval[bool](b, "look for axe", `typeof window.axe === 'object'`) {
		eval[chromedp.Void](b, "inject axe-core", axeSource)
	}
	for _, v := range eval[[]axeViolation](b, "run axe-core on "+name, axeScript, chromedp.EvalAwaitPromise) {
		b.t.Errorf("%s: axe %s (%s): %s\n\t%s", name, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
	}
}

// chipScript lists the coloured text the design relies on (status badges,
// yes/no marks, tags, code chips) with its colour and the backgrounds
// behind it, innermost first.
const chipScript = `(() => {
  const out = [];
  for (const el of document.querySelectorAll('.badge, .yes, .no, .tag, code, .field-error, .flash, .optional, .help, .muted, .crumbs, .topbar nav a, th')) {
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1 || !el.textContent.trim()) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility !== 'visible') continue;
    const bgs = [];
    for (let n = el; n; n = n.parentElement) bgs.push(getComputedStyle(n).backgroundColor);
    out.push({text: el.textContent.trim().slice(0, 40), cls: el.className, color: cs.color, bgs, size: parseFloat(cs.fontSize), weight: parseInt(cs.fontWeight, 10)});
  }
  return out;
})()`

type chip struct {
	Text   string   `json:"text"`
	Class  string   `json:"cls"`
	Color  string   `json:"color"`
	Bgs    []string `json:"bgs"`
	Size   float64  `json:"size"`
	Weight int      `json:"weight"`
}

// checkChips checks WCAG 1.4.3 for the coloured text of the page, computed
// here from the computed styles (axe-core checks all text; this keeps the
// badges and chips covered even where axe cannot decide).
func (b *tab) checkChips(name string) {
	b.t.Helper()
	for _, c := range eval[[]chip](b, "read the colours of "+name, chipScript) {
		fg, err := parseColor(c.Color)
		if err != nil {
			b.t.Errorf("%s: %q: %v", name, c.Text, err)
			continue
		}
		bg, err := backdrop(c.Bgs)
		if err != nil {
			b.t.Errorf("%s: %q: %v", name, c.Text, err)
			continue
		}
		want := 4.5
		if c.Size >= 24 || c.Size >= 18.66 && c.Weight >= 700 {
			want = 3
		}
		if got := contrast(fg.over(bg), bg); got < want {
			b.t.Errorf("%s: text %q (class %q) is %s on %s: contrast %.2f:1; want ≥ %.1f:1", name, c.Text, c.Class, fg.over(bg), bg, got, want)
		}
	}
}

// focusScript describes the focused element's focus indicator: its
// outline (or, for a control drawn by its label, the label's) and the
// colours behind the outline.
const focusScript = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const desc = (n) => n.tagName.toLowerCase() + (n.id ? '#' + n.id : '') + (n.getAttribute('href') ? '[href=' + n.getAttribute('href') + ']' : '') + ' "' + (n.textContent || n.value || '').trim().replace(/\s+/g, ' ').slice(0, 40) + '"';
  let ring = el, cs = getComputedStyle(el);
  if (parseFloat(cs.opacity) === 0 && el.labels && el.labels.length) { ring = el.labels[0]; cs = getComputedStyle(ring); }
  const inside = parseFloat(cs.outlineOffset) < 0;
  const bgs = [];
  for (let n = inside ? ring : ring.parentElement; n; n = n.parentElement) bgs.push(getComputedStyle(n).backgroundColor);
  return {key: desc(el) + '@' + Math.round(el.getBoundingClientRect().top + window.scrollY), desc: desc(el), style: cs.outlineStyle, width: parseFloat(cs.outlineWidth), color: cs.outlineColor, bgs};
})()`

type focusRing struct {
	Key   string   `json:"key"`
	Desc  string   `json:"desc"`
	Style string   `json:"style"`
	Width float64  `json:"width"`
	Color string   `json:"color"`
	Bgs   []string `json:"bgs"`
}

// maxTabs bounds the Tab presses of a focus walk (long lists need not be
// walked to their end: their rows repeat the same controls).
const maxTabs = 60

// checkFocus presses Tab through the page and fails on every control whose
// focus indicator is missing, thinner than 2 px or below 3:1 against the
// colours next to it (WCAG 1.4.11, 2.4.7).
func (b *tab) checkFocus(name string) {
	b.t.Helper()
	b.do("blur", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur(); window.getSelection().removeAllRanges()`))
	seen := map[string]bool{}
	for range maxTabs {
		b.do("press Tab", chromedp.KeyEvent(kb.Tab))
		f := eval[*focusRing](b, "read the focus ring on "+name, focusScript)
		if f == nil || seen[f.Key] {
			return
		}
		seen[f.Key] = true
		if f.Style == "auto" {
			// The browser's own ring (Chromium draws a dark and a light
			// ring, legible on any background): pages that do not style
			// focus, like the emulated org's sign-in page.
			continue
		}
		if f.Style == "none" || f.Width < 2 {
			b.t.Errorf("%s: %s shows no focus outline (outline %s %.1fpx)", name, f.Desc, f.Style, f.Width)
			continue
		}
		ring, err1 := parseColor(f.Color)
		bg, err2 := backdrop(f.Bgs)
		if err1 != nil || err2 != nil {
			b.t.Errorf("%s: focus ring of %s: %v %v", name, f.Desc, err1, err2)
			continue
		}
		if got := contrast(ring.over(bg), bg); got < 3 {
			b.t.Errorf("%s: the focus ring of %s is %s on %s: contrast %.2f:1; want ≥ 3:1", name, f.Desc, ring.over(bg), bg, got)
		}
	}
}

// checkPage runs every check on the page the tab shows, saving a phone
// screenshot as phone-NAME.png.
func (b *tab) checkPage(name string) {
	b.t.Helper()
	b.checkWidth(name, phoneWidth)
	b.screenshot("phone-" + name)
	b.setWidth(narrowWidth)
	b.checkWidth(name, narrowWidth)
	b.setWidth(phoneWidth)
	b.checkAxe(name)
	b.checkChips(name)
	b.checkFocus(name)
}

// consoleRoutes returns the GET patterns the console registers, read from
// the package's source so that a page added later is part of the check
// without anyone listing it here.
func consoleRoutes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && strings.HasPrefix(s, "GET /") {
				routes = append(routes, strings.TrimPrefix(s, "GET "))
			}
			return true
		})
	}
	if len(routes) < 5 {
		t.Fatalf("found %d console routes in the package's source (%v); the route registrations changed shape", len(routes), routes)
	}
	slices.Sort(routes)
	return slices.Compact(routes)
}

// routeOf returns the pattern of routes that serves path ("" for none):
// the most specific one (most literal text), as net/http chooses.
func routeOf(routes []string, path string) string {
	best, bestLen := "", -1
	for _, p := range routes {
		literal := len(wildcardSeg.ReplaceAllString(p, ""))
		if matchRoute(p, path) && literal > bestLen {
			best, bestLen = p, literal
		}
	}
	return best
}

var wildcardSeg = regexp.MustCompile(`\{[^}]*\}`)

var wildcard = regexp.MustCompile(`^\{[^}]*\}$`)

func matchRoute(pattern, path string) bool {
	if strings.HasSuffix(pattern, "/{$}") {
		return path == strings.TrimSuffix(pattern, "{$}")
	}
	if strings.HasSuffix(pattern, "/") {
		return strings.HasPrefix(path, pattern)
	}
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	for i, seg := range ps {
		if strings.HasSuffix(seg, "...}") {
			return len(xs) >= i
		}
		if i >= len(xs) {
			return false
		}
		if wildcard.MatchString(seg) {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if seg != xs[i] {
			return false
		}
	}
	return len(ps) == len(xs)
}

func TestMatchRoute(t *testing.T) {
	t.Parallel()
	routes := []string{"/{$}", "/static/", "/connections", "/connections/{id}", "/connections/new", "/connections/{id}/delete", "/cards/{connector}/{card}"}
	for path, want := range map[string]string{
		"/":                      "/{$}",
		"/static/console.css":    "/static/",
		"/connections":           "/connections",
		"/connections/new":       "/connections/new",
		"/connections/c1":        "/connections/{id}",
		"/connections/c1/delete": "/connections/{id}/delete",
		"/cards/okta/read":       "/cards/{connector}/{card}",
		"/cards/okta":            "",
		"/nothing":               "",
	} {
		if got := routeOf(routes, path); got != want {
			t.Errorf("routeOf(%q) = %q; want %q", path, got, want)
		}
	}
}

// linksScript lists where the page's links and GET forms lead. A form's
// address is read from its attribute: a field named "action" (the Audit
// page's filter) hides the form's action property.
const linksScript = `[...document.querySelectorAll('a[href]')].map(a => a.href)
  .concat([...document.querySelectorAll('form')].filter(f => (f.getAttribute('method') || 'get').toLowerCase() === 'get').map(f => new URL(f.getAttribute('action') || '', document.baseURI).href))`

// crawl visits the pages start names and every console page reachable
// from them by links and GET forms (at most perRoute addresses for each
// route and query shape), checking each, and returns the routes it visited.
//
// It walks in rounds: the start pages, then the pages their links found,
// and so on. The pages of a round are checked in up to tabs tabs at once (b
// and more tabs of b's browser context, so signed in as b is), and their
// links are queued in page order after the round, so that every run visits
// and names the same pages as a walk in one tab would.
func (b *tab) crawl(routes []string, perRoute, tabs int, start ...string) map[string]bool {
	b.t.Helper()
	visited := map[string]bool{}
	queued := map[string]bool{}
	shapes := map[string]int{}
	type page struct{ addr, name string }
	queue := []page{}
	push := func(raw string, always bool) {
		u, err := url.Parse(raw)
		if err != nil || (u.Host != "" && u.Scheme+"://"+u.Host != b.e.url) {
			return
		}
		u.Fragment = ""
		p := u.Path
		if strings.HasPrefix(p, "/static/") || strings.HasPrefix(p, "/api/") || p == "/signout" || p == "/signin" || strings.HasPrefix(p, "/oauth/") {
			return
		}
		route := routeOf(routes, p)
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range u.Query() {
				if !yield(k) {
					return
				}
			}
		})
		shape := route + "?" + strings.Join(keys, "&")
		addr := u.RequestURI()
		if queued[addr] || shapes[shape] >= perRoute && !always {
			return
		}
		queued[addr] = true
		shapes[shape]++
		queue = append(queue, page{addr, fmt.Sprintf("%s-%d", pageName(shape), shapes[shape])})
	}
	for _, s := range start {
		push(s, true)
	}
	ctxs := []context.Context{b.ctx}
	for len(ctxs) < tabs {
		ctx, cancel := chromedp.NewContext(b.ctx) // a tab in b's browser context
		defer cancel()
		w := &tab{t: b.t, ctx: ctx, e: b.e}
		w.setWidth(phoneWidth)
		ctxs = append(ctxs, ctx)
	}
	for round := 1; len(queue) > 0; round++ {
		pages := queue
		queue = nil
		links := make([][]string, len(pages))
		var next atomic.Int64
		b.t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			for i, ctx := range ctxs {
				t.Run(fmt.Sprintf("tab %d", i+1), func(t *testing.T) {
					t.Parallel()
					w := &tab{t: t, ctx: ctx, e: b.e}
					for j := int(next.Add(1) - 1); j < len(pages); j = int(next.Add(1) - 1) {
						w.open(pages[j].addr)
						w.checkPage(pages[j].name)
						links[j] = eval[[]string](w, "list the links of "+pages[j].addr, linksScript)
					}
				})
			}
		})
		for j, p := range pages {
			if route := routeOf(routes, strings.SplitN(p.addr, "?", 2)[0]); route != "" {
				visited[route] = true
			}
			for _, l := range links[j] {
				push(l, false)
			}
		}
	}
	return visited
}

// parallelTests is how many tests may run at once (go test's -parallel).
func parallelTests() int {
	if f := flag.Lookup("test.parallel"); f != nil {
		if n, err := strconv.Atoi(f.Value.String()); err == nil && n > 0 {
			return min(n, 4)
		}
	}
	return 1
}

// pageName turns a route and query shape into a file name:
// "/connections/{id}?" is "connections-id".
func pageName(shape string) string {
	n := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(shape), "-"), "-")
	if n == "" {
		return "root"
	}
	return n
}

// TestBrowserEveryPageOnAPhone visits every console page, in the states a
// person meets it in, at 390 px and 320 px, and checks it with axe-core,
// the colour contrast of its badges and chips, and its focus indicators.
func TestBrowserEveryPageOnAPhone(t *testing.T) {
	t.Parallel()
	routes := consoleRoutes(t)
	e := newSSOEnv(t)
	b := newPhoneTab(t, e)

	// Signed out: the sign-in page and its error.
	b.open("/connections")
	b.checkPage("signin")
	b.fill("API token", "not-the-token")
	b.click(button("Sign in"))
	b.checkPage("signin-error")

	// Single sign-on: the org's sign-in page it leads to, and the page
	// that refuses a person in none of the groups.
	b.open("/connections")
	b.click(link("Sign in with SSO"))
	b.checkPage("sso-org-signin")
	b.do("type the org credentials",
		typeText(`//input[@name="username"]`, oktaemu.UnassignedLogin),
		typeText(`//input[@name="password"]`, oktaemu.DemoPassword))
	b.click(`//form//button[@type="submit"]`)
	b.wantText("You are not signed in")
	b.checkPage("sso-no-group")
	b.signIn()

	// A connection made in the browser: the org's sign-in page and the
	// callback page are part of the walk.
	b.createConnection("Prod", nil)
	b.checkPage("org-signin")
	b.orgSignIn("admin@example.com")
	b.checkPage("callback-connected")

	// Data for every kind of page: a read-only connection, a pending one,
	// a succeeded and a failed card run, a failed flow run with items.
	read := []string{"okta.devices.read"}
	readOnly := e.connect(t, "Read only", &read)
	e.createPending(t, "Half done", nil)
	prod := e.connectionByNickname(t, "Prod")
	var runPages []string
	for _, body := range []string{
		`{"card":"okta-devices/search-devices","connection":"Prod","input":{"resultSet":"all"}}`,
		`{"card":"okta-devices/suspend-device","connection":"Read only","input":{"deviceId":"guo-no-such-device"}}`,
	} {
		code, out := e.api(t, "POST", "/api/v1/runs", "application/json", body)
		var run struct{ ID string }
		if err := json.Unmarshal([]byte(out), &run); code != 201 || err != nil || run.ID == "" {
			t.Fatalf("run a card: %d %s", code, out)
		}
		runPages = append(runPages, "/runs/"+run.ID)
	}
	for _, doc := range []string{testFlow, nightlyFlow} {
		if code, out := e.api(t, "POST", "/api/v1/flows", "application/yaml", doc); code != 201 {
			t.Fatalf("store a flow: %d %s", code, out)
		}
	}
	// An event flow with a run an Okta event started (the Events page), and
	// a connection whose event hook failed (its reason and remedy).
	e.removeUserEvent(t, prod.ID)
	if err := e.store.PutEventHook(context.Background(), &store.EventSource{ConnectionID: readOnly.ID, HookPath: "walk",
		HookTypes: []string{"device.user.remove"}, HookStatus: "error", UpdatedAt: time.Now(),
		HookReason: "the connection was not granted okta.eventHooks.manage, which event hooks need",
		HookRemedy: "grant okta.eventHooks.manage to the org's OAuth app (Okta API Scopes tab) and reauthorize the connection, or use delivery: poll"}); err != nil {
		t.Fatal(err)
	}
	code, out := e.api(t, "POST", "/api/v1/flows/suspend-everything/runs?wait=true", "application/json", `{}`)
	var flowRun struct{ ID string }
	if err := json.Unmarshal([]byte(out), &flowRun); code/100 != 2 || err != nil || flowRun.ID == "" {
		t.Fatalf("run the flow: %d %s", code, out)
	}

	// Titles tell runs apart: the card or flow, the status, the time.
	for addr, want := range map[string]*regexp.Regexp{
		runPages[1]:                regexp.MustCompile(`^Suspend Device run · failed · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · cardflow$`),
		"/flow-runs/" + flowRun.ID: regexp.MustCompile(`^suspend-everything run · failed · queued \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · cardflow$`),
	} {
		b.open(addr)
		if title := eval[string](b, "read the title", `document.title`); !want.MatchString(title) {
			t.Errorf("title of %s = %q; want it to match %s", addr, title, want)
		}
	}

	// A user connection whose 90 days are nearly over (the banner and the
	// list's mark), and a service connection waiting for its key.
	expiring := e.connect(t, "Expiring", nil)
	if err := e.store.UpdateConnection(context.Background(), expiring.ID, func(c *store.Connection) error {
		c.RefreshTokenExpiresAt = time.Now().Add(5 * 24 * time.Hour)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if code, out := e.api(t, "POST", "/api/v1/connections", "application/json",
		`{"connector":"okta-devices","auth":"service","nickname":"Robot","domain":"`+e.emu.URL+`","clientId":"`+oktaemu.DemoServiceClientID+`"}`); code != 201 {
		t.Fatalf("create a service connection: %d %s", code, out)
	}
	robot := e.connectionByNickname(t, "Robot")

	// A personal token, so that the tokens page lists one.
	if code, out := e.api(t, "POST", "/api/v1/tokens", "application/json", `{"name":"phone walk","role":"viewer"}`); code != 201 {
		t.Fatalf("create a token: %d %s", code, out)
	}

	// A person who signed in with single sign-on (cardflow login's token),
	// so that the People page lists someone to revoke.
	if _, err := e.app.Tokens.Create(context.Background(), access.Principal{Actor: store.Actor{Type: store.ActorUser, Login: oktaemu.UserLogin}, Role: access.Viewer},
		"cardflow login", "", 0); err != nil {
		t.Fatal(err)
	}

	pending := e.connectionByNickname(t, "Half done")
	start := append([]string{"/", "/connections/" + prod.ID, "/connections/" + pending.ID, "/connections/" + readOnly.ID, "/connections/" + expiring.ID,
		"/connections/" + robot.ID, "/connections/" + robot.ID + "/key", "/flows/nightly-read", "/flows/suspend-everything"}, runPages...)
	visited := b.crawl(routes, 1, parallelTests(), start...)
	visited["/signin"] = true
	visited["/signin/sso"] = true    // checked above: it leads to the org
	visited["/auth/callback"] = true // checked above: the refusal
	for _, r := range routes {
		if !visited[r] && r != "/static/" {
			t.Errorf("no link of the console leads to %s, so the walk did not check it: link it, or open it in this test", r)
		}
	}

	// Pages that only a form shows: a refused connection, a card form with
	// a missing input, a flow's plan, a refused reauthorization.
	b.open("/connections/new?connector=okta-devices")
	b.fill("Nickname", "Typo org")
	b.fill("Domain", "example-admin.okta.com")
	b.click(button("Create"))
	b.checkPage("new-connection-error")
	b.fillNewService("Robot two")
	b.do("type a wrong key", typeText(labelled("Private key (optional)"), "not a key"))
	b.click(button("Create"))
	b.checkPage("new-service-connection-error")
	// The key is never sent back: the field is empty, so cardflow generates one.
	b.click(button("Create"))
	b.checkPage("service-public-key")
	b.open("/cards/okta-devices/read-device?connection=" + prod.ID)
	b.click(button("Run"))
	b.checkPage("run-card-error")
	b.open("/cards/okta-devices/delete-device?connection=" + prod.ID)
	b.fill("deviceId", "guo-no-such-device")
	b.click(button("Run"))
	b.checkPage("run-card-confirm")
	b.open("/flows/suspend-everything")
	b.click(button("Plan"))
	b.checkPage("flow-plan")
	b.open("/connections/" + prod.ID + "/reauthorize")
	b.do("choose custom scopes", chromedp.Click(labelled("Customize scopes (advanced)")))
	b.do("untick every scope", chromedp.Click(labelled("okta.devices.read")), chromedp.Click(labelled("okta.devices.manage")))
	b.click(button("Reauthorize"))
	b.checkPage("reauthorize-error")
}

const needsInputFlow = `name: needs-input
inputs:
  ids:
    type: list
    required: true
    description: Device ids
steps:
  - id: read
    card: okta-devices/read-device
    connection: Prod
    for_each: ${{ inputs.ids }}
    input:
      deviceId: ${{ item }}
`

// errorSummaryScript describes the focused element and the page's title.
const errorSummaryScript = `(() => {
  const el = document.activeElement;
  return {title: document.title, focusedId: el ? el.id : '', role: el ? (el.getAttribute('role') || '') : '',
    text: el ? el.textContent.trim().replace(/\s+/g, ' ') : '',
    links: el ? [...el.querySelectorAll('a[href]')].map(a => a.getAttribute('href')) : []};
})()`

type focusedSummary struct {
	Title     string   `json:"title"`
	FocusedID string   `json:"focusedId"`
	Role      string   `json:"role"`
	Text      string   `json:"text"`
	Links     []string `json:"links"`
}

// TestBrowserFailedSubmitFocusesErrorSummary checks that a form sent back
// with errors puts focus on a summary of them (so that a screen reader
// reads it), with links to the fields, and says so in the title.
func TestBrowserFailedSubmitFocusesErrorSummary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	b := newTab(t, e)
	b.signIn()

	check := func(name, titlePrefix string, wantLinks []string, wantText ...string) {
		t.Helper()
		// The browser applies autofocus at a rendering update after the
		// page has loaded, not at once: wait for it (bounded, for a loaded
		// machine's browser renders late), then read.
		_, _ = chromedp.Run(b.ctx, chromedp.Poll[bool](`document.activeElement && document.activeElement.id === 'error-summary'`,
			chromedp.WithPollingTimeout(time.Minute)))
		s := eval[focusedSummary](b, "read the focus", errorSummaryScript)
		if s.FocusedID != "error-summary" {
			b.fatalf("%s: focus is on %q; want the error summary", name, s.FocusedID)
		}
		if s.Role != "alert" {
			t.Errorf("%s: the error summary's role is %q; want alert", name, s.Role)
		}
		if !strings.HasPrefix(s.Title, titlePrefix) {
			t.Errorf("%s: title %q; want it to start with %q", name, s.Title, titlePrefix)
		}
		if !slices.Equal(s.Links, wantLinks) {
			t.Errorf("%s: the summary links to %v; want %v", name, s.Links, wantLinks)
		}
		for _, w := range wantText {
			if !strings.Contains(s.Text, w) {
				t.Errorf("%s: summary %q lacks %q", name, s.Text, w)
			}
		}
	}

	b.open("/connections/new?connector=okta-devices")
	b.fill("Nickname", "Typo org")
	b.fill("Domain", "example-admin.okta.com")
	b.fill("Client ID", "0oaworkflowsclient")
	b.fill("Client secret", "demo-workflows-secret")
	b.click(button("Create"))
	check("new connection", "Error: New Okta Devices connection", []string{"#domain"}, "example.okta.com, not example-admin.okta.com")
	b.screenshot("error-summary-new-connection")
	// The summary's link takes keyboard users to the field.
	b.do("follow the summary's link", chromedp.Click(`//*[@id="error-summary"]//a`))
	b.do("press Tab", chromedp.KeyEvent(kb.Tab))
	if got := eval[string](b, "read the focus", `document.activeElement.id`); got != "domain" && got != "clientId" {
		t.Errorf("after following the summary's link to Domain, Tab focuses %q; want the Domain field or the one after it", got)
	}

	b.open("/cards/okta-devices/read-device?connection=" + v.ID)
	b.click(button("Run"))
	check("card form", "Error: Read Device", []string{"#in.deviceId"}, "deviceId is required")
	b.screenshot("error-summary-card-form")

	b.open("/cards/okta-devices/read-device")
	b.fill("deviceId", "guo1")
	b.click(button("Run"))
	check("card form without a connection", "Error: Read Device", []string{"#connection"}, "Choose the connection")

	// A flow whose plan is refused: a required input is missing.
	if code, out := e.api(t, "POST", "/api/v1/flows", "application/yaml", needsInputFlow); code != 201 {
		t.Fatalf("store the flow: %d %s", code, out)
	}
	b.open("/flows/needs-input")
	b.click(button("Plan"))
	check("flow plan", "Error: needs-input", []string{"#in.ids"}, "ids")

	// A form without errors leaves the focus alone and its title as it is.
	b.open("/connections/new?connector=okta-devices")
	if got := eval[string](b, "read the focus", `document.activeElement.id || document.activeElement.tagName`); got != "BODY" {
		t.Errorf("on a fresh New Connection form focus is on %q; want the page (nothing autofocused)", got)
	}
	if title := eval[string](b, "read the title", `document.title`); strings.HasPrefix(title, "Error") {
		t.Errorf("a fresh form's title is %q", title)
	}
}

// TestBrowserTopBarFitsADesktop: at 1280 px an admin's top bar holds every
// section on one line (People, an admin's only, last); the last one once
// wrapped under the others.
func TestBrowserTopBarFitsADesktop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	b.open("/audit")
	tops, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`Array.from(document.querySelectorAll('nav[aria-label="Main"] a')).map(a => a.getBoundingClientRect().top)`))
	if err != nil {
		b.fatalf("read the top bar: %v", err)
	}
	if len(tops) != 8 {
		b.fatalf("the admin's top bar has %d sections; want 8", len(tops))
	}
	for i, top := range tops {
		if top != tops[0] {
			t.Errorf("section %d of the top bar is at %.0f px, the first at %.0f px: the top bar wraps at 1280 px", i+1, top, tops[0])
		}
	}
	// Who is signed in (the bootstrap admin's is the longest name the
	// console itself gives) and Sign out share the line.
	bar, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`[document.querySelector('nav[aria-label="Main"]'), document.querySelector('.whoami'), document.querySelector('.signout')].map(e => e.getBoundingClientRect().bottom)`))
	if err != nil {
		b.fatalf("read the top bar: %v", err)
	}
	if bar[1] > bar[0] || bar[2] > bar[0]+8 {
		t.Errorf("the top bar wraps at 1280 px: the sections end at %.0f px, who is signed in at %.0f px, Sign out at %.0f px", bar[0], bar[1], bar[2])
	}
	b.screenshot("topbar-desktop")
}
