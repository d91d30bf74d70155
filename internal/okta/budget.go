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
// once with what the response said; before each sleep it calls onWait (when
// not nil) with how long it is about to wait. Implementations are safe for concurrent
// use; Budget is the in-process one, and one shared by several processes can
// implement the same interface.
type Limiter interface {
	Wait(ctx context.Context, key Key, onWait func(time.Duration)) (done func(Observation), err error)
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

// bucket is a WindowState whose grants the budget tracks until their
// responses arrive.
type bucket struct {
	WindowState
	freshest int // the lowest remaining a response has reported this window
	seq      uint64
	inflight map[uint64]struct{}
}

// NewBudget returns an empty Budget on the real clock.
func NewBudget() *Budget {
	return &Budget{Now: time.Now, Sleep: SleepContext, buckets: map[Key]*bucket{}}
}

// SleepContext waits for d or until ctx is done, and returns ctx's error in
// the latter case, or a *StoppedError when ctx's stop (WithStopWaiting)
// ends first. It is what the Sleep fields of Client and Budget default to, for
// other Limiters to share.
func SleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-stopDone(ctx):
		// Stopped already: however short the wait, the call is not sent.
		return stoppedErr(ctx)
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-stopDone(ctx):
		return stoppedErr(ctx)
	case <-t.C:
		return nil
	}
}

// Wait blocks until a request to key may be sent (or ctx ends) and returns
// the function to call with the response's Observation.
func (b *Budget) Wait(ctx context.Context, key Key, onWait func(time.Duration)) (func(Observation), error) {
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
		delay := bk.Reserve(b.Now())
		if delay <= 0 {
			bk.seq++
			seq := bk.seq
			bk.inflight[seq] = struct{}{}
			b.mu.Unlock()
			var once sync.Once
			return func(o Observation) {
				once.Do(func() { b.observe(key, seq, o) })
			}, nil
		}
		b.mu.Unlock()
		if onWait != nil {
			onWait(delay)
		}
		if err := b.Sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// observe applies one response's Observation to the bucket.
func (b *Budget) observe(key Key, seq uint64, o Observation) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.buckets[key]
	delete(bk.inflight, seq)
	// The bucket estimates the calls remaining, which a change of the told
	// limit does not move.
	remaining := bk.Limit - bk.Used
	told := bk.Learn(o, b.Now())
	// Grants made after this request may not have reached the server when
	// it counted; subtract them so the estimate never runs ahead.
	later := 0
	for s := range bk.inflight {
		if s > seq {
			later++
		}
	}
	est := max(o.Remaining-later, 0)
	switch told {
	case ToldFirst, ToldNewer:
		remaining = est
		bk.freshest = o.Remaining
	case ToldSame:
		if o.Remaining < bk.freshest {
			// The newest server count seen this window: it corrects the
			// estimate either way, so an early misjudgement of which
			// requests the server had counted does not stick for the rest
			// of the window.
			bk.freshest = o.Remaining
			remaining = est
		} else {
			// An older count: it can only lower the estimate.
			remaining = min(remaining, est)
		}
	}
	bk.Used = bk.Limit - remaining
}
