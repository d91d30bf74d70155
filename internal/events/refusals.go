package events

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// DefaultRefusalLogEvery is the least time between two lines that the
// event hook logs about the requests to one hook refused for their secret,
// when HookHandler.RefusalLogEvery is zero.
const DefaultRefusalLogEvery = time.Minute

// refusals keeps, per connection, the requests refused for a wrong or
// missing hook secret that are not logged yet, so that whoever can reach a
// hook's URL cannot fill the server's log: the first refusal is logged at
// once, the next ones are counted and summarised at most once a period
// (by the next refusal after it ends, or by flush). It holds one entry
// per hook refused within the last period or two, and only hooks that
// exist get this far. The zero value is ready; safe for concurrent use.
type refusals struct {
	mu sync.Mutex
	by map[string]*refused // connection id →
}

// refused is one hook's refusals since its last line.
type refused struct {
	logged time.Time // when its last line was logged
	n      int       // refused since then, not logged
}

// refusalLine is a line due about a hook's refused requests: the first
// one (N is 1), or a summary of N since Since.
type refusalLine struct {
	ConnID string
	First  bool
	N      int
	Since  time.Time
}

// refuse records a refusal for connID at now and returns the line due, if
// any: this refusal alone when none was logged within every, else, once
// every has passed since the last line, the summary of those since it,
// this one among them.
func (rs *refusals) refuse(connID string, now time.Time, every time.Duration) (refusalLine, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.by == nil {
		rs.by = map[string]*refused{}
	}
	r := rs.by[connID]
	switch {
	case r == nil || now.Sub(r.logged) >= every && r.n == 0:
		rs.by[connID] = &refused{logged: now}
		return refusalLine{ConnID: connID, First: true, N: 1, Since: now}, true
	case now.Sub(r.logged) >= every:
		l := refusalLine{ConnID: connID, N: r.n + 1, Since: r.logged}
		r.logged, r.n = now, 0
		return l, true
	}
	r.n++
	return refusalLine{}, false
}

// flush returns the summary of each hook whose period since its last line
// has ended with refusals not logged, and forgets the hooks that had none
// for a whole period: their next refusal is logged at once.
func (rs *refusals) flush(now time.Time, every time.Duration) []refusalLine {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var due []refusalLine
	for id, r := range rs.by {
		if now.Sub(r.logged) < every {
			continue
		}
		if r.n == 0 {
			delete(rs.by, id)
			continue
		}
		due = append(due, refusalLine{ConnID: id, N: r.n, Since: r.logged})
		r.logged, r.n = now, 0
	}
	return due
}

// refuse answers a request to connID's hook that lacks its secret: 401,
// counted (Unauthorized) every time, logged as refusals says.
func (h *HookHandler) refuse(w http.ResponseWriter, r *http.Request, connID string) {
	if h.Unauthorized != nil {
		h.Unauthorized(connID)
	}
	if l, ok := h.refused.refuse(connID, h.now(), h.refusalEvery()); ok {
		h.logRefusal(r.Context(), l)
	}
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}

func (h *HookHandler) logRefusal(ctx context.Context, l refusalLine) {
	if l.First {
		h.logger().WarnContext(ctx, "event hook: request without the hook's secret refused", slog.String("connection", l.ConnID),
			slog.String("more", "further refusals of this hook are counted and logged together, at most once every "+h.refusalEvery().String()))
		return
	}
	h.logger().WarnContext(ctx, "event hook: requests without the hook's secret refused", slog.String("connection", l.ConnID),
		slog.Int("refused", l.N), slog.Time("since", l.Since))
}

func (h *HookHandler) refusalEvery() time.Duration {
	if h.RefusalLogEvery > 0 {
		return h.RefusalLogEvery
	}
	return DefaultRefusalLogEvery
}

// LogRefusals logs, every tick (zero means 5 s) until ctx ends, the
// summaries of the hooks' refused requests whose period has ended, so that
// the last ones of a burst are logged even when no request follows them.
func (h *HookHandler) LogRefusals(ctx context.Context, tick time.Duration) {
	if tick <= 0 {
		tick = 5 * time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, l := range h.refused.flush(h.now(), h.refusalEvery()) {
				h.logRefusal(ctx, l)
			}
		}
	}
}
