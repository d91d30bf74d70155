package console_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserFlowsListKeepsNamesAndTimesWhole: the Flows page's list at
// 1280 px, beside an enabled event flow's long trigger, keeps each flow's
// name (up to 12rem long, as the flow run tables do) from breaking at its
// hyphens and its Next run and Updated times on one line, where they broke
// into "offboard-user-" / "devices" and "2026-12-06" / "17:14:53 UTC". An
// event trigger says how its events arrive (by System Log polls).
func TestBrowserFlowsListKeepsNamesAndTimesWhole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	for _, doc := range []string{
		"name: offboard-user-devices\non:\n  schedule:\n    cron: \"0 2 * * *\"\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Prod\n    input: {status: ACTIVE}\n",
		"name: quarantine-on-user-removal\non:\n  event:\n    card: okta-devices/device-removed-from-user\n    connection: Prod\n    delivery: poll\nsteps:\n  - id: read\n    card: okta-devices/read-device\n    connection: Prod\n    input: {deviceId: \"${{ trigger.event.device.id }}\"}\n",
	} {
		id := e.storeFlow(t, doc)
		if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+id+"/enable", "", ""); code != http.StatusOK {
			t.Fatalf("enable flow %s: %d %s", id, code, out)
		}
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate the screen", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	b.open("/flows")
	b.screenshot("flows-list-desktop")
	// The event trigger says how its events arrive, where it named the
	// card and the connection only.
	if got, want := b.text(`//tr[td/a[normalize-space(.)="quarantine-on-user-removal"]]/td[@data-label="Trigger"]`), "event okta-devices/device-removed-from-user on Prod, by System Log polls"; got != want {
		b.fatalf("the event flow's trigger reads %q; want %q", got, want)
	}
	lines := eval[map[string]int](b, "count the lines of the names and times", `(() => { const out = {};
		for (const tr of document.querySelectorAll('[aria-label="Flows"] tbody tr')) {
			const name = tr.querySelector('td').innerText.trim();
			for (const td of [tr.querySelector('td'), tr.querySelector('td[data-label="Next run"]'), tr.querySelector('td[data-label="Updated"]')]) {
				const r = document.createRange(); r.selectNodeContents(td);
				out[name + ' ' + (td.dataset.label || 'Name')] = new Set([...r.getClientRects()].map(c => Math.round(c.top))).size;
			}
		}
		return out; })()`)
	if len(lines) != 6 {
		t.Fatalf("the Flows list has cells %v; want the name, Next run and Updated of 2 flows", lines)
	}
	for cell, n := range lines {
		if n != 1 {
			t.Errorf("/flows at 1280 px: %s takes %d lines; want 1", cell, n)
		}
	}
	if fit := eval[[]int](b, "measure the table", `(() => { const r = document.querySelector('[aria-label="Flows"]'); return [r.scrollWidth, r.clientWidth]; })()`); fit[0] > fit[1] {
		t.Errorf("/flows at 1280 px: the Flows table is %d px wide in a region of %d px; want it to fit", fit[0], fit[1])
	}
	// On a phone each flow is a block: the name's least width does not
	// widen the page.
	for _, w := range []int64{phoneWidth, narrowWidth} {
		b.setWidth(w)
		b.checkWidth("flows", int(w))
		if fit := eval[[]int](b, "measure the table", `(() => { const r = document.querySelector('[aria-label="Flows"]'); return [r.scrollWidth, r.clientWidth]; })()`); fit[0] > fit[1] {
			t.Errorf("/flows at %d px: the Flows table is %d px wide in a region of %d px; want it to fit", w, fit[0], fit[1])
		}
	}
}

// TestBrowserDisabledFlowIsNotRed: a disabled flow's dot, in the Flows list
// and on its page, is grey, where it had the red of what stopped working
// (a failed run, a broken connection), though every flow with a trigger is
// stored disabled; in the list the dot stays beside its word, where the
// narrow Enabled column put "disabled" on a line under it.
func TestBrowserDisabledFlowIsNotRed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	doc := "name: %s\non:\n  schedule:\n    cron: \"0 2 * * *\"\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Prod\n    input: {status: ACTIVE}\n"
	off := e.storeFlow(t, fmt.Sprintf(doc, "nightly-off"))
	on := e.storeFlow(t, fmt.Sprintf(doc, "nightly-on"))
	// An event flow's long trigger takes the width of the Enabled column.
	event := e.storeFlow(t, "name: quarantine-on-user-removal\non:\n  event:\n    card: okta-devices/device-removed-from-user\n    connection: Prod\n    delivery: poll\nsteps:\n  - id: read\n    card: okta-devices/read-device\n    connection: Prod\n    input: {deviceId: \"${{ trigger.event.device.id }}\"}\n")
	for _, id := range []string{on, event} {
		if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+id+"/enable", "", ""); code != http.StatusOK {
			t.Fatalf("enable flow %s: %d %s", id, code, out)
		}
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate the screen", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	red := eval[string](b, "resolve the console's red", `(() => { const d = document.createElement('div'); d.style.color = getComputedStyle(document.documentElement).getPropertyValue('--bad').trim(); document.body.append(d); const c = getComputedStyle(d).color; d.remove(); return c; })()`)
	type dot struct {
		Class string `json:"class"`
		Fill  string `json:"fill"`
		Lines int    `json:"lines"`
	}
	// dotOf reads the dot in the element sel, and on how many lines the
	// dot and the text after it lie (2 when the text starts on another
	// line than the dot).
	dotOf := func(sel string) dot {
		t.Helper()
		return eval[dot](b, "read the dot of "+sel, `((sel) => {
  const box = document.evaluate(sel, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
  const d = box && box.querySelector('.dot');
  if (!d) { return {}; }
  const r = document.createRange(); r.selectNodeContents(d.nextSibling);
  const text = [...r.getClientRects()].filter(c => c.width > 0), dr = d.getBoundingClientRect(), mid = (dr.top + dr.bottom) / 2;
  // The dot is on the line of the text's first word when its middle is.
  const first = text[0];
  return {class: d.className, fill: getComputedStyle(d).backgroundColor, lines: first && mid >= first.top && mid <= first.bottom ? new Set(text.map(c => Math.round(c.top))).size : 2};
})(`+strconv.Quote(sel)+`)`)
	}
	b.open("/flows")
	cell := func(name string) string {
		return `//tr[td/a[normalize-space(.)="` + name + `"]]/td[@data-label="Enabled"]`
	}
	if d := dotOf(cell("nightly-off")); !strings.Contains(d.Class, "dot-off") || d.Fill == red || d.Lines != 1 {
		t.Errorf("the disabled flow's dot in the list: %+v; want grey dot-off (not red %s) on the line of its word", d, red)
	}
	if d := dotOf(cell("nightly-on")); !strings.Contains(d.Class, "dot-ok") || d.Lines != 1 {
		t.Errorf("the enabled flow's dot in the list: %+v; want dot-ok on the line of its word", d)
	}
	b.screenshot("flows-list-disabled")
	b.open("/flows/" + off)
	if d := dotOf(`//p[contains(., "Disabled")]`); !strings.Contains(d.Class, "dot-off") || d.Fill == red {
		t.Errorf("the disabled flow's dot on its page: %+v; want grey dot-off, not red %s", d, red)
	}
	b.screenshot("flow-disabled")
}
