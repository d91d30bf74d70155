package access

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestRoleAllows(t *testing.T) {
	tests := []struct {
		have, need Role
		want       bool
	}{
		{Viewer, Viewer, true}, {Viewer, Operator, false}, {Viewer, Admin, false},
		{Operator, Viewer, true}, {Operator, Operator, true}, {Operator, Admin, false},
		{Admin, Viewer, true}, {Admin, Operator, true}, {Admin, Admin, true},
		{Admin, Anyone, true}, {Anyone, Anyone, false}, {"", Viewer, false}, {"root", Viewer, false}, {Admin, "root", false},
	}
	for _, tt := range tests {
		if got := tt.have.Allows(tt.need); got != tt.want {
			t.Errorf("%q.Allows(%q) = %v; want %v", tt.have, tt.need, got, tt.want)
		}
	}
}

func TestGroupRoles(t *testing.T) {
	g := GroupRoles{}
	for _, v := range []string{"admin=cardflow-admins", "operator=ops", "viewer=everyone", "viewer=contractors"} {
		role, group, err := ParseGroupRole(v)
		if err != nil {
			t.Fatal(err)
		}
		g[role] = append(g[role], group)
	}
	tests := []struct {
		groups []string
		want   Role
		ok     bool
	}{
		{[]string{"everyone", "cardflow-admins"}, Admin, true},
		{[]string{"ops", "contractors"}, Operator, true},
		{[]string{"contractors"}, Viewer, true},
		{[]string{"Cardflow-Admins"}, "", false}, // names compare exactly
		{nil, "", false},
	}
	for _, tt := range tests {
		if got, ok := g.RoleFor(tt.groups); got != tt.want || ok != tt.ok {
			t.Errorf("RoleFor(%v) = %q, %v; want %q, %v", tt.groups, got, ok, tt.want, tt.ok)
		}
	}
	if got := g.Describe(); got != "admin: cardflow-admins; operator: ops; viewer: everyone, contractors" {
		t.Errorf("Describe() = %q", got)
	}
	for _, bad := range []string{"admin", "root=x", "admin=", "=group"} {
		if _, _, err := ParseGroupRole(bad); err == nil {
			t.Errorf("ParseGroupRole(%q) accepted it", bad)
		}
	}
}

func TestLimiterPerAddress(t *testing.T) {
	l := &Limiter{Window: time.Minute, Burst: 3}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.Allow("192.0.2.1", now); !ok {
			t.Fatal("refused before the burst was used")
		}
		// The failure that uses up the burst says how long the address
		// is refused from then on; the others, that it is not.
		want := time.Duration(0)
		if i == 2 {
			want = 55 * time.Second
		}
		if got := l.Fail("192.0.2.1", now.Add(time.Duration(i)*2500*time.Millisecond), WrongToken); got != want {
			t.Errorf("failure %d: Fail = %v; want %v", i+1, got, want)
		}
	}
	if ok, wait := l.Allow("192.0.2.1", now.Add(10*time.Second)); ok || wait != 50*time.Second {
		t.Errorf("after 3 failures: allowed %v, wait %v; want refused for 50s", ok, wait)
	}
	if ok, _ := l.Allow("198.51.100.7", now); !ok {
		t.Error("another address was refused")
	}
	if ok, _ := l.Allow("192.0.2.1", now.Add(time.Minute)); !ok {
		t.Error("still refused after the window")
	}
}

// TestLimiterNamesWhatWasRefused: a limiter keeps the kinds of failure it
// counted against an address in its window, for the refusal to name them:
// a lockout caused by refused single sign-ons is no "too many wrong API
// tokens".
func TestLimiterNamesWhatWasRefused(t *testing.T) {
	l := &Limiter{Window: time.Minute, Burst: 3}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		l.Fail("192.0.2.1", now, RefusedSignIn)
		l.Fail("198.51.100.7", now.Add(time.Duration(i)*time.Second), []Failure{WrongToken, RefusedSignIn, WrongToken}[i])
	}
	for _, tc := range []struct {
		name string
		addr string
		at   time.Duration
		want string
	}{
		{"refused sign-ons only", "192.0.2.1", 10 * time.Second, "refused single sign-ons"},
		{"both", "198.51.100.7", 10 * time.Second, "wrong API tokens and refused single sign-ons"},
		{"nothing counted", "203.0.113.9", 10 * time.Second, "failed attempts"},
		{"after the window", "192.0.2.1", time.Minute, "failed attempts"},
	} {
		if got := l.Refusals(tc.addr, now.Add(tc.at)).String(); got != tc.want {
			t.Errorf("%s: Refusals = %q; want %q", tc.name, got, tc.want)
		}
	}
	// A new window counts afresh.
	l.Fail("192.0.2.1", now.Add(time.Minute), WrongToken)
	if got := l.Refusals("192.0.2.1", now.Add(time.Minute)).String(); got != "wrong API tokens" {
		t.Errorf("in the next window: Refusals = %q; want wrong API tokens", got)
	}
}

func TestClientAddr(t *testing.T) {
	var l Limiter
	for remote, want := range map[string]string{
		"192.0.2.1:5555":                 "192.0.2.1",
		"[::ffff:192.0.2.1]:5555":        "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:443":     "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff:4:5:6]:1234": "2001:db8:1:2::/64",
	} {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": {"203.0.113.9"}}}
		if got := l.ClientAddr(r); got != want {
			t.Errorf("ClientAddr(%s) = %s; want %s (X-Forwarded-For is not read without trusted proxies)", remote, got, want)
		}
	}
}

func TestClientAddrBehindTrustedProxies(t *testing.T) {
	var proxies []netip.Prefix
	for _, s := range []string{"10.0.0.0/24", "2001:db8:ffff::1", "::ffff:192.0.2.200"} {
		p, err := ParseTrustedProxy(s)
		if err != nil {
			t.Fatal(err)
		}
		proxies = append(proxies, p)
	}
	l := &Limiter{TrustedProxies: proxies}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"one proxy", "10.0.0.5:40000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"a forged address left of the proxy's", "10.0.0.5:40000", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"two proxies", "10.0.0.5:40000", []string{"198.51.100.7, 10.0.0.9"}, "198.51.100.7"},
		{"two header lines", "10.0.0.5:40000", []string{"6.6.6.6", "198.51.100.7"}, "198.51.100.7"},
		{"an IPv6 client", "[2001:db8:ffff::1]:443", []string{"2001:db8:5:6:7::1"}, "2001:db8:5:6::/64"},
		{"a mapped proxy address", "192.0.2.200:1", []string{"198.51.100.7"}, "198.51.100.7"},
		{"no header", "10.0.0.5:40000", nil, "10.0.0.5"},
		{"garbage in the header", "10.0.0.5:40000", []string{"not-an-address"}, "10.0.0.5"},
		{"only proxies", "10.0.0.5:40000", []string{"10.0.0.7"}, "10.0.0.7"},
		{"not from a trusted proxy", "198.51.100.8:1", []string{"203.0.113.9"}, "198.51.100.8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := l.ClientAddr(r); got != tc.want {
				t.Errorf("ClientAddr = %s; want %s", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "10.0.0.0/33", "proxy.example.com"} {
		if _, err := ParseTrustedProxy(bad); err == nil || !strings.Contains(err.Error(), "-trusted-proxy") {
			t.Errorf("ParseTrustedProxy(%q) = %v; want an error naming the flag", bad, err)
		}
	}
}
