package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserFlowVersionWarnings: the flows list marks a flow whose
// document has warnings with their count, linking to their notice on its
// page; a warning's line link opens the version's document at that line
// (#L8, the line marked); a version's page lists its own warnings, an
// earlier version's as of that version ("Its runs ran as written"), and a
// version without warnings, none.
func TestBrowserFlowVersionWarnings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	warned := strings.Replace(nightlyFlow, "Europe/Berlin", "EST", 1)
	id := e.storeFlow(t, warned)
	e.storeFlow(t, strings.Replace(nightlyFlow, "nightly-read", "nightly-plain", 1))

	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	b.open("/flows")
	if mark := eval[string](b, "read the mark", `document.querySelector('a[href="/flows/`+id+`#flow-warnings"]').textContent`); mark != "1 warning of nightly-read" {
		t.Errorf("the flows list marks nightly-read with %q; want 1 warning, linked to its notice", mark)
	}
	if n := eval[int](b, "count the marks", `document.querySelectorAll('a[href$="#flow-warnings"]').length`); n != 1 {
		t.Errorf("the flows list has %d warnings' marks; want 1 (nightly-plain has none)", n)
	}
	b.screenshot("flows-warning-mark")

	b.open("/flows/" + id)
	b.click(`//*[@id="flow-warnings"]//a[text()="Line 8"]`)
	if loc := b.location(); !strings.HasSuffix(loc, "/flows/"+id+"/versions/1#L8") {
		t.Fatalf("the warning's line link leads to %s; want version 1's line 8", loc)
	}
	if line := eval[string](b, "read the marked line", `(document.querySelector(':target') || {}).textContent || ''`); line != "    timezone: EST" {
		t.Errorf("the marked line reads %q; want the document's line 8, %q", line, "    timezone: EST")
	}
	if src := b.text(`//*[@id="flow-version-source"]`); src != warned {
		t.Errorf("the version's document reads\n%s\nwant\n%s", src, warned)
	}
	b.wantText("A warning of this flow's document:", "Line 8, on.schedule.timezone: timezone EST is a fixed offset", "The flow is valid and runs as written")
	b.screenshot("version-line")

	// Version 2 has no warnings: version 1's page keeps its own.
	e.storeFlow(t, nightlyFlow)
	c, _, _ := signInHTTP(t, e.url, "/flows")
	_, v1 := get(t, c, e.url+"/flows/"+id+"/versions/1")
	for _, want := range []string{"A warning of this version's document:", "Its runs ran as written.", `href="/flows/` + id + `/versions/1#L8"`} {
		if !strings.Contains(v1, want) {
			t.Errorf("version 1's page lacks %q", want)
		}
	}
	for _, path := range []string{"/flows/" + id + "/versions/2", "/flows/" + id, "/flows"} {
		if resp, body := get(t, c, e.url+path); resp.StatusCode != http.StatusOK || strings.Contains(body, "flow-warnings") {
			t.Errorf("%s, of a flow whose version 2 has no warnings: %d, with a warnings' notice or mark: %v", path, resp.StatusCode, strings.Contains(body, "flow-warnings"))
		}
	}
}
