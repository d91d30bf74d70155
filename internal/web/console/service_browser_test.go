package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestBrowserNewServiceConnection: from "New Connection" to a service
// connection with a generated key: the page shows the public JWK (no
// private member) with a copy button and the Admin Console steps; once the
// key is on the app, Test makes the connection active, and the connection
// page names the service app.
func TestBrowserNewServiceConnection(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	b.open("/")
	b.signIn()
	b.click(button("New Connection"))
	b.click(`#new-service`)
	b.fill("Nickname", "Robot")
	b.fill("Domain", e.emu.URL)
	b.fill("Client ID", oktaemu.DemoServiceClientID)
	b.screenshot("new-service-connection")
	b.click(button("Create"))
	b.wantText("add this public key to the app", "API Services", "Admin Roles", "Copy")
	b.screenshot("service-public-key")
	jwk := b.text(`#public-jwk`)
	if !strings.Contains(jwk, `"kid"`) || strings.Contains(jwk, `"d"`) {
		t.Fatalf("public JWK %q: want a kid and no private member", jwk)
	}
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, []byte(jwk))
	b.click(link("open the connection"))
	b.click(button("Test"))
	b.do("see the connection active", chromedp.WaitVisible(`//span[contains(@class,"badge-ok")]`))
	b.wantText("Service app", oktaemu.DemoServiceClientID)
	if v := e.connectionByNickname(t, "Robot"); v.Status != "active" || v.Auth != "service" {
		t.Errorf("connection %+v; want an active service connection", v)
	}
}
