package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// connect creates (createPending) and authorizes a connection without the
// browser; scopes nil means the default scopes.
func (e *env) connect(t *testing.T, nickname string, scopes *[]string) *connection.View {
	t.Helper()
	ctx := context.Background()
	_, authURL := e.createPending(t, nickname, scopes)
	cb := e.emu.SignIn(t, authURL, oktaemu.AdminLogin, oktaemu.DemoPassword)
	res, err := e.manager.Callback(ctx, cb.Query())
	if err != nil || !res.OK {
		t.Fatalf("authorize %q: %v %+v", nickname, err, res)
	}
	return res.Connection
}

// selectOption picks the option with value in the select labelled label.
func (b *tab) selectOption(label, value string) {
	b.t.Helper()
	b.do("choose "+value+" for "+label, chromedp.SetValue(labelled(label), value))
}

// waitFlowRunEnd waits until the flow run whose page is at loc has ended
// (succeeded, failed or canceled), reading the store.
func (e *env) waitFlowRunEnd(t *testing.T, loc string) {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	id := path.Base(u.Path)
	waitUntil(t, "flow run "+id+" to end", func() bool {
		run, err := e.store.GetFlowRun(context.Background(), id)
		if err != nil {
			t.Fatalf("flow run %s: %v", id, err)
		}
		return run.Status == "succeeded" || run.Status == "failed" || run.Status == store.FlowRunCanceled
	})
}

// runStatus waits for a run detail page and returns its status badge.
func (b *tab) runStatus() string {
	b.t.Helper()
	if loc := b.location(); !strings.Contains(loc, "/runs/") {
		b.fatalf("expected a run detail page; the browser is at %s", loc)
	}
	return b.text(`//*[@id="run-status"]`)
}

func TestBrowserRunCards(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	b := newTab(t, e)
	b.signIn()

	b.open("/cards")
	b.wantText("Okta Devices", "Search Devices", "Suspend Device", "Custom API Action")
	b.screenshot("cards")
	// Each Run link names its card (visually hidden text), so that a
	// screen reader's list of links tells them apart.
	b.click(link("Run Search Devices"))
	for _, label := range []string{"Connection", "status", "platform", "resultSet", "search", "registered"} {
		b.do("find the field labelled "+label, chromedp.WaitVisible(labelled(label)))
	}
	b.selectOption("Connection", v.ID)
	b.selectOption("status", "ACTIVE")
	b.screenshot("run-card-form")
	b.click(button("Run"))
	if got := b.runStatus(); got != "Succeeded" {
		b.fatalf("search run status %q; want Succeeded\n%s", got, b.mainText())
	}
	var out struct {
		Devices []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"devices"`
	}
	if err := json.Unmarshal([]byte(b.text(`//pre[@id="run-output"]`)), &out); err != nil {
		b.fatalf("run output is not the pretty JSON of the devices: %v", err)
	}
	if len(out.Devices) == 0 {
		b.fatalf("search for ACTIVE devices found none in the demo org")
	}
	for _, d := range out.Devices {
		if d.Status != "ACTIVE" {
			t.Errorf("device %s has status %s; the search asked for ACTIVE", d.ID, d.Status)
		}
	}
	b.wantText("Prod", "admin@example.com", `"status": "ACTIVE"`)
	b.screenshot("run-detail")

	// From the connection page, the card form opens with the connection
	// chosen.
	b.open("/connections/" + v.ID)
	b.click(`//table[@id="cards"]` + link("Run Read Device"))
	if got, _ := chromedp.Run(b.ctx, chromedp.Value(labelled("Connection"))); got != v.ID {
		t.Errorf("Connection chosen on the run form = %q; want %s", got, v.ID)
	}
	b.click(button("Run"))
	if msg := b.text(`//div[contains(@class,"field")][.//label[starts-with(normalize-space(.),"deviceId")]]//p[contains(@class,"field-error")]`); !strings.Contains(msg, "required") {
		t.Errorf("deviceId error = %q; want it to say the input is required", msg)
	}
	b.fill("deviceId", out.Devices[0].ID)
	b.click(button("Run"))
	if got := b.runStatus(); got != "Succeeded" {
		b.fatalf("read run status %q; want Succeeded", got)
	}
	if got := b.text(`//pre[@id="run-output"]`); !strings.Contains(got, out.Devices[0].ID) {
		t.Errorf("read-device output lacks the device id %s:\n%s", out.Devices[0].ID, got)
	}

	b.open("/runs")
	if n := strings.Count(b.text(`//table`), "Succeeded"); n != 2 {
		t.Errorf("run history shows %d succeeded runs; want 2:\n%s", n, b.mainText())
	}
	b.screenshot("runs")
	b.open("/connections")
	if row := b.text(`//tr[.//a[normalize-space(.)="Prod"]]`); strings.Contains(row, "never") {
		t.Errorf("connections row %q: last used is never after two runs", row)
	}
}

