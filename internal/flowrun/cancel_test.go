package flowrun_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// lostAppends is a store whose AppendAudit fails, as a server that dies
// between two transactions loses the second.
type lostAppends struct{ store.Store }

func (lostAppends) AppendAudit(context.Context, *store.AuditEvent) error {
	return errors.New("the server died")
}

// TestCancelAuditedWithTheRequest: a cancel's flow.cancel audit event is
// stored with the request, not after it: a request that is stored is
// audited, one event per request, whether it ends a queued run at once
// (which gets its flow.run event too), is noted for a running run's
// server or finds the run canceled already; a refused one is not.
func TestCancelAuditedWithTheRequest(t *testing.T) {
	ctx := t.Context()
	st := sqlitetest.Open(t)
	now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	s := flowrun.New(flowrun.Config{Store: lostAppends{st}, Owner: "here", Now: func() time.Time { return now }})
	ada := store.Actor{Type: store.ActorUser, Login: "ada@example.com"}
	admin := store.Actor{Type: store.ActorToken, Login: "admin@example.com", TokenName: "cli"}
	newRun := func(id, status string) {
		t.Helper()
		r := &store.FlowRun{ID: id, FlowID: "f1", FlowName: "offboard", Source: []byte("name: offboard\n"), FlowVersion: 1,
			Inputs: []byte(`{}`), Status: status, Actor: ada, CreatedAt: now}
		if err := st.CreateFlowRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	newRun("fr_queued", "queued")
	newRun("fr_running", "running")
	newRun("fr_done", "succeeded")
	for _, c := range []struct{ id, status string }{
		{"fr_queued", "canceled"}, {"fr_queued", "canceled"}, {"fr_running", "running"},
	} {
		run, err := s.Cancel(ctx, c.id, admin)
		if err != nil || run.Status != c.status {
			t.Fatalf("Cancel(%s): %v; want the run %s, its request audited with it", c.id, err, c.status)
		}
	}
	if _, err := s.Cancel(ctx, "fr_done", admin); problem.CodeOf(err) != problem.Conflict {
		t.Fatalf("Cancel of a run that succeeded: %v; want a conflict", err)
	}
	events, err := st.ListAudit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Action+" by "+e.Actor.Login+": "+e.InputSummary)
	}
	want := []string{
		"flow.cancel by admin@example.com: flow offboard, run fr_running",
		"flow.cancel by admin@example.com: flow offboard, run fr_queued",
		"flow.run by ada@example.com: flow offboard, run fr_queued, inputs {}",
		"flow.cancel by admin@example.com: flow offboard, run fr_queued",
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit events, newest first:\n%q\nwant\n%q", got, want)
	}
}
