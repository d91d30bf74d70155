package console_test

import (
	"net/http"
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