func TestBrowserFailedRunShowsRemedy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	read := []string{"okta.devices.read"}
	v := e.connect(t, "Read only", &read)
	before := e.emu.Stats(t)
	b := newTab(t, e)
	b.signIn()

	b.open("/cards/okta-devices/suspend-device?connection=" + v.ID)
	b.fill("deviceId", "guo-no-such-device")
	b.click(button("Run"))
	if got := b.runStatus(); got != "Failed" {
		b.fatalf("run status %q; want Failed", got)
	}
	msg := b.text(`//*[@id="run-error"]`)
	for _, want := range []string{"insufficient_scope", "okta.devices.manage", "Suspend Device"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if remedy := b.text(`//*[@id="run-remedy"]`); !strings.Contains(remedy, "Reauthorize") || !strings.Contains(remedy, "okta.devices.manage") {
		t.Errorf("remedy = %q; want it to say to grant okta.devices.manage and reauthorize", remedy)
	}
	b.screenshot("run-failed")
	after := e.emu.Stats(t)
	for k, n := range after {
		if strings.HasPrefix(k, "POST /api/v1/devices") && n != before[k] {
			t.Errorf("the refused run reached the org: %s went from %d to %d", k, before[k], n)
		}
	}
}

const testFlow = `name: suspend-everything
description: Suspend every device (the ones that cannot be suspended fail)
inputs:
  resultSet:
    type: string
    default: all
    description: How many devices to look at
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod
    input:
      resultSet: ${{ inputs.resultSet }}
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod
    for_each: ${{ steps.find.output.devices }}
    concurrency: 2
    input:
      deviceId: ${{ item.id }}
`

func TestBrowserFlowPlanAndRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	if code, body := e.api(t, http.MethodPost, "/api/v1/flows", "application/yaml", testFlow); code != http.StatusCreated {
		t.Fatalf("store the flow: %d %s", code, body)
	}
	b := newTab(t, e)
	b.signIn()
	b.open("/flows")
	b.screenshot("flows")
	b.click(link("suspend-everything"))
	b.wantText("Suspend every device", "find", "suspend", "okta-devices/suspend-device", "for each item, 2 at a time")
	b.do("find the input", chromedp.WaitVisible(labelled("resultSet")))

	suspends := func() int {
		return e.emu.Stats(t)["POST /api/v1/devices/{deviceId}/lifecycle/suspend"]
	}
	b.click(button("Plan"))
	plan := b.text(`//*[@id="plan"]`)
	if !strings.Contains(plan, "SUSPENDED") || !strings.Contains(plan, "ACTIVE") {
		t.Errorf("plan = %q; want changes from ACTIVE to SUSPENDED", plan)
	}
	if n := suspends(); n != 0 {
		t.Errorf("the plan suspended %d devices; want none", n)
	}
	b.screenshot("flow-plan")

	b.click(button("Run"))
	loc := b.location()
	if !strings.Contains(loc, "/flow-runs/") {
		b.fatalf("Run led to %s; want the flow run page", loc)
	}
	e.waitFlowRunEnd(t, loc)
	b.do("reload", chromedp.Reload())
	if status := b.text(`//*[@id="flow-run-status"]`); status != "Failed" {
		b.fatalf("flow run status %q; want Failed (devices that are not ACTIVE cannot be suspended)", status)
	}
	items := b.text(`//section[h2/code[normalize-space(.)="suspend"]]//table`)
	if !strings.Contains(items, "Succeeded") || !strings.Contains(items, "Failed") || !strings.Contains(items, "conflict") {
		t.Errorf("item table = %q; want succeeded items and failed ones with their error", items)
	}
	if n := suspends(); n == 0 {
		t.Errorf("the run suspended no device")
	}
	b.screenshot("flow-run")
	b.open("/flows")
	if got := b.text(`//table[.//th[normalize-space(.)="Flow"]]`); !strings.Contains(got, "Failed") || !strings.Contains(got, "suspend-everything") {
		t.Errorf("recent flow runs = %q; want the failed run", got)
	}
	b.open(loc)
	b.click(link("details of item 0 of step suspend"))
	if got := b.runStatus(); got != "Succeeded" && got != "Failed" {
		t.Errorf("item's card run status %q", got)
	}
	b.wantText("Flow run", "suspend")
}

