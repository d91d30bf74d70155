package connection

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

const connector = "okta-devices"

// tester is the actor of the tests' connection changes.
var tester = store.Actor{Type: store.ActorUser, Login: "tester"}

// testCatalog is the okta-devices connector's scopes as the product documents them.
type testCatalog struct{}

var cardsByScope = map[string][]string{
	"okta.devices.read":   {"okta-devices/search-devices", "okta-devices/read-device", "okta-devices/list-device-users"},
	"okta.devices.manage": {"okta-devices/activate-device", "okta-devices/deactivate-device", "okta-devices/suspend-device", "okta-devices/unsuspend-device", "okta-devices/delete-device"},
}

func (testCatalog) DefaultScopes(c string) ([]string, bool) {
	if c != connector {
		return nil, false
	}
	return []string{"okta.devices.read", "okta.devices.manage"}, true
}

func (testCatalog) Scopes(c string) []ScopeInfo {
	if c != connector {
		return nil
	}
	return []ScopeInfo{{Name: "okta.devices.read"}, {Name: "okta.devices.manage"}}
}

func (testCatalog) Name(c string) string {
	if c != connector {
		return c
	}
	return "Okta Devices"
}

func (testCatalog) CardsNeeding(c, scope string) []string {
	if c != connector {
		return nil
	}
	return cardsByScope[scope]
}

// env is an emulated org, a SQLite store in a temp dir, a real keyring and
// a Manager wired to them, with debug logs captured.
type env struct {
	emu    *emutest.Server
	dbPath string
	store  store.Store
	kr     *keyring.Keyring
	logs   *emutest.SyncBuffer
	m      *Manager
	secret string // the OAuth app's client secret
}

// envSetup is what envOptions change before the env starts.
type envSetup struct {
	cfg  oktaemu.Config
	hook *hookTransport
}

type envOption func(*envSetup)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	setup := &envSetup{cfg: oktaemu.Config{Devices: 5}}
	for _, o := range opts {
		o(setup)
	}
	cfg := setup.cfg
	emu := emutest.Start(t, cfg)
	e := &env{emu: emu, dbPath: sqlitetest.NewFile(t), logs: &emutest.SyncBuffer{}, secret: oktaemu.DemoClientSecret}
	if cfg.Fixture != nil {
		for _, a := range cfg.Fixture.Apps {
			if a.ClientID == oktaemu.DemoClientID {
				e.secret = a.ClientSecret
			}
		}
	}
	key := make([]byte, keyring.KeySize)
	_, _ = rand.Read(key)
	kr, err := keyring.New(keyring.Key{ID: "test-1", Bytes: key})
	if err != nil {
		t.Fatal(err)
	}
	e.kr = kr
	e.store = e.openStore(t)
	e.m = e.manager(t, e.store, "process-1")
	if h := setup.hook; h != nil {
		h.base = NewHTTPClient(GuardOptions{TrustedOrigins: []string{emu.URL}}).Transport
		e.m.HTTP = &http.Client{Transport: h, CheckRedirect: noRedirects}
	}
	return e
}

