package connection

import (
	"context"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// TestExpiryIsRecordedOnce: servers that find the same connection past its
// refresh token's 90 days at the same moment (each read it while it was
// still active: the minute's expiry check of every server, or card runs
// starting together) report it each, but the connection.expired audit
// event is recorded once, by whichever moved the connection.
func TestExpiryIsRecordedOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	other := e.manager(t, e.openStore(t), "process-2")
	e.emu.AdvanceClock(t, 91*24*time.Hour)

	// Both read the connection before either wrote.
	seen := e.conn(t, v.ID)
	if seen.Status != store.StatusActive || !e.m.refreshExpired(seen) {
		t.Fatalf("day 91: status %s, expiry %v; want an active connection past its expiry", seen.Status, seen.RefreshTokenExpiresAt)
	}
	for _, m := range []*Manager{e.m, other} {
		m.init()
		wantProblem(t, m.expire(ctx, seen), problem.NeedsReauthorization, "90 days")
	}
	n := 0
	for _, ev := range e.audit(t, v.ID) {
		if ev.Action == "connection.expired" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d connection.expired audit events; want 1", n)
	}
	if c := e.conn(t, v.ID); c.Status != store.StatusNeedsReauthorization || c.StatusReasonCode != store.ReasonRefreshTokenExpired {
		t.Errorf("status %s (code %q); want needs_reauthorization, %s", c.Status, c.StatusReasonCode, store.ReasonRefreshTokenExpired)
	}
}
