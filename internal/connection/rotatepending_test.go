package connection

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestKeyRefusedDuringRotation: a service connection whose new key
// (rotate-key) waits for the org, and whose current key the org no longer
// accepts (removed from the app before the new one was added), says to add
// the new key, which it shows apart from the current one, not the
// current key it is rotating away from; once the org has the new key the
// connection works with it.
func TestKeyRefusedDuringRotation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v, jwk, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "Robot", Domain: e.emu.URL,
		ClientID: oktaemu.DemoServiceClientID}, tester)
	if err != nil {
		t.Fatal(err)
	}
	var key struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(jwk, &key)
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	// Another key of the app's, so that the connection's may be removed.
	e.emu.GenerateAppKey(t, oktaemu.DemoServiceAppID, "spare")
	if _, err := e.m.Token(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	_, next, err := e.m.RotateKey(ctx, v.ID, "", tester)
	if err != nil {
		t.Fatal(err)
	}
	e.emu.RemoveAppKey(t, oktaemu.DemoServiceAppID, key.Kid)
	e.emu.AdvanceClock(t, time.Hour)
	if _, err := e.m.Token(ctx, v.ID); err == nil {
		t.Fatal("Token with neither key at the org: want an error")
	}
	c := e.conn(t, v.ID)
	if c.Status != store.StatusError || c.StatusReasonCode != store.ReasonKeyRefused {
		t.Fatalf("status %s (code %q); want error, %s", c.Status, c.StatusReasonCode, store.ReasonKeyRefused)
	}
	if !strings.Contains(c.Remedy, "new public key") || !strings.Contains(c.Remedy, "nextPublicJwk") {
		t.Errorf("remedy %q; want it to name the new public key that rotate-key made", c.Remedy)
	}
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, next)
	if res, err := e.m.Test(ctx, v.ID, tester); err != nil || !res.OK {
		t.Fatalf("test with the new key at the org: %+v, %v", res, err)
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusActive || len(c.SealedNextPrivateKey) != 0 {
		t.Errorf("status %s, next key kept %v; want active with the new key in use", c.Status, len(c.SealedNextPrivateKey) != 0)
	}
}
