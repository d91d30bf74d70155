package console_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserAuditDetailsReadable: at 1280 px, on an audit page where an
// event has an error, the Details column beside it is about as wide as
// Outcome, so that an event's details read in a few lines, where Outcome
// took 40% of the table and Details was squeezed into a narrow strip
// (167 px beside 265 px).
func TestBrowserAuditDetailsReadable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	admin := store.Actor{Type: store.ActorUser, Login: "admin@example.com"}
	at := time.Now().Add(-time.Hour)
	for i, ev := range []store.AuditEvent{
		{Action: store.ActionCardRun, Card: "okta-devices/suspend-device", Outcome: "failure",
			Error:        "the org refused the call (403 E0000006 You do not have permission to perform the requested action) for the device guo1a2b3c4d5e6f7g8h9 of margaret.hamilton@example.com",
			InputSummary: "deviceId=guo1a2b3c4d5e6f7g8h9, reason=offboarding of margaret.hamilton@example.com, requested by the service desk ticket INC-20261207-0042"},
		{Action: store.ActionPersonRevoke, Outcome: "success",
			InputSummary: "ops-oncall@corp.example.net: its sessions and personal API tokens revoked, its binding to the identity provider removed"},
	} {
		ev.Time, ev.Actor = at.Add(time.Duration(i)*time.Minute), admin
		if err := e.store.AppendAudit(ctx, &ev); err != nil {
			t.Fatal(err)
		}
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	b.open("/audit")
	b.wantText("margaret.hamilton@example.com", "ops-oncall@corp.example.net")
	b.screenshot("audit-details-balance")
	w := eval[[]float64](b, "measure the columns", `(() => {
  const th = l => [...document.querySelectorAll('[aria-label="Audit events"] thead th')].find(h => h.textContent.trim() === l).getBoundingClientRect().width;
  return [th("Outcome"), th("Details")];
})()`)
	if outcome, details := w[0], w[1]; details < 190 || details < 0.8*outcome {
		t.Errorf("at 1280 px the Details column is %.0f px wide beside an Outcome of %.0f px; want it at least 190 px and four fifths of Outcome", details, outcome)
	}
}
