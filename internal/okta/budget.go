package okta

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Key names one rate-limit bucket of one org: Org is the org's origin
// (https://example.okta.com), Bucket the endpoint family (see BucketFor).
type Key struct {
	Org    string
	Bucket string
}

// Observation is what one response said about its bucket. Reset is the end
// of the window on the caller's clock (computed from X-Rate-Limit-Reset and
// the server's Date, so that clock skew does not matter). Known is false
// when the response carried no usable rate-limit headers (or none arrived).
type Observation struct {
	Known     bool
	Limit     int
	Remaining int
	Reset     time.Time
}

// Limiter paces requests to Okta per org and bucket. Wait blocks until a
// request may be sent and returns the function the caller must call exactly
// once with what the response said. Implementations are safe for concurrent
// use; Budget is the in-process one, and one shared by several processes can
// implement the same interface.
type Limiter interface {
	Wait(ctx context.Context, key Key) (done func(Observation), err error)
}

// BucketFor returns the rate-limit bucket of an API path: Okta limits the
// Devices API as one family, and other /api/v1 endpoints per top-level
// resource.
func BucketFor(path string) string {
	const devices = "/api/v1/devices"
	if path == devices || strings.HasPrefix(path, devices+"/") {
		return devices
	}
	rest, ok := strings.CutPrefix(path, "/api/v1/")
	if !ok {
		return path
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	return "/api/v1/" + rest
}

// WindowEndUncertainty is how much earlier than its estimate a rate-limit
// window may really end: the estimate comes from the whole-second Date
// header, plus the response's latency. Budgets grant nothing in that
// stretch.
const WindowEndUncertainty = 1100 * time.Millisecond

const (
	// budgetMargin is added to a window's reset before requests flow again,
	// for the latency between the server's clock and ours.
	budgetMargin = 50 * time.Millisecond
	// sameWindow is the tolerance within which two observed resets are the
	// same window (Date has one-second resolution).
	sameWindow = 1500 * time.Millisecond
	// assumedWindow is the window length assumed after a reset passes and
	// before a response tells the new one (Okta's windows are a minute).
	assumedWindow = time.Minute
)

// Budget is an in-process Limiter: one budget per org and bucket, shared by
// every client and goroutine that uses it. It lets requests through while the
// bucket's remaining calls stay above a small reserve, spreads the last tenth
// of the window's calls evenly over the rest of the window, and holds
// requests until the reset when only the reserve is left. It learns limit,
// remaining and reset from every response and counts its own grants between
// responses, so bulk work reaches nearly the whole limit without 429s.
//
// The zero value is not ready; use NewBudget. Now and Sleep may be replaced
// before first use (tests drive a virtual clock with them).
type Budget struct {
	// Now is the clock; it must be the clock of the clients reporting
	// observations. NewBudget sets time.Now.
	Now func() time.Time
	// Sleep waits for d or until ctx is done. NewBudget sets a timer-based one.
	Sleep func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex
	buckets map[Key]*bucket
}

type bucket struct {
	limit     int // 0 until a response tells it
	remaining int // server's remaining minus our grants it has not seen
	freshest  int // the lowest remaining a response has reported this window
	resetAt   time.Time
	estimated bool // resetAt is a guess made when the last window ended
	lastGrant time.Time
	seq       uint64
	inflight  map[uint64]struct{}
}

// NewBudget returns an empty Budget on the real clock.
func NewBudget() *Budget {
	return &Budget{Now: time.Now, Sleep: sleepCtx, buckets: map[Key]*bucket{}}
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Wait blocks until a request to key may be sent (or ctx ends) and returns
// the function to call with the response's Observation.
func (b *Budget) Wait(ctx context.Context, key Key) (func(Observation), error) {
	for {
		b.mu.Lock()
		if b.buckets == nil {
			b.buckets = map[Key]*bucket{}
		}
		bk := b.buckets[key]
		if bk == nil {
			bk = &bucket{inflight: map[uint64]struct{}{}}
			b.buckets[key] = bk
		}
		now := b.Now()
		delay := bk.delay(now)
		if delay <= 0 {
			seq := bk.grant(now)
			b.mu.Unlock()
			var once sync.Once
			return func(o Observation) {
				once.Do(func() { b.observe(key, seq, o) })
			}, nil
		}
		b.mu.Unlock()
		if err := b.Sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// reserve is what the budget leaves for other callers of the org.
func (bk *bucket) reserve() int { return max(1, bk.limit/100) }

// lowWater is the remaining count below which requests are paced.
func (bk *bucket) lowWater() int { return max(bk.reserve()+1, bk.limit/10) }

// delay returns how long a request must wait now; 0 means go.
func (bk *bucket) delay(now time.Time) time.Duration {
	if bk.limit == 0 {
		return 0 // nothing known yet: the first responses will tell
	}
	if !now.Before(bk.resetAt.Add(budgetMargin)) {
		// The window has ended: assume a full new one until a response
		// tells the real reset.
		bk.remaining = bk.limit
		bk.resetAt = now.Add(assumedWindow)
		bk.estimated = true
	}
	avail := bk.remaining - bk.reserve()
	// A told reset may be up to a second late (Date's resolution): a
	// request granted in that last stretch could reach the org in its next
	// window, which the bucket counts afresh.
	end := bk.resetAt
	if !bk.estimated {
		end = end.Add(-WindowEndUncertainty)
	}
	if avail <= 0 || !now.Before(end) {
		return bk.resetAt.Add(budgetMargin).Sub(now)
	}
	if bk.remaining <= bk.lowWater() && !bk.lastGrant.IsZero() {
		interval := end.Sub(now) / time.Duration(avail+1)
		if next := bk.lastGrant.Add(interval); now.Before(next) {
			return next.Sub(now)
		}
	}
	return 0
}

func (bk *bucket) grant(now time.Time) uint64 {
	bk.seq++
	bk.inflight[bk.seq] = struct{}{}
	if bk.limit > 0 {
		bk.remaining--
	}
	bk.lastGrant = now
	return bk.seq
}

// observe applies one response's Observation to the bucket.
func (b *Budget) observe(key Key, seq uint64, o Observation) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.buckets[key]
	delete(bk.inflight, seq)
	now := b.Now()
	if !o.Known || o.Limit <= 0 || !o.Reset.After(now) {
		// No headers, a concurrency 429 (limit 0), or a response from a
		// window that has already ended: nothing to learn.
		return
	}
	// Grants made after this request may not have reached the server when
	// it counted; subtract them so the estimate never runs ahead.
	later := 0
	for s := range bk.inflight {
		if s > seq {
			later++
		}
	}
	est := max(o.Remaining-later, 0)
	bk.limit = o.Limit
	switch {
	case bk.resetAt.IsZero() || bk.estimated || o.Reset.After(bk.resetAt.Add(sameWindow)):
		bk.resetAt = o.Reset
		bk.remaining = est
		bk.freshest = o.Remaining
		bk.estimated = false
	case o.Reset.Before(bk.resetAt.Add(-sameWindow)):
		// An older window's late response; the newer window stands.
	default:
		if o.Remaining < bk.freshest {
			// The newest server count seen this window: it corrects the
			// estimate either way, so an early misjudgement of which
			// requests the server had counted does not stick for the
			// rest of the window.
			bk.freshest = o.Remaining
			bk.remaining = est
		} else {
			// An older count: it can only lower the estimate.
			bk.remaining = min(bk.remaining, est)
		}
		// Every estimate is at or after the true reset (Date is
		// truncated), so the earliest is the tightest safe one.
		if o.Reset.Before(bk.resetAt) {
			bk.resetAt = o.Reset
		}
	}
}
