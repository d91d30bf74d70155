package card

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// The actors of the tests' card runs.
var (
	testActor = store.Actor{Type: store.ActorUser, Login: "test"}
	alice     = store.Actor{Type: store.ActorToken, Login: "alice@example.com", TokenName: "ci"}
)

// testConns is a Connections of fixed connections to one emulated org, each
// with its own credential (an SSWS token or an access token from the code
// flow) and the granted scopes the test chooses.
type testConns struct {
	srv   *emutest.Server
	mu    sync.Mutex
	infos map[string]ConnectionInfo
	auth  map[string]string
}

func (c *testConns) Resolve(_ context.Context, connector, idOrNickname string) (ConnectionInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if connector != ConnectorID {
		return ConnectionInfo{}, problem.New(problem.NotFound, "unknown connector %q", connector)
	}
	for _, info := range c.infos {
		if info.ID == idOrNickname || strings.EqualFold(info.Nickname, idOrNickname) {
			return info, nil
		}
	}
	return ConnectionInfo{}, problem.New(problem.NotFound, "no connection %q", idOrNickname)
}

func (c *testConns) HTTPClient(id string) *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.srv.ClientAs(c.auth[id])
}

// env is an emulated org, a SQLite store and an Executor recording into it.
type env struct {
	t     testing.TB
	srv   *emutest.Server
	st    store.Store
	conns *testConns
	exec  *Executor
	admin *okta.Client // the super admin, for setting up and checking devices
}

var allScopes = []string{ScopeRead, ScopeManage}

func newEnv(t testing.TB, cfg oktaemu.Config) *env {
	t.Helper()
	return newEnvOn(t, emutest.Start(t, cfg))
}

// newEnvOn is newEnv with an org the caller started.
func newEnvOn(t testing.TB, srv *emutest.Server) *env {
	t.Helper()
	st := sqlitetest.Open(t)
	conns := &testConns{srv: srv, infos: map[string]ConnectionInfo{}, auth: map[string]string{}}
	e := &env{t: t, srv: srv, st: st, conns: conns,
		exec: &Executor{Connections: conns, Recorder: StoreRecorder{Store: st}, Okta: okta.Client{RetryBackoff: 1}}}
	u, _ := url.Parse(srv.URL)
	e.admin = &okta.Client{BaseURL: u, HTTP: srv.ClientAs(emutest.AdminAuthorization)}
	e.addConn("Prod", "SSWS "+oktaemu.DemoAPIToken, allScopes)
	return e
}

// addConn adds an active connection acting as admin@example.com unless
// the credential is a token of another user (see userConn).
func (e *env) addConn(nickname, authorization string, granted []string) ConnectionInfo {
	return e.addConnAs(nickname, authorization, granted, "admin@example.com")
}

func (e *env) addConnAs(nickname, authorization string, granted []string, actingAs string) ConnectionInfo {
	e.conns.mu.Lock()
	defer e.conns.mu.Unlock()
	info := ConnectionInfo{ID: "conn-" + strings.ToLower(strings.ReplaceAll(nickname, " ", "-")), Nickname: nickname,
		Domain: e.srv.URL, Status: store.StatusActive, GrantedScopes: granted, ActingAs: actingAs}
	e.conns.infos[info.ID] = info
	e.conns.auth[info.ID] = authorization
	return info
}

// setNeverAuthorized marks a connection as one no sign-in has authorized.
func (e *env) setNeverAuthorized(nickname string) {
	e.conns.mu.Lock()
	defer e.conns.mu.Unlock()
	for id, info := range e.conns.infos {
		if info.Nickname == nickname {
			info.NeverAuthorized = true
			e.conns.infos[id] = info
		}
	}
}

// setStatus changes a connection's status, reason and remedy.
func (e *env) setStatus(nickname, status, reason, remedy string) {
	e.conns.mu.Lock()
	defer e.conns.mu.Unlock()
	for id, info := range e.conns.infos {
		if info.Nickname == nickname {
			info.Status, info.StatusReason, info.Remedy = status, reason, remedy
			e.conns.infos[id] = info
		}
	}
}

// userConn adds a connection authorized by login through the code flow,
// with the token's real scopes (scopes requested) and granted recorded as
// cardflow saw them.
func (e *env) userConn(nickname, login string, tokenScopes, granted []string) ConnectionInfo {
	e.t.Helper()
	tok := accessToken(e.t, e.srv, login, tokenScopes...)
	return e.addConnAs(nickname, "Bearer "+tok, granted, login)
}

var autoGranted = []string{"openid", "profile", "email", "phone", "address", "groups", "offline_access"}

