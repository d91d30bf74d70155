package console_test

import (
	"net/http"
	"testing"
)

// TestBrowserFilterFormsKeepCleanAddresses: the Runs and Audit filter
// forms, submitted in the browser, lead to addresses naming only the
// filters set (the server redirects the form's empty fields away; no
// script), the plans filter among them, and the pages pass the page
// checks on a phone with the new field.
func TestBrowserFilterFormsKeepCleanAddresses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/plan", "application/json", `{}`); code != http.StatusOK {
		t.Fatalf("plan: %d %s", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	want := func(path string) {
		t.Helper()
		if got := b.location(); got != e.url+path {
			b.fatalf("the address is %s; want %s", got, e.url+path)
		}
	}
	b.open("/runs")
	b.click(button("Filter"))
	want("/runs")
	b.selectOption("Flow plans", "only")
	b.click(button("Filter"))
	want("/runs?plans=only")
	b.wantText("Filtered: flow plans' reads only", "search-devices")
	b.fill("Connection (nickname or id)", "Prod")
	b.click(button("Filter"))
	want("/runs?connection=Prod&plans=only")
	b.wantText("Filtered by connection Prod, flow plans' reads only")

	b.open("/audit")
	b.selectOption("Action", "flow.plan")
	b.click(button("Filter"))
	want("/audit?action=flow.plan")
	b.wantText("flow suspend-everything (" + flowID + ")")
	b.selectOption("Action", "")
	b.selectOption("Flow plans", "exclude")
	b.click(button("Filter"))
	want("/audit?plans=exclude")
	b.wantText("Events, flow plans and their reads left out, newest first.", "connection.create")
	b.click(link("Show all events"))
	want("/audit")

	p := newPhoneTab(t, e)
	p.signIn()
	p.open("/runs?plans=only")
	p.checkPage("runs-plans-only")
	p.open("/audit?plans=only")
	p.checkPage("audit-plans-only")
}
