package app

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestAPITokenReplacedOnAnotherServer: two servers share one database.
// One restarted with a new CARDFLOW_API_TOKEN replaces the token on both
// at once: the other, not restarted, refuses the old token on the API and
// at the console's sign-in, and takes the new one.
func TestAPITokenReplacedOnAnotherServer(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 1})
	dir := t.TempDir()
	a := startServer(t, emu, dir, nil)
	b := startServer(t, emu, dir, nil)
	for _, h := range []*harness{a, b} {
		if code, body := h.callWith(testAPIToken, "GET", "/api/v1/connections", nil, nil); code != http.StatusOK {
			t.Fatalf("the API token before it is replaced: %d %s; want 200", code, body)
		}
	}

	// A personal token the bootstrap admin made with the old API token
	// (whoever held it, if it leaked) stays valid, and the replacement
	// says so in the log with what to do.
	var made struct {
		Token string `json:"token"`
	}
	if code, body := a.callWith(testAPIToken, "POST", "/api/v1/tokens", map[string]any{"name": "made with the old token", "role": "admin"}, &made); code != http.StatusCreated {
		t.Fatalf("create a personal token with the API token: %d %s", code, body)
	}

	const replacement = "replacement-token-0123456789"
	b.stop()
	b = startServer(t, emu, dir, func(c *Config) { c.APIToken = keyring.Secret(replacement) })
	if line := grepLines(b.logs.String(), "personal API tokens the bootstrap admin made"); !strings.Contains(line, `"level":"WARN"`) ||
		!strings.Contains(line, `"tokens":1`) || !strings.Contains(line, "cardflow tokens list --all") {
		t.Errorf("the replacement's log line %q; want a warning of the 1 personal token made with the old API token, naming cardflow tokens list --all", line)
	}
	if code, body := b.callWith(made.Token, "GET", "/api/v1/whoami", nil, nil); code != http.StatusOK {
		t.Errorf("the personal token made with the old API token: %d %s; want 200 (it stays valid, as the log says)", code, body)
	}
	for name, h := range map[string]*harness{"the server not restarted": a, "the restarted server": b} {
		if code, body := h.callWith(testAPIToken, "GET", "/api/v1/connections", nil, nil); code != http.StatusUnauthorized {
			t.Errorf("%s, the replaced API token: %d %s; want 401", name, code, body)
		}
		if code, body := h.callWith(replacement, "GET", "/api/v1/connections", nil, nil); code != http.StatusOK {
			t.Errorf("%s, the new API token: %d %s; want 200", name, code, body)
		}
		if code := consoleSignIn(t, h, testAPIToken); code != http.StatusUnauthorized {
			t.Errorf("%s, console sign-in with the replaced API token: %d; want 401", name, code)
		}
		if code := consoleSignIn(t, h, replacement); code != http.StatusOK {
			t.Errorf("%s, console sign-in with the new API token: %d; want 200 (the console after its redirect)", name, code)
		}
	}
}

// consoleSignIn signs in to h's console with an API token, as the sign-in
// form does, and returns the status of the page it ends on.
func consoleSignIn(t *testing.T, h *harness, token string) int {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(h.url + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if err != nil || m == nil {
		t.Fatalf("GET /signin: %v; no csrf field in\n%s", err, page)
	}
	req, err := http.NewRequest("POST", h.url+"/signin", strings.NewReader(url.Values{"csrf": {string(m[1])}, "next": {"/"}, "token": {token}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.url)
	resp, err = browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAPITokenReplacementLogged: a server started with a CARDFLOW_API_TOKEN
// other than the stored one says in its log, as a warning, that it has
// replaced the token on every server sharing the database, even when
// no console session or personal token made with the old one is left to
// speak of: a server started with a stale or mistyped token locks every
// client of every server out. The first token set, and the same token
// again, are no replacement and say nothing of one.
func TestAPITokenReplacementLogged(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 1})
	dir := t.TempDir()
	a := startServer(t, emu, dir, nil)
	b := startServer(t, emu, dir, nil)
	const said = "differs from the API token stored in the database and replaces it"
	for name, h := range map[string]*harness{"the first server": a, "a server started with the same token": b} {
		if strings.Contains(h.logs.String(), said) {
			t.Errorf("%s logs a replacement of the API token: %s", name, grepLines(h.logs.String(), said))
		}
	}
	b.stop()
	b = startServer(t, emu, dir, func(c *Config) { c.APIToken = keyring.Secret("mistyped-token-0123456789") })
	if line := grepLines(b.logs.String(), said); !strings.Contains(line, `"level":"WARN"`) ||
		!strings.Contains(line, "stops working at once on every server sharing the database") ||
		!strings.Contains(line, "the same CARDFLOW_API_TOKEN as the others") {
		t.Errorf("the replacement's log line %q; want a warning that the old token stops working on every server, and the remedy", line)
	}
	if code, body := a.callWith(testAPIToken, "GET", "/api/v1/connections", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("the server not restarted, the replaced API token: %d %s; want 401, as the warning says", code, body)
	}
}