func (e *env) openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), e.dbPath)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// manager returns a Manager over st using the emulator's clock, so that
// advancing the emulator clock ages tokens on both sides.
func (e *env) manager(t *testing.T, st store.Store, owner string) *Manager {
	t.Helper()
	return &Manager{
		Store: st, Keyring: e.kr, Connectors: testCatalog{}, PublicURL: "http://127.0.0.1:8080",
		Policy: DomainPolicy{TrustedOrigins: []string{e.emu.URL}}, Now: e.emu.Now, Owner: owner,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func scopes(s ...string) *[]string { return &s }

// create starts a connection and returns it with its authorize URL.
func (e *env) create(t *testing.T, nickname string, sc *[]string) (*View, string) {
	t.Helper()
	v, u, err := e.m.Create(context.Background(), CreateInput{Connector: connector, Nickname: nickname, Domain: e.emu.URL,
		ClientID: oktaemu.DemoClientID, ClientSecret: keyring.Secret(e.secret), Scopes: sc}, tester)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return v, u
}

// signIn completes an authorization as login and returns the callback's
// result.
func (e *env) signIn(t *testing.T, authURL, login string) *CallbackResult {
	t.Helper()
	cb := e.emu.SignIn(t, authURL, login, oktaemu.DemoPassword)
	res, err := e.m.Callback(context.Background(), cb.Query())
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	return res
}

// connect creates a connection and authorizes it as the demo super admin.
func (e *env) connect(t *testing.T, nickname string) *View {
	t.Helper()
	_, u := e.create(t, nickname, nil)
	res := e.signIn(t, u, oktaemu.AdminLogin)
	if !res.OK {
		t.Fatalf("authorization failed: %s; %s", res.Message, res.Remedy)
	}
	return res.Connection
}

func (e *env) tokenPosts(t *testing.T) int {
	t.Helper()
	return e.emu.Stats(t)["POST /oauth2/v1/token"]
}

func (e *env) conn(t *testing.T, id string) *store.Connection {
	t.Helper()
	c, err := e.store.GetConnection(context.Background(), id)
	if err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	return c
}

// open returns a sealed field of a stored connection in plaintext.
func (e *env) open(t *testing.T, c *store.Connection, field string) string {
	t.Helper()
	var ct []byte
	switch field {
	case "refresh_token":
		ct = c.SealedRefreshToken
	case "access_token":
		ct = c.SealedAccessToken
	case "id_token":
		ct = c.SealedIDToken
	case "client_secret":
		ct = c.SealedClientSecret
	}
	b, err := e.kr.Open(ct, c.ID+"/"+field)
	if err != nil {
		t.Fatalf("open %s: %v", field, err)
	}
	return string(b)
}

// oauthPost posts a form to the org's OAuth endpoint as the demo app.
func (e *env) oauthPost(t *testing.T, path string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.emu.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(oktaemu.DemoClientID, e.secret)
	resp, err := e.emu.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *env) audit(t *testing.T, id string) []*store.AuditEvent {
	t.Helper()
	evs, err := e.store.ListAudit(context.Background(), store.AuditFilter{ConnectionID: id})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// wantProblem fails unless err is a problem with code whose text holds
// every one of want.
func wantProblem(t *testing.T, err error, code problem.Code, want ...string) *problem.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("error nil; want a %s problem", code)
	}
	p, ok := problem.As(err)
	if !ok {
		t.Fatalf("error %v (%T); want a %s problem", err, err, code)
	}
	if p.Code != code {
		t.Errorf("problem code %s (%s); want %s", p.Code, p.Error(), code)
	}
	for _, w := range want {
		if !strings.Contains(p.Error(), w) {
			t.Errorf("problem %q; want it to contain %q", p.Error(), w)
		}
	}
	return p
}

// hookTransport lets a test see and change calls to the org.
type hookTransport struct {
	base http.RoundTripper
	// before runs before a request is sent; a non-nil error fails it.
	before func(*http.Request) error
	// after may rewrite a response.
	after func(*http.Request, *http.Response) (*http.Response, error)
	// answer, when it returns a response, answers a request in the org's
	// place (which never sees it).
	answer func(*http.Request) *http.Response
}

func (h *hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if h.before != nil {
		if err := h.before(r); err != nil {
			return nil, err
		}
	}
	if h.answer != nil {
		if resp := h.answer(r); resp != nil {
			return resp, nil
		}
	}
	resp, err := h.base.RoundTrip(r)
	if err != nil || h.after == nil {
		return resp, err
	}
	return h.after(r, resp)
}

// withHook makes the Manager call the org through a hookTransport around
// the guarded client.
func withHook(h *hookTransport) envOption {
	return func(s *envSetup) { s.hook = h }
}

// withClientSecret gives the demo app another client secret (a canary).
func withClientSecret(secret string) envOption {
	return func(s *envSetup) {
		fx := oktaemu.DemoFixture(5)
		for i := range fx.Apps {
			if fx.Apps[i].ClientID == oktaemu.DemoClientID {
				fx.Apps[i].ClientSecret = secret
			}
		}
		s.cfg.Fixture = fx
	}
}

// isRefreshPost reports whether r is a refresh_token grant (it restores
// the body it reads).
func isRefreshPost(r *http.Request) bool {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/oauth2/v1/token") || r.Body == nil {
		return false
	}
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	v, _ := url.ParseQuery(string(b))
	return v.Get("grant_type") == "refresh_token"
}

// replaceWith is an update that stores c as it is.
func replaceWith(c *store.Connection) func(*store.Connection) error {
	return func(cur *store.Connection) error {
		*cur = *c
		return nil
	}
}