// TestBrowserCancelFlowRun cancels a run from its page while the org holds
// two suspensions: the page says the cancel is under way, the two finish,
// and the run ends canceled without starting another item.
func TestBrowserCancelFlowRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	if code, body := e.api(t, http.MethodPost, "/api/v1/flows", "application/yaml", testFlow); code != http.StatusCreated {
		t.Fatalf("store the flow: %d %s", code, body)
	}
	hold := e.emu.Hold(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 0)
	b := newTab(t, e)
	b.signIn()
	b.open("/flows")
	b.click(link("suspend-everything"))
	b.click(button("Run"))
	loc := b.location()
	if err := hold.Await(b.ctx, 2); err != nil {
		b.fatalf("two suspensions never waited at the org: %v", err)
	}
	b.open(loc)
	b.click(button("Cancel run"))
	b.wantText("Cancel requested", "the items in flight finish")
	hold.Release()
	e.waitFlowRunEnd(t, loc)
	b.do("reload", chromedp.Reload())
	if status := b.text(`//*[@id="flow-run-status"]`); status != "Canceled" {
		b.fatalf("flow run status %q; want Canceled", status)
	}
	if n := e.emu.Stats(t)["POST /api/v1/devices/{deviceId}/lifecycle/suspend"]; n != 2 {
		t.Errorf("%d suspensions reached the org; want the 2 in flight when it was canceled", n)
	}
	if strings.Contains(b.text("body"), "Cancel run") {
		t.Errorf("the canceled run's page still offers Cancel run")
	}
}

// pagedFlow records 130 items of one step (skipped by their if, so no
// card runs) for the flow run page to page through.
const pagedFlow = `name: many-items
inputs:
  ids: {type: list, required: true}
steps:
  - id: each
    card: okta-devices/read-device
    connection: Prod
    for_each: ${{ inputs.ids }}
    if: ${{ false }}
    input:
      deviceId: ${{ item }}
`

// TestBrowserFlowRunPages: the run page shows 100 items of a step and links
// to the next ones, and back to the first.
func TestBrowserFlowRunPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, pagedFlow)
	ids := make([]string, 130)
	for i := range ids {
		ids[i] = fmt.Sprintf("guo%04d", i)
	}
	in, _ := json.Marshal(map[string]any{"inputs": map[string]any{"ids": ids}})
	runID := e.runFlow(t, flowID, string(in))
	b := newTab(t, e)
	b.signIn()
	b.open("/flow-runs/" + runID)
	items := func() string { return b.text(`//section[@id="step-each"]//table`) }
	if n := strings.Count(items(), "Skipped"); n != 100 {
		t.Errorf("the first page shows %d items; want 100", n)
	}
	b.wantText("130 items: 0 succeeded, 0 failed, 130 skipped.")
	b.click(link("Next items of step each"))
	page := items()
	if n := strings.Count(page, "Skipped"); n != 30 || !strings.Contains(page, "129") || strings.Contains(page, "guo0099") {
		t.Errorf("the second page = %q; want the 30 items after the first 100", page)
	}
	b.click(link("First items of step each"))
	if n := strings.Count(items(), "Skipped"); n != 100 {
		t.Errorf("back at the first page: %d items; want 100", n)
	}
	// A page opened with its reloading stopped keeps it stopped on the
	// way back to the first items, as on the way forward.
	b.open("/flow-runs/" + runID + "?reload=off&step=each&after=99")
	first := eval[string](b, "the First items link", `[...document.querySelectorAll('a')].find(a => a.textContent.startsWith('First items')).getAttribute('href')`)
	if !strings.Contains(first, "reload=off") {
		t.Errorf("First items links %q on a page whose reloading was stopped; want it to keep reload=off", first)
	}
	if got := b.text(`//*[@id="flow-run-version"]`); got != "Version 1" {
		t.Errorf("the run's flow version reads %q; want Version 1", got)
	}

	// A rerun's page names the version it ran and links the run it repeats.
	code, body := e.api(t, http.MethodPost, "/api/v1/flow-runs/"+runID+"/rerun", "application/json", `{}`)
	var again struct {
		ID string `json:"id"`
	}
	if code != http.StatusAccepted || json.Unmarshal([]byte(body), &again) != nil {
		t.Fatalf("rerun: %d %s", code, body)
	}
	b.open("/flow-runs/" + again.ID)
	if got := b.text(`//*[@id="flow-run-rerun-of"]`); got != runID {
		t.Errorf("the rerun's page says it repeats %q; want %s", got, runID)
	}
	if got := b.text(`//*[@id="flow-run-version"]`); got != "Version 1" {
		t.Errorf("the rerun's flow version reads %q; want Version 1", got)
	}
}

