package connection

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// TestServiceKeyID: a private key given as PEM, whose public key the app
// holds under a kid of its own (a key pair the Admin Console generated),
// works when its key ID is given with it; without it, cardflow names the
// key by its thumbprint, which the org does not know (key_refused). A key
// ID without a key, one that is not printable, and one that contradicts a
// JWK's kid are refused before anything is stored, never quoting the key.
func TestServiceKeyID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const kid = "admin-console-kid-1"
	pemKey := e.emu.GenerateAppKey(t, oktaemu.DemoServiceAppID, kid)

	create := func(nickname, key, keyID string) (*View, error) {
		v, _, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: nickname, Domain: e.emu.URL,
			ClientID: oktaemu.DemoServiceClientID, PrivateKey: keyring.Secret(key), KeyID: keyID}, tester)
		return v, err
	}
	v, err := create("Thumbprint", pemKey, "")
	if err != nil {
		t.Fatalf("CreateService without a key ID: %v", err)
	}
	if v.Status == store.StatusActive {
		t.Errorf("the PEM key named by its thumbprint: active; want the org to refuse a kid it does not know")
	}
	v, err = create("Console key", pemKey, kid)
	if err != nil {
		t.Fatalf("CreateService with the key ID: %v", err)
	}
	if v.Status != store.StatusActive {
		t.Errorf("the PEM key with its key ID: %s (%s); want active", v.Status, v.StatusReason)
	}
	if _, err := e.m.Token(ctx, v.ID); err != nil {
		t.Errorf("a token for the key with its key ID: %v", err)
	}

	other, err := parsePrivateKey(pemKey, "another-kid")
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := json.Marshal(other)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, key, keyID, want string }{
		{"no key", "", kid, "no private key is given"},
		{"a key ID with a space", pemKey, "a kid", "printable ASCII characters without spaces"},
		{"a JWK of another kid", string(jwk), kid, `the JWK's kid is "another-kid" and the key ID given with it "admin-console-kid-1"`},
	} {
		_, err := create("Refused "+tt.name, tt.key, tt.keyID)
		p := problem.Public(err)
		if err == nil || p.Code != problem.InvalidInput || !strings.Contains(p.Message, tt.want) || p.Details["field"] != "keyId" || strings.Contains(p.Message, "PRIVATE KEY") {
			t.Errorf("%s: %v; want invalid_input on keyId saying %q", tt.name, err, tt.want)
		}
		if _, err := e.m.Store.GetConnectionByNickname(ctx, connector, "Refused "+tt.name); err == nil {
			t.Errorf("%s: the connection was stored", tt.name)
		}
	}
}
