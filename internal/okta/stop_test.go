package okta

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// stopped is a stop (WithStopWaiting) that has ended.
func stopped() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestSleepContextStops: a wait under a stop that ends returns
// ErrStopped at once, while the context itself goes on; without a stop
// nothing changes.
func TestSleepContextStops(t *testing.T) {
	ctx := WithStopWaiting(context.Background(), stopped())
	if err := SleepContext(ctx, time.Hour); !errors.Is(err, ErrStopped) {
		t.Errorf("SleepContext under an ended stop = %v; want ErrStopped", err)
	}
	if ctx.Err() != nil {
		t.Errorf("the call's context ended with its stop: %v", ctx.Err())
	}
	if err := SleepContext(WithStopWaiting(context.Background(), context.Background()), time.Nanosecond); err != nil {
		t.Errorf("SleepContext under a stop that goes on = %v; want nil", err)
	}
}

// TestBudgetWaitStops: a call that would have to wait for the rate limit
// is not sent once its stop ends, and one that need not wait still is.
func TestBudgetWaitStops(t *testing.T) {
	b := NewBudget()
	key := Key{Org: "o", Bucket: "b"}
	ctx := WithStopWaiting(context.Background(), stopped())
	done, err := b.Wait(ctx, key, nil)
	if err != nil {
		t.Fatalf("Wait on a fresh bucket under an ended stop = %v; want the call let through", err)
	}
	done(Observation{Known: true, Limit: 10, Remaining: 0, Reset: time.Now().Add(50 * time.Second)})
	if _, err := b.Wait(ctx, key, nil); !errors.Is(err, ErrStopped) {
		t.Errorf("Wait on an exhausted bucket under an ended stop = %v; want ErrStopped", err)
	}
}

// TestRateLimitWaitStops: after a 429 the call waits for the reset to
// send again; when its stop ends meanwhile it is not sent again, and says
// so, while a call already answered stands.
func TestRateLimitWaitStops(t *testing.T) {
	srv, c := startOrg(t, oktaemu.Config{Devices: 10})
	id := firstDevice(t, c, StatusActive)
	const route = "/api/v1/devices/{deviceId}/lifecycle/suspend"
	srv.Inject(t, emutest.FaultSpec{Method: "POST", Path: route, Status: http.StatusTooManyRequests, Count: 1,
		ResetIn: "1h", Headers: map[string]string{"X-Rate-Limit-Limit": "600"}})
	before := srv.Stats(t)["POST "+route]
	err := c.Lifecycle(WithStopWaiting(context.Background(), stopped()), id, ActionSuspend)
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("Lifecycle after a 429 under an ended stop = %v; want ErrStopped", err)
	}
	if n := srv.Stats(t)["POST "+route] - before; n != 1 {
		t.Errorf("%d suspensions sent; want the one answered 429, not sent again", n)
	}
	d, err := c.GetDevice(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != StatusActive {
		t.Errorf("device %s is %s; want ACTIVE (the org refused the only suspension)", id, d.Status)
	}
}

// TestRetryWaitStopsAfterAnAttempt: a read answered 503 waits to be sent
// again; when its stop ends meanwhile it is not, and the error says that
// it was sent once, answered 503, and what it was.
func TestRetryWaitStopsAfterAnAttempt(t *testing.T) {
	srv, c := startOrg(t, oktaemu.Config{Devices: 10})
	id := firstDevice(t, c, StatusActive)
	const route = "/api/v1/devices/{deviceId}"
	srv.Inject(t, emutest.FaultSpec{Method: "GET", Path: route, Status: http.StatusServiceUnavailable, Count: 1})
	_, err := c.GetDevice(WithStopWaiting(context.Background(), stopped()), id)
	se := (*StoppedError)(nil)
	if !errors.As(err, &se) || se.Attempts != 1 || se.LastStatus != http.StatusServiceUnavailable || se.Method != "GET" {
		t.Fatalf("GetDevice after a 503 under an ended stop = %#v; want a StoppedError after 1 GET answered 503", err)
	}
}
