package oktaemu

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rateLimiter counts requests per bucket in fixed 60 s windows of the
// emulator clock (aligned to the minute).
type rateLimiter struct {
	limit int
	mu    sync.Mutex
	win   map[bucket]*window
}

type window struct {
	end  time.Time
	used int
}

func newRateLimiter(limit int) *rateLimiter {
	return &rateLimiter{limit: limit, win: map[bucket]*window{}}
}

func (l *rateLimiter) clear() {
	l.mu.Lock()
	clear(l.win)
	l.mu.Unlock()
}

// allow counts a request in bucket b and sets Okta's rate-limit headers. It
// reports false when the window's limit is used up.
func (l *rateLimiter) allow(w http.ResponseWriter, b bucket, now time.Time) bool {
	if l.limit <= 0 {
		return true
	}
	l.mu.Lock()
	win := l.win[b]
	if win == nil || !now.Before(win.end) {
		win = &window{end: now.Truncate(time.Minute).Add(time.Minute)}
		l.win[b] = win
	}
	ok := win.used < l.limit
	if ok {
		win.used++
	}
	remaining := l.limit - win.used
	end := win.end
	l.mu.Unlock()
	h := w.Header()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(l.limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(end.Unix(), 10))
	return ok
}

type statTable struct {
	mu sync.Mutex
	n  map[string]int
}

func (t *statTable) add(key string) {
	t.mu.Lock()
	if t.n == nil {
		t.n = map[string]int{}
	}
	t.n[key]++
	t.mu.Unlock()
}

func (t *statTable) clear() {
	t.mu.Lock()
	t.n = nil
	t.mu.Unlock()
}

func (t *statTable) snapshot() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := make(map[string]int, len(t.n))
	for k, v := range t.n {
		m[k] = v
	}
	return m
}

// Stats returns the request counts by "METHOD /route/{pattern}".
func (o *Org) Stats() map[string]int { return o.stats.snapshot() }

func ctlError(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": msg})
}

func (o *Org) ctlClock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Advance string `json:"advance"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		ctlError(w, "body must be {\"advance\":\"3600s\"}")
		return
	}
	d, err := time.ParseDuration(req.Advance)
	if err != nil || d < 0 {
		ctlError(w, "advance must be a non-negative Go duration such as \"3600s\"")
		return
	}
	o.AdvanceClock(d)
	writeJSON(w, http.StatusOK, map[string]string{"now": formatTime(o.now())})
}

func (o *Org) ctlFaults(w http.ResponseWriter, r *http.Request) {
	var req struct {
		fault
		Hook        string  `json:"hook"`
		Delay       string  `json:"delay"`
		Probability float64 `json:"probability"`
		Seed        uint64  `json:"seed"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		ctlError(w, "body must be {\"method\",\"path\",\"status\",\"count\",\"body\",\"after\",\"headers\",\"resetIn\"} or {\"hook\":\"drop\"|\"duplicate\"|\"delay\",\"count\",\"delay\",\"probability\",\"seed\"}")
		return
	}
	if req.Hook != "" {
		o.ctlHookFault(w, req.Hook, req.Count, req.Delay, req.Probability, req.Seed)
		return
	}
	f := req.fault
	if req.Delay != "" {
		d, err := time.ParseDuration(req.Delay)
		if err != nil {
			ctlError(w, "delay must be a Go duration such as \"2s\"")
			return
		}
		f.Delay = d
	}
	if msg := f.check(); msg != "" {
		ctlError(w, msg)
		return
	}
	if f.Count <= 0 {
		f.Count = 1
	}
	o.faults.add(f)
	w.WriteHeader(http.StatusNoContent)
}

// ctlClearFaults drops every fault not used up yet: the org answers as
// usual again.
func (o *Org) ctlClearFaults(w http.ResponseWriter, r *http.Request) {
	o.faults.clear()
	o.deliver.clearFaults()
	w.WriteHeader(http.StatusNoContent)
}

// ctlHookFault adds a fault to event hook deliveries.
func (o *Org) ctlHookFault(w http.ResponseWriter, kind string, count int, delay string, p float64, seed uint64) {
	f := &hookFault{Kind: kind, Count: count, Probability: p}
	switch kind {
	case "drop", "duplicate":
	case "delay":
		d, err := time.ParseDuration(delay)
		if err != nil || d <= 0 {
			ctlError(w, "a delay fault needs \"delay\": a positive Go duration such as \"5s\"")
			return
		}
		f.Delay = d
	default:
		ctlError(w, "hook must be \"drop\", \"duplicate\" or \"delay\"")
		return
	}
	switch {
	case p < 0 || p > 1:
		ctlError(w, "probability must be between 0 and 1")
		return
	case p > 0:
		f.rnd = rand.New(rand.NewPCG(seed, 0x686f6f6b))
	case count <= 0:
		f.Count = 1
	}
	if count < 0 {
		ctlError(w, "count must not be negative")
		return
	}
	o.deliver.addFault(f)
	w.WriteHeader(http.StatusNoContent)
}

func (o *Org) ctlStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"requests": o.Stats(), "deliveries": o.DeliveryStats()})
}

// DeliveryStats returns the event hook delivery counts.
func (o *Org) DeliveryStats() DeliveryStats { return o.deliver.snapshot() }

// WaitDeliveries blocks until every event hook delivery that is due has
// been sent or given up (delayed deliveries wait for the emulator clock),
// or ctx ends.
func (o *Org) WaitDeliveries(ctx context.Context) error { return o.deliver.wait(ctx) }

func (o *Org) ctlReset(w http.ResponseWriter, r *http.Request) {
	o.Reset()
	w.WriteHeader(http.StatusNoContent)
}
