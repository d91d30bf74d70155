package connection

import (
	"context"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// leaseWrittenButCanceled is a store whose TryLease writes the lease and
// then answers the context's error, as a statement that the context ends
// while it runs (a request given up) can.
type leaseWrittenButCanceled struct{ store.Store }

func (s leaseWrittenButCanceled) TryLease(ctx context.Context, name, owner string, ttl time.Duration, now time.Time) (bool, error) {
	if _, err := s.Store.TryLease(context.WithoutCancel(ctx), name, owner, ttl, now); err != nil {
		return false, err
	}
	return false, context.Canceled
}

// TestRefreshLeaseGivenUpWhenItsAnswerIsLost: a refresh lease taken whose
// answer is the context's error is given up at once, no refresh made:
// kept, it held the other servers from refreshing the connection's token
// until it lapsed.
func TestRefreshLeaseGivenUpWhenItsAnswerIsLost(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	m := e.manager(t, leaseWrittenButCanceled{e.store}, "process-1")
	e.emu.AdvanceClock(t, time.Hour)
	before := e.tokenPosts(t)
	if _, err := m.Token(ctx, v.ID); err == nil {
		t.Fatal("Token with the lease's answer lost: no error; want the context's")
	}
	if n := e.tokenPosts(t) - before; n != 0 {
		t.Errorf("%d token requests; want none without the lease", n)
	}
	if free, err := e.store.TryLease(ctx, leaseName(v.ID), "another-server", time.Minute, e.emu.Now()); err != nil || !free {
		t.Errorf("another server taking the refresh lease: %v, %v; want it free", free, err)
	}
}
