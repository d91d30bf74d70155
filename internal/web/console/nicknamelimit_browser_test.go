package console_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// limitState is what a person meets at a field with a maxlength.
type limitState struct {
	Value   string `json:"value"`
	Help    string `json:"help"`
	Shown   bool   `json:"shown"`
	Counter string `json:"counter"`
}

func (b *tab) limitField(id string) limitState {
	b.t.Helper()
	return eval[limitState](b, "read the field "+id, fmt.Sprintf(`((id) => {
  const f = document.getElementById(id);
  const h = document.getElementById(f.getAttribute('aria-describedby').split(' ')[0]);
  const c = document.querySelector('[data-count="' + id + '"]');
  return {value: f.value, help: h ? h.textContent : '', shown: !!(c && c.offsetParent !== null), counter: c ? c.textContent : ''};
})(%q)`, id))
}

// TestBrowserNicknameSaysItsLimit: the Nickname field of both New
// Connection forms, and the Name of a new API token, say that they take up
// to 100 characters, and near the limit a counter says how many are typed
// and when the limit is reached, where the browser stopped taking
// characters at the 100th without a word. A longer nickname that reaches
// the server anyway is refused with the limit, at the field.
func TestBrowserNicknameSaysItsLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := newTab(t, e)
	b.signIn()
	for _, form := range []struct{ path, id, label string }{
		{"/connections/new?connector=okta-devices", "nickname", "Nickname"},
		{"/connections/new-service?connector=okta-devices", "nickname", "Nickname"},
		{"/tokens", "token-name", "Name"},
	} {
		b.open(form.path)
		if f := b.limitField(form.id); !strings.HasSuffix(f.Help, "Up to 100 characters.") || f.Shown {
			t.Errorf("%s: %s field %+v; want its help to say the limit, and no counter yet", form.path, form.label, f)
		}
		b.fill(form.label, strings.Repeat("n", 79))
		if f := b.limitField(form.id); f.Shown {
			t.Errorf("%s: 79 characters show the counter %q; want it hidden until 80", form.path, f.Counter)
		}
		b.do("type the 80th", typeText(labelled(form.label), "n"))
		if f := b.limitField(form.id); !f.Shown || f.Counter != "80 of 100 characters." {
			t.Errorf("%s: at 80 characters %+v; want the counter to say 80 of 100", form.path, f)
		}
		b.do("type past the limit", typeText(labelled(form.label), strings.Repeat("m", 30)))
		if f := b.limitField(form.id); len(f.Value) != 100 || !f.Shown || f.Counter != "100 of 100 characters: the limit." {
			t.Errorf("%s: after typing past the limit %+v; want 100 characters kept and the counter to say the limit is reached", form.path, f)
		}
	}

	// The server refuses a longer nickname (a browser without maxlength, a
	// form sent by hand) and says why at the field; the counter says by how
	// much the nickname it sent back is too long.
	for _, w := range []int64{1280, phoneWidth} {
		if w == 1280 {
			b.do("emulate a desktop", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
		} else {
			b.setWidth(w)
		}
		b.open("/connections/new?connector=okta-devices")
		b.fill("Nickname", strings.Repeat("n", 100))
		b.screenshot(fmt.Sprintf("nickname-at-limit-%d", w))
		b.do("send 120 characters", chromedp.Evaluate[chromedp.Void](`(() => { const f = document.getElementById('nickname'); f.removeAttribute('maxlength'); f.value = 'n'.repeat(120); })()`))
		b.fill("Domain", e.emu.URL)
		b.fill("Client ID", "0oaworkflowsclient")
		b.fill("Client secret", "demo-workflows-secret")
		b.click(button("Create"))
		if msg := b.text(`#nickname-error`); !strings.Contains(msg, "1 to 100 printable characters") {
			b.fatalf("a 120-character nickname is refused with %q; want the limit at the field", msg)
		}
		if f := b.limitField("nickname"); len(f.Value) != 120 || !f.Shown || f.Counter != "120 characters: 20 over the limit of 100." {
			t.Errorf("the form sent back: %+v; want the nickname kept and the counter to say it is 20 over", f)
		}
		b.checkWidth("nickname-too-long", int(w))
		b.screenshot(fmt.Sprintf("nickname-too-long-%d", w))
	}
	if code, out := e.api(t, "GET", "/api/v1/connections", "", ""); code != 200 || strings.Contains(out, "nnnn") {
		t.Errorf("connections: %d %s; want none made", code, out)
	}
}
