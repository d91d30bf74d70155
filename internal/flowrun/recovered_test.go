package flowrun

import (
	"log/slog"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// TestRecoveredOncePerStreak: two runs that succeed together after a
// failed run (the events that waited for a reauthorization, started at
// once) each find the failure before the other's end is stored; the
// outbox keeps one flow_run.recovered, where each run sent one.
func TestRecoveredOncePerStreak(t *testing.T) {
	ctx := t.Context()
	st := sqlitetest.Open(t)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	r, err := notify.ParseReceiver("https://hooks.example.com/cardflow")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Store: st, Now: clock, Notifier: outboxOnly{&notify.Outbox{Store: st, Receivers: []notify.Receiver{r}, Now: clock}}})
	fl := &store.Flow{Name: "quarantine", Source: []byte("name: quarantine\n"), CreatedAt: now, UpdatedAt: now}
	if _, err := st.PutFlow(ctx, fl); err != nil {
		t.Fatal(err)
	}
	run := func(status string, created time.Duration) *store.FlowRun {
		t.Helper()
		fr := &store.FlowRun{FlowID: fl.ID, FlowName: fl.Name, Source: fl.Source, FlowVersion: 1, Inputs: []byte(`{}`), Status: "queued", CreatedAt: now.Add(created)}
		if err := st.CreateFlowRun(ctx, fr); err != nil {
			t.Fatal(err)
		}
		fr.Status = status
		return fr
	}
	finish := func(fr *store.FlowRun, ns []*store.Notification) {
		t.Helper()
		fr.FinishedAt = now.Add(time.Hour)
		if err := st.FinishFlowRun(ctx, fr, func(r *store.FlowRun) *store.AuditEvent {
			return &store.AuditEvent{Time: r.FinishedAt, Action: store.ActionFlowRun, Outcome: r.Status}
		}, ns); err != nil {
			t.Fatal(err)
		}
	}
	failed := run("failed", 0)
	failed.Failure = "step device: needs_reauthorization"
	finish(failed, nil)
	a, b := run("succeeded", time.Minute), run("succeeded", 2*time.Minute)
	log := slog.New(slog.DiscardHandler)
	na, nb := s.notifyRecovered(ctx, a, log), s.notifyRecovered(ctx, b, log)
	if len(na) != 1 || len(nb) != 1 {
		t.Fatalf("flow_run.recovered of the two runs: %d and %d messages; want one each before either is stored", len(na), len(nb))
	}
	finish(a, na)
	finish(b, nb)
	ns, err := st.ListNotifications(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	recovered := 0
	for _, n := range ns {
		if n.Type == notify.TypeFlowRunRecovered {
			recovered++
		}
	}
	if recovered != 1 {
		t.Errorf("%d flow_run.recovered in the outbox; want one for the streak", recovered)
	}
}

// outboxOnly is a Notifier that makes the outbox rows and wakes no sender.
type outboxOnly struct{ *notify.Outbox }

func (outboxOnly) Notified() {}
