// Package emutest starts an emulated Okta org (oktaemu) for tests, on the
// loopback network or in memory (for testing/synctest bubbles), and drives
// it: signing in like a browser, moving its clock, injecting faults,
// holding requests, reading its request statistics, changing the demo
// app's scope grants and assigning or taking away admin roles. It also holds the small helpers the tests of several
// packages share (ClientAs, SyncBuffer).
package emutest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// Server is an emulated org served on 127.0.0.1 for the life of a test.
type Server struct {
	// URL is the org's origin and issuer, e.g. "http://127.0.0.1:41234".
	URL string
	// Org is the emulated org itself.
	Org *oktaemu.Org
	// Client talks to the server and never follows redirects.
	Client *http.Client
}

// Start serves an org built from cfg on 127.0.0.1 until the test ends.
// Unless cfg.SigningKey is set, the orgs share a fixed signing key.
func Start(t testing.TB, cfg oktaemu.Config) *Server {
	t.Helper()
	if cfg.SigningKey == nil {
		cfg.SigningKey = sharedKey()
	}
	org := oktaemu.New(cfg)
	hs := httptest.NewServer(org)
	t.Cleanup(hs.Close)
	c := hs.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.Timeout = 30 * time.Second
	return &Server{URL: hs.URL, Org: org, Client: c}
}

// Now returns the emulator clock, for verifiers that take a clock.
func (s *Server) Now() time.Time { return s.Org.Now() }

var (
	formRe  = regexp.MustCompile(`(?is)<form\b[^>]*>`)
	inputRe = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	attrRe  = regexp.MustCompile(`(?is)\b([a-z-]+)\s*=\s*"([^"]*)"`)
	alertRe = regexp.MustCompile(`(?is)role="alert">([^<]*)<`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(tag, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// SignIn opens authorizeURL like a browser, fills the sign-in form with
// username and password, submits it, and returns where the org redirects
// (the client's callback URL with code and state, or with error and
// error_description) without following it. An authorization error answered
// with a redirect before the form is returned the same way; anything else
// (an error page, a rejected password) fails the test.
func (s *Server) SignIn(t testing.TB, authorizeURL, username, password string) *url.URL {
	t.Helper()
	resp, body := s.do(t, "GET", authorizeURL, "", nil)
	if loc := location(t, resp); loc != nil {
		return loc
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET authorize: status %d; want 200 or a redirect\n%s", resp.StatusCode, body)
	}
	formTag := formRe.FindString(body)
	if formTag == "" {
		t.Fatalf("authorize page has no form:\n%s", body)
	}
	action, err := resp.Request.URL.Parse(attrs(formTag)["action"])
	if err != nil {
		t.Fatalf("form action: %v", err)
	}
	form := url.Values{}
	for _, in := range inputRe.FindAllString(body, -1) {
		a := attrs(in)
		if a["name"] != "" {
			form.Set(a["name"], a["value"])
		}
	}
	form.Set("username", username)
	form.Set("password", password)
	resp, body = s.do(t, "POST", action.String(), "application/x-www-form-urlencoded", []byte(form.Encode()))
	if loc := location(t, resp); loc != nil {
		return loc
	}
	msg := ""
	if m := alertRe.FindStringSubmatch(body); m != nil {
		msg = html.UnescapeString(m[1])
	}
	t.Fatalf("sign-in as %s: status %d and no redirect; page says %q", username, resp.StatusCode, msg)
	return nil
}

func location(t testing.TB, resp *http.Response) *url.URL {
	t.Helper()
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("redirect without a usable Location: %v", err)
	}
	return loc
}

func (s *Server) do(t testing.TB, method, u, contentType string, body []byte) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return s.send(t, req)
}

func (s *Server) send(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp, string(b)
}

// control posts a JSON body to a control endpoint.
func (s *Server) control(t testing.TB, path string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := s.do(t, "POST", s.URL+path, "application/json", b)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: status %d: %s", path, resp.StatusCode, body)
	}
	return body
}

