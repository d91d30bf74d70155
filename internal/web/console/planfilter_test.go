package console_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestPlansFilter: the Runs and Audit pages filter by flow plans as the
// API and the command line do (plans include, exclude, only), in their
// filter forms, and say so above the list; a value the filter does not
// take is refused with the choices.
func TestPlansFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/plan", "application/json", `{}`); code != http.StatusOK {
		t.Fatalf("plan: %d %s", code, out)
	}
	if code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json", `{"card":"okta-devices/read-device","connection":"Prod","input":{"deviceId":"guoNONE"}}`); code/100 != 2 {
		t.Fatalf("run a card: %d %s", code, out)
	}
	c, _, _ := signInHTTP(t, e.url, "/runs")
	const planRead, direct = `run of okta-devices/search-devices`, `run of okta-devices/read-device`
	for _, tc := range []struct {
		name, path string
		want, not  []string
	}{
		{"runs", "/runs", []string{`<select id="runs-plans" name="plans" aria-describedby="runs-plans-help"><option value="">Include</option><option value="exclude">Exclude</option><option value="only">Only</option></select>`,
			planRead, direct}, []string{`id="runs-filtered"`}},
		{"runs of plans", "/runs?plans=only", []string{`<option value="only" selected>Only</option>`, planRead,
			`<p class="help" id="runs-filtered">Filtered: flow plans&#39; reads only · <a href="/runs">show all</a></p>`}, []string{direct}},
		{"runs of no plan", "/runs?plans=exclude&connection=Prod", []string{`<option value="exclude" selected>Exclude</option>`, direct,
			`Filtered by connection Prod, flow plans&#39; reads left out · `}, []string{planRead}},
		{"audit", "/audit", []string{`<select id="audit-plans" name="plans" aria-describedby="audit-plans-help"><option value="">Include</option>`,
			"<code>flow.plan</code></td>", `okta-devices/read-device`}, []string{`id="audit-filtered"`}},
		{"audit of plans", "/audit?plans=only", []string{`<option value="only" selected>Only</option>`, "<code>flow.plan</code></td>",
			"<code>card.run</code></td>", `<p class="help" id="audit-filtered">Events, flow plans and their reads only, newest first.</p>`},
			[]string{`okta-devices/read-device`, "<code>connection.create</code></td>"}},
		{"audit of no plan", "/audit?plans=exclude&action=card.run", []string{`<option value="exclude" selected>Exclude</option>`, `okta-devices/read-device`,
			`Events <code>card.run</code>, flow plans and their reads left out, newest first.`}, []string{"<code>flow.plan</code></td>", `okta-devices/search-devices`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, e.url+tc.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d; want 200\n%s", resp.StatusCode, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %s:\n%s", w, body)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(body, w) {
					t.Errorf("the page has %s:\n%s", w, body)
				}
			}
		})
	}
	for path, want := range map[string]string{
		"/audit?action=flow.plan&plans=exclude":      "Every flow.plan event is a flow plan&#39;s, so Exclude under Flow plans leaves them all out.",
		"/audit?action=connection.create&plans=only": "No connection.create event is a flow plan&#39;s: flow plans make only card.run and flow.plan events.",
	} {
		resp, body := get(t, c, e.url+path)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, want) || !strings.Contains(body, "Pick Include under Flow plans, or ") {
			t.Errorf("%s: status %d; want 400 and %s with what to pick:\n%s", path, resp.StatusCode, want, body)
		}
	}
	for _, path := range []string{"/runs?plans=hide", "/audit?plans=hide"} {
		resp, body := get(t, c, e.url+path)
		if w := `Unknown plans filter &#34;hide&#34;.`; resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, w) || !strings.Contains(body, "Pick Include, Exclude or Only from the Flow plans list above.") {
			t.Errorf("%s: status %d; want 400 and %s with the choices:\n%s", path, resp.StatusCode, w, body)
		}
	}
}

// TestFilterAddressIsClean: a Runs or Audit address with the empty fields
// a filter form submits (or plans=include, the default, or a value with
// spaces around it) is redirected to the address of the filters set
// alone, which is shown as it is.
func TestFilterAddressIsClean(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	c, _, _ := signInHTTP(t, e.url, "/runs")
	for _, tc := range []struct{ path, clean string }{
		{"/runs?card=&connection=&plans=", "/runs"},
		{"/runs?card=&connection=Prod&plans=", "/runs?connection=Prod"},
		{"/runs?card=okta-devices%2Fread-device&connection=&plans=only", "/runs?card=okta-devices%2Fread-device&plans=only"},
		{"/runs?plans=include&connection=+Prod+", "/runs?connection=Prod"},
		{"/audit?action=&connection=&actor=&plans=", "/audit"},
		{"/audit?action=flow.plan&connection=&actor=&plans=only", "/audit?action=flow.plan&plans=only"},
		{"/audit?action=&connection=&actor=admin%40example.com&plans=&before=", "/audit?actor=admin%40example.com"},
	} {
		resp, body := get(t, c, e.url+tc.path)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != tc.clean {
			t.Errorf("%s: status %d, Location %q; want 302 to %s\n%s", tc.path, resp.StatusCode, loc, tc.clean, body)
		}
		if resp, body := get(t, c, e.url+tc.clean); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d; want 200\n%s", tc.clean, resp.StatusCode, body)
		}
	}
}
