package okta

import (
	"context"
	"slices"
	"sync"
	"time"
)

// simClock is a simulated clock for tests that would otherwise wait out
// minute-long rate-limit windows. Worker goroutines register with Go; a
// Sleep blocks its worker until the simulated time reaches its wake time,
// and the time jumps forward only when every registered worker is asleep.
// So every party (Budget, Client, emulator) sees one consistent time, and a
// test of several windows runs in milliseconds.
type simClock struct {
	mu       sync.Mutex
	t        time.Time
	active   int
	sleepers []*sleeper
	slept    []time.Duration
}

type sleeper struct {
	until time.Time
	wake  chan struct{}
}

func newSimClock(start time.Time) *simClock { return &simClock{t: start} }

// Now returns the simulated time.
func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Go runs f as a registered worker.
func (c *simClock) Go(wg *sync.WaitGroup, f func()) {
	c.mu.Lock()
	c.active++
	c.mu.Unlock()
	wg.Go(func() {
		defer func() {
			c.mu.Lock()
			c.active--
			c.advance()
			c.mu.Unlock()
		}()
		f()
	})
}

// Sleep blocks until the simulated time has moved d forward (or ctx ends).
func (c *simClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.slept = append(c.slept, d)
	if d <= 0 {
		c.mu.Unlock()
		return nil
	}
	s := &sleeper{until: c.t.Add(d), wake: make(chan struct{})}
	c.sleepers = append(c.sleepers, s)
	c.active--
	c.advance()
	c.mu.Unlock()
	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		defer c.mu.Unlock()
		if i := slices.Index(c.sleepers, s); i >= 0 {
			c.sleepers = slices.Delete(c.sleepers, i, i+1)
			c.active++
		}
		return ctx.Err()
	}
}

// advance moves time to the earliest wake time when nobody is running, and
// wakes every sleeper due. c.mu is held.
func (c *simClock) advance() {
	if c.active > 0 || len(c.sleepers) == 0 {
		return
	}
	next := c.sleepers[0].until
	for _, s := range c.sleepers {
		if s.until.Before(next) {
			next = s.until
		}
	}
	if next.After(c.t) {
		c.t = next
	}
	kept := c.sleepers[:0]
	for _, s := range c.sleepers {
		if s.until.After(c.t) {
			kept = append(kept, s)
			continue
		}
		c.active++
		close(s.wake)
	}
	c.sleepers = kept
}

// Sleeps returns every duration passed to Sleep.
func (c *simClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}
