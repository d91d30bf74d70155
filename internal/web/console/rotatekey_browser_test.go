package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserRotateServiceKey rotates an active service connection's key
// from its page: the new public key is shown to add to the app, a test
// before the org has it keeps the connection working on the old key (and
// says the rotation is not done), and once the app has it the next test
// switches to it and drops the old one (and says to remove it from the
// app).
func TestBrowserRotateServiceKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	v, _, err := e.manager.CreateService(ctx, connection.ServiceInput{Connector: "okta-devices", Nickname: "Robot",
		Domain: e.emu.URL, ClientID: oktaemu.DemoServiceClientID}, store.Actor{Type: store.ActorUser, Login: "test"})
	if err != nil {
		t.Fatalf("create the service connection: %v", err)
	}
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, v.PublicJWK)
	if res, err := e.manager.Test(ctx, v.ID, store.Actor{Type: store.ActorUser, Login: "test"}); err != nil || !res.OK {
		t.Fatalf("test the connection: %v %+v", err, res)
	}
	oldKey := string(v.PublicJWK)

	b := newTab(t, e)
	b.signIn()
	b.open("/connections/" + v.ID)
	if strings.Contains(b.mainText(), "New JWK") {
		t.Fatalf("a connection that was never rotated shows a new key")
	}
	b.selectOption("Algorithm of a new key", "RS256")
	b.click(button("Make a new key"))
	b.wantText("A new key is made", "Replace the new key")
	next := b.keyField("next-public-jwk")
	if !strings.Contains(next.Value, `"RSA"`) || strings.Contains(next.Value, `"d"`) || next.Value == oldKey {
		t.Fatalf("the new public key reads %q; want a new RSA public JWK, no private member", next.Value)
	}
	if got := b.keyField("public-jwk").Value; got != oldKey {
		t.Errorf("the current key changed to %q before the org accepted the new one", got)
	}

	// The org does not know the new key yet: the connection keeps working.
	b.click(button("Test"))
	b.wantText("Health check passed", "Key rotation: the org does not accept the new key", "keep the old key on the app")
	if got := b.keyField("next-public-jwk").Value; got != next.Value {
		t.Errorf("after a test the org could not pass with the new key, the new key reads %q; want it still waiting", got)
	}

	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, []byte(next.Value))
	b.click(button("Test"))
	b.wantText("Health check passed", "Make a new key", "Key rotation: the org accepted the new key", "Remove the old key")
	if got := b.keyField("public-jwk").Value; got != next.Value {
		t.Errorf("after the org accepted the new key, the current key reads %q; want the new one", got)
	}
	if strings.Contains(b.mainText(), "New JWK") {
		t.Errorf("the new key is still shown as waiting after the switch")
	}
	if v := e.connectionByNickname(t, "Robot"); v.Status != "active" || string(v.PublicJWK) != next.Value {
		t.Errorf("connection %s with key %s; want active on the new key", v.Status, v.PublicJWK)
	}
	code, body := e.api(t, "GET", "/api/v1/audit?action=connection.rotate-key", "", "")
	if code != 200 || !strings.Contains(body, `"bootstrap"`) || !strings.Contains(body, "new key") {
		t.Errorf("audit of the rotation: %d %s; want an event naming the bootstrap admin", code, body)
	}
}
