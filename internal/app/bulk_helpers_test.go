package app

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// devicesMeter sits in front of an emulated org and counts its Devices API
// answers by the rate-limit window the org counted them in (the
// X-Rate-Limit-Reset it answered), and its answers of 429.
type devicesMeter struct {
	next http.Handler
	// delay is added to every Devices API answer, as a network round trip
	// to a real org would be.
	delay time.Duration

	mu      sync.Mutex
	windows map[int64]int // calls by window end (Unix seconds)
	tooMany int
}

func (m *devicesMeter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !isDevicesPath(r.URL.Path) {
		m.next.ServeHTTP(w, r)
		return
	}
	if m.delay > 0 {
		time.Sleep(m.delay)
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	m.next.ServeHTTP(rec, r)
	end, _ := strconv.ParseInt(w.Header().Get("X-Rate-Limit-Reset"), 10, 64)
	m.mu.Lock()
	m.windows[end]++
	if rec.status == http.StatusTooManyRequests {
		m.tooMany++
	}
	m.mu.Unlock()
}

// take returns the counts since the last take and starts new ones.
func (m *devicesMeter) take() (windows map[int64]int, tooMany int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	windows, tooMany = m.windows, m.tooMany
	m.windows, m.tooMany = map[int64]int{}, 0
	return windows, tooMany
}

// statusRecorder remembers the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// startMeteredEmulator serves an org built from cfg behind a devicesMeter
// on 127.0.0.1 until the benchmark ends.
func startMeteredEmulator(tb testing.TB, cfg oktaemu.Config) (*emutest.Server, *devicesMeter) {
	tb.Helper()
	org := oktaemu.New(cfg)
	m := &devicesMeter{next: org, windows: map[int64]int{}}
	hs := httptest.NewServer(m)
	tb.Cleanup(hs.Close)
	c := hs.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.Timeout = 30 * time.Second
	return &emutest.Server{URL: hs.URL, Org: org, Client: c}, m
}
