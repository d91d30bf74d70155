package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserFlowWarnings: a flow whose document has warnings (timezone
// EST, a cron's ?) shows them on its page, at 1280 px, in a notice above
// the trigger with each one's line, path and fix, and the page keeps what
// it offers (Enable, Plan, Run): the flow is valid and runs as written. A
// flow without warnings shows no notice.
func TestBrowserFlowWarnings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	id := e.storeFlow(t, strings.NewReplacer(`cron: "0 2 * * *"`, `cron: "0 2 ? * *"`, "Europe/Berlin", "EST").Replace(nightlyFlow))
	plain := e.storeFlow(t, strings.Replace(nightlyFlow, "nightly-read", "nightly-plain", 1))

	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	b.open("/flows/" + id)
	b.wantText("2 warnings of this flow's document:",
		"The flow is valid and runs as written",
		`Line 7, on.schedule.cron: cron "0 2 ? * *": the day-of-month field's ? is read as * (every day). How to fix it: Write * instead (? is Quartz's, not cron's).`,
		"Line 8, on.schedule.timezone: timezone EST is a fixed offset, UTC-5 all year, without daylight saving time",
		"How to fix it: Write timezone: America/New_York")
	b.screenshot("flow-warnings")
	if !eval[bool](b, "place the notice", `(() => {
  const n = document.getElementById('flow-warnings').getBoundingClientRect();
  const trigger = document.getElementById('trigger-title').getBoundingClientRect();
  return n.height > 0 && n.top >= 0 && n.bottom <= trigger.top && n.right <= window.innerWidth;
})()`) {
		t.Errorf("the warnings' notice is not shown above the trigger, within the page")
	}
	for _, sel := range []string{`form[action="/flows/` + id + `/enable"] button`, `button[formaction="/flows/` + id + `/plan"]`, `form[action="/flows/` + id + `/runs"] button.button-primary`} {
		if !eval[bool](b, "find "+sel, `!!document.querySelector('`+sel+`')`) {
			t.Errorf("the page of a flow with warnings lacks %s", sel)
		}
	}
	if href := eval[string](b, "read the line's link", `document.querySelector('#flow-warnings a').getAttribute('href')`); href != "/flows/"+id+"/versions/1#L7" {
		t.Errorf("a warning's line links to %q; want its line in the document, /flows/%s/versions/1#L7", href, id)
	}

	c, _, _ := signInHTTP(t, e.url, "/flows")
	if resp, body := get(t, c, e.url+"/flows/"+plain); resp.StatusCode != http.StatusOK || strings.Contains(body, "flow-warnings") {
		t.Errorf("the page of a flow without warnings: %d, with a warnings' notice: %v", resp.StatusCode, strings.Contains(body, "flow-warnings"))
	}
}
