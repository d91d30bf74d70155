package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserNewTokenOnAPhone: the token a person has just created is
// shown in a field that fits a phone's screen, and the Name field of the
// form looks like the console's other text fields.
func TestBrowserNewTokenOnAPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()
	b.setWidth(phoneWidth)
	b.open("/tokens")
	if name, role := b.width(labelled("Name")), b.width(labelled("Role")); name != role {
		t.Errorf("the Name field is %.0f px wide and the Role field %.0f px; want the text field as wide as the other fields", name, role)
	}
	b.fill("Name", "deploy script")
	b.click(button("Create token"))
	tok, err := chromedp.Run(b.ctx, chromedp.Value(labelled("New token")))
	if err != nil || !strings.HasPrefix(tok, "cfp_") {
		b.fatalf("the New token field holds %q (%v); want the new token", tok, err)
	}
	b.checkWidth("token-created", phoneWidth)
	b.screenshot("phone-token-created")
}

// width is the rendered width in CSS pixels of the element sel.
func (b *tab) width(sel string) float64 {
	b.t.Helper()
	w, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[float64](sel, "offsetWidth"))
	if err != nil {
		b.fatalf("width of %s: %v", sel, err)
	}
	return w
}
