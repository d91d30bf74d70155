package connection

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// Retries of a token refresh that failed for a passing reason (the org
// answered 5xx or 429, or could not be reached). They happen while the
// refresh lease is held, so other callers and processes wait for the
// outcome instead of presenting the refresh token themselves.
const (
	// refreshAttempts bounds the calls to the token endpoint of one refresh.
	refreshAttempts = 5
	// refreshRetryBudget bounds the waits between them; with the calls it
	// stays inside refreshWorkTimeout.
	refreshRetryBudget = 20 * time.Second
	// refreshBackoff is the first wait when the org says nothing of when
	// to come back; it doubles with each attempt, up to refreshBackoffMax.
	refreshBackoff    = 250 * time.Millisecond
	refreshBackoffMax = 4 * time.Second
	// concurrencyWait caps the wait after a concurrency 429 (limit 0):
	// it passes when calls in flight end, and its reset is only an
	// estimate, often a whole window away.
	concurrencyWait = 2 * time.Second
)

// transientRefresh is a refresh failure that may pass: the refresh may be
// tried again after wait (zero: the org did not say; use the backoff).
type transientRefresh struct {
	err  error
	wait time.Duration
}

func (e *transientRefresh) Error() string { return e.err.Error() }
func (e *transientRefresh) Unwrap() error { return e.err }

// transientAnswer reports whether the token endpoint's error answer is one
// that may pass (5xx, 429, temporarily_unavailable) and how long the org
// asked to wait.
func transientAnswer(oe *oauthError, err error, now time.Time) (time.Duration, bool) {
	if oe == nil {
		return 0, false
	}
	if oe.Status < 500 && oe.Status != http.StatusTooManyRequests && oe.Code != "temporarily_unavailable" {
		return 0, false
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return retryAfter(re.Response.Header, now), true
	}
	return 0, true
}

// retryAfter reads when the org asks to be called again: Retry-After
// (seconds or an HTTP date), else Okta's X-Rate-Limit-Reset measured
// against the response's Date, so that clock skew between the org and
// this host does not matter. Zero when neither says.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	reset, err := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	if err != nil {
		return 0
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		date = now
	}
	// The reset is a whole second; the window may end up to a second
	// after it.
	wait := max(time.Unix(reset, 0).Sub(date)+time.Second, 0)
	if h.Get("X-Rate-Limit-Limit") == "0" {
		wait = min(wait, concurrencyWait)
	}
	return wait
}

// backoff is the wait before attempt n (1-based retry count) when the org
// gave no hint: exponential with jitter.
func backoff(n int) time.Duration {
	d := min(refreshBackoff<<(n-1), refreshBackoffMax)
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends.
func (m *Manager) sleep(ctx context.Context, d time.Duration) error {
	if m.Sleep != nil {
		return m.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
