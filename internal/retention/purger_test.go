package retention

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// TestPurgerRunsByItself: started, the purger removes what ended more than
// Retain ago, then again whenever its wait ends, on the injected clock;
// each purge is logged and counted.
func TestPurgerRunsByItself(t *testing.T) {
	st := sqlitetest.Open(t)
	ctx := t.Context()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := emutest.NewClock(start)
	day := 24 * time.Hour
	flowRun := func(id string, ended time.Time) {
		t.Helper()
		r := &store.FlowRun{ID: id, Status: "succeeded", CreatedAt: ended, FinishedAt: ended}
		if err := st.CreateFlowRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		card := &store.Run{Card: "okta-devices/search-devices", Status: "succeeded", Output: json.RawMessage(`{"devices":[]}`),
			FlowRunID: id, StepID: "find", StartedAt: ended, FinishedAt: ended}
		if err := st.CreateRun(ctx, card); err != nil {
			t.Fatal(err)
		}
		if err := st.PutFlowItem(ctx, "", &store.FlowItem{RunID: id, StepID: "find", Status: "succeeded", Output: card.Output, RunRef: card.ID}); err != nil {
			t.Fatal(err)
		}
	}
	flowRun("forty-days", start.Add(-40*day))
	flowRun("ten-days", start.Add(-10*day))
	if err := st.CreateRun(ctx, &store.Run{ID: "direct-31", Status: "succeeded", StartedAt: start.Add(-31 * day), FinishedAt: start.Add(-31 * day)}); err != nil {
		t.Fatal(err)
	}
	// An Okta event of 35 days ago, dispatched, and a notification of then,
	// delivered.
	old := start.Add(-35 * day)
	if _, err := st.PutEvents(ctx, []*store.Event{{UUID: "e-35", ConnectionID: "c1", EventType: "device.user.remove",
		Published: old, ReceivedAt: old, Raw: json.RawMessage(`{}`)}}, store.ViaPoll); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkEventDispatched(ctx, "e-35", old); err != nil {
		t.Fatal(err)
	}
	n := &store.Notification{ID: "n-35", Receiver: "rcv-receiver", Type: "flow_run.failed", Body: json.RawMessage(`{}`), NextAttemptAt: old, CreatedAt: old}
	if err := st.EnqueueNotifications(ctx, []*store.Notification{n}); err != nil {
		t.Fatal(err)
	}
	n.Attempts, n.DeliveredAt = 1, old
	if err := st.UpdateNotification(ctx, n); err != nil {
		t.Fatal(err)
	}
	// A notification of 20 days ago that its receiver never took.
	stuck := start.Add(-20 * day)
	if err := st.EnqueueNotifications(ctx, []*store.Notification{{ID: "n-stuck", Receiver: "rcv-gone", Type: "flow_run.failed",
		Body: json.RawMessage(`{}`), NextAttemptAt: stuck, CreatedAt: stuck}}); err != nil {
		t.Fatal(err)
	}

	var logs emutest.SyncBuffer
	ticks := make(chan time.Time)
	reports := make(chan Report)
	waits := make(chan time.Duration, 10)
	m := NewMetrics()
	p := &Purger{Store: st, Retain: 30 * day, Every: 6 * time.Hour, Batch: 1, Now: clock.Now,
		After:  func(d time.Duration) <-chan time.Time { waits <- d; return ticks },
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Metrics: m,
		Purged: func(r Report) { reports <- r }}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); p.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })

	// At start: the forty-day run (with its card run), the 31-day card
	// run, the event and the notification.
	if got := <-reports; got.Purged != (store.Purged{FlowRuns: 1, CardRuns: 2, Events: 1, Notifications: 1}) || !got.Before.Equal(start.Add(-30*day)) {
		t.Errorf("first purge = %+v; want 1 flow run, 2 card runs, 1 event and 1 notification older than %v", got, start.Add(-30*day))
	}
	if d := <-waits; d != 6*time.Hour {
		t.Errorf("the purger waits %v; want Every, 6h", d)
	}
	if _, err := st.GetFlowRun(ctx, "ten-days"); err != nil {
		t.Errorf("the ten-day run: %v; want it kept", err)
	}
	// Nothing more is old enough until the clock moves.
	ticks <- clock.Now()
	if got := <-reports; !got.Empty() {
		t.Errorf("second purge = %+v; want nothing", got)
	}
	<-waits
	clock.Advance(21 * day)
	ticks <- clock.Now()
	if got := <-reports; got.Purged != (store.Purged{FlowRuns: 1, CardRuns: 1, Notifications: 1, Undelivered: 1}) {
		t.Errorf("purge 21 days later = %+v; want the ten-day run, its card run and the notification never delivered", got)
	}
	if _, err := st.GetFlowRun(ctx, "ten-days"); err == nil {
		t.Errorf("the ten-day run is still there 31 days after it ended")
	}
	if n := testutil.ToFloat64(m.Purged.WithLabelValues("flow_run")); n != 2 {
		t.Errorf("flow_run purged metric = %v; want 2", n)
	}
	if n := testutil.ToFloat64(m.Purged.WithLabelValues("card_run")); n != 3 {
		t.Errorf("card_run purged metric = %v; want 3", n)
	}
	for kind, want := range map[string]float64{"event": 1, "notification": 2, "notification_undelivered": 1} {
		if n := testutil.ToFloat64(m.Purged.WithLabelValues(kind)); n != want {
			t.Errorf("%s purged metric = %v; want %v", kind, n, want)
		}
	}
	if !strings.Contains(logs.String(), "gave up notifications") {
		t.Errorf("no warning about the notification given up:\n%s", &logs)
	}
	if got := strings.Count(logs.String(), "purged records past the retention period"); got != 2 {
		t.Errorf("%d purge log lines; want 2 (one per purge that removed something):\n%s", got, &logs)
	}
}

