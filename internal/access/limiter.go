package access

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Limiter slows down guessing: after Burst failures from one client
// address within Window, that address is refused until the window ends.
// Other addresses are not affected, so somebody guessing from one place
// cannot lock the real admin out. The zero value allows 20 failures a
// minute. Safe for concurrent use.
type Limiter struct {
	Window time.Duration
	Burst  int

	mu    sync.Mutex
	addrs map[string]*failures
}

type failures struct {
	start time.Time
	n     int
}

// maxTracked bounds the addresses a Limiter remembers.
const maxTracked = 10000

// Allow reports whether an attempt from addr may be checked at now, and
// if not, how long until it may.
func (l *Limiter) Allow(addr string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.addrs[addr]
	if f == nil || now.Sub(f.start) >= l.window() {
		return true, 0
	}
	if f.n < l.burst() {
		return true, 0
	}
	return false, f.start.Add(l.window()).Sub(now)
}

// Fail records a failed attempt from addr at now.
func (l *Limiter) Fail(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.addrs == nil {
		l.addrs = map[string]*failures{}
	}
	f := l.addrs[addr]
	if f == nil || now.Sub(f.start) >= l.window() {
		if len(l.addrs) >= maxTracked {
			l.pruneLocked(now)
		}
		f = &failures{start: now}
		l.addrs[addr] = f
	}
	f.n++
}

func (l *Limiter) pruneLocked(now time.Time) {
	for a, f := range l.addrs {
		if now.Sub(f.start) >= l.window() {
			delete(l.addrs, a)
		}
	}
	for a := range l.addrs {
		if len(l.addrs) < maxTracked {
			break
		}
		delete(l.addrs, a)
	}
}

func (l *Limiter) window() time.Duration {
	if l.Window > 0 {
		return l.Window
	}
	return time.Minute
}

func (l *Limiter) burst() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return 20
}

// ClientAddr is the address a Limiter counts a request against: the
// peer's IP address, an IPv6 address cut to its /64 (one site's network).
// Headers such as X-Forwarded-For are not read, since any client can send
// them; behind a proxy every client has the proxy's address.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
