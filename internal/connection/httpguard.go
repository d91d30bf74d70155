package connection

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Defaults of the guarded client.
const (
	DefaultHTTPTimeout      = 30 * time.Second
	DefaultMaxResponseBytes = 16 << 20
)

// ErrResponseTooLarge is returned while reading a response body that
// exceeds the guarded client's cap (or ReadCapped's limit).
var ErrResponseTooLarge = errors.New("connection: response body too large")

// RedirectError is returned instead of a 3xx response: outbound calls never
// follow redirects. Location holds only the target's origin.
type RedirectError struct {
	Status   int
	Location string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("the org answered with a redirect (HTTP %d to %s), which cardflow never follows; check the connection's domain", e.Status, e.Location)
}

// AddressError is returned when a dial would reach an address that is not
// public (loopback, private, link-local, unspecified, multicast, ...) on an
// origin the operator has not trusted.
type AddressError struct {
	Addr string
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("refusing to connect to %s: not a public address (trust the origin explicitly to allow it)", e.Addr)
}

// GuardOptions configures NewHTTPClient. The zero value trusts no origin
// and uses the defaults above.
type GuardOptions struct {
	// TrustedOrigins may be dialled even on loopback or private addresses.
	TrustedOrigins []string
	// Timeout bounds a whole request including reading the body; zero
	// means DefaultHTTPTimeout.
	Timeout time.Duration
	// MaxResponseBytes caps every response body; zero means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
}

// NewHTTPClient returns the guarded client for calls to orgs: no proxy from
// the environment, no redirects (a 3xx is a *RedirectError), bounded time
// and response size, and no connections to non-public addresses unless the
// dialled host:port belongs to a trusted origin. It is safe for concurrent
// use.
func NewHTTPClient(o GuardOptions) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultHTTPTimeout
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	d := &guardDialer{
		trusted: trustedHostPorts(o.TrustedOrigins),
		plain:   &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second},
		checked: &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: controlPublicOnly},
	}
	base := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  20 * time.Second,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConnsPerHost:    16,
		MaxResponseHeaderBytes: 1 << 20,
	}
	return &http.Client{
		Transport:     &guardTransport{base: base, max: o.MaxResponseBytes},
		Timeout:       o.Timeout,
		CheckRedirect: noRedirects,
	}
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// guardTransport turns 3xx answers into errors and caps response bodies.
type guardTransport struct {
	base http.RoundTripper
	max  int64
}

func (t *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.StatusCode != http.StatusNotModified {
		loc := "an unnamed location"
		if u, err := resp.Location(); err == nil && u.Host != "" {
			loc = u.Scheme + "://" + u.Host
		}
		drain(resp)
		return nil, &RedirectError{Status: resp.StatusCode, Location: loc}
	}
	resp.Body = &cappedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

// cappedBody fails with ErrResponseTooLarge once more than its cap is read.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe one byte: a body of exactly the cap is fine.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrResponseTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// ReadCapped reads all of r, failing with ErrResponseTooLarge if it holds
// more than max bytes.
func ReadCapped(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, ErrResponseTooLarge
	}
	return b, nil
}

type guardDialer struct {
	trusted map[string]bool // host:port of trusted origins
	plain   *net.Dialer
	checked *net.Dialer
}

// DialContext dials trusted origins as they are and everything else
// through the dialer whose Control refuses non-public addresses. The check
// runs on the resolved address, after DNS, so a public name resolving to a
// private address is refused too.
func (d *guardDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.trusted[addr] {
		return d.plain.DialContext(ctx, network, addr)
	}
	return d.checked.DialContext(ctx, network, addr)
}

func controlPublicOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &AddressError{Addr: address}
	}
	if !IsPublicAddr(ap.Addr()) {
		return &AddressError{Addr: address}
	}
	return nil
}

var nonPublicPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64 (may embed a private IPv4)
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"), // 6to4 (may embed a private IPv4)
}

// IsPublicAddr reports whether a is a globally routable unicast address:
// not loopback, private, link-local, unspecified, multicast, broadcast or
// one of a few special-purpose ranges.
func IsPublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() ||
		a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range nonPublicPrefixes {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// trustedHostPorts maps origins to the host:port the transport dials.
func trustedHostPorts(origins []string) map[string]bool {
	m := map[string]bool{}
	for _, o := range origins {
		u, err := url.Parse(normOrigin(o))
		if err != nil || u.Host == "" {
			continue
		}
		port := u.Port()
		if port == "" {
			port = "443"
			if u.Scheme == "http" {
				port = "80"
			}
		}
		m[net.JoinHostPort(u.Hostname(), port)] = true
	}
	return m
}