// TestBrowserDeleteFlow deletes a flow after a confirmation; its run
// stays readable.
func TestBrowserDeleteFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, pagedFlow)
	runID := e.runFlow(t, flowID, `{"inputs":{"ids":["a","b"]}}`)
	b := newTab(t, e)
	b.signIn()
	b.open("/flows/" + flowID)
	b.click(link("Delete"))
	b.wantText("Delete many-items?", "Its runs keep their history")
	b.click(button("Delete"))
	if loc := b.location(); !strings.HasSuffix(loc, "/flows") {
		b.fatalf("deleting led to %s; want the flows list", loc)
	}
	b.wantText("Deleted the flow many-items.")
	if code, _ := e.api(t, http.MethodGet, "/api/v1/flows/"+flowID, "", ""); code != http.StatusNotFound {
		t.Errorf("the deleted flow answers %d; want 404", code)
	}
	b.open("/flow-runs/" + runID)
	b.wantText("many-items", "Succeeded")
}

// TestBrowserFlowProblemsOneALine: a flow with several problems (here its
// two steps on two connections that need reauthorization) lists them in
// the error summary one a line, not run together into one sentence; each
// connection is named once, with the steps that use it.
func TestBrowserFlowProblemsOneALine(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	backup := e.connect(t, "Backup", nil)
	twoConnections := strings.Replace(testFlow, "card: okta-devices/suspend-device\n    connection: Prod", "card: okta-devices/suspend-device\n    connection: Backup", 1)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows", "application/yaml", twoConnections); code != http.StatusCreated {
		t.Fatalf("store the flow: %d %s", code, out)
	}
	for _, id := range []string{prod.ID, backup.ID} {
		if err := e.store.UpdateConnection(context.Background(), id, func(c *store.Connection) error {
			c.Status, c.StatusReason = store.StatusNeedsReauthorization, "the refresh token was revoked"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	b := newTab(t, e)
	b.signIn()
	b.open("/flows/suspend-everything")
	b.click(button("Plan"))
	// innerText keeps the line breaks the page shows.
	summary := eval[string](b, "read the error summary", `document.querySelector('#error-summary li').innerText`)
	var problems []string
	for _, l := range strings.Split(summary, "\n") {
		if i := strings.Index(strings.ToLower(l), `connection "`); i >= 0 && !strings.HasPrefix(l, "How to fix it") {
			problems = append(problems, strings.TrimSpace(l[i:]))
		}
	}
	want := []string{
		`Connection "Prod" needs reauthorization: the refresh token was revoked (used by step find)`,
		`connection "Backup" needs reauthorization: the refresh token was revoked (used by step suspend)`,
	}
	if !slices.Equal(problems, want) {
		b.fatalf("the error summary's lines that name a connection are %q; want %q:\n%s", problems, want, summary)
	}
	if !strings.Contains(summary, `For "Prod", reauthorize the connection (Reauthorize on its console page); for "Backup", `) {
		b.fatalf("the error summary's fix does not say which connection each reauthorization is for:\n%s", summary)
	}
	b.screenshot("flow-problems")
}

// TestBrowserFailedItemsFitADesktop: at 1280 px the items of a step whose
// items failed with Okta's request id in their error fit their card: the
// details link of each item shows without scrolling the table sideways.
func TestBrowserFailedItemsFitADesktop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	// The status the search saw goes with each item, as in the offboarding
	// example: the items' input is cut at the width the page allows it.
	flowID := e.storeFlow(t, strings.Replace(testFlow, "deviceId: ${{ item.id }}", "deviceId: ${{ item.id }}\n      status: ${{ item.status }}", 1))
	e.emu.Fault(t, http.MethodPost, "/api/v1/devices/{deviceId}/lifecycle/suspend", http.StatusConflict, 1000)
	code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", `{}`)
	var run struct{ ID, Status string }
	if err := json.Unmarshal([]byte(out), &run); code != http.StatusOK || err != nil || run.Status != "failed" {
		t.Fatalf("run the flow: %d %s; want it failed", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	b.open("/flow-runs/" + run.ID)
	b.wantText("request id")
	region := `//*[@aria-label="Items of step suspend"]`
	scroll, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[float64](region, "scrollWidth"))
	if err != nil {
		b.fatalf("width of the items: %v", err)
	}
	if shown := b.width(region); scroll > shown {
		t.Errorf("the items of step suspend are %.0f px wide in a %.0f px region: at 1280 px the table scrolls sideways and hides its details links", scroll, shown)
	}
	b.screenshot("flow-run-failed-items")
}

// heldFlowRun starts testFlow on a new connection Prod with its
// suspensions held at the org until the test ends, and returns a signed-in
// tab once two of them wait there, and the run's id.
func heldFlowRun(t *testing.T, e *env) (*tab, string) {
	t.Helper()
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	hold := e.emu.Hold(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 0)
	t.Cleanup(hold.Release)
	code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs", "application/json", `{}`)
	var run struct{ ID string }
	if err := json.Unmarshal([]byte(out), &run); code/100 != 2 || err != nil || run.ID == "" {
		t.Fatalf("start the flow: %d %s", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	if err := hold.Await(b.ctx, 2); err != nil {
		b.fatalf("two suspensions never waited at the org: %v", err)
	}
	return b, run.ID
}

// TestBrowserStopReloadingARunningRun: the page of a running flow run
// reloads itself every two seconds, and each reload puts the focus back at
// the top, so that a keyboard or screen reader user never reaches Cancel
// run: the page's first control stops the reloading, and the page then
// stays put with Cancel run and a way to reload.
func TestBrowserStopReloadingARunningRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, runID := heldFlowRun(t, e)
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Navigate(e.url+"/flow-runs/"+runID))
	if err != nil {
		b.fatalf("open the run: %v", err)
	}
	if resp.Headers["Refresh"] == nil {
		t.Errorf("the running run's page has no Refresh header (%v); want it to follow the run", resp.Headers)
	}
	// The first control of the page's content: the skip link leads to it.
	first := eval[string](b, "find the first control", `document.querySelector('main a[href], main button').textContent`)
	if first != "Stop reloading" {
		b.fatalf("the first control of the running run's page is %q; want Stop reloading", first)
	}
	resp, err = chromedp.RunResponse(b.ctx, chromedp.Click(link("Stop reloading")))
	if err != nil {
		b.fatalf("stop reloading: %v", err)
	}
	if v := resp.Headers["Refresh"]; v != nil {
		t.Errorf("after Stop reloading the page still reloads itself (Refresh: %v)", v)
	}
	b.wantText("no longer reloads", "Reload and follow the run")
	b.do("see Cancel run", chromedp.WaitVisible(button("Cancel run")))
	b.screenshot("flow-run-reload-off")
	resp, err = chromedp.RunResponse(b.ctx, chromedp.Click(link("Reload and follow the run")))
	if err != nil {
		b.fatalf("reload: %v", err)
	}
	if resp.Headers["Refresh"] == nil {
		t.Errorf("Reload and follow the run leads to a page that does not reload itself")
	}
}

// TestBrowserFormErrorIsReadWithItsField: an input that the run form of a
// card or of a flow sends back with an error is marked invalid and
// described by its error, so that a screen reader reads the error with the
// field the error summary leads to.
func TestBrowserFormErrorIsReadWithItsField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, needsInputFlow)
	b := newTab(t, e)
	b.signIn()
	for _, form := range []struct{ addr, button, want string }{
		{"/cards/okta-devices/read-device?connection=" + v.ID, "Run", "required"},
		{"/flows/" + flowID, "Plan", "ids is required"},
		{"/flows/" + flowID, "Run", "ids is required"},
	} {
		b.open(form.addr)
		b.click(button(form.button))
		b.click(`//*[@id="error-summary"]//a`)
		if desc := b.focusedDescription(); !strings.Contains(desc, form.want) {
			t.Errorf("%s, %s: the field the error summary leads to is described as %q; want its error, %q", form.addr, form.button, desc, form.want)
		}
	}
}

