package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// reasonCodeLabelsScript reports each reason code label on the page: its
// text, the lines it takes and whether it lies within the viewport.
const reasonCodeLabelsScript = `[...document.querySelectorAll('code.reason-code')].map(c => {
  const r = c.getBoundingClientRect();
  return {text: c.textContent, lines: c.getClientRects().length, inside: r.left >= 0 && r.right <= document.documentElement.clientWidth};
})`

type reasonCodeLabel struct {
	Text   string `json:"text"`
	Lines  int    `json:"lines"`
	Inside bool   `json:"inside"`
}

// TestBrowserReasonCodeShown: a connection that is not active shows its
// reason code (statusReasonCode) as a label beside its reason, on the
// Connections page (in the reason the status opens) and on its own page,
// on one line within the page at 1280 and 390 px; an active one shows
// none.
func TestBrowserReasonCodeShown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// The org does not know the key of a new service connection yet.
	v, _, err := e.manager.CreateService(ctx, connection.ServiceInput{Connector: "okta-devices", Nickname: "Robot",
		Domain: e.emu.URL, ClientID: oktaemu.DemoServiceClientID}, store.Actor{Type: store.ActorUser, Login: "test"})
	if err != nil {
		t.Fatalf("create the service connection: %v", err)
	}
	if v.Status != store.StatusPending || v.StatusReasonCode != store.ReasonKeyRefused {
		t.Fatalf("new service connection: %s (code %q); want pending, %s", v.Status, v.StatusReasonCode, store.ReasonKeyRefused)
	}
	working := e.connect(t, "Prod", nil)

	b := newTab(t, e)
	b.signIn()
	check := func(page string, want int) {
		t.Helper()
		labels := eval[[]reasonCodeLabel](b, "find the reason code labels of "+page, reasonCodeLabelsScript)
		if len(labels) != want {
			b.fatalf("%s has %d reason code labels %+v; want %d", page, len(labels), labels, want)
		}
		for _, l := range labels {
			if l.Text != store.ReasonKeyRefused || l.Lines != 1 || !l.Inside {
				b.fatalf("%s: reason code label %+v; want %s on one line within the page", page, l, store.ReasonKeyRefused)
			}
		}
	}
	for _, w := range []int64{1280, 390} {
		b.setWidth(w)
		b.open("/connections")
		b.do("open Robot's reason", chromedp.Click(`//tr[.//a[normalize-space(.)="Robot"]]//details[contains(@class,"reason")]/summary`))
		row := b.text(`//tr[.//a[normalize-space(.)="Robot"]]//details[contains(@class,"reason")]`)
		if !strings.Contains(row, store.ReasonKeyRefused+" the org does not accept the key") {
			b.fatalf("Robot's reason on the Connections page reads %q; want its code beside the reason", row)
		}
		check(fmt.Sprintf("the Connections page at %d px", w), 1)
		b.checkWidth("the Connections page", int(w))
		b.checkAxe(fmt.Sprintf("the Connections page at %d px", w))
		b.screenshot(fmt.Sprintf("connections-reason-code-%d", w))

		b.open("/connections/" + v.ID)
		if got := b.text(`//*[@id="status-reason"]`); !strings.Contains(got, "Pending: "+store.ReasonKeyRefused+" the org does not accept the key") {
			b.fatalf("Robot's status banner reads %q; want its reason code beside the reason", got)
		}
		check(fmt.Sprintf("Robot's page at %d px", w), 1)
		b.checkWidth("Robot's page", int(w))
		b.checkAxe(fmt.Sprintf("Robot's page at %d px", w))
		b.screenshot(fmt.Sprintf("connection-reason-code-%d", w))

		b.open("/connections/" + working.ID)
		check(fmt.Sprintf("the active connection's page at %d px", w), 0)
	}
}
