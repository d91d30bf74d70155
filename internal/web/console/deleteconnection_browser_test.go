package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// scheduledFlow is a nightly flow whose steps search devices through the
// connections named by step id (find, recount, s1).
func scheduledFlow(name string, steps map[string]string) string {
	doc := "name: " + name + "\non:\n  schedule:\n    cron: \"0 2 * * *\"\nsteps:\n"
	for _, id := range []string{"find", "recount", "s1"} {
		if conn, ok := steps[id]; ok {
			doc += "  - id: " + id + "\n    card: okta-devices/search-devices\n    connection: " + conn + "\n    input: {search: 'status eq \"ACTIVE\"'}\n"
		}
	}
	return doc
}

// TestBrowserDeleteConnectionNamesItsFlows: the Delete confirmation of a
// connection names the enabled flows that use it, each linked to its page
// with what of it uses the connection, says what happens to them and what
// to do instead; after the deletion the warning says it in the console's
// terms (the flow's page and its Disable button), not the command line's.
// A disabled flow and a flow of another connection are not named.
func TestBrowserDeleteConnectionNamesItsFlows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	e.connect(t, "Other", nil)
	enable := func(id string) {
		t.Helper()
		if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+id+"/enable", "", ""); code != http.StatusOK {
			t.Fatalf("enable %s: %d %s", id, code, out)
		}
	}
	watch := e.storeFlow(t, `name: removal-watch
inputs:
  deviceId: {type: string, required: true}
on:
  event:
    card: okta-devices/device-removed-from-user
    connection: Prod
    delivery: poll
  inputs:
    deviceId: ${{ trigger.event.device.id }}
steps:
  - id: device
    card: okta-devices/read-device
    connection: Other
    input: {deviceId: "${{ inputs.deviceId }}"}
`)
	enable(watch)
	sweep := e.storeFlow(t, scheduledFlow("nightly-sweep", map[string]string{"find": prod.ID, "recount": "Prod"}))
	enable(sweep)
	enable(e.storeFlow(t, scheduledFlow("nightly-other", map[string]string{"s1": "Other"})))
	e.storeFlow(t, scheduledFlow("nightly-off", map[string]string{"s1": "Prod"}))

	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	b.open("/connections/" + prod.ID)
	b.click(link("Delete"))
	b.wantText("Delete Prod?", "2 enabled flows use it",
		"removal-watch: the event trigger", "nightly-sweep: steps find and recount",
		"their scheduled runs fail and Okta events start no run of them",
		"disable each flow first (open it and press Disable)", "reauthorize it instead of deleting it")
	for _, notNamed := range []string{"nightly-other", "nightly-off"} {
		if strings.Contains(b.mainText(), notNamed) {
			t.Errorf("the confirmation names %s; want only the enabled flows that use Prod", notNamed)
		}
	}
	wantLinks := func(where string) {
		t.Helper()
		for name, id := range map[string]string{"removal-watch": watch, "nightly-sweep": sweep} {
			got := eval[[]string](b, "read the links to "+name, `[...document.querySelectorAll('main a')].filter(a => a.textContent === `+jsString(name)+`).map(a => a.getAttribute('href'))`)
			if len(got) != 1 || got[0] != "/flows/"+id {
				t.Errorf("%s links %s to %v; want /flows/%s", where, name, got, id)
			}
		}
	}
	wantLinks("the confirmation")
	if got := eval[[]string](b, "read the reauthorize link", `[...document.querySelectorAll('main a')].filter(a => a.textContent === 'reauthorize it').map(a => a.getAttribute('href'))`); len(got) != 1 || got[0] != "/connections/"+prod.ID+"/reauthorize" {
		t.Errorf("the confirmation's reauthorize link goes to %v; want /connections/%s/reauthorize", got, prod.ID)
	}
	b.screenshot("delete-connection-flows-desktop")
	b.setWidth(phoneWidth)
	b.screenshot("delete-connection-flows-phone")
	if _, err := e.manager.Get(context.Background(), prod.ID); err != nil {
		t.Fatalf("the connection is gone before the confirmation: %v", err)
	}

	b.click(button("Delete"))
	b.wantText("Deleted the connection Prod",
		"the enabled flows below used Prod", "their scheduled runs fail and Okta events start no run of them",
		"removal-watch: the event trigger", "nightly-sweep: steps find and recount",
		"Open each flow's page and press Disable")
	if got := b.mainText(); strings.Contains(got, "cardflow flows") {
		t.Errorf("the console's warning after the deletion gives command line advice:\n%s", got)
	}
	wantLinks("the warning after the deletion")
	b.screenshot("delete-connection-flows-done-phone")
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	b.screenshot("delete-connection-flows-done-desktop")

	// The advice works: the link leads to the flow's page, whose Disable
	// disables it.
	b.click(link("removal-watch"))
	b.click(button("Disable"))
	if f, err := e.store.GetFlow(context.Background(), watch); err != nil || f.Enabled {
		t.Errorf("after Disable on its page removal-watch: %+v, %v; want it disabled", f, err)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// TestBrowserDeleteConnectionAsksAgainWhenItsFlowsChange: a flow enabled
// after the Delete confirmation was shown is not broken on the strength of
// a confirmation that did not name it: Delete shows the confirmation again
// with the flows it now breaks, and only the Delete on that page deletes.
// A flow disabled meanwhile needs no new confirmation.
func TestBrowserDeleteConnectionAsksAgainWhenItsFlowsChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	test := e.connect(t, "Test", nil)
	enable := func(id, verb string) {
		t.Helper()
		if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+id+"/"+verb, "", ""); code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", verb, id, code, out)
		}
	}
	enable(e.storeFlow(t, scheduledFlow("nightly-sweep", map[string]string{"find": "Prod"})), "enable")
	late := e.storeFlow(t, scheduledFlow("late-sweep", map[string]string{"s1": "Prod", "recount": prod.ID}))
	gone := func(id string) bool {
		t.Helper()
		_, err := e.manager.Get(context.Background(), id)
		return err != nil
	}

	b := newTab(t, e)
	b.signIn()
	b.open("/connections/" + prod.ID + "/delete")
	b.wantText("An enabled flow uses it", "nightly-sweep: step find")
	enable(late, "enable") // while the confirmation is open
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(button("Delete")))
	if err != nil {
		b.fatalf("press Delete: %v", err)
	}
	if resp.Status != http.StatusConflict {
		t.Errorf("Delete after another flow was enabled answers %d; want 409", resp.Status)
	}
	b.wantText("Nothing was deleted: the enabled flows that use Prod changed since this page was opened",
		"2 enabled flows use it", "nightly-sweep: step find", "late-sweep: steps recount and s1")
	b.screenshot("delete-connection-changed")
	if gone(prod.ID) {
		t.Fatal("the connection was deleted although the confirmation did not name late-sweep")
	}
	b.click(button("Delete"))
	b.wantText("Deleted the connection Prod", "late-sweep: steps recount and s1")
	if !gone(prod.ID) {
		t.Error("the connection is still there after Delete on the confirmation that named every flow")
	}

	// Fewer flows than confirmed: the deletion goes ahead.
	twice := e.storeFlow(t, scheduledFlow("test-sweep", map[string]string{"s1": "Test"}))
	enable(twice, "enable")
	b.open("/connections/" + test.ID + "/delete")
	b.wantText("test-sweep: step s1")
	enable(twice, "disable")
	b.click(button("Delete"))
	b.wantText("Deleted the connection Test")
	if !gone(test.ID) {
		t.Error("the connection is still there after Delete when a confirmed flow was disabled meanwhile")
	}
}
