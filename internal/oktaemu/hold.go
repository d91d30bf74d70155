package oktaemu

import (
	"context"
	"net/http"
	"strings"
	"sync"
)

// Hold keeps requests of one route waiting before the org counts or serves
// them, so that a test can stop a client while its call is in flight
// without racing the call's end. Make one with Org.Hold.
type Hold struct {
	method, path string

	mu       sync.Mutex
	pass     int           // requests still let through before holding starts
	held     int           // requests waiting now
	changed  chan struct{} // closed and replaced whenever held changes
	released chan struct{} // closed by Release
	once     sync.Once
}

// Hold makes requests with method (empty: any) and path (a route pattern
// such as /api/v1/devices/{deviceId}/lifecycle/suspend, or a literal path)
// wait, after the first pass of them went through, until Release. A waiting
// request whose client gives up is dropped: it is neither counted in Stats
// nor served.
func (o *Org) Hold(method, path string, pass int) *Hold {
	h := &Hold{method: method, path: path, pass: pass, changed: make(chan struct{}), released: make(chan struct{})}
	o.holdMu.Lock()
	o.holds = append(o.holds, h)
	o.holdMu.Unlock()
	return h
}

// Release lets every waiting and later request through and ends the hold.
func (h *Hold) Release() { h.once.Do(func() { close(h.released) }) }

// Await waits until exactly n requests are held, or ctx ends.
func (h *Hold) Await(ctx context.Context, n int) error {
	for {
		h.mu.Lock()
		held, changed := h.held, h.changed
		h.mu.Unlock()
		if held == n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (h *Hold) matches(method, pattern, path string) bool {
	return (h.method == "" || strings.EqualFold(h.method, method)) && (h.path == pattern || h.path == path)
}

// add changes the count of waiting requests by d.
func (h *Hold) add(d int) {
	h.mu.Lock()
	h.held += d
	close(h.changed)
	h.changed = make(chan struct{})
	h.mu.Unlock()
}

// wait holds r if a hold of its route says so, and reports whether r is
// to be served (false: its client gave up while it waited).
func (o *Org) wait(r *http.Request, pattern string) bool {
	o.holdMu.Lock()
	holds := o.holds
	o.holdMu.Unlock()
	for _, h := range holds {
		if !h.matches(r.Method, pattern, r.URL.Path) {
			continue
		}
		h.mu.Lock()
		if h.pass > 0 {
			h.pass--
			h.mu.Unlock()
			continue
		}
		h.mu.Unlock()
		select {
		case <-h.released:
			continue
		default:
		}
		h.add(1)
		select {
		case <-h.released:
			h.add(-1)
		case <-r.Context().Done():
			h.add(-1)
			return false
		}
	}
	return true
}
