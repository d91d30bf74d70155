package ratebudget

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/postgres"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
	"github.com/cardflow/cardflow/internal/store/sqlite"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backends make a new database of each store and return how to open a
// handle on it (as each of several servers would).
var backends = []struct {
	name     string
	database func(t *testing.T) func(ctx context.Context) (store.Store, error)
}{
	{"SQLite", func(t *testing.T) func(context.Context) (store.Store, error) {
		path := sqlitetest.NewFile(t)
		return func(ctx context.Context) (store.Store, error) { return sqlite.Open(ctx, path) }
	}},
	{"PostgreSQL", func(t *testing.T) func(context.Context) (store.Store, error) {
		dsn := pgtest.NewSchema(t)
		return func(ctx context.Context) (store.Store, error) { return postgres.Open(ctx, dsn) }
	}},
}

// openN opens n handles with open, closed when the test ends.
func openN(t *testing.T, n int, open func(context.Context) (store.Store, error)) []store.Store {
	t.Helper()
	var out []store.Store
	for range n {
		s, err := open(t.Context())
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		out = append(out, s)
	}
	return out
}

// sqliteStore opens one handle on a new SQLite database.
func sqliteStore(t *testing.T) store.Store { return openN(t, 1, backends[0].database(t))[0] }

// client returns an Okta client of emu as the demo super admin, paced by
// limiter, that fails a call on its first 429 instead of waiting it out.
func client(t *testing.T, emu *emutest.Server, limiter okta.Limiter) *okta.Client {
	t.Helper()
	u, err := url.Parse(emu.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &okta.Client{
		BaseURL:    u,
		HTTP:       emu.ClientAs(emutest.AdminAuthorization),
		Budget:     limiter,
		MaxRetries: -1,
	}
}

func deviceIDs(t *testing.T, c *okta.Client) []string {
	t.Helper()
	var ids []string
	for d, err := range c.ListDevices(t.Context(), okta.ListOptions{Limit: 200}) {
		if err != nil {
			t.Fatalf("list devices: %v", err)
		}
		ids = append(ids, d.ID)
	}
	return ids
}

// endWindowSoon moves the emulator clock to d before the end of its
// current rate-limit window (windows end on the minute).
func endWindowSoon(t *testing.T, emu *emutest.Server, d time.Duration) {
	t.Helper()
	now := emu.Now()
	target := now.Truncate(time.Minute).Add(time.Minute - d)
	if !target.After(now) {
		target = target.Add(time.Minute)
	}
	emu.AdvanceClock(t, target.Sub(now))
}

// TestSharedAcrossServers has two servers, each with its own store handle
// and Shared, read devices as fast as they can from an org allowing 20
// calls a minute whose window ends in 2.5 s; they want more than two
// windows' worth. A new window is where separate budgets fail: each server
// would assume the whole window for itself. The shared budget must keep
// every call under the limit (a 429 fails the call: no retries), use both
// windows, and hold the rest until the test gives up on them. It runs in a
// synctest bubble against an org served in memory, on the bubble's fake
// clock: the waits for the window's end take no wall-clock time.
func TestSharedAcrossServers(t *testing.T) {
	const (
		limit       = 20
		perServer   = 30
		concurrency = 6
		giveUpAfter = 6 * time.Second
	)
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			open := be.database(t) // outside the bubble: it may start a cluster
			synctest.Test(t, func(t *testing.T) { sharedAcrossServers(t, open, limit, perServer, concurrency, giveUpAfter) })
		})
	}
}

