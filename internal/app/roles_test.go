package app

// The route × role matrix: every API route and console page or
// form, for nobody, a viewer, an operator and an admin. Every route the
// server registers must be in the one role table (web.RoleFor), and every
// entry of the table must be a registered route: a route added without a
// role fails here, naming it.

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/web"
)

// startSSOHarness starts a server with single sign-on against the demo
// org's console app and its three groups.
func startSSOHarness(t *testing.T, edit func(*Config)) *harness {
	t.Helper()
	emu := emutest.Start(t, oktaemu.Config{Devices: 4})
	return startServer(t, emu, t.TempDir(), func(c *Config) {
		ssoConfig(c, emu.URL)
		if edit != nil {
			edit(c)
		}
	})
}

func ssoConfig(c *Config, issuer string) {
	c.OIDCIssuer = issuer
	c.OIDCClientID = oktaemu.DemoConsoleClientID
	c.OIDCClientSecret = keyring.Secret(oktaemu.DemoConsoleClientSecret)
	c.OIDCRoles = []string{"admin=" + oktaemu.AdminsGroup, "operator=" + oktaemu.OperatorsGroup, "viewer=" + oktaemu.ViewersGroup}
}

// routeRequest turns a route pattern into a request path: wildcards become
// ids that name nothing.
func routePath(pattern string) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "GET", pattern
	}
	path = strings.ReplaceAll(path, "{$}", "")
	for strings.Contains(path, "{") {
		i, j := strings.Index(path, "{"), strings.Index(path, "}")
		path = path[:i] + "no-such-thing" + path[j+1:]
	}
	if path == "/" && pattern == "/" {
		path = "/no-such-page"
	}
	if strings.HasSuffix(path, "/static/") {
		path += "console.css"
	}
	return method, path
}

