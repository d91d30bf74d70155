package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/chromedp/chromedp"
)

// TestBrowserRunsListFitsEventRuns: at 1280 px the Runs list, with the
// card run of a flow run an Okta event started, and the Flows page's
// Recent flow runs, with that flow run, fit their regions: their Started
// by ("event device.lifecycle.suspend") wraps after a "." of the event's
// type, where it read as one word as wide as the type and pushed the
// Error column, the flow run's failure, out of sight behind a sideways
// scroll.
func TestBrowserRunsListFitsEventRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.connect(t, "Prod", nil)
	id := e.storeFlow(t, `name: read-on-suspend
inputs:
  deviceId: {type: string, required: true}
on:
  event:
    card: okta-devices/device-suspended
    connection: Prod
    delivery: poll
  inputs:
    deviceId: ${{ trigger.event.device.id }}
steps:
  - id: device
    card: okta-devices/read-device
    connection: Prod
    input: {deviceId: "${{ inputs.deviceId }}"}
`)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+id+"/enable", "", ""); code != http.StatusOK {
		t.Fatalf("enable %s: %d %s", id, code, out)
	}
	fl, err := e.store.GetFlow(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	run, _, err := e.app.Flows.StartTriggered(ctx, fl, flow.Firing{Kind: flow.KindEvent, Time: time.Now().UTC(), EventUUID: "test-event",
		Event: map[string]any{"uuid": "test-event", "eventType": "device.lifecycle.suspend", "device": map[string]any{"id": "guoNONE"}}}, "test-event")
	if err != nil {
		t.Fatalf("start the event's run: %v", err)
	}
	waitUntil(t, "the event's run to end", func() bool {
		r, err := e.store.GetFlowRun(ctx, run.ID)
		return err == nil && (r.Status == "succeeded" || r.Status == "failed")
	})
	if code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json", `{"card":"okta-devices/search-devices","connection":"Prod","input":{}}`); code != http.StatusCreated {
		t.Fatalf("run a card: %d %s", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate the screen", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	for _, page := range []struct{ path, region, shot string }{
		{"/runs", "Runs", "runs-event-started-by"},
		{"/flows", "Flow runs", "flow-runs-event-started-by"},
	} {
		b.open(page.path)
		by := eval[[]string](b, "read the Started by column", `[...document.querySelectorAll('[aria-label="`+page.region+`"] td[data-label="Started by"]')].map(td => td.innerText.replace(/\s+/g, ' ').trim())`)
		if !strings.Contains(strings.Join(by, "|"), "event device.lifecycle.suspend") {
			b.fatalf("%s: the %s list's Started by reads %q; want a run started by event device.lifecycle.suspend", page.path, page.region, by)
		}
		if fit := eval[[]int](b, "measure the table", `(() => { const r = document.querySelector('[aria-label="`+page.region+`"]'); return [r.scrollWidth, r.clientWidth]; })()`); fit[0] > fit[1] {
			t.Errorf("%s at 1280 px: the %s table is %d px wide in a region of %d px; want it to fit", page.path, page.region, fit[0], fit[1])
		}
		b.screenshot(page.shot)
	}
}
