package emutest

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// memListener is a net.Listener of in-memory connections (net.Pipe): a
// goroutine blocked on one is durably blocked in a testing/synctest
// bubble, where a loopback socket would keep the bubble from going idle
// and its fake clock from moving.
type memListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr{} }

// dial connects to the listener, whatever the address.
func (l *memListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type memAddr struct{}

func (memAddr) Network() string { return "memory" }
func (memAddr) String() string  { return memHost + ":80" }

// memHost is the host name of an org served in memory.
const memHost = "org.emulator.test"

// StartInMemory serves an org built from cfg over an in-memory network
// until the test ends; only s.Client (and clients using its Transport)
// reach it. Call it inside a testing/synctest bubble, so that the org, the
// code under test and their clocks all run on the bubble's fake time. The
// org's URL is http://org.emulator.test.
func StartInMemory(t testing.TB, cfg oktaemu.Config) *Server {
	t.Helper()
	if cfg.SigningKey == nil {
		cfg.SigningKey = sharedKey()
	}
	org := oktaemu.New(cfg)
	l := &memListener{conns: make(chan net.Conn), closed: make(chan struct{})}
	hs := &http.Server{Handler: org}
	go func() { _ = hs.Serve(l) }()
	tr := &http.Transport{DialContext: l.dial}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		_ = hs.Close()
	})
	c := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	return &Server{URL: "http://" + memHost, Org: org, Client: c}
}
