package console_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/chromedp/chromedp"
)

// TestBrowserListTimesReadWhole: the times in the Events list (published,
// received) and in the API tokens list (created, expires) read on one line
// at 1280 px, as the other lists' times do, where they broke into
// "2026-12-07" / "02:35:10 UTC" beside the other columns.
func TestBrowserListTimesReadWhole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	raw := `{"uuid":"ev-times","target":[{"id":"guotimes1","type":"UDDevice","displayName":"Eng-qa-SFL-0011"}],"actor":{"alternateId":"someone.with.a.long.login@example.com"}}`
	if _, err := e.store.PutEvents(t.Context(), []*store.Event{{UUID: "ev-times", ConnectionID: v.ID, EventType: "device.lifecycle.suspend",
		Published: at, Raw: json.RawMessage(raw), ReceivedAt: at}}, store.ViaPoll); err != nil {
		t.Fatal(err)
	}
	if code, out := e.api(t, http.MethodPost, "/api/v1/tokens", "application/json", `{"name":"nightly export of the devices","role":"viewer","expiresIn":"24h"}`); code != http.StatusCreated {
		t.Fatalf("create the token: %d %s", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate the screen", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	for _, page := range []struct {
		path  string
		cells []string // the data-label of the cells whose time reads whole
	}{
		{"/events", []string{"Published"}}, // published, and received under it
		{"/tokens", []string{"Created", "Expires"}},
	} {
		b.open(page.path)
		for _, label := range page.cells {
			lines := eval[[]int](b, "count the lines of the times in "+label, `(() => {
  const td = document.querySelector('main tbody td[data-label="`+label+`"]');
  const walk = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
  const lines = [];
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const m = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/.exec(n.textContent);
    if (!m) { continue; }
    const r = document.createRange(); r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
    lines.push(new Set([...r.getClientRects()].map(c => Math.round(c.top))).size);
  }
  return lines;
})()`)
			if len(lines) == 0 || slices.ContainsFunc(lines, func(n int) bool { return n != 1 }) {
				t.Errorf("%s at 1280 px: the times in %s take %v lines (none: no time found); want 1 each", page.path, label, lines)
			}
		}
		if fit := eval[[]int](b, "measure the table", `(() => { const r = document.querySelector('main .table-scroll'); return [r.scrollWidth, r.clientWidth]; })()`); fit[0] > fit[1] {
			t.Errorf("%s at 1280 px: the table is %d px wide in a region of %d px; want it to fit", page.path, fit[0], fit[1])
		}
		b.screenshot("times-whole-" + page.path[1:])
	}
}
