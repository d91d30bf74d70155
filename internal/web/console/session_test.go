package console_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite"
	"github.com/cardflow/cardflow/internal/web/console"
)

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches path without following redirects and returns the response
// and its body.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// post sends a form with extra headers.
func post(t *testing.T, c *http.Client, u string, form url.Values, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// csrfOf returns the CSRF token in a page's forms.
func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("page has no CSRF field:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

// signInHTTP signs a cookie-keeping client in to the console at base and
// returns it with the session's CSRF token.
func signInHTTP(t *testing.T, base, next string) (*http.Client, *http.Response, string) {
	t.Helper()
	c := client(t)
	_, body := get(t, c, base+"/signin")
	resp, _ := post(t, c, base+"/signin", url.Values{"csrf": {csrfOf(t, body)}, "token": {testToken}, "next": {next}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: status %d; want 303", resp.StatusCode)
	}
	_, body = get(t, c, base+"/connections")
	return c, resp, csrfOf(t, body)
}

// bareConsole serves a console with only the token check, for session
// tests that need no connections.
func bareConsole(t *testing.T, edit func(*console.Console)) *httptest.Server {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "console.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &console.Console{CheckToken: func(_ context.Context, tok string) (bool, error) { return tok == testToken, nil }, Sessions: st}
	if edit != nil {
		edit(c)
	}
	ts := httptest.NewServer(c.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, resp, _ := signInHTTP(t, e.url, "")
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "cardflow_session" {
			sess = ck
		}
	}
	if sess == nil {
		t.Fatalf("sign-in set no cardflow_session cookie; Set-Cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	if !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.Secure {
		t.Errorf("session cookie HttpOnly=%v SameSite=%v Path=%q Secure=%v; want HttpOnly, Lax, /, not Secure over http",
			sess.HttpOnly, sess.SameSite, sess.Path, sess.Secure)
	}
	if sess.MaxAge <= 0 || sess.MaxAge > 12*3600 {
		t.Errorf("session cookie Max-Age = %d; want 1..43200", sess.MaxAge)
	}
	if strings.Contains(sess.Value, testToken) || len(sess.Value) < 40 {
		t.Errorf("session cookie value %q: want a long random id, never the token", sess.Value)
	}
	if strings.Contains(e.logs.String(), testToken) {
		t.Errorf("the server log holds the API token")
	}
}

func TestSessionCookieIsSecureBehindHTTPS(t *testing.T) {
	t.Parallel()
	ts := bareConsole(t, func(c *console.Console) { c.PublicURL = "https://cardflow.example.com" })
	c := client(t)
	_, body := get(t, c, ts.URL+"/signin")
	resp, _ := post(t, c, ts.URL+"/signin", url.Values{"csrf": {csrfOf(t, body)}, "token": {testToken}}, nil)
	for _, ck := range resp.Cookies() {
		if ck.Name == "cardflow_session" && !ck.Secure {
			t.Errorf("session cookie behind an https public URL is not Secure")
		}
	}
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-in status %d; want 303", resp.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _, _ := signInHTTP(t, e.url, "")
	for _, path := range []string{"/signin", "/connections", "/connections/new", "/connections/new?connector=okta-devices", "/runs", "/flows", "/nowhere"} {
		t.Run(path, func(t *testing.T) {
			resp, _ := get(t, c, e.url+path)
			want := map[string]string{
				"Content-Type":            "text/html; charset=utf-8",
				"X-Frame-Options":         "DENY",
				"Referrer-Policy":         "no-referrer",
				"Cache-Control":           "no-store",
				"X-Content-Type-Options":  "nosniff",
				"Content-Security-Policy": "default-src 'self'",
			}
			for h, w := range want {
				if got := resp.Header.Get(h); !strings.Contains(got, w) {
					t.Errorf("%s: %s = %q; want %q", path, h, got, w)
				}
			}
		})
	}
}

func TestFormsRefuseForgedPosts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _, token := signInHTTP(t, e.url, "")
	tests := []struct {
		name    string
		form    url.Values
		headers map[string]string
	}{
		{"no token", url.Values{}, nil},
		{"wrong token", url.Values{"csrf": {token + "x"}}, nil},
		{"other session's token", url.Values{"csrf": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}, nil},
		{"cross-site fetch", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"same-site fetch", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"foreign origin", url.Values{"csrf": {token}}, map[string]string{"Origin": "http://evil.example"}},
		{"origin on another port", url.Values{"csrf": {token}}, map[string]string{"Origin": "http://127.0.0.1:1"}},
		{"null origin from another site", url.Values{"csrf": {token}}, map[string]string{"Origin": "null", "Sec-Fetch-Site": "cross-site"}},
		{"null origin without fetch metadata", url.Values{"csrf": {token}}, map[string]string{"Origin": "null"}},
	}
	targets := []string{"/signout", "/connections"}
	for _, tt := range tests {
		for _, target := range targets {
			t.Run(tt.name+" "+target, func(t *testing.T) {
				form := url.Values{"connector": {"okta-devices"}, "nickname": {"Forged"}, "domain": {e.emu.URL},
					"clientId": {"0oaworkflowsclient"}, "clientSecret": {"demo-workflows-secret"}}
				for k, v := range tt.form {
					form[k] = v
				}
				resp, body := post(t, c, e.url+target, form, tt.headers)
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s: status %d; want 403\n%s", target, resp.StatusCode, body)
				}
			})
		}
	}
	if list, err := e.manager.List(context.Background()); err != nil || len(list) != 0 {
		t.Errorf("forged creates made %d connections (%v); want none", len(list), err)
	}
	// The session survived every forged sign-out.
	if resp, _ := get(t, c, e.url+"/connections"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after forged posts GET /connections: status %d; want 200 (still signed in)", resp.StatusCode)
	}

	// Without a session, even the right token is refused.
	anon := client(t)
	if resp, _ := post(t, anon, e.url+"/signout", url.Values{"csrf": {token}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST /signout without a session: status %d; want 403", resp.StatusCode)
	}

	// The real form post works, from the browser's own origin.
	resp, _ := post(t, c, e.url+"/signout", url.Values{"csrf": {token}}, map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?signedout=1" {
		t.Fatalf("POST /signout with the token: status %d Location %q; want 303 to /signin?signedout=1", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, c, e.url+"/connections"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out GET /connections: status %d; want 303 to the sign-in page", resp.StatusCode)
	}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	ts := bareConsole(t, nil)
	t.Run("without the form cookie", func(t *testing.T) {
		c := client(t)
		_, body := get(t, c, ts.URL+"/signin")
		tok := csrfOf(t, body)
		anon := client(t)
		resp, _ := post(t, anon, ts.URL+"/signin", url.Values{"csrf": {tok}, "token": {testToken}}, nil)
		if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
			t.Errorf("sign-in without the form cookie: status %d cookies %v; want 403 and none", resp.StatusCode, resp.Cookies())
		}
	})
	t.Run("from another site", func(t *testing.T) {
		c := client(t)
		_, body := get(t, c, ts.URL+"/signin")
		resp, _ := post(t, c, ts.URL+"/signin", url.Values{"csrf": {csrfOf(t, body)}, "token": {testToken}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site sign-in: status %d; want 403", resp.StatusCode)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		c := client(t)
		_, body := get(t, c, ts.URL+"/signin")
		resp, page := post(t, c, ts.URL+"/signin", url.Values{"csrf": {csrfOf(t, body)}, "token": {"guess"}}, nil)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "not this server&#39;s API token") {
			t.Errorf("wrong token: status %d; want 401 with a message\n%s", resp.StatusCode, page)
		}
		for _, ck := range resp.Cookies() {
			if ck.Name == "cardflow_session" {
				t.Errorf("a wrong token got a session cookie")
			}
		}
		if strings.Contains(page, "guess") {
			t.Errorf("the page echoes the wrong token")
		}
	})
	t.Run("redirects only within the console", func(t *testing.T) {
		for next, want := range map[string]string{
			"":                      "/connections",
			"/runs?card=x":          "/runs?card=x",
			"//evil.example/":       "/connections",
			"https://evil.example/": "/connections",
			"/\\evil.example":       "/connections",
			"/signin":               "/connections",
			"connections":           "/connections",
		} {
			_, resp, _ := signInHTTP(t, ts.URL, next)
			if got := resp.Header.Get("Location"); got != want {
				t.Errorf("next %q: redirected to %q; want %q", next, got, want)
			}
		}
	})
}

func TestSignInIsRateLimited(t *testing.T) {
	t.Parallel()
	ts := bareConsole(t, nil)
	c := client(t)
	limited := false
	for i := 0; i < 25 && !limited; i++ {
		_, body := get(t, c, ts.URL+"/signin")
		resp, _ := post(t, c, ts.URL+"/signin", url.Values{"csrf": {csrfOf(t, body)}, "token": {"guess"}}, nil)
		limited = resp.StatusCode == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatalf("25 wrong tokens in a row were all checked; want 429 after 20")
	}
}

// TestSignInLimitIsPerAddress guesses from one address until refused:
// the administrator at another address still signs in, and the log names
// the guessing address.
func TestSignInLimitIsPerAddress(t *testing.T) {
	t.Parallel()
	logs := &emutest.SyncBuffer{}
	ts := bareConsole(t, func(c *console.Console) {
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	attacker := client(t)
	attacker.Transport = &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}
	limited := false
	for i := 0; i < 25 && !limited; i++ {
		_, body := get(t, attacker, ts.URL+"/signin")
		resp, _ := post(t, attacker, ts.URL+"/signin", url.Values{"csrf": {csrfOf(t, body)}, "token": {"guess"}}, nil)
		limited = resp.StatusCode == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatalf("25 wrong tokens from 127.0.0.2 were all checked; want 429 after 20")
	}
	signInHTTP(t, ts.URL, "") // from 127.0.0.1; fails the test unless signed in
	if !strings.Contains(logs.String(), "client=127.0.0.2") {
		t.Errorf("the logs do not name the guessing address:\n%s", logs)
	}
}

func TestSessionsExpire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		advance []time.Duration // steps, each followed by a page load
		alive   bool
	}{
		{"in use", []time.Duration{50 * time.Minute, 50 * time.Minute, 50 * time.Minute}, true},
		{"idle too long", []time.Duration{61 * time.Minute}, false},
		{"too old although in use", []time.Duration{50 * time.Minute, 50 * time.Minute, 50 * time.Minute, 50 * time.Minute}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := emutest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			ts := bareConsole(t, func(c *console.Console) {
				c.Now = clk.Now
				c.IdleTimeout = time.Hour
				c.SessionTTL = 3 * time.Hour
			})
			c := client(t)
			_, body := get(t, c, ts.URL+"/signin")
			post(t, c, ts.URL+"/signin", url.Values{"csrf": {csrfOf(t, body)}, "token": {testToken}, "next": {"/nowhere"}}, nil)
			var resp *http.Response
			for _, d := range tt.advance {
				clk.Advance(d)
				resp, _ = get(t, c, ts.URL+"/nowhere")
			}
			alive := resp.StatusCode == http.StatusNotFound
			if alive != tt.alive {
				t.Errorf("after %v: status %d (alive %v); want alive %v", tt.advance, resp.StatusCode, alive, tt.alive)
			}
		})
	}
}

// TestOversizedForm: a form larger than the console takes is answered 413
// saying so and what to do, with a link back to the form's page, not
// "could not be read".
func TestOversizedForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _, csrf := signInHTTP(t, e.url, "/connections")
	resp, body := post(t, c, e.url+"/connections/service", url.Values{"csrf": {csrf}, "nickname": {"Robot"},
		"privateKey": {strings.Repeat("k", 2<<20)}}, nil)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MB form: status %d; want 413", resp.StatusCode)
	}
	for _, want := range []string{"The form is larger than 1 MB", "put only what the field asks for in it", `href="/connections/new-service"`} {
		if !strings.Contains(html.UnescapeString(body), want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
}

// pausedSessions holds each request after it read its session until the
// test lets it go on, as a slow request of another tab would be.
type pausedSessions struct {
	console.SessionStore
	read, resume chan struct{}
}

func (p *pausedSessions) GetSession(ctx context.Context, id string) (*store.Session, error) {
	ss, err := p.SessionStore.GetSession(ctx, id)
	p.read <- struct{}{}
	<-p.resume
	return ss, err
}

// TestFlashesSurviveInterleavedTabs: two tabs of one session on two
// servers. A request that read the session before the other tab's form
// queued a message does not drop the message when it ends, and one that
// read it before the message was shown does not show it again.
func TestFlashesSurviveInterleavedTabs(t *testing.T) {
	t.Parallel()
	var dataDir string
	e := newEnvWith(t, func(c *app.Config, _ string) { dataDir = c.DataDir })
	st, err := sqlite.Open(t.Context(), filepath.Join(dataDir, "cardflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	paused := &pausedSessions{SessionStore: st, read: make(chan struct{}), resume: make(chan struct{})}
	other := httptest.NewServer((&console.Console{Sessions: paused}).Handler())
	t.Cleanup(other.Close)

	c, _, csrf := signInHTTP(t, e.url, "/tokens")
	// slowTab loads a page from the other server and returns its body
	// once the test lets the request, which has read its session, go on.
	slowTab := func() func() string {
		t.Helper()
		body := make(chan string, 1)
		go func() {
			resp, err := c.Get(other.URL + "/nowhere")
			if err != nil {
				body <- "GET: " + err.Error()
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body <- string(b)
		}()
		<-paused.read
		return func() string {
			paused.resume <- struct{}{}
			return <-body
		}
	}
	const msg = "The token was not revoked"
	revoke := func() {
		t.Helper()
		if resp, _ := post(t, c, e.url+"/tokens/no-such-token/revoke", url.Values{"csrf": {csrf}}, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: status %d; want 303", resp.StatusCode)
		}
	}

	// The other tab's request reads the session; the form queues a
	// message; the other request ends.
	finish := slowTab()
	revoke()
	if body := finish(); strings.Contains(body, msg) {
		t.Errorf("a page whose request read the session before the message was queued shows it:\n%s", body)
	}
	if _, body := get(t, c, e.url+"/tokens"); strings.Count(body, msg) != 1 {
		t.Errorf("the page after the form shows %q %d times; want once:\n%s", msg, strings.Count(body, msg), body)
	}

	// A message waits; the other tab's request reads the session; this
	// tab's page shows the message; the other request ends.
	revoke()
	finish = slowTab()
	if _, body := get(t, c, e.url+"/tokens"); strings.Count(body, msg) != 1 {
		t.Errorf("the page after the form shows %q %d times; want once:\n%s", msg, strings.Count(body, msg), body)
	}
	if body := finish(); strings.Contains(body, msg) {
		t.Errorf("the other tab's page shows the message already shown:\n%s", body)
	}
	if _, body := get(t, c, e.url+"/tokens"); strings.Contains(body, msg) {
		t.Errorf("the next page shows the message already shown:\n%s", body)
	}
}
