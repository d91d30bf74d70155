package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/store"
)

// errorBreaksScript lists where the Error cells of the flow run table
// break a word onto another line (wordBreaksScript).
var errorBreaksScript = wordBreaksScript(`[aria-label="Flow runs"] td[data-label="Error"]`)

// wordBreaksScript returns a script that lists where the cells matching
// the CSS selector cells break a word onto another line, as
// "before|after" (a few letters each side), but for a break at white
// space, after one of "@./-_", or inside an id of 20 letters and digits
// or more, digits among them (a run's hex id, an Okta id such as
// guo1a2b3c4d5e6f7g8h9: no place to break, and maybe wider than the
// cell).
func wordBreaksScript(cells string) string {
	return `(() => {
  const breaks = [];
  for (const cell of document.querySelectorAll(` + strconv.Quote(cells) + `)) {
    const chars = [];
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      for (let i = 0; i < n.data.length; i++) chars.push([n, i]);
    }
    const text = chars.map(([n, i]) => n.data[i]).join('');
    const inID = k => {
      let a = k, b = k;
      while (a > 0 && /[0-9A-Za-z]/.test(text[a - 1])) a--;
      while (b < text.length && /[0-9A-Za-z]/.test(text[b])) b++;
      return b - a >= 20 && /[0-9]/.test(text.slice(a, b)) && a < k && k < b;
    };
    let top = null;
    chars.forEach(([n, i], k) => {
      const r = document.createRange();
      r.setStart(n, i); r.setEnd(n, i + 1);
      const rect = r.getBoundingClientRect();
      if (rect.height === 0) return;
      const t = Math.round(rect.top);
      if (top !== null && t > top && !/[\s@./_-]/.test(text[k - 1]) && !/\s/.test(text[k]) && !inID(k)) {
        breaks.push(text.slice(Math.max(0, k - 8), k) + '|' + text.slice(k, k + 8));
      }
      top = t;
    });
  }
  return breaks;
})()`
}

// TestBrowserFlowRunErrorsWrapAtTokenBreaks: the Error column of the flow
// run tables, on the Flows page and a flow's page, at 1280 and 390 px,
// wraps an email address, a host, a path and a name only after an "@", a
// ".", a "/", a "-" or a "_" or between words, where it broke them at
// whatever letter reached the cell's edge ("admin@example.co" / "m)"); an
// id too long for the cell still breaks inside, and the page does not
// scroll sideways. A stopping run whose cancel request does not record
// who asked (stored by a server of an earlier version) says "Cancel
// requested (by whom is not recorded)", where its Error cell was empty.
func TestBrowserFlowRunErrorsWrapAtTokenBreaks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	ctx := context.Background()
	f, err := e.store.GetFlow(ctx, flowID)
	if err != nil {
		t.Fatal(err)
	}
	admin := store.Actor{Type: store.ActorUser, Login: "admin@example.com"}
	rey := store.Actor{Type: store.ActorUser, Login: "readonly@example.com"}
	const runID = "0123456789abcdef0123456789abcdef"
	runs := []store.FlowRun{
		{Status: "canceled", Actor: rey, CancelRequestedBy: admin},
		{Status: "canceled", Actor: rey, CancelRequestedBy: admin, CancelReason: "its starter readonly@example.com's access was revoked"},
		{Status: "canceled", Actor: rey, CancelRequestedBy: store.Actor{Type: store.ActorUser, Login: "margaret.hamilton@example.com"}},
		{Status: "canceled", Actor: rey, CancelRequestedBy: store.Actor{Type: store.ActorToken, Login: "ops_team-oncall@corp.example.net", TokenName: "nightly"}},
		{Status: "failed", Actor: rey, Error: "step suspend: okta-devices/suspend-device refused for grace.hopper@example.org: E0000006 You do not have permission"},
		{Status: "failed", Actor: admin, Error: "step read: no device of alexandria.ocasio-smith@subdomain.example.com at https://dev-123456.okta.com/api/v1/devices"},
		{Status: "failed", Actor: admin, Error: "step find: https://dev-123456.okta.com/api/v1/devices answered 503 Service Unavailable\n" +
			"(resuming it after its server stopped; the items it had finished are kept: once this is fixed, run only the rest with cardflow flows rerun " + runID + " --failed-only)"},
		// Stopping, asked by a request a server of an earlier version
		// stored, without who asked; another server runs it.
		{Status: "running", Actor: rey, Owner: "another-server", LeaseUntil: time.Now().Add(24 * time.Hour)},
	}
	at := time.Now().Add(-time.Hour)
	for i := range runs {
		r := &runs[i]
		at = at.Add(time.Minute)
		r.ID = fmt.Sprintf("wraprun%02d", i)
		r.FlowID, r.FlowName, r.Source, r.FlowVersion, r.Inputs = f.ID, f.Name, f.Source, f.Version, json.RawMessage(`{}`)
		r.CreatedAt, r.StartedAt = at, at
		if r.Status != "running" {
			r.FinishedAt = at.Add(time.Second)
		}
		if r.Status == "canceled" || r.Status == "running" {
			r.CancelRequestedAt = at
		}
		if err := e.store.CreateFlowRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	b := newTab(t, e)
	b.signIn()
	for _, w := range []int64{1280, phoneWidth} {
		for page, path := range map[string]string{"flows": "/flows", "flow": "/flows/" + flowID} {
			if w == 1280 {
				b.do("emulate the screen", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
			} else {
				b.setWidth(w)
			}
			b.open(path)
			b.screenshot(fmt.Sprintf("flow-run-errors-wrap-%s-%d", page, w))
			if got := b.text(`//tr[td/a[@href="/flow-runs/wraprun00"]]/td[@data-label="Error"]`); got != "Canceled: asked by admin@example.com" {
				b.fatalf("%s: the Error of the run admin canceled says %q", path, got)
			}
			if got := b.text(`//tr[td/a[@href="/flow-runs/wraprun07"]]/td[@data-label="Error"]`); got != "Cancel requested (by whom is not recorded)" {
				b.fatalf("%s: the Error of the stopping run whose request does not record who asked says %q; want Cancel requested (by whom is not recorded)", path, got)
			}
			if breaks := eval[[]string](b, "find where the errors break", errorBreaksScript); len(breaks) > 0 {
				t.Errorf("%s at %d px: the Error column breaks words at %q; want breaks only between words or after \"@\", \".\", \"/\", \"-\" or \"_\"", path, w, breaks)
			}
			b.checkWidth(path, int(w))
			if fit := eval[[]int](b, "measure the table", `(() => { const r = document.querySelector('[aria-label="Flow runs"]'); return [r.scrollWidth, r.clientWidth]; })()`); fit[0] > fit[1] {
				t.Errorf("%s at %d px: the flow runs table is %d px wide in a region of %d px; want it to fit", path, w, fit[0], fit[1])
			}
		}
	}
	// The text reads as before: copied, an address is one word.
	b.open("/flows")
	if got := b.text(`//tr[td/a[@href="/flow-runs/wraprun05"]]/td[@data-label="Error"]`); !strings.Contains(got, " alexandria.ocasio-smith@subdomain.example.com at https://dev-123456.okta.com/api/v1/devices") {
		t.Errorf("the Error of run wraprun05 reads %q; want the address and the URL whole", got)
	}
}
