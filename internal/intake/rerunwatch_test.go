package intake

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/cardflow/cardflow/internal/events"
	"github.com/cardflow/cardflow/internal/outage"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite"
)

// countedReruns counts the reads of the pending reruns.
type countedReruns struct {
	store.Store
	reads atomic.Int32
}

func (s *countedReruns) PendingReruns(ctx context.Context) (map[string]string, error) {
	s.reads.Add(1)
	return s.Store.PendingReruns(ctx)
}

// TestRerunsWatchedOnlyWhileTheyAloneHoldEvents: the watch reads the
// pending reruns, to wake the dispatch once one has ended, only for a
// flow whose events nothing else holds: while the flow's trigger's
// connection cannot run cards (Waiting), its events wait for the
// connection whatever the rerun does, and the round that follows its
// return to active (noticeActive) watches the rerun; reading the store
// every connCheckEvery meanwhile, for as long as the connection is
// broken, told nothing.
func TestRerunsWatchedOnlyWhileTheyAloneHoldEvents(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cardflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cs := &countedReruns{Store: st}
	in := &Intake{store: cs, log: slog.New(slog.DiscardHandler), outage: &outage.Log{}, wake: make(chan struct{}, 1)}
	held := func(waiting string) map[string]*connFlows {
		return map[string]*connFlows{"conn_x": {flows: []events.EventFlow{
			{Flow: &store.Flow{ID: "fl_a"}, ConnectionID: "conn_x", RerunFirst: "fr_earlier", Waiting: waiting},
		}}}
	}

	in.rerunsFirst = rerunsToWatch(held("connection Prod is needs_reauthorization"))
	in.noticeRerunsEnded(t.Context())
	if n := cs.reads.Load(); n != 0 {
		t.Errorf("%d reads of the pending reruns while the flow's connection holds its events; want none", n)
	}
	select {
	case <-in.wake:
		t.Error("the dispatch woken while the flow's connection holds its events")
	default:
	}

	// The connection active again, the rerun alone holds the events: its
	// end (none is pending in the store) wakes the dispatch.
	in.rerunsFirst = rerunsToWatch(held(""))
	in.noticeRerunsEnded(t.Context())
	if n := cs.reads.Load(); n != 1 {
		t.Errorf("%d reads of the pending reruns while a rerun alone holds the flow's events; want 1", n)
	}
	select {
	case <-in.wake:
	default:
		t.Error("the dispatch not woken once the rerun that held the flow's events ended")
	}
}
