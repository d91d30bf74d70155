package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

const testToken = "console-test-token-5d1f0a9c"

// env is the real cardflow server (internal/app: API, OAuth callback,
// console, connection manager, card executor, flow service, SQLite store)
// on 127.0.0.1 in front of an emulated org.
type env struct {
	emu     *emutest.Server
	app     *app.App
	url     string
	store   store.Store
	manager *connection.Manager
	logs    *emutest.SyncBuffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with edit, if set, changing the server's
// configuration; it gets the emulated org's URL.
func newEnvWith(t *testing.T, edit func(c *app.Config, orgURL string)) *env {
	t.Helper()
	emu := emutest.Start(t, oktaemu.Config{Devices: 12})
	e := &env{emu: emu, logs: &emutest.SyncBuffer{}}
	stdout := &emutest.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := app.Config{
		Listen:         "127.0.0.1:0",
		DataDir:        t.TempDir(),
		TrustedOrigins: []string{emu.URL},
		APIToken:       keyring.Secret(testToken),
		Logger:         slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Stdout:         stdout,
	}
	if edit != nil {
		edit(&cfg, emu.URL)
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("app.New: %v", err)
	}
	e.app, e.url, e.store, e.manager = a, a.URL(), a.Store, a.Connections
	if a.Web.Console == nil {
		cancel()
		t.Fatal("the app does not mount the console (web.Server.Console is nil)")
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", e.logs.String())
		}
	})
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stdout.String(), "cardflow: serving "+e.url) {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start; stdout:\n%s", stdout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return e
}

// client is a cookie-keeping HTTP client that does not follow redirects.
func client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// api calls the API with the test token; body is YAML or JSON as
// contentType says.
func (e *env) api(t *testing.T, method, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// createPending creates a connection with the app's client ID and secret
// (the default scopes unless scopes), pending until its sign-in, without
// the browser (the browser tests of New Connection cover that path). It
// returns the connection and its authorize URL.
func (e *env) createPending(t *testing.T, nickname string, scopes *[]string) (*connection.View, string) {
	t.Helper()
	v, authURL, err := e.manager.Create(context.Background(), connection.CreateInput{Connector: "okta-devices", Nickname: nickname, Domain: e.emu.URL,
		ClientID: oktaemu.DemoClientID, ClientSecret: keyring.Secret(oktaemu.DemoClientSecret), Scopes: scopes}, store.Actor{Type: store.ActorUser, Login: "test"})
	if err != nil {
		t.Fatalf("create %q: %v", nickname, err)
	}
	return v, authURL
}

// createRotated creates a pending connection (createPending), then
// rotates the app's secret at the org, as an admin on the app's General
// tab does, so that the connection's sign-in fails (invalid_client) and
// leaves it in error. It returns the connection, its authorize URL and
// the app's new secret.
func (e *env) createRotated(t *testing.T, nickname string) (*connection.View, string, string) {
	t.Helper()
	v, authURL := e.createPending(t, nickname, nil)
	return v, authURL, e.emu.RotateClientSecret(t, oktaemu.DemoAppID)
}
