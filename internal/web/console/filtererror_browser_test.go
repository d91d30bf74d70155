package console_test

import (
	"testing"
)

// TestBrowserFilterErrorPages: the Runs and Events pages of a filter that
// names nothing pass the page checks on a phone (width, axe-core, contrast,
// focus), and the cards to pick from are each at least 24 px apart, the
// target size WCAG 2.5.8 asks of links a finger taps.
func TestBrowserFilterErrorPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	b := newPhoneTab(t, e)
	b.signIn()
	b.open("/runs?card=serch-devices")
	b.wantText("Unknown card", "Did you mean okta-devices/search-devices?", "Cards that run")
	b.checkPage("runs-unknown-card")
	tops := eval[[]float64](b, "measure the card links", `[...document.querySelectorAll('#run-cards ~ ul a')].map(a => a.getBoundingClientRect().top)`)
	if len(tops) < 2 {
		b.fatalf("the page lists %d cards to pick from; want them all", len(tops))
	}
	for i := 1; i < len(tops); i++ {
		if d := tops[i] - tops[i-1]; d < 24 {
			t.Errorf("card links %d and %d are %.1f px apart; want at least 24", i-1, i, d)
		}
	}
	b.open("/events?connection=prd")
	b.wantText("No connection has the id or nickname", "Did you mean Prod?", "Go to connections", "Show all events")
	b.checkPage("events-unknown-connection")
}
