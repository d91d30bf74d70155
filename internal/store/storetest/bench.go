package storetest

import (
	"fmt"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

// BenchPutEvents measures s's inbox ingest rate: batches of 50 new events
// (Okta's delivery batch, each the size of a LogEvent) committed at once,
// reported as events/s. Each backend runs it from a benchmark of its own.
func BenchPutEvents(b *testing.B, s store.Store) {
	b.Helper()
	raw := make([]byte, 1500)
	for i := range raw {
		raw[i] = 'x'
	}
	raw[0], raw[len(raw)-1] = '"', '"'
	n := 0
	for b.Loop() {
		batch := make([]*store.Event, 50)
		for j := range batch {
			n++
			batch[j] = &store.Event{UUID: fmt.Sprintf("ev-%d", n), ConnectionID: "c1", EventType: "device.user.remove", Raw: raw}
		}
		if _, err := s.PutEvents(b.Context(), batch, store.ViaHook); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
