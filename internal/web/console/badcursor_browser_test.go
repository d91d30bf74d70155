package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserBadPageCursor: a list asked for with a before= (the Flows
// page's flow runs: runs_before=) that is not a page of it (an address
// edited or cut short) answers 400 with a notice
// that says what before must look like and links to the list's first page
// with its other filters kept, as the API refuses such a cursor; the pages
// showed the newest entries as if before were absent. A real cursor still
// pages.
func TestBrowserBadPageCursor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	if code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json",
		`{"card":"okta-devices/search-devices","connection":"Prod","input":{"status":"ACTIVE"}}`); code != http.StatusCreated {
		t.Fatalf("run a card: %d %s", code, out)
	}
	flowID := e.storeFlow(t, missingDeviceFlow)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", `{}`); code != http.StatusOK {
		t.Fatalf("run the flow: %d %s", code, out)
	}
	tests := []struct {
		name, path string
		want       []string
		first      string // the fix link's address
		good       string // a real cursor of the list: still a page
	}{
		{name: "flows", path: "/flows?runs_before=page2",
			want:  []string{`runs_before="page2" in this address is not a page of the flow runs`, `"_" and a flow run's id`, "Show the newest flow runs", "read-a-gone-device"},
			first: "/flows", good: "/flows?runs_before=4102444800000000000_x"},
		{name: "flow", path: "/flows/" + flowID + "?before=" + strings.Repeat("9", 60),
			want:  []string{`before="` + strings.Repeat("9", 40) + `…" in this address is not a page of the flow runs`, "Show the newest flow runs", "Steps"},
			first: "/flows/" + flowID, good: "/flows/" + flowID + "?before=4102444800000000000_x"},
		{name: "audit", path: "/audit?action=card.run&plans=exclude&before=yesterday",
			want:  []string{`before="yesterday" in this address is not a page of the audit trail`, "an audit event's id, a whole number", "Show the newest audit events"},
			first: "/audit?action=card.run&plans=exclude", good: "/audit?action=card.run&before=999999"},
		{name: "audit id zero", path: "/audit?before=0",
			want: []string{`before="0"`, "a whole number"}, first: "/audit"},
		{name: "events", path: "/events?connection=Prod&before=2026-01-01",
			want:  []string{"Events of Prod", `before="2026-01-01" in this address is not a page of the events`, `a time in Unix nanoseconds, "_" and an event's id`, "Show the newest events"},
			first: "/events?connection=Prod", good: "/events?connection=Prod&before=4102444800000000000_x"},
		{name: "runs", path: "/runs?connection=" + prod.ID + "&before=17",
			want:  []string{`before="17" in this address is not a page of the runs`, `"_" and a run's id`, "Show the newest runs"},
			first: "/runs?connection=" + prod.ID, good: "/runs?connection=" + prod.ID + "&before=4102444800000000000_x"},
	}
	c, _, _ := signInHTTP(t, e.url, "/connections")
	for _, tt := range tests {
		resp, body := get(t, c, e.url+tt.path)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: GET %s: status %d; want 400", tt.name, tt.path, resp.StatusCode)
		}
		if strings.Contains(body, `rel="next"`) || regexp.MustCompile(`aria-label="(Audit events|Events|Runs|Flow runs)"`).MatchString(body) {
			t.Errorf("%s: GET %s lists entries as if before were absent", tt.name, tt.path)
		}
		// The connection filter is known: no advice about connections.
		if strings.Contains(body, "Go to connections") {
			t.Errorf("%s: GET %s sends the reader to the connections:\n%s", tt.name, tt.path, body)
		}
		if tt.good != "" {
			if resp, _ := get(t, c, e.url+tt.good); resp.StatusCode != http.StatusOK {
				t.Errorf("%s: GET %s: status %d; want 200 (a page past the newest)", tt.name, tt.good, resp.StatusCode)
			}
		}
	}

	b := newTab(t, e)
	b.signIn()
	for _, width := range []int64{1280, phoneWidth} {
		b.do("emulate the screen", chromedp.EmulateViewport(width, 860, chromedp.EmulateScale(1)))
		for _, tt := range tests {
			b.open(tt.path)
			b.wantText(tt.want...)
			b.screenshot("bad-cursor-" + strings.ReplaceAll(tt.name, " ", "-") + "-" + map[int64]string{1280: "desktop", phoneWidth: "phone"}[width])
			b.click(`//*[@id="filter-error-fix"]`)
			u, err := url.Parse(b.location())
			if err != nil {
				b.fatalf("parse the address: %v", err)
			}
			if got := u.RequestURI(); got != tt.first {
				t.Errorf("%s: the fix link goes to %s; want %s (the first page, filters kept)", tt.name, got, tt.first)
			}
		}
	}
	b.setWidth(phoneWidth)
	for _, name := range []string{"audit", "events", "flow"} {
		for _, tt := range tests {
			if tt.name == name {
				b.open(tt.path)
				b.checkPage(name + "-bad-cursor")
			}
		}
	}
}
