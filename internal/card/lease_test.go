package card

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// lostFinish is the store's recorder whose FinishRun fails once, as when
// the database drops the connection at that moment.
type lostFinish struct {
	StoreRecorder
	failed atomic.Bool
}

func (r *lostFinish) FinishRun(ctx context.Context, run *store.Run, e *store.AuditEvent) error {
	if r.failed.CompareAndSwap(false, true) {
		return errors.New("the database connection was lost")
	}
	return r.StoreRecorder.FinishRun(ctx, run, e)
}

// TestRunLeasesEndARunWhoseOutcomeWasLost: a direct card run whose outcome
// could not be stored is no longer executed by its server, which still
// lives: its lease is not renewed any more, and a sweep after the lease
// ends it interrupted instead of leaving it running for as long as the
// server runs.
func TestRunLeasesEndARunWhoseOutcomeWasLost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktaemu.Config{Devices: 3})
	now := time.Date(2026, 12, 5, 21, 35, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	const ttl = 15 * time.Second
	e.exec.Recorder = &lostFinish{StoreRecorder: StoreRecorder{Store: e.st}}
	e.exec.Owner, e.exec.LeaseTTL, e.exec.Now = "server-a", ttl, clock
	leases := &RunLeases{Store: e.st, Owner: "server-a", TTL: ttl, Now: clock, Running: e.exec.Running}

	res, err := e.exec.Run(t.Context(), Request{Card: "okta-devices/read-device", Connection: "Prod",
		Input: map[string]any{"deviceId": e.device("ACTIVE")}, Actor: testActor})
	if err == nil || res == nil || res.RunID == "" {
		t.Fatalf("Run: %+v, %v; want the run's result and the error of its lost outcome", res, err)
	}
	if ids := e.exec.Running(); len(ids) != 0 {
		t.Errorf("Running after the run returned: %v; want none", ids)
	}
	for range 3 {
		now = now.Add(ttl / 3)
		leases.Round(t.Context())
	}
	now = now.Add(time.Second)
	ended := leases.Round(t.Context())
	if !slices.Contains(ended, res.RunID) {
		t.Errorf("a round after the lease ended %v; want the run %s whose outcome was lost", ended, res.RunID)
	}
	got, err := e.st.GetRun(t.Context(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.RunInterrupted {
		t.Errorf("the run whose outcome was lost is %s; want %s", got.Status, store.RunInterrupted)
	}
}

// TestRunLeasesRenewWhatRuns: while a card run executes, its server's
// rounds keep its lease, however long it takes.
func TestRunLeasesRenewWhatRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t, oktaemu.Config{Devices: 3})
	var mu atomic.Int64
	mu.Store(time.Date(2026, 12, 5, 21, 35, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, mu.Load()).UTC() }
	const ttl = 15 * time.Second
	e.exec.Owner, e.exec.LeaseTTL, e.exec.Now = "server-a", ttl, clock
	leases := &RunLeases{Store: e.st, Owner: "server-a", TTL: ttl, Now: clock, Running: e.exec.Running}

	var ended []string
	req := Request{Card: "okta-devices/read-device", Connection: "Prod", Input: map[string]any{"deviceId": e.device("ACTIVE")},
		Actor: testActor, BeforeCall: func() error {
			// The run is recorded and executing: a minute passes.
			for range 12 {
				mu.Add(int64(ttl / 3))
				ended = append(ended, leases.Round(context.Background())...)
			}
			return nil
		}}
	res, err := e.exec.Run(t.Context(), req)
	if err != nil || res.Status != StatusSucceeded {
		t.Fatalf("Run: %+v, %v", res, err)
	}
	if len(ended) != 0 {
		t.Errorf("rounds while the run executed ended %v; want none", ended)
	}
}
