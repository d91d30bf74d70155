package intake

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite"
)

// leaseWrittenButCanceled is a store whose TryLease writes the lease and
// then answers the context's error, as a statement that the context ends
// while it runs (a server stopping) can.
type leaseWrittenButCanceled struct{ store.Store }

func (s leaseWrittenButCanceled) TryLease(ctx context.Context, name, owner string, ttl time.Duration, now time.Time) (bool, error) {
	if _, err := s.Store.TryLease(context.WithoutCancel(ctx), name, owner, ttl, now); err != nil {
		return false, err
	}
	return false, context.Canceled
}

// TestHookLeaseGivenUpWhenItsAnswerIsLost: a hook lease taken whose
// answer is the context's error is given up at once, the work not done:
// kept, it held every other server (a restarted one among them) from the
// connection's hook until it lapsed.
func TestHookLeaseGivenUpWhenItsAnswerIsLost(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cardflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	in := &Intake{store: leaseWrittenButCanceled{st}, owner: "server-a", now: func() time.Time { return now }, log: slog.New(slog.DiscardHandler)}
	ran := false
	ok, err := in.hookLeased(t.Context(), "conn_x", func() error { ran = true; return nil })
	if ok || err == nil || ran {
		t.Fatalf("hookLeased: %v, %v, work done %v; want the context's error and no work", ok, err, ran)
	}
	if free, err := st.TryLease(t.Context(), "events-hook/conn_x", "server-b", hookLeaseTTL, now); err != nil || !free {
		t.Errorf("another server taking the hook lease: %v, %v; want it free", free, err)
	}
}
