package console_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserEventsFitAtDesktopWidth: the Events list of a day's device
// events (users' long logins, devices named as an org names them) fits its
// card at 1280 px, its last column, the runs each event started, in sight.
// Where the time an event was received had a column of its own beside
// Published, both times whole, and each login read whole on one line, the
// table was 1241 px wide in a region of 1036 px and cut off Runs started
// at the card's edge, to be scrolled to on every row.
func TestBrowserEventsFitAtDesktopWidth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	var evs []*store.Event
	for i, ev := range []struct{ typ, device, login string }{
		{"device.enrollment.create", "Ana's MacBook Pro 16-inch (2023)", "margaret.hamilton@subdomain.example.com"},
		{"device.user.remove", "Design-IPH-0013", "alexandria.ocasio-smith@example.com"},
		{"device.lifecycle.suspend", "Support-OPL-0012", ""},
	} {
		target := fmt.Sprintf(`{"id":"guofit%d","type":"UDDevice","displayName":%q}`, i, ev.device)
		if ev.login != "" {
			target += fmt.Sprintf(`,{"id":"00ufit%d","type":"User","alternateId":%q}`, i, ev.login)
		}
		uuid := fmt.Sprintf("ev-fit-%d", i)
		evs = append(evs, &store.Event{UUID: uuid, ConnectionID: v.ID, EventType: ev.typ, Published: at.Add(time.Duration(i) * time.Second),
			Raw: json.RawMessage(`{"uuid":"` + uuid + `","target":[` + target + `]}`), ReceivedAt: at.Add(time.Minute)})
	}
	if _, err := e.store.PutEvents(t.Context(), evs, store.ViaPoll); err != nil {
		t.Fatal(err)
	}
	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	b.open("/events")
	b.wantText("margaret.hamilton", "device.enrollment.create")
	b.screenshot("events-desktop")
	type fit struct {
		Scroll int     `json:"scroll"`
		Client int     `json:"client"`
		Last   float64 `json:"last"`
		Edge   float64 `json:"edge"`
	}
	got := eval[fit](b, "measure the events table", `(() => {
  const r = document.querySelector('[aria-label="Events"]');
  const last = r.querySelector('thead th:last-child').getBoundingClientRect();
  return {scroll: r.scrollWidth, client: r.clientWidth, last: last.right, edge: r.getBoundingClientRect().right};
})()`)
	if got.Scroll > got.Client || got.Last > got.Edge+0.5 {
		t.Errorf("/events at 1280 px: the table is %d px wide in a region of %d px, its Runs started column ending at %.0f px, past the region's edge at %.0f px; want it to fit", got.Scroll, got.Client, got.Last, got.Edge)
	}
}
