package console_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite"
	"github.com/cardflow/cardflow/internal/web"
	"github.com/cardflow/cardflow/internal/web/console"
)

const testToken = "console-test-token-5d1f0a9c"

// syncBuffer collects logs from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a cardflow server (API, OAuth callback and console over the
// connection manager, the card executor and a SQLite store) on 127.0.0.1
// in front of an emulated org.
type env struct {
	emu     *emutest.Server
	url     string
	store   store.Store
	manager *connection.Manager
	logs    *syncBuffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	emu := emutest.Start(t, oktaemu.Config{Devices: 12})
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cardflow.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	key := make([]byte, keyring.KeySize)
	_, _ = rand.Read(key)
	kr, err := keyring.New(keyring.Key{ID: "k1", Bytes: key})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{emu: emu, store: st, logs: &syncBuffer{}}
	ts := httptest.NewUnstartedServer(nil)
	e.url = "http://" + ts.Listener.Addr().String()
	log := slog.New(web.ContextHandler{Handler: slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})})
	cat := newCatalog()
	e.manager = &connection.Manager{
		Store:      st,
		Keyring:    kr,
		Connectors: cat,
		PublicURL:  e.url,
		Policy:     connection.DomainPolicy{TrustedOrigins: []string{emu.URL}},
		Logger:     log,
		Owner:      "console-test",
	}
	srv := &web.Server{
		Connections: e.manager,
		History:     st,
		TokenHash:   sha256.Sum256([]byte(testToken)),
		Logger:      log,
	}
	con := &console.Console{
		Connections: e.manager,
		Catalog:     cat,
		Cards:       newCards(t, e, cat),
		Runs:        st,
		Flows:       st,
		CheckToken:  srv.CheckToken,
		Caller:      "console:" + srv.TokenCaller(),
		PublicURL:   e.url,
		Logger:      log,
	}
	srv.Console = con.Handler()
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", e.logs.String())
		}
	})
	return e
}

// client is a cookie-keeping HTTP client that does not follow redirects.
func client(t *testing.T) *http.Client {
	t.Helper()
	jar := newJar(t)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func newJar(t *testing.T) http.CookieJar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}