// focusedDescription is what a screen reader reads after the label of the
// focused control: its description, from aria-describedby; an explanation
// when the control is not marked invalid.
func (b *tab) focusedDescription() string {
	b.t.Helper()
	return eval[string](b, "read the focused field's description", `(() => {
  const el = document.activeElement;
  if (el.getAttribute('aria-invalid') !== 'true') return 'not marked invalid: ' + el.outerHTML;
  return (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean)
    .map(id => { const d = document.getElementById(id); return d ? d.textContent : '(no element ' + id + ')'; }).join(' | ');
})()`)
}

// TestBrowserDeleteDeviceAsksFirst: the run form of a card that cannot be
// undone (Delete Device) asks first, naming the connection and the input;
// only the confirmation runs it.
func TestBrowserDeleteDeviceAsksFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json", `{"card":"okta-devices/search-devices","connection":"Prod","input":{"status":"ACTIVE"}}`)
	var search struct {
		Output struct {
			Devices []struct{ ID string } `json:"devices"`
		} `json:"output"`
	}
	if err := json.Unmarshal([]byte(out), &search); code != http.StatusCreated || err != nil || len(search.Output.Devices) == 0 {
		t.Fatalf("find a device: %d %s", code, out)
	}
	id := search.Output.Devices[0].ID
	exists := func() bool {
		t.Helper()
		code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json", `{"card":"okta-devices/read-device","connection":"Prod","input":{"deviceId":"`+id+`"}}`)
		var run struct{ Status string }
		if err := json.Unmarshal([]byte(out), &run); code/100 != 2 || err != nil {
			t.Fatalf("read the device: %d %s", code, out)
		}
		return run.Status == "succeeded"
	}

	b := newTab(t, e)
	b.signIn()
	b.open("/cards/okta-devices/delete-device?connection=" + v.ID)
	b.fill("deviceId", id)
	b.do("tick deactivateFirst", chromedp.Click(labelled("deactivateFirst")))
	b.click(button("Run"))
	ask := b.text(`//*[@id="confirm"]`)
	for _, want := range []string{"Delete Device with Prod?", "cannot be restored", id} {
		if !strings.Contains(ask, want) {
			t.Errorf("the question reads %q; want %q in it", ask, want)
		}
	}
	b.screenshot("delete-device-confirm")
	if !exists() {
		t.Fatal("the device was deleted before the run was confirmed")
	}
	b.click(`//*[@id="confirm"]` + button("Run Delete Device"))
	if got := b.runStatus(); got != "Succeeded" {
		b.fatalf("the confirmed delete's status is %q; want Succeeded", got)
	}
	if exists() {
		t.Error("the device still exists after the confirmed delete")
	}
}

