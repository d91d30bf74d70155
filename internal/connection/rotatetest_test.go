package connection

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestTestSaysWhereAKeyRotationStands: connections test after rotate-key,
// as rotate-key says to run, tells whether the org accepted the new key.
// Before the new key is added to the app, the check passes on the old key
// and says the rotation is not done (add the new key, keep the old one),
// where it said only that the connection works, and a person would remove
// the old key and break it; once the new key is added, the check switches
// to it and says to remove the old one. A check with no rotation says
// nothing of keys.
func TestTestSaysWhereAKeyRotationStands(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v, jwk, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "Robot", Domain: e.emu.URL,
		ClientID: oktaemu.DemoServiceClientID}, tester)
	if err != nil {
		t.Fatal(err)
	}
	kidOf := func(j json.RawMessage) string {
		var k struct {
			Kid string `json:"kid"`
		}
		_ = json.Unmarshal(j, &k)
		return k.Kid
	}
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if res, err := e.m.Test(ctx, v.ID, tester); err != nil || !res.OK || res.KeyRotation != "" {
		t.Fatalf("test before any rotation: %+v, %v; want ok, nothing said of keys", res, err)
	}
	_, next, err := e.m.RotateKey(ctx, v.ID, "", tester)
	if err != nil {
		t.Fatal(err)
	}
	oldKid, newKid := kidOf(jwk), kidOf(next)

	res, err := e.m.Test(ctx, v.ID, tester)
	if err != nil || !res.OK {
		t.Fatalf("test with the new key not at the org: %+v, %v; want ok, on the old key", res, err)
	}
	if want := "the org does not accept the new key " + newKid + " yet, so the check signed with the old key " + oldKid + ": the rotation is not done"; !strings.HasPrefix(res.KeyRotation, want) ||
		!strings.Contains(res.KeyRotation, "keep the old key on the app") {
		t.Errorf("key rotation %q; want it to start %q and say to keep the old key", res.KeyRotation, want)
	}

	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, next)
	res, err = e.m.Test(ctx, v.ID, tester)
	if want := "the org accepted the new key " + newKid + ": cardflow signs with it now. Remove the old key " + oldKid + " from the API Services app " + oktaemu.DemoServiceClientID; err != nil || !res.OK || !strings.HasPrefix(res.KeyRotation, want) {
		t.Errorf("test with the new key at the org: %+v, %v; want ok, key rotation starting %q", res, err, want)
	}
	if res, err := e.m.Test(ctx, v.ID, tester); err != nil || !res.OK || res.KeyRotation != "" {
		t.Errorf("test after the rotation: %+v, %v; want ok, nothing said of keys", res, err)
	}
}