// accessToken runs the authorization code flow with PKCE as login and
// returns the access token.
func accessToken(t testing.TB, srv *emutest.Server, login string, apiScopes ...string) string {
	t.Helper()
	conf := &oauth2.Config{
		ClientID:     oktaemu.DemoClientID,
		ClientSecret: oktaemu.DemoClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: srv.URL + "/oauth2/v1/authorize", TokenURL: srv.URL + "/oauth2/v1/token"},
		RedirectURL:  "http://127.0.0.1:8080/oauth/callback",
		Scopes:       append(append([]string{}, autoGranted...), apiScopes...),
	}
	verifier := oauth2.GenerateVerifier()
	loc := srv.SignIn(t, conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", "nonce-1")), login, oktaemu.DemoPassword)
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("sign-in as %s: redirected to %s; want a code", login, loc.Redacted())
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange as %s: %v", login, err)
	}
	return tok.AccessToken
}

// device returns the id of a device with status, creating the state with
// the admin client when no device has it.
func (e *env) device(status string) string {
	e.t.Helper()
	for d, err := range e.admin.ListDevices(context.Background(), okta.ListOptions{Search: `status eq "` + status + `"`, Limit: 1}) {
		if err != nil {
			e.t.Fatalf("ListDevices: %v", err)
		}
		return d.ID
	}
	e.t.Fatalf("the org has no %s device", status)
	return ""
}

// status reads a device's status as the admin.
func (e *env) status(id string) string {
	e.t.Helper()
	d, err := e.admin.GetDevice(context.Background(), id)
	if okta.IsNotFound(err) {
		return StatusDeleted
	}
	if err != nil {
		e.t.Fatalf("GetDevice(%s): %v", id, err)
	}
	return d.Status
}

// run runs a card through the Executor and fails the test on a rejected
// request.
func (e *env) run(ref, conn string, input map[string]any) *Result {
	e.t.Helper()
	res, err := e.exec.Run(context.Background(), Request{Card: ref, Connection: conn, Input: input, Actor: testActor})
	if err != nil {
		e.t.Fatalf("Run(%s): %v", ref, err)
	}
	checkOutputKeys(e.t, ref, res.Output)
	return res
}

// checkOutputKeys fails the test when out has a key, at any depth, that
// the Output shape of card ref does not list: flows are validated against
// it.
func checkOutputKeys(t testing.TB, ref string, out map[string]any) {
	t.Helper()
	c, ok := Lookup(ref)
	if !ok {
		return
	}
	checkShape(t, ref+" output", c.Output, out)
}

func checkShape(t testing.TB, path string, s *Shape, v any) {
	t.Helper()
	if v == nil {
		return // any value may be null
	}
	var kind string
	switch v.(type) {
	case string:
		kind = KindString
	case bool:
		kind = KindBool
	case int, int64, float64, json.Number:
		kind = KindNumber
	}
	if s.Kind() != "" && kind != s.Kind() {
		t.Errorf("%s: %v (%T) is not a %s, as its shape says", path, v, v, s.Kind())
	}
	if str, ok := v.(string); ok && s.Enum() != nil && !slices.Contains(s.Enum(), str) {
		t.Errorf("%s: %q is not one of %v, as its shape says", path, str, s.Enum())
	}
	switch v := v.(type) {
	case map[string]any:
		names := s.Names()
		if names == nil {
			return
		}
		for k, x := range v {
			sub, ok := s.Field(k)
			if !ok {
				t.Errorf("%s: key %q is not in its shape %v", path, k, names)
				continue
			}
			checkShape(t, path+"."+k, sub, x)
		}
	case []any:
		if s.Item() == nil {
			return
		}
		for i, x := range v {
			checkShape(t, fmt.Sprintf("%s[%d]", path, i), s.Item(), x)
		}
	}
}

// mutations counts the POST and DELETE requests the org served.
func (e *env) mutations() int {
	e.t.Helper()
	n := 0
	for k, v := range e.srv.Stats(e.t) {
		if strings.HasPrefix(k, "POST /api/") || strings.HasPrefix(k, "DELETE /api/") {
			n += v
		}
	}
	return n
}

// apiRequests counts every /api/ request the org served.
func (e *env) apiRequests() int {
	e.t.Helper()
	n := 0
	for k, v := range e.srv.Stats(e.t) {
		if _, path, _ := strings.Cut(k, " "); strings.HasPrefix(path, "/api/") {
			n += v
		}
	}
	return n
}

// wantProblem checks a failed result's code and that its message and
// remedy contain each of parts.
func wantProblem(t *testing.T, res *Result, code problem.Code, parts ...string) {
	t.Helper()
	if res.Status != StatusFailed || res.Error == nil {
		t.Fatalf("result = %s with output %v; want failed with %s", res.Status, res.Output, code)
	}
	if res.Error.Code != code {
		t.Fatalf("error code = %s (%s); want %s", res.Error.Code, res.Error.Error(), code)
	}
	t.Logf("%s: %s", res.Error.Code, res.Error.Error())
	for _, p := range parts {
		if !strings.Contains(res.Error.Error(), p) {
			t.Errorf("error %q does not mention %q", res.Error.Error(), p)
		}
	}
}