// AdvanceClock moves the emulator clock forward by d.
func (s *Server) AdvanceClock(t testing.TB, d time.Duration) {
	t.Helper()
	s.control(t, "/_emulator/clock", map[string]string{"advance": fmt.Sprintf("%dms", d.Milliseconds())})
}

// Hold makes requests with method and path (a route pattern or a literal
// path) wait, after the first pass of them, until the hold is released
// (at the latest when the test ends). See oktaemu.Org.Hold.
func (s *Server) Hold(t testing.TB, method, path string, pass int) *oktaemu.Hold {
	t.Helper()
	h := s.Org.Hold(method, path, pass)
	t.Cleanup(h.Release)
	return h
}

// Fault makes the next count requests with method (empty: any) and path (a
// route pattern such as /api/v1/devices/{deviceId} or a literal path)
// fail with status.
func (s *Server) Fault(t testing.TB, method, path string, status, count int) {
	t.Helper()
	s.control(t, "/_emulator/faults", map[string]any{"method": method, "path": path, "status": status, "count": count})
}

// FaultSpec is a fault of POST /_emulator/faults with every option (see
// the oktaemu package documentation): Skip lets that many matching
// requests through first; Body is json, html, empty,
// truncated, echo, cut, reset or hang; After serves the request before the fault
// replaces or loses its answer; Headers set (or, empty, remove) answer
// headers; ResetIn places X-Rate-Limit-Reset on the org's clock.
type FaultSpec struct {
	Method  string            `json:"method,omitempty"`
	Path    string            `json:"path"`
	Status  int               `json:"status,omitempty"`
	Count   int               `json:"count,omitempty"`
	Skip    int               `json:"skip,omitempty"`
	Body    string            `json:"body,omitempty"`
	After   bool              `json:"after,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	ResetIn string            `json:"resetIn,omitempty"`
}

// Inject adds the fault f.
func (s *Server) Inject(t testing.TB, f FaultSpec) {
	t.Helper()
	s.control(t, "/_emulator/faults", f)
}

// ClearFaults drops the faults not used up yet.
func (s *Server) ClearFaults(t testing.TB) {
	t.Helper()
	resp, body := s.do(t, "DELETE", s.URL+"/_emulator/faults", "", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /_emulator/faults: status %d: %s", resp.StatusCode, body)
	}
}

// Stats returns the requests the org served, counted by method and route
// pattern ("GET /api/v1/devices/{deviceId}").
func (s *Server) Stats(t testing.TB) map[string]int {
	t.Helper()
	resp, body := s.do(t, "GET", s.URL+"/_emulator/stats", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_emulator/stats: status %d", resp.StatusCode)
	}
	var v struct {
		Requests map[string]int `json:"requests"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("stats: %v", err)
	}
	return v.Requests
}

// SetGroupMember puts the user login in the group (by name) or, with
// member false, takes them out of it.
func (s *Server) SetGroupMember(t testing.TB, group, login string, member bool) {
	t.Helper()
	if member {
		s.control(t, "/_emulator/groups/"+url.PathEscape(group)+"/users", map[string]string{"user": login})
		return
	}
	resp, body := s.do(t, "DELETE", s.URL+"/_emulator/groups/"+url.PathEscape(group)+"/users/"+url.PathEscape(login), "", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("take %s out of the group %s: status %d: %s", login, group, resp.StatusCode, body)
	}
}

// SetClaims makes the ID tokens and userinfo of login's next sign-ins
// claim preferredUsername as preferred_username and email as email ("":
// their own), as an identity provider that lets people change those
// claims does; their sub stays theirs.
func (s *Server) SetClaims(t testing.TB, login, preferredUsername, email string) {
	t.Helper()
	s.control(t, "/_emulator/users/"+url.PathEscape(login)+"/claims", map[string]string{"preferred_username": preferredUsername, "email": email})
}

// Reset restores the org's starting state.
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	s.control(t, "/_emulator/reset", struct{}{})
}

