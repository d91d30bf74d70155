package access

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
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
	// TrustedProxies are the networks of the reverse proxies in front of
	// the server (-trusted-proxy). A request from one of them is counted
	// against the client address the proxies put in X-Forwarded-For.
	TrustedProxies []netip.Prefix

	mu    sync.Mutex
	addrs map[string]*failures
}

type failures struct {
	start time.Time
	n     int
	what  Failure // the kinds counted in n
}

// Failure is the kind of failed attempt a Limiter counts, which its
// refusal names (Refusals).
type Failure uint8

// The failures a Limiter counts.
const (
	// WrongToken is a wrong API token: the API's bearer token, the
	// console's token sign-in.
	WrongToken Failure = 1 << iota
	// RefusedSignIn is a single sign-on refused for what it brought: a
	// code the identity provider refused, an ID token not issued for this
	// sign-in (its nonce). An ID token that does not verify otherwise is
	// the server's configuration or clock, not a guess, and not counted.
	RefusedSignIn
	// SignInStart is a single sign-on started, which a limiter of its
	// own counts whatever becomes of it.
	SignInStart
)

// String names the failures of f for people, plural: "wrong API tokens",
// "refused single sign-ons", or both, joined with "and".
func (f Failure) String() string {
	var out []string
	if f&WrongToken != 0 {
		out = append(out, "wrong API tokens")
	}
	if f&RefusedSignIn != 0 {
		out = append(out, "refused single sign-ons")
	}
	if f&SignInStart != 0 {
		out = append(out, "single sign-ons started")
	}
	if len(out) == 0 {
		return "failed attempts"
	}
	return strings.Join(out, " and ")
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

// Refusals returns the kinds of failure counted against addr in its window
// at now (0 for none): what a refusal of the address names.
func (l *Limiter) Refusals(addr string, now time.Time) Failure {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.addrs[addr]
	if f == nil || now.Sub(f.start) >= l.window() {
		return 0
	}
	return f.what
}

// Fail records a failed attempt of kind what from addr at now and returns
// how long addr is refused from now on (Allow says no, whatever it sends):
// 0 while it may try again, the rest of the window once this failure used
// up its burst.
func (l *Limiter) Fail(addr string, now time.Time, what Failure) time.Duration {
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
	f.what |= what
	if f.n < l.burst() {
		return 0
	}
	return f.start.Add(l.window()).Sub(now)
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
// X-Forwarded-For is read only when the peer is one of TrustedProxies,
// since any client can send it: then the client is the right-most address
// in it that is not a trusted proxy (each proxy appends the address it
// received the request from, so the addresses to its left may be forged).
func (l *Limiter) ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if l.trusted(ip) {
		ip = l.forwardedFor(r, ip)
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// forwardedFor walks X-Forwarded-For from the right, past the trusted
// proxies, to the client; peer when the header has no usable address.
func (l *Limiter) forwardedFor(r *http.Request, peer netip.Addr) netip.Addr {
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return client
		}
		client = ip.Unmap()
		if !l.trusted(client) {
			return client
		}
	}
	return client
}

func (l *Limiter) trusted(ip netip.Addr) bool {
	for _, p := range l.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ParseTrustedProxy parses a -trusted-proxy value: a network in CIDR
// notation or a single address.
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		ip = ip.Unmap()
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("-trusted-proxy %q: give the proxy's address or network, e.g. 10.0.0.5 or 10.0.0.0/24", s)
}
