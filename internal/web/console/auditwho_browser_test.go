package console_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserAuditFitsASignedInPerson: at 1280 px the Audit page fits its
// card with the event of a person signed in with single sign-on beside a
// flow's card runs: the Who column wraps a login after its "@", as the
// Connection column's "as" login does, where "user@example.com" read as
// one word and, with the other columns at their least, pushed Details out
// of sight behind a sideways scroll.
func TestBrowserAuditFitsASignedInPerson(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	boot := store.Actor{Type: store.ActorBootstrap}
	for i, ev := range []*store.AuditEvent{
		{Actor: boot, Action: "card.run", Outcome: "success", ConnectionID: v.ID, ActingAs: "admin@example.com", Card: "okta-devices/search-devices",
			InputSummary: `resultSet=all search="status eq \"DEACTIVATED\" and lastUpdated lt \"2026-09-08T00:00:00.000Z\""`},
		{Actor: boot, Action: "card.run", Outcome: "failure", ConnectionID: v.ID, ActingAs: "admin@example.com", Card: "okta-devices/delete-device",
			InputSummary: "deactivateFirst=false deviceId=guoRP0GedTHpGG0mYTME",
			Error:        "device guoRP0GedTHpGG0mYTME is ACTIVE; Okta deletes only DEACTIVATED devices"},
		{Actor: store.Actor{Type: store.ActorUser, Login: "user@example.com"}, Action: "person.signin", Outcome: "success",
			InputSummary: "console, single sign-on, role viewer"},
	} {
		ev.Time = at.Add(time.Duration(i) * time.Second)
		if err := e.store.AppendAudit(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
	b.open("/audit")
	b.wantText("user@example.com", "Okta deletes only DEACTIVATED devices")
	if w := eval[[]int](b, "measure the table", `(() => { const r = document.querySelector('[aria-label="Audit events"]'); return [r.scrollWidth, r.clientWidth]; })()`); w[0] > w[1] {
		t.Errorf("the audit table is %d px wide in a region of %d px; want it to fit", w[0], w[1])
	}
	b.screenshot("audit-signed-in-person")
}
