package console_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserFormCardsStartAtTheirPadding: the first words of a form's
// card (Change client secret's, Reauthorize's: a paragraph after the
// form's hidden field) start at the card's padding, as every other card's
// heading does, where the paragraph's own top margin left a gap of 15 px
// more above it.
func TestBrowserFormCardsStartAtTheirPadding(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	b := newTab(t, e)
	b.signIn()
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	for _, page := range []string{"/connections/" + v.ID + "/edit", "/connections/" + v.ID + "/reauthorize"} {
		b.open(page)
		gap := eval[float64](b, "measure the card's first line", `(() => {
  const c = document.querySelector('main form.card'), cs = getComputedStyle(c);
  const first = [...c.children].find(e => e.offsetHeight > 0);
  return first.getBoundingClientRect().top - c.getBoundingClientRect().top - parseFloat(cs.borderTopWidth) - parseFloat(cs.paddingTop);
})()`)
		if gap > 1 {
			b.screenshot("card-top-gap")
			t.Errorf("%s: the card's first line starts %.0f px below its padding; want at it", page, gap)
		}
	}
}