func sharedAcrossServers(t *testing.T, open func(context.Context) (store.Store, error), limit, perServer, concurrency int, giveUpAfter time.Duration) {
	emu := emutest.StartInMemory(t, oktaemu.Config{RateLimitPerMinute: limit, Devices: 10})
	ids := deviceIDs(t, client(t, emu, nil))
	handles := openN(t, 2, open)
	endWindowSoon(t, emu, 2500*time.Millisecond)
	before := emu.Stats(t)["GET /api/v1/devices/{deviceId}"]

	ctx, cancel := context.WithTimeout(t.Context(), giveUpAfter)
	defer cancel()
	var succeeded, held, rateLimited atomic.Int64
	var wg sync.WaitGroup
	for i, h := range handles {
		c := client(t, emu, &Shared{Store: h})
		work := make(chan string)
		for range concurrency {
			wg.Go(func() {
				for id := range work {
					_, err := c.GetDevice(ctx, id)
					switch {
					case err == nil:
						succeeded.Add(1)
					case ctx.Err() != nil:
						held.Add(1)
					case okta.IsRateLimited(err):
						rateLimited.Add(1)
					default:
						t.Errorf("server %d: GetDevice: %v", i, err)
					}
				}
			})
		}
		wg.Go(func() {
			defer close(work)
			for n := range perServer {
				work <- ids[n%len(ids)]
			}
		})
	}
	wg.Wait()

	t.Logf("%d calls succeeded, %d were answered 429, %d were still held after %v",
		succeeded.Load(), rateLimited.Load(), held.Load(), giveUpAfter)
	if got := rateLimited.Load(); got != 0 {
		t.Errorf("%d calls were answered 429; want none", got)
	}
	if got := int64(emu.Stats(t)["GET /api/v1/devices/{deviceId}"] - before); got != succeeded.Load() {
		t.Errorf("the org answered %d reads; want %d, one per successful call", got, succeeded.Load())
	}
	// Each window gives limit minus a reserve of one, the first
	// one less what went before the test.
	if got, want := succeeded.Load(), int64(limit+limit/2); got < want {
		t.Errorf("%d calls succeeded; want at least %d (calls in both windows)", got, want)
	}
	if held.Load() == 0 {
		t.Errorf("no call was held; want the calls beyond two windows to wait for the third")
	}
	b, err := handles[1].GetRateBudget(t.Context(), storeKey(okta.Key{Org: emu.URL, Bucket: "/api/v1/devices"}))
	if err != nil {
		t.Fatalf("GetRateBudget: %v", err)
	}
	if b.Limit != limit || b.Used > limit {
		t.Errorf("stored budget has Limit %d, Used %d; want Limit %d and Used at most that", b.Limit, b.Used, limit)
	}
}

// countingStore counts the budget updates that reach the store.
type countingStore struct {
	Store
	n atomic.Int64
}

func (c *countingStore) UpdateRateBudget(ctx context.Context, key string, fn func(b *store.RateBudget) error) error {
	c.n.Add(1)
	return c.Store.UpdateRateBudget(ctx, key, fn)
}

// TestUnlimitedOrgSparesTheStore: an org that sends no rate-limit headers
// costs the store a query now and then, not one per call.
func TestUnlimitedOrgSparesTheStore(t *testing.T) {
	emu := emutest.Start(t, oktaemu.Config{Devices: 5})
	st := sqliteStore(t)
	cs := &countingStore{Store: st}
	c := client(t, emu, &Shared{Store: cs})
	ids := deviceIDs(t, c)
	const calls = 200
	start := time.Now()
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			if _, err := c.GetDevice(t.Context(), ids[i%len(ids)]); err != nil {
				t.Errorf("GetDevice: %v", err)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	// One query per unknownFor at most, plus the first.
	if got, most := cs.n.Load(), int64(elapsed/unknownFor)+2; got > most {
		t.Errorf("%d calls in %v made %d store updates; want at most %d", calls+1, elapsed, got, most)
	}
}

// TestWaitHonoursContext: a call waiting for the reset gives up when its
// context ends.
func TestWaitHonoursContext(t *testing.T) {
	st := sqliteStore(t)
	key := okta.Key{Org: "https://example.okta.com", Bucket: "/api/v1/devices"}
	now := time.Now()
	if err := st.UpdateRateBudget(t.Context(), storeKey(key), func(b *store.RateBudget) error {
		b.Limit, b.Used, b.WindowEnd = 10, 10, now.Add(time.Hour)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The context ends once Wait has begun to wait for the window.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var waited time.Duration
	_, err := (&Shared{Store: st}).Wait(ctx, key, func(d time.Duration) {
		waited = d
		cancel()
	})
	if waited <= 0 {
		t.Errorf("Wait on a spent budget did not wait (onWait got %v)", waited)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a spent budget returned %v; want the context's error", err)
	}
}
