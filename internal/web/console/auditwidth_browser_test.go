package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserAuditFitsItsCard: an audit event whose details hold a long
// word (a pasted id that was far too long, kept as the form sent it) wraps
// inside the Details column on a desktop screen; it widened the table past
// its card, so that every event's details were cut off at the card's edge,
// to be scrolled to.
func TestBrowserAuditFitsItsCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	long := "guo" + strings.Repeat("x", 400)
	if code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json",
		`{"card":"okta-devices/suspend-device","connection":"Prod","input":{"deviceId":"`+long+`"}}`); code/100 != 2 && code != http.StatusBadRequest {
		t.Fatalf("run the card: %d %s", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	b.open("/audit")
	b.wantText("card.run", "deviceId=guoxxx")
	b.screenshot("audit-desktop")
	if w := eval[[]int](b, "measure the table", `(() => { const r = document.querySelector('.table-scroll'); return [r.scrollWidth, r.clientWidth]; })()`); w[0] > w[1] {
		b.screenshot("audit-too-wide")
		t.Errorf("the audit table is %d px wide in a region of %d px; want it to fit", w[0], w[1])
	}
}

// TestBrowserAuditWrapsAtTokenBreaks: the audit page's Outcome and Details
// columns, at 1280 and 390 px, wrap an email address, a host and a path
// only after an "@", a ".", a "/", a "-" or a "_" or between words,
// where they broke them at whatever letter reached the cell's edge; an id
// too long for the cell still breaks inside, and neither the page nor the
// table scrolls sideways.
func TestBrowserAuditWrapsAtTokenBreaks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	admin := store.Actor{Type: store.ActorUser, Login: "admin@example.com"}
	at := time.Now().Add(-time.Hour)
	for i, ev := range []store.AuditEvent{
		{Action: store.ActionCardRun, Card: "okta-devices/suspend-device", Outcome: "failure",
			Error:        "refused for margaret.hamilton@subdomain.example.com at https://dev-123456.okta.com/api/v1/devices/guo1a2b3c4d5e6f7g8h9/lifecycle/suspend: E0000006 You do not have permission",
			InputSummary: "deviceId=guo1a2b3c4d5e6f7g8h9, reason=offboarding_of alexandria.ocasio-smith@subdomain.example.com"},
		{Action: store.ActionPersonRevoke, Outcome: "success",
			InputSummary: "ops_team-oncall@corp.example.net: its binding to https://old-idp.example.com/oauth2/default/v1/userinfo removed"},
		{Action: store.ActionCardRun, Card: "okta-devices/read-device", Outcome: "failure",
			Error: "no device 0123456789abcdef0123456789abcdef0123 of grace.hopper@example.org", InputSummary: "deviceId=0123456789abcdef0123456789abcdef0123"},
	} {
		ev.Time, ev.Actor = at.Add(time.Duration(i)*time.Minute), admin
		if err := e.store.AppendAudit(ctx, &ev); err != nil {
			t.Fatal(err)
		}
	}
	b := newTab(t, e)
	b.signIn()
	script := wordBreaksScript(`[aria-label="Audit events"] td[data-label="Outcome"], [aria-label="Audit events"] td[data-label="Details"]`)
	for _, w := range []int64{1280, phoneWidth} {
		if w == 1280 {
			b.do("emulate the screen", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
		} else {
			b.setWidth(w)
		}
		b.open("/audit")
		b.wantText("margaret.hamilton@subdomain.example.com", "ops_team-oncall@corp.example.net")
		b.screenshot(fmt.Sprintf("audit-wrap-%d", w))
		if breaks := eval[[]string](b, "find where the audit cells break", script); len(breaks) > 0 {
			t.Errorf("/audit at %d px: the Outcome and Details columns break words at %q; want breaks only between words or after \"@\", \".\", \"/\", \"-\" or \"_\"", w, breaks)
		}
		b.checkWidth("/audit", int(w))
		if fit := eval[[]int](b, "measure the table", `(() => { const r = document.querySelector('[aria-label="Audit events"]'); return [r.scrollWidth, r.clientWidth]; })()`); fit[0] > fit[1] {
			t.Errorf("/audit at %d px: the audit table is %d px wide in a region of %d px; want it to fit", w, fit[0], fit[1])
		}
	}
}

// TestBrowserAuditFirstRowOnAPhone: at 390 px, where each audit event is
// a block, the first event's action starts at the top of the table as the
// others start at the top of theirs, where a gap as tall as a line stood
// above it: the form spacing of class "stack" gave the table's body a top
// margin once the phone layout made it a block.
func TestBrowserAuditFirstRowOnAPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	b := newTab(t, e)
	b.signIn()
	b.setWidth(phoneWidth)
	b.open("/audit")
	type box struct {
		Region float64   `json:"region"`
		Rows   []float64 `json:"rows"`
		Leads  []float64 `json:"leads"`
	}
	got := eval[box](b, "measure the audit rows", `(() => {
  const region = document.querySelector('[aria-label="Audit events"]');
  const rows = [...region.querySelectorAll('tbody tr')].slice(0, 2);
  return {region: region.getBoundingClientRect().top,
    rows: rows.map(r => r.getBoundingClientRect().top),
    leads: rows.map(r => r.querySelector('td.lead').getBoundingClientRect().top)};
})()`)
	b.screenshot("phone-audit-first-row")
	if len(got.Rows) != 2 {
		b.fatalf("the audit page lists %d events; want at least 2", len(got.Rows))
	}
	above, others := got.Leads[0]-got.Region, got.Leads[1]-got.Rows[1]
	if got.Rows[0]-got.Region > 1 || above > others+1 {
		t.Errorf("at %d px the first event starts %.1f px below the table's top and its action %.1f px below it; want the action as far below as the second event's is below its row's top (%.1f px)",
			phoneWidth, got.Rows[0]-got.Region, above, others)
	}
}
