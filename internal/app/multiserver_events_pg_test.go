package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// TestMultiServerEventsExactlyOnce: two servers on one PostgreSQL
// database behind one public URL, with the org's event hook deliveries
// taking turns between them and some dropped, doubled and delayed: each
// device-user removal starts exactly one run, and the connection has one
// event hook at the org.
func TestMultiServerEventsExactlyOnce(t *testing.T) {
	t.Parallel()
	const removals = 20
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	proxy := startProxy(t)
	dsn := pgtest.NewDatabase(t)
	key := keyring.Secret(b64key(t))
	config := func(owner string) func(*Config) {
		return func(c *Config) {
			c.DB, c.Key, c.Owner, c.PublicURL = dsn, key, owner, proxy.url
			c.EventPollInterval = 200 * time.Millisecond
		}
	}
	a := startServer(t, emu, t.TempDir(), config("server-a"))
	b := startServer(t, emu, t.TempDir(), config("server-b"))
	proxy.route(t, a.url, b.url)
	pub := *a // the API through the public URL, as people reach it
	pub.url = proxy.url
	pub.connect("Prod devices")

	const login = "jonas.berg@example.com"
	var devices []string
	for range removals {
		devices = append(devices, enrollDevice(t, emu, login))
	}
	emu.AdvanceClock(t, time.Second)
	flowID := storeEnabledFlow(t, &pub, "hook+poll")
	waitHookVerified(t, emu)
	emu.AdvanceClock(t, time.Second)

	// The seeds make the first three deliveries one of each fault (the
	// drop's first draw hits and its next two miss, the duplicate's first
	// hits and its second misses, the delay's first hits), however many
	// deliveries the removals make: events recorded during a delivery
	// share the next one, so their number varies from run to run.
	for _, f := range []string{
		`{"hook":"drop","probability":0.2,"seed":9}`,
		`{"hook":"duplicate","probability":0.25,"seed":5}`,
		`{"hook":"delay","probability":0.1,"seed":14,"delay":"2m"}`,
	} {
		resp, err := emu.Client.Post(emu.URL+"/_emulator/faults", "application/json", strings.NewReader(f))
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("fault %s: %v %v", f, err, resp)
		}
		resp.Body.Close()
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for _, d := range devices {
		removeDeviceUser(t, emu, d, login)
		// One delivery per removal (events recorded during a delivery
		// would share the next one), so that the faults have many to hit.
		if err := emu.Org.WaitDeliveries(ctx); err != nil {
			t.Fatal(err)
		}
	}
	emu.AdvanceClock(t, 3*time.Minute) // the delayed deliveries go out
	if err := emu.Org.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	checkOncePerRemoval(t, &pub, flowID, removals)
	for _, h := range []*harness{a, b} {
		if n := proxy.hookRequests(h.url); n == 0 {
			t.Errorf("server %s was sent no event hook request; want deliveries spread over both", h.url)
		}
	}
	if hs := orgHooks(t, emu); len(hs) != 1 {
		t.Errorf("the org has %d event hooks; want the connection's one", len(hs))
	}
	st := emu.Org.DeliveryStats()
	if st.Sent == 0 || st.Dropped == 0 || st.Duplicated == 0 || st.Delayed == 0 {
		t.Errorf("delivery stats %+v; want some deliveries sent, dropped, doubled and delayed", st)
	}
}
