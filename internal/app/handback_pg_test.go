package app

import (
	"net/http"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// TestMultiServerStaleKeyringHandsRunBack: two servers on PostgreSQL, A
// with CARDFLOW_KEY=OLD,NEW and B with OLD alone, when keys rotate moves
// the database to NEW. Before B's next look at the database (an hour away
// here), it claims a flow run whose card cannot open the access token,
// now sealed with NEW. B then checks the sealing key at once, stops
// sealing (its /healthz fails) and hands the run back instead of failing
// it: a server with NEW resumes it and it succeeds.
func TestMultiServerStaleKeyringHandsRunBack(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	oldKey, newKey := b64key(t), b64key(t)
	dsn := pgtest.NewDatabase(t)
	server := func(owner, key, publicURL string) func(*Config) {
		return func(c *Config) {
			c.DB, c.Key, c.Owner, c.PublicURL = dsn, keyring.Secret(key), owner, publicURL
			c.keyCheckEvery = time.Hour // B learns of the rotation only from the failure
		}
	}
	a := startServer(t, emu, t.TempDir(), server("server-a", oldKey+","+newKey, ""))
	b := startServer(t, emu, t.TempDir(), server("server-b", oldKey, a.url))
	a.connect("Prod")
	flowID := a.storeFlow("handed-back")

	if _, err := RotateKeys(t.Context(), Config{DataDir: t.TempDir(), DB: dsn, Key: keyring.Secret(oldKey)}, keyring.Secret(newKey)); err != nil {
		t.Fatalf("RotateKeys: %v", err)
	}
	a.stop() // B alone claims the run
	if !b.healthy() {
		t.Fatalf("B fails its health check before it has looked at the database again")
	}
	var run flowRun
	if code, data := b.call("POST", "/api/v1/flows/"+flowID+"/runs", map[string]any{}, &run); code != http.StatusAccepted {
		t.Fatalf("start a flow run on B: %d %s", code, data)
	}
	var got flowRun
	waitFor(t, "B to hand the run back or fail it", func() bool {
		b.call("GET", "/api/v1/flow-runs/"+run.ID, nil, &got)
		return got.Status == "failed" || !b.healthy()
	})
	if got.Status == "failed" {
		t.Fatalf("B failed the flow run it could not go on with: %+v\n%s", got, b.logs)
	}
	fr, err := openPG(t, dsn).GetFlowRun(t.Context(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fr.Owner != "server-b" || !fr.LeaseUntil.IsZero() && fr.LeaseUntil.After(time.Now()) {
		t.Errorf("the flow run after B handed it back: owner %q, lease until %v; want B's lease released", fr.Owner, fr.LeaseUntil)
	}

	c := startServer(t, emu, t.TempDir(), server("server-c", newKey, a.url))
	if done := waitFlowRun(t, c, run.ID, time.Minute); done.Status != "succeeded" {
		t.Errorf("the flow run B handed back: %+v; want it succeeded, run by a server with the new key", done)
	}
	if fr, err := openPG(t, dsn).GetFlowRun(t.Context(), run.ID); err != nil {
		t.Error(err)
	} else if fr.Owner != "server-c" {
		t.Errorf("the flow run B handed back was run by %q; want server-c", fr.Owner)
	}
}
