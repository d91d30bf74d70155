package connection

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

var (
	allDefault = []string{"openid", "profile", "email", "phone", "address", "groups", "offline_access", "okta.devices.read", "okta.devices.manage"}
	readOnly   = []string{"openid", "profile", "email", "phone", "address", "groups", "offline_access", "okta.devices.read"}
)

func TestCreateAuthorizeDefaultScopes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v, authURL := e.create(t, "Prod devices", nil)
	if v.Status != store.StatusPending || v.StatusReason == "" || v.Remedy == "" || v.StatusReasonCode != store.ReasonAwaitingSignIn {
		t.Errorf("new connection status %q reason %q remedy %q code %q; want pending with reason, remedy and %s", v.Status, v.StatusReason, v.Remedy, v.StatusReasonCode, store.ReasonAwaitingSignIn)
	}
	if v.AuthorizedBy != nil || v.AuthorizedAt != nil {
		t.Errorf("pending connection has authorizedBy %v at %v; want none", v.AuthorizedBy, v.AuthorizedAt)
	}

	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if got, want := u.Scheme+"://"+u.Host+u.Path, e.emu.URL+"/oauth2/v1/authorize"; got != want {
		t.Errorf("authorize endpoint %s; want %s", got, want)
	}
	checks := map[string]string{
		"client_id": oktaemu.DemoClientID, "redirect_uri": "http://127.0.0.1:8080/oauth/callback",
		"response_type": "code", "code_challenge_method": "S256", "scope": strings.Join(allDefault, " "),
	}
	for k, want := range checks {
		if got := q.Get(k); got != want {
			t.Errorf("authorize URL %s = %q; want %q", k, got, want)
		}
	}
	if len(q.Get("state")) != 43 || len(q.Get("nonce")) < 16 || len(q.Get("code_challenge")) != 43 {
		t.Errorf("state %q nonce %q code_challenge %q; want 32-byte state, a nonce and an S256 challenge",
			q.Get("state"), q.Get("nonce"), q.Get("code_challenge"))
	}
	if strings.Contains(authURL, e.secret) {
		t.Error("authorize URL holds the client secret")
	}

	res := e.signIn(t, authURL, oktaemu.AdminLogin)
	if !res.OK || res.Reauthorization || len(res.Warnings) != 0 {
		t.Fatalf("callback result %+v; want OK without warnings", res)
	}
	got := res.Connection
	if got.ID != v.ID || got.Status != store.StatusActive || got.StatusReason != "" || got.Remedy != "" || got.StatusReasonCode != "" {
		t.Errorf("after callback: id %s status %q reason %q code %q; want %s active without reason", got.ID, got.Status, got.StatusReason, got.StatusReasonCode, v.ID)
	}
	if diff := cmp.Diff(allDefault, got.RequestedScopes); diff != "" {
		t.Errorf("requested scopes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(allDefault, got.GrantedScopes); diff != "" {
		t.Errorf("granted scopes (-want +got):\n%s", diff)
	}
	if len(got.MissingScopes) != 0 || got.ScopeMode != ScopeModeDefault {
		t.Errorf("missing %v mode %q; want none, default", got.MissingScopes, got.ScopeMode)
	}
	wantWho := &AuthorizedBy{UserID: oktaemu.AdminUserID, Login: oktaemu.AdminLogin}
	if got.AuthorizedBy == nil || got.AuthorizedBy.UserID != wantWho.UserID || got.AuthorizedBy.Login != wantWho.Login || got.AuthorizedBy.Name == "" {
		t.Errorf("authorizedBy %+v; want %+v with a name", got.AuthorizedBy, wantWho)
	}
	if got.AuthorizedAt == nil {
		t.Error("authorizedAt not set")
	}
	if res.Message == "" || !strings.Contains(res.Message, oktaemu.AdminLogin) {
		t.Errorf("message %q; want it to name the account", res.Message)
	}

	tok, err := e.m.Token(ctx, v.ID)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.BaseURL != e.emu.URL || tok.ActingAs != oktaemu.AdminLogin || tok.AccessToken == "" {
		t.Errorf("token base %q acting as %q; want %q, %q", tok.BaseURL, tok.ActingAs, e.emu.URL, oktaemu.AdminLogin)
	}
	resp, err := e.m.HTTPClient(v.ID).Get(e.emu.URL + "/api/v1/devices?limit=2")
	if err != nil {
		t.Fatalf("GET devices through HTTPClient: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET devices status %d; want 200", resp.StatusCode)
	}

	for _, key := range []string{v.ID, "prod DEVICES"} {
		r, err := e.m.Resolve(ctx, connector, key)
		if err != nil || r.ID != v.ID {
			t.Errorf("Resolve(%q) = %v, %v; want %s", key, r, err, v.ID)
		}
	}
	if _, err := e.m.Resolve(ctx, "other-connector", v.ID); err == nil {
		t.Error("Resolve with another connector found the connection")
	}
	list, err := e.m.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != v.ID {
		t.Errorf("List = %v, %v; want the one connection", list, err)
	}

	var actions []string
	for _, ev := range e.audit(t, v.ID) {
		actions = append(actions, ev.Action+"/"+ev.Outcome+"/"+ev.Actor.Login)
		if ev.Action == "connection.authorize" && ev.ActingAs != oktaemu.AdminLogin {
			t.Errorf("authorize audit acting as %q; want %q", ev.ActingAs, oktaemu.AdminLogin)
		}
	}
	slices.Sort(actions)
	if diff := cmp.Diff([]string{"connection.authorize/success/tester", "connection.create/success/tester"}, actions); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

func TestReauthorizePicksUpGrantChanges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	before := e.conn(t, v.ID)
	oldRefresh := e.open(t, before, "refresh_token")

	e.emu.RevokeGrant(t, "okta.devices.manage")
	authURL, err := e.m.Reauthorize(ctx, "prod", nil, tester)
	if err != nil {
		t.Fatalf("Reauthorize: %v", err)
	}
	// The old tokens keep serving until the callback stores new ones.
	if got, err := e.m.Get(ctx, v.ID); err != nil || got.Status != store.StatusActive {
		t.Fatalf("during reauthorization: %+v, %v; want active", got, err)
	}
	if _, err := e.m.Token(ctx, v.ID); err != nil {
		t.Fatalf("Token during reauthorization: %v", err)
	}
	revokesBefore := e.emu.Stats(t)["POST /oauth2/v1/revoke"]
	res := e.signIn(t, authURL, oktaemu.AdminLogin)
	if !res.OK || !res.Reauthorization {
		t.Fatalf("reauthorization result %+v; want OK", res)
	}
	got := res.Connection
	if got.ID != v.ID || got.Nickname != v.Nickname || !got.CreatedAt.Equal(v.CreatedAt) {
		t.Errorf("reauthorized connection %s %q created %v; want the same id, nickname and creation time", got.ID, got.Nickname, got.CreatedAt)
	}
	if diff := cmp.Diff(readOnly, got.GrantedScopes); diff != "" {
		t.Errorf("granted scopes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(allDefault, got.RequestedScopes); diff != "" {
		t.Errorf("requested scopes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"okta.devices.manage"}, got.MissingScopes); diff != "" {
		t.Errorf("missing scopes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(cardsByScope["okta.devices.manage"], got.MissingScopeCards["okta.devices.manage"]); diff != "" {
		t.Errorf("cards missing okta.devices.manage breaks (-want +got):\n%s", diff)
	}
	if len(res.Warnings) != 0 || res.Connection == nil || !slices.Equal(res.Connection.MissingScopes, []string{"okta.devices.manage"}) {
		t.Errorf("warnings %q, connection %+v; want the missing scope in the connection only, not also as a warning", res.Warnings, res.Connection)
	}
	// The old refresh token was revoked after the swap.
	if n := e.emu.Stats(t)["POST /oauth2/v1/revoke"]; n != revokesBefore+1 {
		t.Errorf("revoke calls %d; want %d", n, revokesBefore+1)
	}
	if code, body := e.oauthPost(t, "/oauth2/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {oldRefresh}}); code != http.StatusBadRequest {
		t.Errorf("old refresh token still works: %d %s", code, body)
	}
	tok, err := e.m.Token(ctx, v.ID)
	if err != nil {
		t.Fatalf("Token after reauthorization: %v", err)
	}
	if slices.Contains(tok.Scopes, "okta.devices.manage") {
		t.Errorf("token scopes %v still hold okta.devices.manage", tok.Scopes)
	}

	e.emu.AddGrant(t, "okta.devices.manage")
	authURL, err = e.m.Reauthorize(ctx, v.ID, nil, tester)
	if err != nil {
		t.Fatal(err)
	}
	res = e.signIn(t, authURL, oktaemu.AdminLogin)
	if !res.OK {
		t.Fatalf("second reauthorization: %+v", res)
	}
	if diff := cmp.Diff(allDefault, res.Connection.GrantedScopes); diff != "" {
		t.Errorf("granted scopes after granting back (-want +got):\n%s", diff)
	}
	if len(res.Connection.MissingScopes) != 0 {
		t.Errorf("missing scopes %v; want none", res.Connection.MissingScopes)
	}
	var reauths int
	for _, ev := range e.audit(t, v.ID) {
		if ev.Action == "connection.reauthorize" {
			reauths++
		}
	}
	if reauths != 2 {
		t.Errorf("reauthorize audit events %d; want 2", reauths)
	}
}

func TestCustomScopes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, authURL := e.create(t, "Read only", scopes("okta.devices.read"))
	res := e.signIn(t, authURL, oktaemu.AdminLogin)
	if !res.OK {
		t.Fatalf("authorization: %+v", res)
	}
	v := res.Connection
	if v.ScopeMode != ScopeModeCustom {
		t.Errorf("scope mode %q; want custom", v.ScopeMode)
	}
	if diff := cmp.Diff(readOnly, v.RequestedScopes); diff != "" {
		t.Errorf("requested (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(readOnly, v.GrantedScopes); diff != "" {
		t.Errorf("granted (-want +got):\n%s", diff)
	}
	if len(v.MissingScopes) != 0 {
		t.Errorf("missing %v; want none (manage was not requested)", v.MissingScopes)
	}

	// Reauthorizing without a change inherits the custom selection.
	authURL, err := e.m.Reauthorize(ctx, v.ID, nil, tester)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustQuery(t, authURL).Get("scope"); got != strings.Join(readOnly, " ") {
		t.Errorf("inherited scope %q; want %q", got, strings.Join(readOnly, " "))
	}
	// With a change it uses the new selection.
	authURL, err = e.m.Reauthorize(ctx, v.ID, CustomScopeSelection("okta.devices.manage", "okta.devices.read"), tester)
	if err != nil {
		t.Fatal(err)
	}
	res = e.signIn(t, authURL, oktaemu.AdminLogin)
	if !res.OK || res.Connection.ScopeMode != ScopeModeCustom {
		t.Fatalf("reauthorization with new scopes: %+v", res)
	}
	if diff := cmp.Diff(allDefault, res.Connection.RequestedScopes); diff != "" {
		t.Errorf("requested after change (-want +got):\n%s", diff)
	}

	_, err = e.m.Reauthorize(ctx, v.ID, CustomScopeSelection("okta.users.manage"), tester)
	p := wantProblem(t, err, problem.InvalidInput, "okta.users.manage", "okta.devices.read, okta.devices.manage")
	if d := p.Details["validScopes"]; d == nil {
		t.Error("problem lacks validScopes detail")
	}
}

func TestReauthorizeCustomBackToDefault(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	_, authURL := e.create(t, "Read only", scopes("okta.devices.read"))
	res := e.signIn(t, authURL, oktaemu.AdminLogin)
	if !res.OK || res.Connection.ScopeMode != ScopeModeCustom {
		t.Fatalf("authorization with custom scopes: %+v", res)
	}
	id := res.Connection.ID

	for _, tc := range []struct {
		name string
		sel  *ScopeSelection
		want []string
	}{
		{"default and a list", &ScopeSelection{Mode: ScopeModeDefault, Scopes: []string{"okta.devices.read"}}, []string{"default scopes", "not both"}},
		{"unknown mode", &ScopeSelection{Mode: "all"}, []string{`unknown scope mode "all"`}},
		{"custom without scopes", &ScopeSelection{Mode: ScopeModeCustom}, []string{"at least one Okta API scope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.m.Reauthorize(ctx, id, tc.sel, tester)
			wantProblem(t, err, problem.InvalidInput, tc.want...)
		})
	}

	authURL, err := e.m.Reauthorize(ctx, id, DefaultScopeSelection(), tester)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustQuery(t, authURL).Get("scope"); got != strings.Join(allDefault, " ") {
		t.Errorf("scope %q; want the default scopes %q", got, strings.Join(allDefault, " "))
	}
	res = e.signIn(t, authURL, oktaemu.AdminLogin)
	if !res.OK {
		t.Fatalf("reauthorization with default scopes: %+v", res)
	}
	got := res.Connection
	if got.ID != id || got.ScopeMode != ScopeModeDefault {
		t.Errorf("after reauthorization: id %s mode %s; want id %s mode default", got.ID, got.ScopeMode, id)
	}
	if diff := cmp.Diff(allDefault, got.RequestedScopes); diff != "" {
		t.Errorf("requested (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(allDefault, got.GrantedScopes); diff != "" {
		t.Errorf("granted (-want +got):\n%s", diff)
	}

	// From now on, no selection inherits the default mode.
	authURL, err = e.m.Reauthorize(ctx, id, nil, tester)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustQuery(t, authURL).Get("scope"); got != strings.Join(allDefault, " ") {
		t.Errorf("inherited scope %q; want %q", got, strings.Join(allDefault, " "))
	}
}

func mustQuery(t *testing.T, u string) url.Values {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Query()
}

func TestAuthorizationFailures(t *testing.T) {
	tests := []struct {
		name  string
		login string
		setup func(*env)
		// afterCreate changes the org between the connection's creation
		// and the sign-in.
		afterCreate func(*env)
		code        problem.Code
		reason      string   // the connection's StatusReasonCode
		want        []string // in message + remedy
		tokenReq    int      // token POSTs the attempt may make
	}{
		{name: "unassigned account", login: oktaemu.UnassignedLogin, code: problem.Forbidden, reason: store.ReasonAccountNotAssigned,
			want: []string{"not assigned to the OAuth app", "User is not assigned to the client application", "Assignments", "assigned super admin",
				`then reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Conn")`}},
		{name: "account without admin role", login: oktaemu.UserLogin, code: problem.Forbidden, reason: store.ReasonNoAdminRole, tokenReq: 1,
			want: []string{"account user@example.com is not an administrator with device permissions", "authorize with a super admin (a dedicated service account is recommended)",
				"or, to go on signing in as user@example.com, give it an admin role in Okta Admin Console › Security › Administrators"}},
		{name: "groups no longer granted", login: oktaemu.AdminLogin, code: problem.InsufficientScope, reason: store.ReasonScopeNotGranted,
			setup: func(e *env) { e.emu.RevokeGrant(t, "groups") },
			want:  []string{"the OAuth app no longer grants groups", `grant groups again on the app's Okta API Scopes tab, then reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Conn")`}},
		{name: "offline_access no longer granted", login: oktaemu.AdminLogin, code: problem.InsufficientScope, reason: store.ReasonScopeNotGranted,
			setup: func(e *env) { e.emu.RevokeGrant(t, "offline_access") },
			want:  []string{"the OAuth app no longer grants offline_access", "tick Refresh Token under Grant type on the OAuth app's General tab", "then reauthorize"}},
		{name: "no device scope granted", login: oktaemu.AdminLogin, code: problem.InsufficientScope, reason: store.ReasonScopeNotGranted,
			setup: func(e *env) { e.emu.RevokeGrant(t, "okta.devices.read"); e.emu.RevokeGrant(t, "okta.devices.manage") },
			want:  []string{"none of the requested Okta API scopes", "okta.devices.read, okta.devices.manage", "consent_required", "Okta API Scopes tab"}},
		{name: "client secret rotated before the sign-in", login: oktaemu.AdminLogin, afterCreate: func(e *env) { e.emu.RotateClientSecret(t, oktaemu.DemoAppID) }, code: problem.InvalidInput, reason: store.ReasonClientSecretRefused, tokenReq: 1,
			want: []string{"the client secret was rejected", "invalid_client", "General tab", "Change secret on its console page", "cardflow connections update conn_"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.setup != nil {
				tt.setup(e)
			}
			_, authURL := e.create(t, "Conn", nil)
			if tt.afterCreate != nil {
				tt.afterCreate(e)
			}
			posts := e.tokenPosts(t)
			res := e.signIn(t, authURL, tt.login)
			if res.OK {
				t.Fatalf("authorization succeeded; want a %s failure", tt.code)
			}
			if res.Code != tt.code {
				t.Errorf("code %s; want %s", res.Code, tt.code)
			}
			text := res.Message + "; " + res.Remedy
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("result %q; want it to contain %q", text, w)
				}
			}
			got := res.Connection
			if got == nil || got.Status != store.StatusError || got.StatusReason != res.Message || got.Remedy != res.Remedy || got.StatusReasonCode != tt.reason {
				t.Errorf("connection %+v; want status error with the result's reason and remedy, code %s", got, tt.reason)
			}
			if n := e.tokenPosts(t) - posts; n != tt.tokenReq {
				t.Errorf("token requests %d; want %d", n, tt.tokenReq)
			}
			c := e.conn(t, res.ConnectionID)
			if len(c.SealedRefreshToken) != 0 || len(c.SealedAccessToken) != 0 {
				t.Error("a failed authorization stored tokens")
			}
			// Never authorized, it is refused as a pending one is, not as
			// needing a reauthorization it never had.
			if _, err := e.m.Token(context.Background(), res.ConnectionID); problem.CodeOf(err) != problem.ConnectionPending ||
				!strings.HasPrefix(err.Error(), `connection "Conn" is not authorized yet (its sign-in failed): `+res.Message) {
				t.Errorf("Token of a connection whose first sign-in failed: %v; want connection_pending, saying that its sign-in failed", err)
			}
			// Authorized before, it is in error as a card run and a
			// flow's refusal say it.
			if err := e.store.UpdateConnection(context.Background(), res.ConnectionID, func(c *store.Connection) error {
				c.AuthorizedAt = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.m.Token(context.Background(), res.ConnectionID); problem.CodeOf(err) != problem.NeedsReauthorization ||
				!strings.HasPrefix(err.Error(), `connection "Conn" is in error: `+res.Message) {
				t.Errorf("Token of a connection in error, authorized before: %v; want needs_reauthorization, saying that it is in error", err)
			}
			evs := e.audit(t, res.ConnectionID)
			if len(evs) == 0 || evs[0].Action != "connection.authorize" || evs[0].Outcome != "failure" || evs[0].Error == "" {
				t.Errorf("latest audit event %+v; want a failed connection.authorize with its error", evs[0])
			}
		})
	}
}

func TestFailedReauthorizationKeepsWorkingTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	before := e.conn(t, v.ID)
	authURL, err := e.m.Reauthorize(ctx, v.ID, nil, tester)
	if err != nil {
		t.Fatal(err)
	}
	res := e.signIn(t, authURL, oktaemu.UserLogin) // no admin role: probe fails
	if res.OK || res.Code != problem.Forbidden || !strings.Contains(res.Message, "reauthorization failed") {
		t.Fatalf("result %+v; want a failed reauthorization", res)
	}
	if res.Connection.Status != store.StatusActive || res.Connection.AuthorizedBy.Login != oktaemu.AdminLogin {
		t.Errorf("connection %+v; want still active as %s", res.Connection, oktaemu.AdminLogin)
	}
	after := e.conn(t, v.ID)
	if e.open(t, after, "refresh_token") != e.open(t, before, "refresh_token") {
		t.Error("a failed reauthorization replaced the refresh token")
	}
	// The audit names who signed in, and whom the connection still acts as.
	evs := e.audit(t, v.ID)
	if last := evs[0]; last.Action != store.ActionConnectionAuthorize || last.Outcome != "failure" || last.ActingAs != oktaemu.UserLogin ||
		!strings.Contains(last.InputSummary, "signed in as "+oktaemu.UserLogin+", where the connection acted as "+oktaemu.AdminLogin+", as it still does") {
		t.Errorf("audit %s %s acting as %q, %q; want the failed sign-in as %s, still acting as %s", last.Action, last.Outcome, last.ActingAs, last.InputSummary, oktaemu.UserLogin, oktaemu.AdminLogin)
	}
	resp, err := e.m.HTTPClient(v.ID).Get(e.emu.URL + "/api/v1/devices?limit=1")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET devices after failed reauthorization: %v %v; want 200", resp, err)
	}
	_ = resp.Body.Close()
}

func TestCreateValidation(t *testing.T) {
	e := newEnv(t)
	e.connect(t, "Taken")
	good := CreateInput{Connector: connector, Nickname: "New", Domain: e.emu.URL, ClientID: oktaemu.DemoClientID, ClientSecret: keyring.Secret(e.secret)}
	tests := []struct {
		name   string
		change func(*CreateInput)
		code   problem.Code
		want   string
	}{
		{"empty nickname", func(in *CreateInput) { in.Nickname = "  " }, problem.InvalidInput, "nickname"},
		{"long nickname", func(in *CreateInput) { in.Nickname = strings.Repeat("n", 101) }, problem.InvalidInput, "1 to 100"},
		{"control in nickname", func(in *CreateInput) { in.Nickname = "a\x01b" }, problem.InvalidInput, "printable"},
		{"taken nickname", func(in *CreateInput) { in.Nickname = "tAKEN" }, problem.Conflict, `the Okta Devices connection "Taken" already has that nickname`},
		{"nickname shaped like an id", func(in *CreateInput) { in.Nickname = "conn_ui5zvixzf72awbox5r6arctlsi" }, problem.InvalidInput, "may not start with conn_"},
		{"nickname shaped like an id in capitals", func(in *CreateInput) { in.Nickname = " CONN_prod" }, problem.InvalidInput, "may not start with conn_"},
		{"nickname ..", func(in *CreateInput) { in.Nickname = ".." }, problem.InvalidInput, "looks like a path"},
		{"nickname .", func(in *CreateInput) { in.Nickname = "." }, problem.InvalidInput, "looks like a path"},
		{"nickname with a slash", func(in *CreateInput) { in.Nickname = "../../etc" }, problem.InvalidInput, "looks like a path"},
		{"nickname with a backslash", func(in *CreateInput) { in.Nickname = `a\b` }, problem.InvalidInput, "looks like a path"},
		{"full-width look-alike of a taken nickname", func(in *CreateInput) { in.Nickname = "ｔａｋｅｎ" }, problem.Conflict, `the Okta Devices connection "Taken" already has that nickname`},
		{"bad domain", func(in *CreateInput) { in.Domain = "example-admin.okta.com" }, problem.InvalidInput, "use example.okta.com, not example-admin.okta.com"},
		{"untrusted origin", func(in *CreateInput) { in.Domain = "http://127.0.0.1:1" }, problem.InvalidInput, "http://"},
		{"no client id", func(in *CreateInput) { in.ClientID = "" }, problem.InvalidInput, "client ID is required"},
		{"client id with a space", func(in *CreateInput) { in.ClientID = "0oa1b2c3 d4e5f6g7h8" }, problem.InvalidInput, "client ID contains a space"},
		{"client id and secret pasted together", func(in *CreateInput) { in.ClientID = "0oa1b2c3d4e5f6g7h8\tsecret-value" }, problem.InvalidInput, "client ID contains a space"},
		{"client id with a control character", func(in *CreateInput) { in.ClientID = "0oa1b2c3\x00d4" }, problem.InvalidInput, `client ID contains '\x00'`},
		{"long client id", func(in *CreateInput) { in.ClientID = strings.Repeat("a", 256) }, problem.InvalidInput, "client ID is 256 characters long; at most 255"},
		{"no client secret", func(in *CreateInput) { in.ClientSecret = "" }, problem.InvalidInput, "client secret is required"},
		{"unknown connector", func(in *CreateInput) { in.Connector = "okta-users" }, problem.InvalidInput, "unknown connector"},
		{"unknown scope", func(in *CreateInput) { in.Scopes = scopes("okta.devices.read", "okta.apps.manage") }, problem.InvalidInput, "choose from okta.devices.read, okta.devices.manage"},
		{"no API scope", func(in *CreateInput) { in.Scopes = scopes("openid") }, problem.InvalidInput, "at least one"},
		// A misspelt scope names the one meant.
		{"misspelt scope", func(in *CreateInput) { in.Scopes = scopes("okta.devices.read", "okta.devices.mange") }, problem.InvalidInput, "did you mean okta.devices.manage? The scopes: okta.devices.read, okta.devices.manage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good
			tt.change(&in)
			v, u, err := e.m.Create(context.Background(), in, tester)
			if v != nil || u != "" {
				t.Errorf("Create returned %v, %q; want nothing", v, u)
			}
			wantProblem(t, err, tt.code, tt.want)
		})
	}
	list, _ := e.m.List(context.Background())
	if len(list) != 1 {
		t.Errorf("%d connections after rejected creates; want 1", len(list))
	}
}

func TestCallbackRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	t.Run("missing state", func(t *testing.T) {
		posts := e.tokenPosts(t)
		_, err := e.m.Callback(ctx, url.Values{"code": {"abc"}})
		wantProblem(t, err, problem.InvalidInput, "no state", "start the authorization again")
		if n := e.tokenPosts(t); n != posts {
			t.Errorf("token requests %d; want none", n-posts)
		}
	})
	t.Run("unknown state", func(t *testing.T) {
		posts := e.tokenPosts(t)
		_, err := e.m.Callback(ctx, url.Values{"code": {"abc"}, "state": {"forged"}})
		wantProblem(t, err, problem.InvalidInput, "unknown or was already used")
		if n := e.tokenPosts(t); n != posts {
			t.Errorf("token requests %d; want none", n-posts)
		}
	})
	t.Run("replayed callback", func(t *testing.T) {
		_, authURL := e.create(t, "Replay", nil)
		cb := e.emu.SignIn(t, authURL, oktaemu.AdminLogin, oktaemu.DemoPassword)
		if res, err := e.m.Callback(ctx, cb.Query()); err != nil || !res.OK {
			t.Fatalf("first callback: %+v, %v", res, err)
		}
		posts := e.tokenPosts(t)
		// A reload of the page of an authorization that succeeded says
		// so, and nothing else: whoever holds the URL gets the answer.
		res, err := e.m.Callback(ctx, cb.Query())
		if err != nil {
			t.Fatalf("reloaded callback: %v; want the authorization completed already", err)
		}
		if diff := cmp.Diff(&CallbackResult{AlreadyCompleted: true}, res); diff != "" {
			t.Errorf("reloaded callback (-want +got):\n%s", diff)
		}
		if n := e.tokenPosts(t); n != posts {
			t.Errorf("token requests %d; want none", n-posts)
		}
		// Remembered for a day, then the state is only a used one.
		e.emu.AdvanceClock(t, completionTTL)
		_, err = e.m.Callback(ctx, cb.Query())
		wantProblem(t, err, problem.InvalidInput, "already used")
	})
	t.Run("replayed failed callback", func(t *testing.T) {
		_, authURL := e.create(t, "Replay failed", nil)
		cb := e.emu.SignIn(t, authURL, oktaemu.AdminLogin, oktaemu.DemoPassword)
		q := cb.Query()
		q.Set("code", "not-the-code")
		if res, err := e.m.Callback(ctx, q); err != nil || res.OK {
			t.Fatalf("first callback: %+v, %v; want a failed authorization", res, err)
		}
		_, err := e.m.Callback(ctx, q)
		wantProblem(t, err, problem.InvalidInput, "already used")
	})
	t.Run("replayed code with a new state", func(t *testing.T) {
		_, authURL := e.create(t, "Code replay", nil)
		cb := e.emu.SignIn(t, authURL, oktaemu.AdminLogin, oktaemu.DemoPassword)
		res, err := e.m.Callback(ctx, cb.Query())
		if err != nil || !res.OK {
			t.Fatalf("first callback: %+v, %v", res, err)
		}
		authURL2, err := e.m.Reauthorize(ctx, res.ConnectionID, nil, tester)
		if err != nil {
			t.Fatal(err)
		}
		q := url.Values{"code": {cb.Query().Get("code")}, "state": {mustQuery(t, authURL2).Get("state")}}
		res2, err := e.m.Callback(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if res2.OK || !strings.Contains(res2.Message, "rejected the authorization code") {
			t.Errorf("result %+v; want the code rejected", res2)
		}
		if res2.Connection.Status != store.StatusActive {
			t.Errorf("status %q; want the connection still active", res2.Connection.Status)
		}
	})
	t.Run("expired state", func(t *testing.T) {
		_, authURL := e.create(t, "Slow", nil)
		cb := e.emu.SignIn(t, authURL, oktaemu.AdminLogin, oktaemu.DemoPassword)
		e.emu.AdvanceClock(t, AuthRequestTTL+time.Second)
		posts := e.tokenPosts(t)
		res, err := e.m.Callback(ctx, cb.Query())
		if err != nil {
			t.Fatal(err)
		}
		if res.OK || !strings.Contains(res.Message, "expired") || !strings.Contains(res.Remedy, "reauthorize") {
			t.Errorf("result %+v; want an expiry with a remedy", res)
		}
		if res.Connection.Status != store.StatusError {
			t.Errorf("status %q; want error", res.Connection.Status)
		}
		if n := e.tokenPosts(t); n != posts {
			t.Errorf("token requests %d; want none", n-posts)
		}
	})
	t.Run("error from the org", func(t *testing.T) {
		_, authURL := e.create(t, "Org error", nil)
		posts := e.tokenPosts(t)
		state := mustQuery(t, authURL).Get("state")
		res, err := e.m.Callback(ctx, url.Values{"state": {state}, "error": {"server_error"}, "error_description": {"Something\x00 broke <b>"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.OK || res.Code != problem.UpstreamError || !strings.Contains(res.Message, "server_error: Something broke <b>") {
			t.Errorf("result %+v; want the org's error, cleaned", res)
		}
		if n := e.tokenPosts(t); n != posts {
			t.Errorf("token requests %d; want none", n-posts)
		}
	})
}

// TestResolveClientAfterRevokedGrant: once the access token that still
// carried a revoked grant has expired, ResolveClient refreshes before it
// answers, so a card's preflight sees the scopes its token will carry
// (and fails with Insufficient Scope before calling Okta) rather than
// the ones of the expired token.
func TestResolveClientAfterRevokedGrant(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	e.emu.RevokeGrant(t, "okta.devices.manage")

	// While the access token lasts it keeps the scope, and so does the
	// connection.
	got, _, err := e.m.ResolveClient(ctx, connector, v.ID)
	if err != nil || !slices.Contains(got.GrantedScopes, "okta.devices.manage") {
		t.Fatalf("ResolveClient with a live token: %v, granted %v; want okta.devices.manage still granted", err, got.GrantedScopes)
	}
	e.emu.AdvanceClock(t, time.Hour)
	got, hc, err := e.m.ResolveClient(ctx, connector, v.ID)
	if err != nil {
		t.Fatalf("ResolveClient: %v", err)
	}
	if slices.Contains(got.GrantedScopes, "okta.devices.manage") || !slices.Equal(got.MissingScopes, []string{"okta.devices.manage"}) {
		t.Errorf("after the token expired: granted %v, missing %v; want okta.devices.manage missing", got.GrantedScopes, got.MissingScopes)
	}
	// The client uses the token the refresh stored, without another.
	posts := e.tokenPosts(t)
	resp, err := hc.Get(e.emu.URL + "/api/v1/devices?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || e.tokenPosts(t) != posts {
		t.Errorf("call after ResolveClient: status %d, %d more token requests; want 200 and none", resp.StatusCode, e.tokenPosts(t)-posts)
	}
}

// TestResolveClientAfterRevokedServiceGrant: the same for a service
// connection: once its token has expired, the next one is minted before
// ResolveClient answers, without the scope the API Services app no longer
// grants.
func TestResolveClientAfterRevokedServiceGrant(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v, jwk, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "Robot", Domain: e.emu.URL,
		ClientID: oktaemu.DemoServiceClientID}, tester)
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if _, err := e.m.Token(ctx, v.ID); err != nil {
		t.Fatalf("first token: %v", err)
	}
	e.emu.RevokeAppGrant(t, oktaemu.DemoServiceAppID, "okta.devices.manage")
	e.emu.AdvanceClock(t, time.Hour)
	got, _, err := e.m.ResolveClient(ctx, connector, v.ID)
	if err != nil {
		t.Fatalf("ResolveClient: %v", err)
	}
	if slices.Contains(got.GrantedScopes, "okta.devices.manage") || !slices.Contains(got.GrantedScopes, "okta.devices.read") || got.Status != store.StatusActive {
		t.Errorf("after the token expired: status %s, granted %v; want active without okta.devices.manage", got.Status, got.GrantedScopes)
	}
}

// TestResolveFreshDoesNotWaitForASlowOrg: while the org does not answer
// the refresh ResolveFresh starts, it answers after FreshWait with the
// connection as read (a flow's validation is not held up by an outage);
// the refresh goes on, and the next call uses its token without another.
func TestResolveFreshDoesNotWaitForASlowOrg(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	e.m.FreshWait = time.Millisecond
	e.emu.AdvanceClock(t, time.Hour)
	hold := e.emu.Hold(t, "POST", "/oauth2/v1/token", 0)
	posts := e.tokenPosts(t)
	type result struct {
		v   *View
		err error
	}
	done := make(chan result, 1)
	go func() {
		got, err := e.m.ResolveFresh(ctx, connector, v.ID)
		done <- result{got, err}
	}()
	select {
	case r := <-done:
		if r.err != nil || r.v.Status != store.StatusActive {
			t.Fatalf("ResolveFresh while the org holds the refresh: %+v, %v; want the active connection", r.v, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ResolveFresh still waits for the refresh the org holds")
	}
	hold.Release()
	if _, err := e.m.Token(ctx, v.ID); err != nil {
		t.Fatalf("Token: %v", err)
	}
	if n := e.tokenPosts(t) - posts; n != 1 {
		t.Errorf("%d token requests; want 1 (the refresh ResolveFresh started)", n)
	}
}

// TestReauthorizeAsAnotherAccount: a reauthorization signed in with
// another account than the connection acted as (the browser's session of
// a read-only admin, say) succeeds, and its result warns that the
// connection now acts as that account, naming the previous one, as its
// audit event does; the same account again is no news.
func TestReauthorizeAsAnotherAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	reauthorize := func(login string) *CallbackResult {
		t.Helper()
		u, err := e.m.Reauthorize(ctx, v.ID, nil, tester)
		if err != nil {
			t.Fatal(err)
		}
		res := e.signIn(t, u, login)
		if !res.OK {
			t.Fatalf("reauthorization as %s failed: %s", login, res.Message)
		}
		return res
	}
	res := reauthorize(oktaemu.ReadOnlyLogin)
	if w := strings.Join(res.Warnings, "\n"); !strings.Contains(w, "acted as "+oktaemu.AdminLogin) || !strings.Contains(w, "now act as "+oktaemu.ReadOnlyLogin) {
		t.Errorf("warnings %q; want the change of account named", res.Warnings)
	}
	evs := e.audit(t, v.ID)
	if last := evs[0]; last.Action != store.ActionConnectionAuthorize || !strings.Contains(last.InputSummary, "acted as "+oktaemu.AdminLogin+" before") {
		t.Errorf("audit %s %q; want the previous account named", last.Action, last.InputSummary)
	}
	if res := reauthorize(oktaemu.ReadOnlyLogin); len(res.Warnings) != 0 {
		t.Errorf("the same account again: warnings %q; want none", res.Warnings)
	}
}

// TestFirstSignInStartedByReauthorize: a connection whose first sign-in
// was never finished (created with --no-wait), signed in through
// reauthorize, is told connected and audited as its initial
// authorization, where the page said it was reauthorized; signed in again
// after that, it is reauthorized.
func TestFirstSignInStartedByReauthorize(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v, _ := e.create(t, "Prod", nil)
	// A first sign-in that fails (an account with no admin role) is an
	// initial authorization too.
	authURL, err := e.m.Reauthorize(ctx, v.ID, nil, tester)
	if err != nil {
		t.Fatal(err)
	}
	if res := e.signIn(t, authURL, oktaemu.UserLogin); res.OK {
		t.Fatalf("first sign-in through reauthorize as %s succeeded; want it refused", oktaemu.UserLogin)
	}
	if evs := e.audit(t, v.ID); evs[0].Action != store.ActionConnectionAuthorize || evs[0].Outcome != "failure" || evs[0].InputSummary != "initial authorization" {
		t.Errorf("audit of the failed first sign-in %s %s %q; want a failed initial authorization", evs[0].Action, evs[0].Outcome, evs[0].InputSummary)
	}
	authURL, err = e.m.Reauthorize(ctx, v.ID, nil, tester)
	if err != nil {
		t.Fatal(err)
	}
	res := e.signIn(t, authURL, oktaemu.AdminLogin)
	if !res.OK || res.Reauthorization || !strings.Contains(res.Message, "Prod is connected") {
		t.Fatalf("first sign-in through reauthorize: ok %v, reauthorization %v, %q; want connected", res.OK, res.Reauthorization, res.Message)
	}
	authURL, err = e.m.Reauthorize(ctx, v.ID, nil, tester)
	if err != nil {
		t.Fatal(err)
	}
	if res := e.signIn(t, authURL, oktaemu.AdminLogin); !res.OK || !res.Reauthorization || !strings.Contains(res.Message, "Prod is reauthorized") {
		t.Fatalf("second sign-in: ok %v, reauthorization %v, %q; want reauthorized", res.OK, res.Reauthorization, res.Message)
	}
	var summaries []string
	for _, ev := range e.audit(t, v.ID) {
		if ev.Action == store.ActionConnectionAuthorize && ev.Outcome == "success" {
			summaries = append(summaries, strings.SplitN(ev.InputSummary, ";", 2)[0])
		}
	}
	slices.Sort(summaries)
	if want := []string{"initial authorization", "reauthorization"}; !slices.Equal(summaries, want) {
		t.Errorf("authorization audit summaries %q; want %q", summaries, want)
	}
}