// api calls the management API as the demo super admin (SSWS).
func (s *Server) api(t testing.TB, method, path string, body any) (int, string) {
	t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "SSWS "+oktaemu.DemoAPIToken)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, out := s.send(t, req)
	return resp.StatusCode, out
}

// RotateClientSecret gives the web app with appID a new client secret and
// deactivates and deletes the ones it had, through the management API, as
// an admin rotating it on the app's General tab does. It returns the new
// secret.
func (s *Server) RotateClientSecret(t testing.TB, appID string) string {
	t.Helper()
	path := "/api/v1/apps/" + appID + "/credentials/secrets"
	code, body := s.api(t, "GET", path, nil)
	var old []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &old) != nil {
		t.Fatalf("list the client secrets of app %s: status %d: %s", appID, code, body)
	}
	code, body = s.api(t, "POST", path, struct{}{})
	var created struct {
		Secret string `json:"client_secret"`
	}
	if code != http.StatusCreated || json.Unmarshal([]byte(body), &created) != nil || created.Secret == "" {
		t.Fatalf("add a client secret to app %s: status %d: %s", appID, code, body)
	}
	for _, cs := range old {
		if cs.Status != "ACTIVE" {
			continue
		}
		if code, body := s.api(t, "POST", path+"/"+cs.ID+"/lifecycle/deactivate", nil); code != http.StatusOK {
			t.Fatalf("deactivate client secret %s of app %s: status %d: %s", cs.ID, appID, code, body)
		}
		if code, body := s.api(t, "DELETE", path+"/"+cs.ID, nil); code != http.StatusNoContent {
			t.Fatalf("delete client secret %s of app %s: status %d: %s", cs.ID, appID, code, body)
		}
	}
	return created.Secret
}

// RevokeGrant revokes the demo app's grant of scope through the grants API.
func (s *Server) RevokeGrant(t testing.TB, scope string) {
	t.Helper()
	s.RevokeAppGrant(t, oktaemu.DemoAppID, scope)
}

// RevokeAppGrant revokes the grant of scope to the app with appID through
// the grants API.
func (s *Server) RevokeAppGrant(t testing.TB, appID, scope string) {
	t.Helper()
	code, body := s.api(t, "GET", "/api/v1/apps/"+appID+"/grants", nil)
	if code != http.StatusOK {
		t.Fatalf("list grants: status %d: %s", code, body)
	}
	var grants []struct {
		ID      string `json:"id"`
		ScopeID string `json:"scopeId"`
	}
	if err := json.Unmarshal([]byte(body), &grants); err != nil {
		t.Fatalf("list grants: %v", err)
	}
	for _, g := range grants {
		if g.ScopeID == scope {
			if code, body := s.api(t, "DELETE", "/api/v1/apps/"+appID+"/grants/"+g.ID, nil); code != http.StatusNoContent {
				t.Fatalf("revoke grant %s: status %d: %s", scope, code, body)
			}
			return
		}
	}
	t.Fatalf("revoke grant: app %s has no grant of %s", appID, scope)
}

// AddGrant grants scope to the demo app through the grants API.
func (s *Server) AddGrant(t testing.TB, scope string) {
	t.Helper()
	code, body := s.api(t, "POST", "/api/v1/apps/"+oktaemu.DemoAppID+"/grants", map[string]string{"issuer": s.URL, "scopeId": scope})
	if code != http.StatusCreated {
		t.Fatalf("grant %s: status %d: %s", scope, code, body)
	}
}

// AddAppKey adds a public JWK (JSON, with a kid) to the keys of the app
// with appID through the management API, as an admin pasting it on the
// app's Client Credentials section does.
func (s *Server) AddAppKey(t testing.TB, appID string, jwk []byte) {
	t.Helper()
	code, body := s.api(t, "POST", "/api/v1/apps/"+appID+"/credentials/jwks", json.RawMessage(jwk))
	if code != http.StatusCreated {
		t.Fatalf("add key to app %s: status %d: %s", appID, code, body)
	}
}