// TestPurgerAudit: with an audit retention and runs kept forever, only
// audit events older than RetainAudit go, and the purge says so.
func TestPurgerAudit(t *testing.T) {
	st := sqlitetest.Open(t)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	if err := st.CreateRun(ctx, &store.Run{ID: "direct-400", Status: "succeeded", StartedAt: now.Add(-400 * day), FinishedAt: now.Add(-400 * day)}); err != nil {
		t.Fatal(err)
	}
	for _, age := range []int{400, 380, 300, 10} {
		if err := st.AppendAudit(ctx, &store.AuditEvent{Time: now.Add(-time.Duration(age) * day), Action: "card.run"}); err != nil {
			t.Fatal(err)
		}
	}
	var logs emutest.SyncBuffer
	m := NewMetrics()
	p := &Purger{Store: st, Retain: -1, RetainAudit: 365 * day, Batch: 1, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Metrics: m}
	rep, err := p.Purge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.AuditEvents != 2 || !rep.Purged.Empty() || !rep.AuditBefore.Equal(now.Add(-365*day)) || !rep.Before.IsZero() {
		t.Errorf("purge = %+v; want the 2 audit events older than 365 days and nothing else", rep)
	}
	left, err := st.ListAudit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 {
		t.Errorf("%d audit events left; want 2", len(left))
	}
	if _, err := st.GetRun(ctx, "direct-400"); err != nil {
		t.Errorf("the 400-day card run: %v; want it kept (runs are kept forever here)", err)
	}
	if n := testutil.ToFloat64(m.Purged.WithLabelValues("audit_event")); n != 2 {
		t.Errorf("audit_event purged metric = %v; want 2", n)
	}
	if !strings.Contains(logs.String(), "audit_events=2") || !strings.Contains(logs.String(), "retain_audit=8760h0m0s") {
		t.Errorf("the purge's log line does not name the audit events and their retention:\n%s", &logs)
	}
	if rep, err := p.Purge(ctx); err != nil || !rep.Empty() {
		t.Errorf("second purge = %+v, %v; want nothing", rep, err)
	}
}

// downStore fails every purge, as a database that cannot be reached
// does, while down is set.
type downStore struct {
	Store
	down atomic.Bool
}

var errDown = fmt.Errorf("store: purge: postgres: dial tcp 10.255.0.1:5432: connect: connection refused: %w", store.ErrUnavailable)

func (s *downStore) Purge(ctx context.Context, before, eventsBefore time.Time, limit int) (store.Purged, error) {
	if s.down.Load() {
		return store.Purged{}, errDown
	}
	return s.Store.Purge(ctx, before, eventsBefore, limit)
}

// TestPurgerOutage: purges that fail while the database is down are
// logged at ERROR once, then summarised with how long and how often they
// failed, and the purge that works again logs the recovery.
func TestPurgerOutage(t *testing.T) {
	st := sqlitetest.Open(t)
	ds := &downStore{Store: st}
	ds.down.Store(true)
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := emutest.NewClock(start)
	var logs emutest.SyncBuffer
	ticks := make(chan time.Time)
	waits := make(chan time.Duration)
	p := &Purger{Store: ds, Retain: 24 * time.Hour, Now: clock.Now,
		After:  func(time.Duration) <-chan time.Time { waits <- 0; return ticks },
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	runCtx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	purge := func() {
		t.Helper()
		clock.Advance(time.Hour)
		ticks <- clock.Now()
		<-waits
	}
	<-waits // the purge at start
	purge()
	purge()
	ds.down.Store(false)
	purge()

	var got []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		got = append(got, fmt.Sprint(m["level"], " ", m["msg"], " failures=", m["failures"], " failing_for=", m["failing_for"]))
	}
	want := []string{
		"ERROR purge records past the retention period failures=<nil> failing_for=<nil>",
		"ERROR purge records past the retention period: still failing failures=2 failing_for=<nil>",
		"ERROR purge records past the retention period: still failing failures=3 failing_for=<nil>",
		fmt.Sprintf("INFO purge records past the retention period: recovered failures=3 failing_for=%s", 3*time.Hour),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("logs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
