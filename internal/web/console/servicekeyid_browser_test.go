package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestBrowserServiceKeyID: a service connection given a PEM private key
// whose public key the app holds under a kid of its own takes that kid
// from the Key ID field, and is active at once; a key ID that cannot be
// one is refused beside its field, the other fields kept.
func TestBrowserServiceKeyID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const kid = "admin-console-kid-1"
	pemKey := e.emu.GenerateAppKey(t, oktaemu.DemoServiceAppID, kid)

	b := newTab(t, e)
	b.signIn()
	b.fillNewService("Robot")
	b.do("paste the key", chromedp.SetValue(labelled("Private key (optional)"), pemKey))
	b.fill("Key ID (optional)", "a kid")
	b.click(button("Create"))
	if got := b.text(`//*[@id="keyId-error"]`); !strings.Contains(got, "printable ASCII characters without spaces") {
		t.Errorf("a key ID with a space: %q beside the field; want it refused there", got)
	}
	b.screenshot("service-key-id-refused")
	b.do("paste the key", chromedp.SetValue(labelled("Private key (optional)"), pemKey))
	b.fill("Key ID (optional)", kid)
	b.click(button("Create"))
	if v := e.connectionByNickname(t, "Robot"); v.Status != "active" || v.Auth != "service" {
		t.Errorf("connection %+v; want an active service connection: the org knows the key by the key ID given", v)
	}
}
