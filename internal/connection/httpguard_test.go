package connection

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestGuardedClientRefusesNonPublicAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]

	tests := []struct {
		name    string
		trusted []string
		url     string
		wantErr bool
	}{
		{"untrusted loopback", nil, srv.URL, true},
		{"untrusted name resolving to loopback", nil, "http://localhost" + port, true},
		{"other trusted origin", []string{"http://127.0.0.1:1"}, srv.URL, true},
		{"trusted origin", []string{srv.URL}, srv.URL, false},
		{"trusted origin with slash and case", []string{strings.ToUpper(srv.URL) + "/"}, srv.URL, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewHTTPClient(GuardOptions{TrustedOrigins: tt.trusted})
			resp, err := c.Get(tt.url)
			if tt.wantErr {
				var ae *AddressError
				if !errors.As(err, &ae) {
					if resp != nil {
						_ = resp.Body.Close()
					}
					t.Fatalf("GET %s error %v; want an *AddressError", tt.url, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GET %s: %v", tt.url, err)
			}
			defer func() { _ = resp.Body.Close() }()
			b, _ := io.ReadAll(resp.Body)
			if string(b) != "ok" {
				t.Errorf("body %q; want ok", b)
			}
		})
	}
}

func TestGuardedClientNeverFollowsRedirects(t *testing.T) {
	var followed atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		s, _ := strconv.Atoi(r.URL.Query().Get("s"))
		http.Redirect(w, r, "/target?code=secret", s)
	})
	mux.HandleFunc("/target", func(w http.ResponseWriter, r *http.Request) { followed.Add(1) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	for _, status := range []int{301, 302, 303, 307, 308} {
		c := NewHTTPClient(GuardOptions{TrustedOrigins: []string{srv.URL}})
		_, err := c.Get(srv.URL + "/start?s=" + strconv.Itoa(status))
		var re *RedirectError
		if !errors.As(err, &re) {
			t.Fatalf("GET /start error %v; want a *RedirectError", err)
		}
		if re.Status != status || re.Location != srv.URL {
			t.Errorf("redirect error %+v; want status %d and location %s", re, status, srv.URL)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q shows the redirect's query", err)
		}
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("redirect target requested %d times; want 0", n)
	}
}

func TestGuardedClientCapsResponses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 1024
		if r.URL.Path == "/big" {
			n = 1025
		}
		_, _ = w.Write([]byte(strings.Repeat("x", n)))
	}))
	t.Cleanup(srv.Close)
	c := NewHTTPClient(GuardOptions{TrustedOrigins: []string{srv.URL}, MaxResponseBytes: 1024})
	tests := []struct {
		name, path string
		wantErr    error
	}{
		{"at the cap", "/exact", nil},
		{"over the cap", "/big", ErrResponseTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			b, err := io.ReadAll(resp.Body)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("reading body: error %v; want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && len(b) != 1024 {
				t.Errorf("read %d bytes; want 1024", len(b))
			}
		})
	}
}

func TestGuardedClientTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c := NewHTTPClient(GuardOptions{TrustedOrigins: []string{srv.URL}, Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := c.Get(srv.URL)
	if err == nil {
		t.Fatal("GET of a hanging server succeeded; want a timeout")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("GET took %v; want about 100ms", d)
	}
}

func TestReadCapped(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int64
		wantErr error
	}{
		{"under", "abc", 4, nil},
		{"exact", "abcd", 4, nil},
		{"over", "abcde", 4, ErrResponseTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadCapped(strings.NewReader(tt.in), tt.max)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadCapped error %v; want %v", err, tt.wantErr)
			}
			if err == nil && string(got) != tt.in {
				t.Errorf("ReadCapped = %q; want %q", got, tt.in)
			}
		})
	}
}

func TestIsPublicAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"8.8.8.8", true},
		{"2606:4700::1111", true},
		{"127.0.0.1", false},
		{"127.5.6.7", false},
		{"::1", false},
		{"10.0.0.1", false},
		{"172.16.5.4", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false},
		{"fe80::1", false},
		{"fc00::1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"255.255.255.255", false},
		{"100.64.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"64:ff9b::a00:1", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := IsPublicAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("IsPublicAddr(%s) = %v; want %v", tt.addr, got, tt.want)
			}
		})
	}
}
