package console_test

import (
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestBrowserCanceledRunSaysWhoAsked: a flow run Rey (an operator)
// started, held at the org, and canceled by Ada from its page, says on its
// page, while it stops and once it is canceled, and in its flow's run
// list, that Ada asked and when; another run of Rey's, canceled because
// Rey's access was revoked, says that and who revoked it. Both said only
// "Canceled". The Flows page's Last run cell says it in brief ("Canceled by
// Ada Admin", "Canceled: access revoked"), where it said only "Canceled",
// and, while the run stops, that it is stopping ("Stopping (cancel
// requested by Ada Admin)"), where it said only "Running".
func TestBrowserCanceledRunSaysWhoAsked(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	rey := newTab(t, e)
	rey.ssoSignIn(oktaemu.ReadOnlyLogin)
	ada := newTab(t, e)
	ada.ssoSignIn(oktaemu.AdminLogin)
	// started has Rey run the flow from its page and waits until two of
	// its suspensions wait at the org.
	started := func() (string, func()) {
		t.Helper()
		hold := e.emu.Hold(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 0)
		rey.open("/flows/" + flowID)
		rey.click(button("Run"))
		// The run's page, not the flow's page the click left: on a busy
		// machine the location was read before the browser followed the
		// redirect.
		rey.do("see the run's page", chromedp.WaitVisible(chromedp.CSS(`#flow-run-status`)))
		loc := rey.location()
		if err := hold.Await(rey.ctx, 2); err != nil {
			rey.fatalf("two suspensions never waited at the org: %v", err)
		}
		return loc, hold.Release
	}
	cancelNote := func(b *tab) string { return b.text(`//*[@id="flow-run-cancel"]`) }
	const byAda = "asked by Ada Admin (" + oktaemu.AdminLogin + ")"
	// lastRun is the Flows page's Last run cell of the flow.
	lastRun := func() string {
		ada.open("/flows")
		return ada.text(`//tr[td/a[@href="/flows/` + flowID + `"]]/td[@data-label="Last run"]/a`)
	}

	first, release := started()
	// While the two suspensions wait at the org, the run's page lists them
	// as running items, each with its device and card run, where the step
	// showed no item until one ended; the search, done, says its count
	// once, where it said "1 of 1 items done." above it as well.
	ada.open(first + "?reload=off")
	inFlight := eval[[]string](ada, "read the suspend step's rows", `Array.from(document.querySelectorAll('#step-suspend tbody tr')).map(tr => [tr.querySelector('[data-label="Status"]').textContent.trim(), tr.querySelector('[data-label="Device"]').textContent.trim(), tr.querySelector('a[href^="/runs/"]') ? 'card run' : 'no card run'].join(' | '))`)
	if len(inFlight) != 2 {
		ada.fatalf("the suspend step, two items waiting at the org, lists %d items %q; want the 2 in flight", len(inFlight), inFlight)
	}
	for _, row := range inFlight {
		if !strings.HasPrefix(row, "Running | ") || !strings.HasSuffix(row, " | card run") || strings.Contains(row, "—") {
			ada.fatalf("an item in flight is listed as %q; want Running, its device and a link to its card run", row)
		}
	}
	if find := ada.text(`//section[@id="step-find"]`); strings.Contains(find, "items done") {
		ada.fatalf("the finished search step of the running run says %q; want its count once, without the progress line", find)
	}
	ada.screenshot("flowrun-items-in-flight")
	ada.open(first)
	ada.click(button("Cancel run"))
	if got := cancelNote(ada); !strings.HasPrefix(got, "Cancel requested ") || !strings.Contains(got, byAda+": the items in flight finish") {
		ada.fatalf("the page of a run Ada asked to stop says %q; want when and that she asked", got)
	}
	// While its last items are in flight, the Flows page says the run is
	// stopping and who asked, where it said only "Running".
	if got := lastRun(); !strings.HasPrefix(got, "Stopping (cancel requested by Ada Admin)") {
		ada.fatalf("the Flows page's Last run cell of the stopping run says %q; want Stopping (cancel requested by Ada Admin)", got)
	}
	ada.screenshot("flows-last-run-stopping")
	ada.setWidth(390)
	ada.checkWidth("the Flows page of a stopping run", 390)
	ada.screenshot("flows-last-run-stopping-390")
	ada.do("emulate the screen", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	release()
	e.waitFlowRunEnd(t, first)
	ada.open(first)
	if status := ada.text(`//*[@id="flow-run-status"]`); status != "Canceled" {
		ada.fatalf("flow run status %q; want Canceled", status)
	}
	if got := cancelNote(ada); !strings.HasPrefix(got, "Canceled 20") || !strings.HasSuffix(got, ": "+byAda+".") {
		ada.fatalf("the canceled run's page says %q; want when and that Ada asked", got)
	}
	ada.screenshot("flowrun-canceled-asked")
	// The Flows page's Last run cell says it in brief.
	if got := lastRun(); !strings.HasPrefix(got, "Canceled by Ada Admin") {
		ada.fatalf("the Flows page's Last run cell says %q; want Canceled by Ada Admin", got)
	}
	ada.screenshot("flows-last-run-canceled-asked")

	second, release := started()
	revoke := "/api/v1/people/" + url.PathEscape(oktaemu.ReadOnlyLogin) + "/revoke"
	if code, body := e.api(t, http.MethodPost, revoke, "application/json", ""); code != http.StatusOK {
		t.Fatalf("revoke Rey: %d %s", code, body)
	}
	if got := lastRun(); !strings.HasPrefix(got, "Stopping (cancel requested: access revoked)") {
		ada.fatalf("the Flows page's Last run cell of the run stopping after the revoke says %q; want Stopping (cancel requested: access revoked)", got)
	}
	release()
	e.waitFlowRunEnd(t, second)
	ada.open(second)
	byRevoke := "its starter " + oktaemu.ReadOnlyLogin + "'s access was revoked by "
	if got := cancelNote(ada); !strings.HasPrefix(got, "Canceled 20") || !strings.Contains(got, ": "+byRevoke) {
		ada.fatalf("the page of the run canceled by the revoke says %q; want when and that Rey's access was revoked, by whom", got)
	}
	ada.screenshot("flowrun-canceled-revoked")
	if got := lastRun(); !strings.HasPrefix(got, "Canceled: access revoked") {
		ada.fatalf("the Flows page's Last run cell says %q; want Canceled: access revoked", got)
	}
	ada.screenshot("flows-last-run-canceled-revoked")

	// The flow's run list says it beside each status.
	ada.open("/flows/" + flowID)
	for _, loc := range []string{first, second} {
		id := path.Base(loc)
		row := ada.text(`//tr[td/a[@href="/flow-runs/` + id + `"]]`)
		want := "Canceled: " + byAda
		if loc == second {
			want = "Canceled: " + byRevoke
		}
		if !strings.Contains(row, want) {
			ada.fatalf("the flow's run list shows run %s as %q; want %q", id, row, want)
		}
	}
	ada.screenshot("flow-runs-canceled")
	ada.setWidth(390)
	ada.do("reload", chromedp.Reload())
	ada.screenshot("flow-runs-canceled-390")
	lastRun()
	ada.screenshot("flows-last-run-canceled-390")
}
