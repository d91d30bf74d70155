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
	server := keyServers(dsn, func(c *Config) {
		c.keyCheckEvery = time.Hour // B learns of the rotation only from the failure
	})
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

// TestMultiServerStaleKeyringLeavesPolls: B, started first, polls the
// System Log of a connection whose event flow has poll delivery, holding
// the poll lease. After keys rotate moves the database to a key B lacks,
// B stops polling (before, it kept the lease, failing every poll): its
// lease lapses and A, which has the key, takes the polls over, so that an
// event at the org still starts its run.
func TestMultiServerStaleKeyringLeavesPolls(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	oldKey, newKey := b64key(t), b64key(t)
	dsn := pgtest.NewDatabase(t)
	server := keyServers(dsn, func(c *Config) {
		c.Now, c.EventPollInterval, c.keyCheckEvery = emu.Now, 100*time.Millisecond, 20*time.Millisecond
	})
	b := startServer(t, emu, t.TempDir(), server("server-b", oldKey, ""))
	conn := b.connect("Prod devices")
	const login = "jonas.berg@example.com"
	device := enrollDevice(t, emu, login)
	emu.AdvanceClock(t, time.Second)
	flowID := storeEnabledFlow(t, b, "poll")
	st := openPG(t, dsn)
	waitFor(t, "B to poll the System Log", func() bool {
		src, err := st.GetEventSource(t.Context(), conn.ID)
		return err == nil && !src.PolledAt.IsZero()
	})
	a := startServer(t, emu, t.TempDir(), server("server-a", oldKey+","+newKey, b.url))

	if _, err := RotateKeys(t.Context(), Config{DataDir: t.TempDir(), DB: dsn, Key: keyring.Secret(oldKey)}, keyring.Secret(newKey)); err != nil {
		t.Fatalf("RotateKeys: %v", err)
	}
	waitFor(t, "B to stop sealing", func() bool { return !b.healthy() })
	// B's key checks (every 20 ms) span several of its intake rounds
	// (every 100 ms): none of them polls, so none fails. (A round before
	// B saw the rotation may have.)
	checks := b.failures()["keyring"]
	waitFor(t, "B's further key checks", func() bool { return b.failures()["keyring"] >= checks+10 })
	failed := b.failures()["events"]
	waitFor(t, "B's further key checks", func() bool { return b.failures()["keyring"] >= checks+40 })
	if n := b.failures()["events"] - failed; n != 0 {
		t.Errorf("B, which cannot open the connection's tokens, failed %v more round(s) of its event intake; want it to leave them to A", n)
	}
	emu.AdvanceClock(t, time.Second)
	removeDeviceUser(t, emu, device, login)
	emu.AdvanceClock(t, 3*time.Minute) // past the poll lease B held
	waitFor(t, "a run of the event, started by A's poll", func() bool {
		for _, r := range a.runsOf(flowID) {
			if r.Status == "succeeded" {
				return true
			}
		}
		return false
	})
	if t.Failed() {
		t.Logf("B's logs:\n%s", b.logs)
	}
}

// keyServers gives the options of the stale-keyring tests' servers: each
// on database dsn, with key as its CARDFLOW_KEY, its lease owner and its
// public URL, and the test's own timings (tune).
func keyServers(dsn string, tune func(*Config)) func(owner, key, publicURL string) func(*Config) {
	return func(owner, key, publicURL string) func(*Config) {
		return func(c *Config) {
			c.DB, c.Key, c.Owner, c.PublicURL = dsn, keyring.Secret(key), owner, publicURL
			tune(c)
		}
	}
}
