package ratebudget

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/store"
)

// Store keeps the shared budgets; store.Store satisfies it.
type Store interface {
	UpdateRateBudget(ctx context.Context, key string, fn func(b *store.RateBudget) error) error
}

const (
	// maxSleep bounds one wait, so that a waiter sees what other servers
	// learned meanwhile (an earlier reset than the one it was told).
	maxSleep = time.Second
	// unknownFor is how long a server keeps calling without asking the
	// store while no response of the bucket has told a limit (an org
	// without rate limits, such as an unthrottled emulator).
	unknownFor = 250 * time.Millisecond
	// storeTimeout bounds recording an observation, which outlives the
	// call's context.
	storeTimeout = 10 * time.Second
)

// Shared is an okta.Limiter whose budgets live in a store shared by every
// server. It applies okta.WindowState's rules, as okta.Budget does: calls
// flow while the window's remaining calls stay above a small reserve, the
// last tenth of them is spread evenly over the rest of the window, and
// calls wait for the reset when only the reserve is left. Every grant is
// counted in the store under the budget's lock, so that concurrent grants
// of all servers together never pass the limit; responses teach the limit,
// what the org counted and when the window ends.
//
// Set the fields before first use; Shared is then safe for concurrent use
// and must not be copied.
type Shared struct {
	// Store keeps the budgets (required).
	Store Store
	// Now is the clock; it must be the clock of the okta.Clients that
	// report observations. Nil means time.Now.
	Now func() time.Time
	// Sleep waits for d or until ctx is done; nil means okta.SleepContext.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives store errors met while recording an observation;
	// nil discards them.
	Logger *slog.Logger

	mu     sync.Mutex
	locals map[okta.Key]*local
}

var _ okta.Limiter = (*Shared)(nil)

// local is this server's view of one budget. turn lets one waiter of the
// server at a time ask the store, so that a queue of waiting calls costs
// the store one query per wait rather than one per call.
type local struct {
	turn chan struct{}

	mu      sync.Mutex
	limit   int       // the store's limit when last seen
	checked time.Time // when the store was last asked
}

func (s *Shared) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Shared) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	return okta.SleepContext(ctx, d)
}

func (s *Shared) local(key okta.Key) *local {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locals == nil {
		s.locals = map[okta.Key]*local{}
	}
	l := s.locals[key]
	if l == nil {
		l = &local{turn: make(chan struct{}, 1)}
		s.locals[key] = l
	}
	return l
}

// storeKey names key's budget in the store.
func storeKey(key okta.Key) string { return "okta " + key.Org + " " + key.Bucket }

// errWait carries how long a call must wait out of the budget's update.
type errWait struct{ d time.Duration }

func (e errWait) Error() string { return fmt.Sprintf("wait %v", e.d) }

// Wait blocks until a call to key may be sent (or ctx ends) and returns
// the function to call with the response's Observation.
func (s *Shared) Wait(ctx context.Context, key okta.Key, onWait func(time.Duration)) (func(okta.Observation), error) {
	l := s.local(key)
	if l.unlimited(s.now()) {
		return s.doneFunc(ctx, key, l), nil
	}
	select {
	case l.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-l.turn }()
	for {
		now := s.now()
		if l.unlimited(now) {
			break // a response told this server meanwhile that nothing is known
		}
		seen := -1
		err := s.Store.UpdateRateBudget(ctx, storeKey(key), func(b *store.RateBudget) error {
			seen = b.Limit
			if d := reserve(b, now); d > 0 {
				return errWait{d}
			}
			return nil
		})
		if seen >= 0 && (err == nil || errors.As(err, new(errWait))) {
			l.saw(seen, now)
		}
		var w errWait
		if errors.As(err, &w) {
			d := min(w.d, maxSleep)
			if onWait != nil {
				onWait(d)
			}
			if err := s.sleep(ctx, d); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("rate budget of %s: %w", key.Org, err)
		}
		break
	}
	return s.doneFunc(ctx, key, l), nil
}

// unlimited reports whether the store, asked less than unknownFor ago,
// knew no limit for the budget.
func (l *local) unlimited(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.checked.IsZero() && l.limit == 0 && now.Sub(l.checked) < unknownFor && !now.Before(l.checked)
}

func (l *local) saw(limit int, now time.Time) {
	l.mu.Lock()
	l.limit, l.checked = limit, now
	l.mu.Unlock()
}

// doneFunc returns the function that records the call's response; ctx is
// the call's, for the log (its values, such as the request id).
func (s *Shared) doneFunc(ctx context.Context, key okta.Key, l *local) func(okta.Observation) {
	var once sync.Once
	return func(o okta.Observation) {
		once.Do(func() { s.observe(ctx, key, l, o) })
	}
}

// observe records what one response said about its bucket. The store
// update does not end with the call's context: what the org said must be
// recorded even when the caller gave up.
func (s *Shared) observe(ctx context.Context, key okta.Key, l *local, o okta.Observation) {
	now := s.now()
	if !o.Tells(now) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	err := s.Store.UpdateRateBudget(ctx, storeKey(key), func(b *store.RateBudget) error {
		learn(b, o, now)
		return nil
	})
	if err != nil {
		if s.Logger != nil {
			s.Logger.WarnContext(ctx, "rate budget: recording a response failed", slog.String("org", key.Org),
				slog.String("bucket", key.Bucket), slog.Any("err", err))
		}
		return
	}
	l.saw(o.Limit, now)
}

// window is b's count of its window.
func window(b *store.RateBudget) okta.WindowState {
	return okta.WindowState{Limit: b.Limit, Used: b.Used, End: b.WindowEnd, Estimated: b.Estimated, LastGrant: b.LastGrant}
}

// setWindow stores w in b.
func setWindow(b *store.RateBudget, w okta.WindowState) {
	b.Limit, b.Used, b.WindowEnd, b.Estimated, b.LastGrant = w.Limit, w.Used, w.End, w.Estimated, w.LastGrant
}

// reserve grants one call from b at now, or returns how long to wait.
func reserve(b *store.RateBudget, now time.Time) time.Duration {
	w := window(b)
	wait := w.Reserve(now)
	setWindow(b, w)
	if wait <= 0 {
		b.UpdatedAt = now
	}
	return wait
}

// learn applies one response's Observation to b. The org's count (limit
// minus remaining) only raises b.Used: grants still in flight are in b.Used
// but not yet in the org's count, and other callers of the org are in the
// org's count but not in b.Used.
func learn(b *store.RateBudget, o okta.Observation, now time.Time) {
	w := window(b)
	orgUsed := max(o.Limit-o.Remaining, 0)
	switch w.Learn(o, now) {
	case okta.ToldFirst, okta.ToldSame:
		// For ToldFirst, every grant counted since the last window ended
		// went into the window this response tells.
		w.Used = max(w.Used, orgUsed)
	case okta.ToldNewer:
		w.Used = orgUsed
	}
	setWindow(b, w)
	b.UpdatedAt = now
}
