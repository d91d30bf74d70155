package console_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserAuditOutcomeWidth: at 1280 px the audit page's Outcome
// column, where a long error is, gets the width the other columns do not
// need: Connection and Details, often empty, no longer keep 12rem each.
// Outcome was 87 px of a table of 1025 px (7 px wider than its region),
// a long error a column of single words; now on a page of several kinds
// of events it is more than a sixth of the table, on a page of flow runs
// (no connection, no details) more than a third, and the table fits its
// card either way.
func TestBrowserAuditOutcomeWidth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	conn := e.connect(t, "Prod", nil)
	ctx := context.Background()
	admin := store.Actor{Type: store.ActorUser, Login: "admin@example.com"}
	at := time.Now().Add(-time.Hour)
	for i, ev := range []store.AuditEvent{
		{Action: store.ActionFlowRun, Outcome: "success"},
		{Action: store.ActionFlowRun, Outcome: "failure",
			Error: "step suspend: 3 of 40 items failed; first: item 7: Okta refused the call: E0000006 You do not have permission to perform the requested action (the authorizing account admin@example.com needs an admin role that allows device lifecycle changes; assign one in the Admin Console, then run the flow's failed items again with cardflow flows rerun 0123456789abcdef0123456789abcdef --failed-only)"},
		{Action: store.ActionPersonSignIn, Outcome: "success"},
		{Action: store.ActionCardRun, Card: "okta-devices/suspend-device", Outcome: "failure", ConnectionID: conn.ID,
			Error:        "device guo1a2b3c4d5e6f7g8h9 is SUSPENDED (its known status); suspend is allowed only from ACTIVE",
			InputSummary: "deviceId=guo1a2b3c4d5e6f7g8h9, status=ACTIVE"},
	} {
		ev.Time, ev.Actor = at.Add(time.Duration(i)*time.Minute), admin
		if err := e.store.AppendAudit(ctx, &ev); err != nil {
			t.Fatal(err)
		}
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	for _, page := range []struct {
		name, path string
		share      float64 // Outcome's least share of the table's width
	}{
		{"mixed", "/audit", 0.18},
		{"flow-runs", "/audit?action=flow.run", 0.33},
	} {
		b.open(page.path)
		b.wantText("E0000006")
		b.screenshot("audit-outcome-" + page.name)
		w := eval[[]float64](b, "measure the table and its Outcome column", `(() => {
  const r = document.querySelector('[aria-label="Audit events"]'), t = r.querySelector('table');
  const th = [...t.querySelectorAll('thead th')].find(th => th.textContent.trim() === 'Outcome');
  return [t.getBoundingClientRect().width, th.getBoundingClientRect().width, r.scrollWidth, r.clientWidth];
})()`)
		if w[1] < page.share*w[0] {
			t.Errorf("%s at 1280 px: the Outcome column is %.0f px of a table of %.0f px; want at least %.0f%%", page.path, w[1], w[0], 100*page.share)
		}
		if w[2] > w[3] {
			t.Errorf("%s at 1280 px: the audit table is %.0f px wide in a region of %.0f px; want it to fit", page.path, w[2], w[3])
		}
	}
}