// RemoveAppKey deactivates and deletes the public key kid of the app with
// appID through the management API, as an admin removing it from the
// app's Client Credentials section does.
func (s *Server) RemoveAppKey(t testing.TB, appID, kid string) {
	t.Helper()
	path := "/api/v1/apps/" + appID + "/credentials/jwks"
	code, body := s.api(t, "GET", path, nil)
	var keys []struct {
		ID  string `json:"id"`
		Kid string `json:"kid"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &keys) != nil {
		t.Fatalf("list the keys of app %s: status %d: %s", appID, code, body)
	}
	for _, k := range keys {
		if k.Kid != kid {
			continue
		}
		if code, body := s.api(t, "POST", path+"/"+k.ID+"/lifecycle/deactivate", nil); code != http.StatusOK {
			t.Fatalf("deactivate key %s of app %s: status %d: %s", kid, appID, code, body)
		}
		if code, body := s.api(t, "DELETE", path+"/"+k.ID, nil); code != http.StatusNoContent {
			t.Fatalf("delete key %s of app %s: status %d: %s", kid, appID, code, body)
		}
		return
	}
	t.Fatalf("app %s has no key %s: %s", appID, kid, body)
}

// GenerateAppKey makes a new EC P-256 key pair, as the Admin Console's
// Generate new key does, adds its public key to the app with appID under
// kid, and returns the private key as PKCS#8 PEM (which names no kid).
func (s *Server) GenerateAppKey(t testing.TB, appID, kid string) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := json.Marshal(jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	s.AddAppKey(t, appID, pub)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// AssignRole assigns the admin role (a standard role type such as
// SUPER_ADMIN, MOBILE_ADMIN or READ_ONLY_ADMIN) to the user login through
// the role assignment API, as the demo super admin. The user's next API
// call, with a token issued before too, acts with it.
func (s *Server) AssignRole(t testing.TB, login, role string) {
	t.Helper()
	s.assignRole(t, "/api/v1/users/"+url.PathEscape(login)+"/roles", role, http.StatusCreated)
}

// UnassignRole takes the admin role away from the user login through the
// role assignment API, as the demo super admin: the user's next API call,
// with a token issued before too, acts without it.
func (s *Server) UnassignRole(t testing.TB, login, role string) {
	t.Helper()
	s.unassignRole(t, "/api/v1/users/"+url.PathEscape(login)+"/roles", role)
}

// AssignClientRole assigns the admin role to the API Services app with
// clientID through the role assignment API, as the demo super admin.
func (s *Server) AssignClientRole(t testing.TB, clientID, role string) {
	t.Helper()
	s.assignRole(t, "/oauth2/v1/clients/"+url.PathEscape(clientID)+"/roles", role, http.StatusOK)
}

// UnassignClientRole takes the admin role away from the API Services app
// with clientID through the role assignment API, as the demo super admin:
// the app's next API call, with a token issued before too, acts without it.
func (s *Server) UnassignClientRole(t testing.TB, clientID, role string) {
	t.Helper()
	s.unassignRole(t, "/oauth2/v1/clients/"+url.PathEscape(clientID)+"/roles", role)
}

func (s *Server) assignRole(t testing.TB, path, role string, want int) {
	t.Helper()
	if code, body := s.api(t, "POST", path, map[string]string{"type": role}); code != want {
		t.Fatalf("POST %s %s: status %d: %s", path, role, code, body)
	}
}

func (s *Server) unassignRole(t testing.TB, path, role string) {
	t.Helper()
	code, body := s.api(t, "GET", path, nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, code, body)
	}
	var roles []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal([]byte(body), &roles); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	for _, r := range roles {
		if r.Type == role {
			if code, body := s.api(t, "DELETE", path+"/"+r.ID, nil); code != http.StatusNoContent {
				t.Fatalf("DELETE %s/%s (%s): status %d: %s", path, r.ID, role, code, body)
			}
			return
		}
	}
	t.Fatalf("%s: no %s assigned", path, role)
}
