package app

import (
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// TestMultiServerStaleKeyringTriggeredRuns: two servers on PostgreSQL, A
// with CARDFLOW_KEY=OLD,NEW and B with OLD alone, when keys rotate moves
// the database to NEW and A stops. Before B's next look at the database
// (an hour away here), an Okta event and a schedule's tick start runs of
// enabled flows on B: it fails neither (the one it claims it hands back,
// refusing its card before the card starts, so that no failed card run is
// recorded or audited; then it claims no more), and a server with NEW runs
// both to success.
func TestMultiServerStaleKeyringTriggeredRuns(t *testing.T) {
	t.Parallel()
	// The org's clock, which the servers use, moves only when the test
	// moves it: on the wall clock, a minute's tick could come while a
	// loaded machine sets the servers up, and start a third run.
	clock := emutest.NewClock(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
	emu := emutest.Start(t, oktaemu.Config{Devices: 3, Now: clock.Now})
	oldKey, newKey := b64key(t), b64key(t)
	dsn := pgtest.NewDatabase(t)
	server := keyServers(dsn, func(c *Config) {
		c.Now, c.SchedulePoll, c.EventPollInterval = emu.Now, 20*time.Millisecond, time.Hour
		c.keyCheckEvery = time.Hour // B learns of the rotation only from the runs
	})
	a := startServer(t, emu, t.TempDir(), server("server-a", oldKey+","+newKey, ""))
	b := startServer(t, emu, t.TempDir(), server("server-b", oldKey, a.url))
	conn := a.connect("Prod devices")
	const login = "jonas.berg@example.com"
	device := enrollDevice(t, emu, login)
	onEvent := storeEnabledFlow(t, a, "poll")
	scheduled := storeEnabledDoc(t, a, strings.ReplaceAll(scheduledFlow, "connection: Prod", "connection: Prod devices"))

	if _, err := RotateKeys(t.Context(), Config{DataDir: t.TempDir(), DB: dsn, Key: keyring.Secret(oldKey)}, keyring.Secret(newKey)); err != nil {
		t.Fatalf("RotateKeys: %v", err)
	}
	a.stop() // B alone starts and claims the runs
	if !b.healthy() {
		t.Fatalf("B fails its health check before it has looked at the database again")
	}
	emu.AdvanceClock(t, time.Second)
	now := emu.Now().UTC()
	const uuid = "5d2c0e4a-7b1f-4e3a-9c8d-2f6a1b0e9d7c"
	raw := `{"uuid":"` + uuid + `","eventType":"device.user.remove","published":"` + now.Format("2006-01-02T15:04:05.000Z") +
		`","target":[{"id":"` + device + `","type":"UDDevice"},{"id":"00u1","type":"User","alternateId":"` + login + `"}]}`
	if _, err := openPG(t, dsn).PutEvents(t.Context(), []*store.Event{{UUID: uuid, ConnectionID: conn.ID, EventType: "device.user.remove",
		Published: now, ReceivedAt: now, Raw: []byte(raw)}}, store.ViaPoll); err != nil {
		t.Fatal(err)
	}
	b.app.events.WakeDispatch()
	emu.AdvanceClock(t, time.Minute) // the schedule's next tick
	var runs []triggeredRun
	waitFor(t, "B to start the runs of the event and of the tick", func() bool {
		runs = append(b.runsOf(onEvent), b.runsOf(scheduled)...)
		return len(runs) == 2
	})
	waitFor(t, "B to stop sealing, or to fail a run", func() bool {
		for _, r := range append(b.runsOf(onEvent), b.runsOf(scheduled)...) {
			if r.Status == "failed" {
				return true
			}
		}
		return !b.healthy()
	})
	for _, r := range append(b.runsOf(onEvent), b.runsOf(scheduled)...) {
		if r.Status == "failed" {
			t.Fatalf("B failed a %s run it could not go on with: %+v\n%s", r.Trigger.Kind, r, b.logs)
		}
	}

	// Nor did it fail a card run of theirs: the cards were refused before
	// they started (a failed card run would be audited as such).
	var cardRuns struct {
		Runs []runJSON `json:"runs"`
	}
	if code, data := b.call("GET", "/api/v1/runs", nil, &cardRuns); code != 200 {
		t.Fatalf("GET /api/v1/runs: %d %s", code, data)
	}
	for _, r := range cardRuns.Runs {
		if r.Status == "failed" {
			t.Errorf("B failed the card run %s of a run it handed back: %+v", r.Card, r.Error)
		}
	}

	c := startServer(t, emu, t.TempDir(), server("server-c", newKey, a.url))
	for _, r := range runs {
		if done := waitFlowRun(t, c, r.ID, time.Minute); done.Status != "succeeded" {
			t.Errorf("the %s run started on B: %+v; want it succeeded, run by a server with the new key", r.Trigger.Kind, done)
		}
		if fr, err := openPG(t, dsn).GetFlowRun(t.Context(), r.ID); err != nil {
			t.Error(err)
		} else if fr.Owner != "server-c" {
			t.Errorf("the %s run started on B was run by %q; want server-c", r.Trigger.Kind, fr.Owner)
		}
	}
}
