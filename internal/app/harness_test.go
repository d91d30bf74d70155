package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

const testAPIToken = "test-api-token-4f0c2b7e91d3"

// harness is a real cardflow server (the full wiring) on 127.0.0.1:0 with
// a temporary data directory, trusting an emulated org.
type harness struct {
	t       *testing.T
	emu     *emutest.Server
	app     *App
	url     string
	dataDir string
	logs    *emutest.SyncBuffer
	stdout  *emutest.SyncBuffer
	http    *http.Client
	stop    func()
	// token is the API token call sends; "" means testAPIToken.
	token string
}

// startHarness starts an emulator and a server; edit tweaks the config.
func startHarness(t *testing.T, emuCfg oktaemu.Config, edit func(*Config)) *harness {
	t.Helper()
	emu := emutest.Start(t, emuCfg)
	return startServer(t, emu, t.TempDir(), edit)
}

// startServer starts a server on dataDir against emu.
func startServer(t *testing.T, emu *emutest.Server, dataDir string, edit func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, emu: emu, dataDir: dataDir, logs: &emutest.SyncBuffer{}, stdout: &emutest.SyncBuffer{}}
	cfg := Config{
		Listen:         "127.0.0.1:0",
		DataDir:        dataDir,
		TrustedOrigins: []string{emu.URL},
		APIToken:       keyring.Secret(testAPIToken),
		Logger:         slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Stdout:         h.stdout,
	}
	if edit != nil {
		edit(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("app.New: %v", err)
	}
	h.app, h.url = a, a.URL()
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	var once sync.Once
	// A test that gives the shutdown next to no time (to have it cut the
	// card calls in flight) may find requests still being answered then
	// (an event hook delivery): Serve says so, as it should.
	outOfTime := cfg.ShutdownTimeout > 0 && cfg.ShutdownTimeout < 10*time.Millisecond
	h.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil && !(outOfTime && errors.Is(err, context.DeadlineExceeded)) {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(h.stop)
	h.http = &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(h.stdout.String(), "cardflow: serving "+h.url) {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not print its serving line; stdout:\n%s", h.stdout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return h
}

// call sends an API request with the test token and returns the status and
// the raw body; out, if not nil, receives the decoded body.
func (h *harness) call(method, path string, body any, out any) (int, []byte) {
	h.t.Helper()
	if h.token != "" {
		return h.callWith(h.token, method, path, body, out)
	}
	return h.callWith(testAPIToken, method, path, body, out)
}

func (h *harness) callWith(token, method, path string, body any, out any) (int, []byte) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			h.t.Fatalf("%s %s: status %d, body is not the expected JSON: %v\n%s", method, path, resp.StatusCode, err, data)
		}
	}
	return resp.StatusCode, data
}

// connJSON is the API's connection.
type connJSON struct {
	ID                string              `json:"id"`
	Nickname          string              `json:"nickname"`
	Domain            string              `json:"domain"`
	Status            string              `json:"status"`
	StatusReason      string              `json:"statusReason"`
	Remedy            string              `json:"remedy"`
	StatusReasonCode  string              `json:"statusReasonCode"`
	ScopeMode         string              `json:"scopeMode"`
	RequestedScopes   []string            `json:"requestedScopes"`
	GrantedScopes     []string            `json:"grantedScopes"`
	MissingScopes     []string            `json:"missingScopes"`
	MissingScopeCards map[string][]string `json:"missingScopeCards"`
	AuthorizedBy      *struct {
		UserID string `json:"userId"`
		Login  string `json:"login"`
		Name   string `json:"name"`
	} `json:"authorizedBy"`
}

type apiErr struct {
	Error struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

// create creates a connection to the emulated org and returns it with the
// authorize URL. scopes nil means the default scopes.
func (h *harness) create(nickname, secret string, scopes []string) (connJSON, string) {
	h.t.Helper()
	body := map[string]any{
		"connector": "okta-devices", "nickname": nickname, "domain": h.emu.URL,
		"clientId": oktaemu.DemoClientID, "clientSecret": secret,
	}
	if scopes != nil {
		body["scopes"] = scopes
	}
	var out struct {
		Connection   connJSON `json:"connection"`
		AuthorizeURL string   `json:"authorizeUrl"`
	}
	if code, data := h.call("POST", "/api/v1/connections", body, &out); code != http.StatusCreated {
		h.t.Fatalf("create connection: status %d; want 201\n%s", code, data)
	}
	return out.Connection, out.AuthorizeURL
}

// signIn signs in at the org as login and follows the redirect to the
// callback like a browser; it returns the landing page's status and HTML.
func (h *harness) signIn(authorizeURL, login string) (int, string) {
	h.t.Helper()
	loc := h.emu.SignIn(h.t, authorizeURL, login, oktaemu.DemoPassword)
	return h.get(loc.String())
}

// get fetches a URL without credentials.
func (h *harness) get(u string) (int, string) {
	h.t.Helper()
	resp, err := h.http.Get(u)
	if err != nil {
		h.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(u, h.url+"/oauth/callback") && ct != "text/html; charset=utf-8" {
		h.t.Errorf("callback page Content-Type %q; want text/html; charset=utf-8", ct)
	}
	return resp.StatusCode, string(b)
}

// connect creates a connection and authorizes it as the demo super admin.
func (h *harness) connect(nickname string) connJSON {
	h.t.Helper()
	c, authURL := h.create(nickname, oktaemu.DemoClientSecret, nil)
	if code, page := h.signIn(authURL, oktaemu.AdminLogin); code != http.StatusOK || !strings.Contains(page, "Connected") {
		h.t.Fatalf("callback: status %d; want 200 Connected\n%s", code, page)
	}
	got := h.connection(c.ID)
	if got.Status != "active" {
		h.t.Fatalf("connection status %q (%s); want active", got.Status, got.StatusReason)
	}
	return got
}

func (h *harness) connection(id string) connJSON {
	h.t.Helper()
	var c connJSON
	if code, data := h.call("GET", "/api/v1/connections/"+url.PathEscape(id), nil, &c); code != http.StatusOK {
		h.t.Fatalf("get connection: status %d\n%s", code, data)
	}
	return c
}

// auditActions returns the audit events' action/outcome pairs, oldest first.
func (h *harness) audit(query string) []map[string]any {
	h.t.Helper()
	var out struct {
		Events []map[string]any `json:"events"`
	}
	if code, data := h.call("GET", "/api/v1/audit?"+query, nil, &out); code != http.StatusOK {
		h.t.Fatalf("audit: status %d\n%s", code, data)
	}
	for i, j := 0, len(out.Events)-1; i < j; i, j = i+1, j-1 {
		out.Events[i], out.Events[j] = out.Events[j], out.Events[i]
	}
	return out.Events
}