// consoleSession stores a session of role and returns its cookie value and
// CSRF token, as a browser signed in with single sign-on would hold them.
func consoleSession(t *testing.T, st store.Store, role access.Role) (cookie, csrf string) {
	t.Helper()
	cookie, csrf = "cookie-"+string(role)+"-"+randomHex(t), "csrf-"+randomHex(t)
	h := sha256.Sum256([]byte(cookie))
	now := time.Now()
	if err := st.CreateSession(t.Context(), &store.Session{ID: hex.EncodeToString(h[:]),
		Actor: store.Actor{Type: store.ActorUser, Login: string(role) + "@example.com"}, Role: string(role), CSRF: csrf,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	return cookie, csrf
}

// randomHex is a fresh random string.
func randomHex(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

func TestRouteRoleMatrix(t *testing.T) {
	t.Parallel()
	h := startSSOHarness(t, nil)
	api, con := h.app.Web.APIRoutes(), h.app.Console.Routes()
	registered := append(slices.Clone(api), con...)

	t.Run("every route has a role", func(t *testing.T) {
		for _, p := range registered {
			if _, ok := web.RoleFor(p); !ok {
				t.Errorf("route %q has no role: add it to routeRoles in internal/web/roles.go (the README's roles table says which role)", p)
			}
		}
		for _, p := range web.RolePatterns() {
			if !slices.Contains(registered, p) {
				t.Errorf("the role table names %q, which no server route registers: remove or rename it", p)
			}
		}
	})

	t.Run("every route that changes something a role may not has an audit action", func(t *testing.T) {
		for _, p := range registered {
			method, _ := routePath(p)
			need, _ := web.RoleFor(p)
			_, ok := web.ActionFor(p)
			if method != "GET" && need != access.Anyone && need != access.Viewer && !ok {
				t.Errorf("route %q needs the %s role but has no audit action: add it to routeActions in internal/web/roles.go, so that a refusal is audited", p, need)
			}
		}
	})

	tokens := map[access.Role]string{}
	for _, role := range access.Roles {
		tok, err := h.app.Tokens.Create(t.Context(), access.Bootstrap, "matrix "+string(role), role, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = tok.Token
	}
	principals := append([]access.Role{""}, access.Roles...) // "" is nobody

	for _, pattern := range api {
		need, _ := web.RoleFor(pattern)
		method, path := routePath(pattern)
		for _, role := range principals {
			name := pattern + " as " + string(role)
			if role == "" {
				name = pattern + " as nobody"
			}
			t.Run(name, func(t *testing.T) {
				var body any
				if method == "POST" {
					body = map[string]any{}
				}
				var e apiErr
				code, data := h.callWith(tokens[role], method, path, body, &e)
				switch {
				case need == access.Anyone:
					if code == http.StatusUnauthorized || code == http.StatusForbidden && e.Error.Code == "forbidden" {
						t.Errorf("status %d; want a route open to anyone\n%s", code, data)
					}
				case role == "":
					if code != http.StatusUnauthorized || e.Error.Code != "unauthenticated" {
						t.Errorf("status %d code %q; want 401 unauthenticated\n%s", code, e.Error.Code, data)
					}
				case !role.Allows(need):
					if code != http.StatusForbidden || e.Error.Code != "forbidden" || !strings.Contains(e.Error.Message, "needs the "+string(need)+" role") ||
						e.Error.Details["requiredRole"] != string(need) {
						t.Errorf("status %d; want 403 forbidden naming the %s role\n%s", code, need, data)
					}
					if action, ok := web.ActionFor(pattern); ok {
						checkRefusalAudited(t, h.app.Store, action, store.Actor{Type: store.ActorToken, TokenName: "matrix " + string(role)}, method+" "+path, e.Error.Message)
					}
				default:
					if code == http.StatusUnauthorized || code == http.StatusForbidden || code >= 500 {
						t.Errorf("status %d; want the %s role let through\n%s", code, role, data)
					}
				}
			})
		}
	}

	for _, pattern := range con {
		need, _ := web.RoleFor(pattern)
		method, path := routePath(pattern)
		for _, role := range principals {
			name := "console " + pattern + " as " + string(role)
			if role == "" {
				name = "console " + pattern + " as nobody"
			}
			t.Run(name, func(t *testing.T) {
				form := url.Values{}
				var cookie string
				if role != "" {
					var csrf string
					cookie, csrf = consoleSession(t, h.app.Store, role)
					form.Set("csrf", csrf)
				}
				action, audited := web.ActionFor(pattern)
				if role != "" && !role.Allows(need) && audited {
					// A post that is no form of the console (without the
					// session's CSRF token, as another site's would be) is
					// refused without an audit event in the session's name.
					before := lastAudit(t, h.app.Store)
					req, _ := http.NewRequest(method, h.url+path, strings.NewReader("csrf=wrong"))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.AddCookie(&http.Cookie{Name: "cardflow_session", Value: cookie})
					resp, err := h.http.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if after := lastAudit(t, h.app.Store); after != before {
						t.Errorf("a post without the CSRF token added audit event %d; want none", after)
					}
				}
				var rd io.Reader
				if method == "POST" {
					rd = strings.NewReader(form.Encode())
				}
				req, err := http.NewRequest(method, h.url+path, rd)
				if err != nil {
					t.Fatal(err)
				}
				if method == "POST" {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Origin", h.url)
					req.Header.Set("Sec-Fetch-Site", "same-origin")
				}
				if cookie != "" {
					req.AddCookie(&http.Cookie{Name: "cardflow_session", Value: cookie})
				}
				resp, err := h.http.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				page, code := string(b), resp.StatusCode
				refused := code == http.StatusForbidden && strings.Contains(page, "This needs the "+string(need)+" role")
				toSignin := code == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/signin?")
				switch {
				case need == access.Anyone:
					if toSignin || refused {
						t.Errorf("status %d; want a page open to anyone", code)
					}
				case role == "" && method == "GET":
					if !toSignin {
						t.Errorf("status %d Location %q; want a redirect to the sign-in page", code, resp.Header.Get("Location"))
					}
				case role == "":
					if code != http.StatusForbidden || !strings.Contains(page, "session has ended") {
						t.Errorf("status %d; want 403 saying the session has ended", code)
					}
				case !role.Allows(need):
					if !refused {
						t.Errorf("status %d; want 403 naming the %s role\n%s", code, need, page)
					}
					if audited {
						checkRefusalAudited(t, h.app.Store, action, store.Actor{Type: store.ActorUser, Login: string(role) + "@example.com"}, method+" "+path,
							"this needs the "+string(need)+" role; "+string(role)+"@example.com has the "+string(role)+" role")
					}
				default:
					if code == http.StatusForbidden || toSignin && method == "GET" || code >= 500 {
						t.Errorf("status %d; want the %s role let through\n%s", code, role, page)
					}
				}
			})
		}
	}
}

// checkRefusalAudited checks that the newest audit event is the refusal
// of a request for lack of role: a failure of action by actor, naming the
// method and path asked for and why it was refused.
func checkRefusalAudited(t *testing.T, st store.Store, action string, actor store.Actor, input, why string) {
	t.Helper()
	evs, err := st.ListAudit(t.Context(), store.AuditFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 {
		t.Fatalf("no audit event; want the refused %s by %s", action, actor)
	}
	e := evs[0]
	if e.Action != action || e.Actor != actor || e.Outcome != "failure" || e.InputSummary != input || e.Error != why {
		t.Errorf("newest audit event %s by %+v, outcome %s, input %q, error %q; want %s by %+v, failure, input %q, error %q",
			e.Action, e.Actor, e.Outcome, e.InputSummary, e.Error, action, actor, input, why)
	}
}

// lastAudit is the id of the newest audit event, 0 without one.
func lastAudit(t *testing.T, st store.Store) int64 {
	t.Helper()
	evs, err := st.ListAudit(t.Context(), store.AuditFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 {
		return 0
	}
	return evs[0].ID
}

// TestConsoleHidesWhatARoleMayNotDo: the pages show a viewer no button
// that would be refused, and show an admin all of them.
func TestConsoleHidesWhatARoleMayNotDo(t *testing.T) {
	t.Parallel()
	h := startSSOHarness(t, nil)
	conn := h.connect("Prod")
	var put struct{ Flow flowJSON }
	if code, data := h.postYAML("/api/v1/flows", scheduledFlow, &put); code != http.StatusCreated {
		t.Fatalf("store a flow: status %d\n%s", code, data)
	}
	fl := "/flows/" + put.Flow.ID
	pages := []struct {
		path  string
		shown map[access.Role][]string
	}{
		{"/connections", map[access.Role][]string{access.Admin: {"New Connection"}}},
		{"/connections/" + conn.ID, map[access.Role][]string{access.Admin: {">Test<", ">Reauthorize<", ">Delete<"}, access.Operator: {`href="/cards/okta-devices/`}}},
		{"/cards", map[access.Role][]string{access.Operator: {`href="/cards/okta-devices/suspend-device`}}},
		{fl, map[access.Role][]string{access.Admin: {`action="` + fl + `/enable"`, `href="` + fl + `/delete"`}, access.Operator: {`action="` + fl + `/runs"`, `formaction="` + fl + `/plan"`}}},
		// A token's role is at most its creator's: the form offers no more.
		{"/tokens", map[access.Role][]string{access.Viewer: {`<option value="viewer"`}, access.Operator: {`<option value="operator"`}, access.Admin: {`<option value="admin"`}}},
	}
	for _, p := range pages {
		for _, role := range access.Roles {
			cookie, _ := consoleSession(t, h.app.Store, role)
			req, _ := http.NewRequest("GET", h.url+p.path, nil)
			req.AddCookie(&http.Cookie{Name: "cardflow_session", Value: cookie})
			resp, err := h.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s as %s: status %d", p.path, role, resp.StatusCode)
			}
			for need, marks := range p.shown {
				for _, m := range marks {
					if got, want := strings.Contains(string(b), m), role.Allows(need); got != want {
						t.Errorf("%s as %s: shows %q = %v; want %v", p.path, role, m, got, want)
					}
				}
			}
			if !strings.Contains(string(b), string(role)+"@example.com") {
				t.Errorf("%s as %s: the page does not say who is signed in", p.path, role)
			}
		}
	}
}

// TestConsoleFormsRefuseForgedPosts: every state-changing route of the
// console, for an admin (whose role may use them all), refuses a post
// without the session's CSRF token and one from another site, changing
// nothing (no audit event, the session kept); and every route's answer,
// refused or not, carries the console's security headers. A route
// registered without the console's guard fails here, naming it.
func TestConsoleFormsRefuseForgedPosts(t *testing.T) {
	t.Parallel()
	h := startSSOHarness(t, nil)
	cookie, csrf := consoleSession(t, h.app.Store, access.Admin)
	send := func(method, path string, form url.Values, header map[string]string) (*http.Response, string) {
		t.Helper()
		var rd io.Reader
		if method != "GET" {
			rd = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, h.url+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		if method != "GET" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		req.AddCookie(&http.Cookie{Name: "cardflow_session", Value: cookie})
		resp, err := h.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	checkHeaders := func(what string, resp *http.Response) {
		t.Helper()
		for k, want := range map[string]string{"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY",
			"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
			if got := resp.Header.Get(k); !strings.Contains(got, want) {
				t.Errorf("%s: %s %q; want %q", what, k, got, want)
			}
		}
	}
	before := lastAudit(t, h.app.Store)
	for _, pattern := range h.app.Console.Routes() {
		method, path := routePath(pattern)
		if method == "GET" {
			resp, _ := send(method, path, nil, nil)
			checkHeaders(pattern, resp)
			continue
		}
		for _, forged := range []struct {
			name   string
			form   url.Values
			header map[string]string
		}{
			{"without the CSRF token", url.Values{}, map[string]string{"Origin": h.url, "Sec-Fetch-Site": "same-origin"}},
			{"with a wrong CSRF token", url.Values{"csrf": {csrf + "x"}}, map[string]string{"Origin": h.url, "Sec-Fetch-Site": "same-origin"}},
			{"from another site", url.Values{"csrf": {csrf}}, map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}},
		} {
			resp, page := send(method, path, forged.form, forged.header)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s: status %d; want 403\n%s", pattern, forged.name, resp.StatusCode, page)
			}
			checkHeaders(pattern+" "+forged.name, resp)
		}
	}
	if after := lastAudit(t, h.app.Store); after != before {
		t.Errorf("forged posts added audit events (newest %d, before %d); want none", after, before)
	}
	if resp, page := send("GET", "/connections", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after the forged posts GET /connections: status %d; want 200 (the session kept)\n%s", resp.StatusCode, page)
	}
}
