package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flow"
)

// TestFlowRunsStartedBy: the run lists' "Started by" names the person who
// started a run by hand or asked for a rerun (as the audit names actors),
// and for a run a trigger started, the trigger: the schedule's cron, the
// event's type. A run's page says whom a triggered run acts as.
func TestFlowRunsStartedBy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.connect(t, "Prod", nil)
	nightly := e.storeFlow(t, nightlyFlow)
	quarantine := e.storeFlow(t, quarantineFlow)
	for _, id := range []string{nightly, quarantine} {
		if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+id+"/enable", "", ""); code != http.StatusOK {
			t.Fatalf("enable %s: %d %s", id, code, out)
		}
	}
	e.runFlow(t, nightly, `{"inputs":{"since":"2025-01-01T00:00:00Z"}}`)
	nfl, err := e.store.GetFlow(ctx, nightly)
	if err != nil {
		t.Fatal(err)
	}
	tick := time.Date(2026, 1, 2, 1, 0, 0, 0, time.UTC)
	scheduled, _, err := e.app.Flows.StartTriggered(ctx, nfl, flow.Firing{Kind: flow.KindSchedule, Time: tick}, "test-tick")
	if err != nil {
		t.Fatalf("start the scheduled run: %v", err)
	}
	qfl, err := e.store.GetFlow(ctx, quarantine)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.app.Flows.StartTriggered(ctx, qfl, flow.Firing{Kind: flow.KindEvent, Time: tick, EventUUID: "test-event",
		Event: map[string]any{"uuid": "test-event", "eventType": "device.user.remove", "device": map[string]any{"id": "guoNONE"}}}, "test-event"); err != nil {
		t.Fatalf("start the event's run: %v", err)
	}
	waitUntil(t, "the scheduled run's end", func() bool {
		r, err := e.store.GetFlowRun(ctx, scheduled.ID)
		return err == nil && (r.Status == "succeeded" || r.Status == "failed")
	})
	code, out := e.api(t, http.MethodPost, "/api/v1/flow-runs/"+scheduled.ID+"/rerun", "application/json", `{}`)
	var rerun struct{ ID string }
	if code/100 != 2 || json.Unmarshal([]byte(out), &rerun) != nil || rerun.ID == "" {
		t.Fatalf("rerun the scheduled run: %d %s", code, out)
	}

	c, _, _ := signInHTTP(t, e.url, "/flows")
	_, page := get(t, c, e.url+"/flows/"+nightly)
	_, all := get(t, c, e.url+"/flows")
	for _, tc := range []struct{ page, name, startedBy string }{
		// The flow's page has no Flow column: Started by follows the
		// status link, whose hidden words end on the time it was queued.
		{page, "flow page", "UTC bootstrap admin 20"},
		{page, "flow page", "UTC schedule (cron 0 2 * * * Europe/Berlin) "},
		{page, "flow page", "UTC bootstrap admin (rerun) "},
		{all, "flows page", "schedule (cron 0 2 * * * Europe/Berlin)"},
		{all, "flows page", "quarantine-on-user-removal event device.user.remove "},
	} {
		row := rowOf(tc.page, tc.startedBy)
		if row == "" {
			t.Errorf("the %s has no run row with %q:\n%s", tc.name, tc.startedBy, tc.page)
		}
	}
	if row := rowOf(page, "manual"); row != "" {
		t.Errorf("a row of the flow page says manual, which names nobody: %q", row)
	}
	_, detail := get(t, c, e.url+"/flow-runs/"+scheduled.ID)
	for _, w := range []string{"<dt>Started by</dt><dd>schedule (cron 0 2 * * * Europe/Berlin)</dd>", "<dt>Acting as</dt><dd>bootstrap admin",
		"schedule, tick of 2026-01-02 01:00 UTC"} {
		if !strings.Contains(detail, w) {
			t.Errorf("the scheduled run's page lacks %s:\n%s", w, detail)
		}
	}
	_, detail = get(t, c, e.url+"/flow-runs/"+rerun.ID)
	if !strings.Contains(detail, "<dt>Started by</dt><dd>bootstrap admin <span class=\"muted\">(asked for the rerun)</span>") {
		t.Errorf("the rerun's page does not name who asked for it as who started it:\n%s", detail)
	}
}
