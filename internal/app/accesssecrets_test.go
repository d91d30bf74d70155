package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/events"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestAccessSecretsNeverLeak is TestSecretsNeverLeak for the secrets of
// cardflow's own doors: the API token, personal API tokens (made with the
// API, the console and cardflow login), a console session's cookie and
// CSRF token, the single sign-on app's client secret, the notification
// signing secret, the key in a webhook receiver's URL and an event hook's
// secret. Each is used, refused when wrong and revoked through the API,
// the console and the hook; then none is in any API response (but the one
// answer that shows a new token once), console page (but the one that
// shows a new token, and a session's pages their own CSRF token), the
// notifications sent, the audit log, the whole log (debug level), the
// metrics or stdout.
func TestAccessSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const notifySecret = "notify-signing-s3cret-7c1d"
	var (
		mu       sync.Mutex
		received strings.Builder
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		received.Write(b)
		received.WriteString("\n")
		mu.Unlock()
	}))
	t.Cleanup(rcv.Close)
	webhookKey, webhookQuery := "webhook-key-s3cret-51ab", "webhook-query-s3cret-93fe"
	emu := emutest.Start(t, oktaemu.Config{Devices: 4})
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		ssoConfig(c, emu.URL)
		c.Now, c.EventPollInterval = emu.Now, 100*time.Millisecond
		c.NotifyURLs = []string{rcv.URL + "/services/T0/B0/" + webhookKey + "?token=" + webhookQuery}
		c.NotifySecret = keyring.Secret(notifySecret)
	})

	// secrets are what must be found nowhere; csrf those a session's own
	// pages carry in their forms.
	secrets := map[string]string{"API token": testAPIToken, "SSO client secret": oktaemu.DemoConsoleClientSecret,
		"notification secret": notifySecret, "webhook URL's key": webhookKey, "webhook URL's query": webhookQuery}
	csrf := map[string]string{}
	var responses, pages strings.Builder
	call := func(token, method, path string, body any) []byte {
		t.Helper()
		_, data := h.callWith(token, method, path, body, nil)
		responses.Write(data)
		return data
	}

	// Personal API tokens: made, used, listed, refused when wrong,
	// revoked, refused when revoked.
	var made []tokenJSON
	for _, role := range []string{"viewer", "admin"} {
		var tok tokenJSON
		if code, data := h.call("POST", "/api/v1/tokens", map[string]any{"name": "canary " + role, "role": role, "expiresIn": "24h"}, &tok); code != http.StatusCreated || tok.Token == "" {
			t.Fatalf("create a %s token: %d %s", role, code, data)
		}
		secrets["personal "+role+" token"] = tok.Token
		made = append(made, tok)
	}
	cli := cliLogin(t, h, oktaemu.AdminLogin)
	secrets["cardflow login's token"] = cli.Token
	wrong := made[0].Token[:len(made[0].Token)-4] + "zzzz"
	secrets["wrong personal token"] = wrong
	for _, tok := range []string{made[0].Token, made[1].Token, cli.Token} {
		call(tok, "GET", "/api/v1/whoami", nil)
		call(tok, "GET", "/api/v1/tokens", nil)
	}
	call(wrong, "GET", "/api/v1/whoami", nil)
	call(made[0].Token, "GET", "/api/v1/people", nil) // refused: a viewer's
	call(made[1].Token, "DELETE", "/api/v1/tokens/"+made[0].ID, nil)
	call(made[0].Token, "GET", "/api/v1/whoami", nil) // revoked
	call(testAPIToken+"x", "GET", "/api/v1/whoami", nil)
	call(cli.Token, "GET", "/api/v1/tokens?all=true", nil)

	// A notification test, and a failed flow run's notification.
	conn := h.connect("Prod devices")
	call("", "POST", "/api/v1/notifications/test", nil)
	call(testAPIToken, "POST", "/api/v1/notifications/test", map[string]any{})
	if code, data := h.postYAML("/api/v1/flows", strings.ReplaceAll(failingFlow, "Prod", "Prod devices"), nil); code != http.StatusCreated {
		t.Fatalf("store the failing flow: %d %s", code, data)
	}
	call(testAPIToken, "POST", "/api/v1/flows/read-missing/runs?wait=true", map[string]any{})

	// An event hook: deliveries with its secret, without, with a wrong one.
	storeEnabledFlow(t, h, "hook")
	waitHookVerified(t, emu)
	src, err := h.app.Store.GetEventSource(t.Context(), conn.ID)
	if err != nil || src.HookPath == "" {
		t.Fatalf("the connection's event source: %+v %v; want its hook", src, err)
	}
	hookSecret, err := h.app.Keyring.Open(src.SealedSecret, events.SecretAAD(src.ConnectionID))
	if err != nil || len(hookSecret) < 16 {
		t.Fatalf("the hook's secret: %v", err)
	}
	secrets["event hook secret"] = string(hookSecret)
	secrets["wrong event hook secret"] = string(hookSecret) + "-wrong"
	for _, auth := range []string{string(hookSecret), "", string(hookSecret) + "-wrong"} {
		req, _ := http.NewRequest("POST", h.url+events.HookPathPrefix+src.HookPath, strings.NewReader(
			`{"eventType":"com.okta.event_hook","data":{"events":[{"uuid":"5f0e8a9c-0000-4000-8000-00000000000a","eventType":"device.user.remove","published":"2026-01-01T00:00:00.000Z"}]}}`))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := h.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		responses.Write(b)
	}
	emu.AdvanceClock(t, time.Second)
	d := enrollDevice(t, emu, "jonas.berg@example.com")
	removeDeviceUser(t, emu, d, "jonas.berg@example.com")

	// The console: signed in with single sign-on and with the API token,
	// every list page, a token made with its form, a form sent without
	// the CSRF token, a sign-in with a wrong token, sign-out.
	b := ssoBrowser(t, h, oktaemu.AdminLogin)
	u, _ := url.Parse(h.url)
	for _, ck := range b.http.Jar.Cookies(u) {
		if ck.Name == "cardflow_session" {
			secrets["console session cookie"] = ck.Value
		}
	}
	if secrets["console session cookie"] == "" {
		t.Fatal("the SSO sign-in left no session cookie")
	}
	page := func(path string) string {
		t.Helper()
		_, _, body := b.get(h.url + path)
		pages.WriteString(body)
		return body
	}
	tokensPage := page("/tokens")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(tokensPage)
	if m == nil {
		t.Fatalf("no CSRF token on the Tokens page:\n%s", tokensPage)
	}
	csrf["console CSRF token"] = m[1]
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", h.url+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", h.url)
		resp, err := b.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	if code, body := post("/tokens", url.Values{"csrf": {m[1]}, "name": {"canary console"}, "role": {"viewer"}, "expiresIn": {"24h"}}); code != http.StatusSeeOther {
		t.Fatalf("make a token with the console's form: %d\n%s", code, body)
	}
	_, _, shown := b.get(h.url + "/tokens") // shows the new token, once
	tm := regexp.MustCompile(`cfp_[A-Za-z0-9_-]{20,}`).FindString(shown)
	if tm == "" {
		t.Fatalf("the Tokens page after the form shows no new token:\n%s", shown)
	}
	secrets["console-made token"] = tm
	call(tm, "GET", "/api/v1/whoami", nil)
	post("/tokens", url.Values{"csrf": {"not-the-token"}, "name": {"canary forged"}, "role": {"admin"}, "expiresIn": {"24h"}})
	post("/notifications/test", url.Values{"csrf": {m[1]}})
	for _, p := range []string{"/tokens", "/connections", "/people", "/audit", "/events", "/runs", "/flows", "/cards"} {
		page(p)
	}
	consoleSignIn(t, h, testAPIToken)
	consoleSignIn(t, h, wrong)

	waitFor(t, "the notifications", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Count(received.String(), "flow_run.failed") >= 1 && strings.Count(received.String(), "notification.test") >= 2
	})
	post("/signout", url.Values{"csrf": {m[1]}})
	call(testAPIToken, "GET", "/api/v1/audit?limit=200", nil)
	call(testAPIToken, "GET", "/api/v1/people", nil)
	call(testAPIToken, "GET", "/api/v1/tokens?all=true", nil)
	call(testAPIToken, "GET", "/api/v1/events", nil)
	call(testAPIToken, "GET", "/api/v1/flow-runs", nil)
	responses.WriteString(h.metrics())
	h.stop()

	mu.Lock()
	notifications := received.String()
	mu.Unlock()
	places := map[string]string{"API responses": responses.String(), "console pages": pages.String(), "notifications": notifications,
		"log": h.logs.String(), "stdout": h.stdout.String()}
	for what, text := range places {
		for name, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("the %s is in the %s", name, what)
			}
		}
		for name, secret := range csrf {
			if what != "console pages" && strings.Contains(text, secret) {
				t.Errorf("the %s is in the %s", name, what)
			}
		}
	}
	if !strings.Contains(h.logs.String(), `"level":"DEBUG"`) {
		t.Errorf("the log has no debug lines; the check would be weaker than intended")
	}
	if !strings.Contains(notifications, "flow_run.failed") {
		t.Errorf("no flow_run.failed notification was received; the check would be weaker than intended")
	}
}