// TestBrowserRunningStepShowsItsProgressOnly: a step that runs shows how
// many of its items are done, not the counts it records when it ends
// ("0 items: 0 succeeded ...", beside "0 of 12 items done").
func TestBrowserRunningStepShowsItsProgressOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, runID := heldFlowRun(t, e)
	b.open("/flow-runs/" + runID + "?reload=off")
	step := b.text(`//section[@id="step-suspend"]`)
	if !regexp.MustCompile(`\d+ of \d+ items done`).MatchString(step) {
		t.Errorf("the running step reads %q; want how many of its items are done", step)
	}
	if strings.Contains(step, "0 items:") {
		t.Errorf("the running step reads %q; want no counts of the items it has not recorded yet", step)
	}
	if got := b.text(`//section[@id="step-find"]`); !strings.Contains(got, "1 item: 1 succeeded") {
		t.Errorf("the finished step reads %q; want its counts", got)
	}
}

// TestBrowserRunShowsItsNote: a card that succeeded though Okta's answers
// were 5xx (it read the device and found the change made) shows its
// output's note above the run as a sentence, readable on a phone, not only
// inside the output's JSON, where a phone cuts it off.
func TestBrowserRunShowsItsNote(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json", `{"card":"okta-devices/search-devices","connection":"Prod","input":{"status":"ACTIVE","resultSet":"first"}}`)
	var search struct {
		Output struct {
			Devices []struct{ ID string } `json:"devices"`
		} `json:"output"`
	}
	if err := json.Unmarshal([]byte(out), &search); code != http.StatusCreated || err != nil || len(search.Output.Devices) == 0 {
		t.Fatalf("find a device: %d %s", code, out)
	}
	// Okta suspends the device but every answer is a 503.
	e.emu.Inject(t, emutest.FaultSpec{Method: http.MethodPost, Path: "/api/v1/devices/{deviceId}/lifecycle/suspend", Status: http.StatusServiceUnavailable, After: true, Count: 1000})

	b := newTab(t, e)
	b.signIn()
	b.do("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)))
	b.open("/cards/okta-devices/suspend-device?connection=" + v.ID)
	b.fill("deviceId", search.Output.Devices[0].ID)
	b.click(button("Run"))
	if got := b.runStatus(); got != "Succeeded" {
		b.fatalf("run status %q; want Succeeded\n%s", got, b.mainText())
	}
	note := b.text(`//*[@id="run-note"]`)
	if !strings.HasPrefix(note, "Note: Okta gave the call no sure answer") || !strings.HasSuffix(note, "found it SUSPENDED.") {
		t.Errorf("the note reads %q; want the card's note as a sentence", note)
	}
	if w, shown := b.width(`//*[@id="run-note"]`), b.width(`main`); w > shown {
		t.Errorf("the note is %.0f px wide on a %.0f px page", w, shown)
	}
	b.screenshot("run-note-phone")
}

// TestBrowserInterruptedRunSaysWhatToDo: a card run its server left running
// (killed mid-call) and a later sweep ended interrupted shows, on its page
// and in the run history, that whether the call reached Okta is unknown and
// what to do about it.
func TestBrowserInterruptedRunSaysWhatToDo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	ctx := t.Context()
	now := time.Now()
	run := &store.Run{ID: "run_interrupted", Card: "okta-devices/suspend-device", ConnectionID: v.ID, ConnectionNickname: "Prod",
		Actor: store.Actor{Type: store.ActorUser, Login: "test"}, Status: store.RunRunning, Input: []byte(`{"deviceId":"guo1"}`),
		StartedAt: now.Add(-time.Hour), Owner: "gone", LeaseUntil: now.Add(-time.Minute)}
	if err := e.store.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	// The server's own sweep of lapsed card runs may end it first;
	// either way it is interrupted once this sweep has run.
	if _, err := e.store.InterruptLapsedRuns(ctx, now); err != nil {
		t.Fatalf("the sweep: %v", err)
	}
	if r, err := e.store.GetRun(ctx, run.ID); err != nil || r.Status != store.RunInterrupted {
		t.Fatalf("the run after the sweep: %+v (%v); want it interrupted", r, err)
	}

	b := newTab(t, e)
	b.signIn()
	b.open("/runs/" + run.ID)
	if msg := b.text(`//*[@id="run-error"]`); !strings.Contains(msg, "internal") || !strings.Contains(msg, "whether the call reached Okta is unknown") {
		t.Errorf("the interrupted run's error reads %q; want its code and that the call may have reached Okta", msg)
	}
	if remedy := b.text(`//*[@id="run-remedy"]`); !strings.Contains(remedy, "Read the device") {
		t.Errorf("the interrupted run's remedy reads %q; want to read the device", remedy)
	}
	b.screenshot("run-interrupted")
	b.open("/runs")
	if row := b.text(`//tr[.//a[contains(@href, "` + run.ID + `")]]`); !strings.Contains(row, "whether the call reached Okta is unknown") {
		t.Errorf("the run history's row reads %q; want the interrupted run's message", row)
	}
}
