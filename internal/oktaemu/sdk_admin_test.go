package oktaemu_test

// Okta's Go SDK against the emulator, beyond the Devices API: grants, roles,
// apps and users, role and scope enforcement for Bearer tokens, 429 retries,
// private_key_jwt variants and concurrent clients.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestSDKAdmin covers grants, roles and app users with the super admin's
// SSWS token.
func TestSDKAdmin(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 3})
	c := newSDK(t, srv, newSpecTransport(t).client(), okta.WithToken(oktaemu.DemoAPIToken))
	ctx := t.Context()

	t.Run("grants", func(t *testing.T) {
		grants, _, err := c.ApplicationGrantsAPI.ListScopeConsentGrants(ctx, oktaemu.DemoAppID).Execute()
		if err != nil {
			t.Fatalf("ListScopeConsentGrants: %v", err)
		}
		var scopes []string
		for _, g := range grants {
			scopes = append(scopes, g.ScopeId)
			if g.Issuer != srv.URL || g.GetClientId() != oktaemu.DemoClientID || g.GetStatus() != "ACTIVE" || g.GetSource() != "ADMIN" {
				t.Errorf("grant %s: issuer %q client %q status %q source %q", g.GetId(), g.Issuer, g.GetClientId(), g.GetStatus(), g.GetSource())
			}
		}
		want := append(slices.Clone(oktaemu.AutoGrantedScopes()), "okta.devices.read", "okta.devices.manage", "okta.eventHooks.manage", "okta.logs.read")
		if !sameStrings(scopes, want) {
			t.Errorf("granted scopes %v; want %v", scopes, want)
		}

		g, resp, err := c.ApplicationGrantsAPI.GrantConsentToScope(ctx, oktaemu.DemoAppID).
			OAuth2ScopeConsentGrant(*okta.NewOAuth2ScopeConsentGrant(srv.URL, "okta.users.read")).Execute()
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("GrantConsentToScope: %v", err)
		}
		if g.ScopeId != "okta.users.read" || !strings.HasPrefix(g.GetId(), "oag") {
			t.Errorf("new grant %s for %s; want an oag id for okta.users.read", g.GetId(), g.ScopeId)
		}
		got, _, err := c.ApplicationGrantsAPI.GetScopeConsentGrant(ctx, oktaemu.DemoAppID, g.GetId()).Execute()
		if err != nil || got.ScopeId != "okta.users.read" {
			t.Fatalf("GetScopeConsentGrant: %+v, %v", got, err)
		}
		resp, err = c.ApplicationGrantsAPI.RevokeScopeConsentGrant(ctx, oktaemu.DemoAppID, g.GetId()).Execute()
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("RevokeScopeConsentGrant: %v", err)
		}
		_, resp, err = c.ApplicationGrantsAPI.GetScopeConsentGrant(ctx, oktaemu.DemoAppID, g.GetId()).Execute()
		if status, code := sdkError(t, resp, err); status != 404 || code != "E0000007" {
			t.Errorf("GetScopeConsentGrant after revoke: %d %s; want 404 E0000007", status, code)
		}
		_, resp, err = c.ApplicationGrantsAPI.ListScopeConsentGrants(ctx, "0oaDOESNOTEXIST").Execute()
		if status, code := sdkError(t, resp, err); status != 404 || code != "E0000007" {
			t.Errorf("ListScopeConsentGrants unknown app: %d %s; want 404 E0000007", status, code)
		}
	})

	t.Run("roles", func(t *testing.T) {
		for _, tt := range []struct {
			user string
			want []string
		}{
			{oktaemu.AdminUserID, []string{"SUPER_ADMIN"}},
			{oktaemu.ReadOnlyUserID, []string{"READ_ONLY_ADMIN"}},
			{oktaemu.UserUserID, nil},
		} {
			roles, _, err := c.RoleAssignmentAPI.ListAssignedRolesForUser(ctx, tt.user).Execute()
			if err != nil {
				t.Fatalf("ListAssignedRolesForUser %s: %v", tt.user, err)
			}
			var types []string
			for _, r := range roles {
				types = append(types, r.GetType())
				if r.GetStatus() != "ACTIVE" || r.GetAssignmentType() != "USER" || r.GetId() == "" || r.GetLabel() == "" {
					t.Errorf("role of %s: %+v", tt.user, r)
				}
			}
			if !slices.Equal(types, tt.want) {
				t.Errorf("roles of %s: %v; want %v", tt.user, types, tt.want)
			}
		}
	})

	t.Run("app and user", func(t *testing.T) {
		app, _, err := c.ApplicationAPI.GetApplication(ctx, oktaemu.DemoAppID).Execute()
		if err != nil || app.OpenIdConnectApplication == nil || app.OpenIdConnectApplication.Label != oktaemu.DemoAppLabel {
			t.Errorf("GetApplication: %+v, %v; want the OIDC app %q", app, err, oktaemu.DemoAppLabel)
		}
		for _, id := range []string{oktaemu.AdminUserID, oktaemu.AdminLogin} {
			u, _, err := c.UserAPI.GetUser(ctx, id).Execute()
			if err != nil || u.GetId() != oktaemu.AdminUserID || u.Profile.GetLogin() != oktaemu.AdminLogin {
				t.Errorf("GetUser %s: %+v, %v", id, u, err)
			}
		}
	})

	t.Run("app users", func(t *testing.T) {
		users, _, err := c.ApplicationUsersAPI.ListApplicationUsers(ctx, oktaemu.DemoAppID).Execute()
		if err != nil {
			t.Fatalf("ListApplicationUsers: %v", err)
		}
		ids := func(us []okta.AppUser) []string {
			var out []string
			for _, u := range us {
				out = append(out, u.GetId())
			}
			return out
		}
		if want := []string{oktaemu.AdminUserID, oktaemu.ReadOnlyUserID, oktaemu.UserUserID}; !sameStrings(ids(users), want) {
			t.Errorf("app users %v; want %v", ids(users), want)
		}
		au, _, err := c.ApplicationUsersAPI.AssignUserToApplication(ctx, oktaemu.DemoAppID).
			AppUser(okta.AppUserAssignRequest{Id: oktaemu.UnassignedUserID}).Execute()
		if err != nil || au.GetId() != oktaemu.UnassignedUserID {
			t.Fatalf("AssignUserToApplication: %+v, %v", au, err)
		}
		users, _, err = c.ApplicationUsersAPI.ListApplicationUsers(ctx, oktaemu.DemoAppID).Execute()
		if err != nil || !slices.Contains(ids(users), oktaemu.UnassignedUserID) {
			t.Errorf("app users after assigning: %v, %v", ids(users), err)
		}
		// The newly assigned user can now sign in to the app.
		newOIDCClient(t, srv).signIn(t, oktaemu.UnassignedLogin)
	})
}

// TestSDKBearerScopesAndRoles checks what a Bearer token may do: the token
// carries the app's granted scopes whatever the user's role ("silent
// downscoping"), the role decides (E0000006), and an API without its scope
// answers 403 with a WWW-Authenticate challenge.
func TestSDKBearerScopesAndRoles(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 20})
	bearer := func(user string) *okta.APIClient {
		l := newOIDCClient(t, srv).signIn(t, user)
		return newSDK(t, srv, newSpecTransport(t).client(), okta.WithAuthorizationMode("Bearer"), okta.WithToken(l.token.AccessToken))
	}
	ctx := t.Context()
	admin, readOnly, noRole := bearer(oktaemu.AdminLogin), bearer(oktaemu.ReadOnlyLogin), bearer(oktaemu.UserLogin)

	devs, _, err := readOnly.DeviceAPI.ListDevices(ctx).Search(`status eq "ACTIVE"`).Execute()
	if err != nil || len(devs) == 0 {
		t.Fatalf("read-only admin lists active devices: %d, %v", len(devs), err)
	}
	id := devs[0].GetId()
	resp, err := readOnly.DeviceAPI.SuspendDevice(ctx, id).Execute()
	if status, code := sdkError(t, resp, err); status != 403 || code != "E0000006" {
		t.Errorf("read-only admin suspends: %d %s; want 403 E0000006", status, code)
	}
	_, resp, err = noRole.DeviceAPI.GetDevice(ctx, id).Execute()
	if status, code := sdkError(t, resp, err); status != 403 || code != "E0000006" {
		t.Errorf("user without admin role reads a device: %d %s; want 403 E0000006", status, code)
	}
	if resp, err := admin.DeviceAPI.SuspendDevice(ctx, id).Execute(); err != nil || resp.StatusCode != 204 {
		t.Errorf("super admin suspends: %v; want 204", err)
	}

	// okta.roles.read was not granted to the app.
	_, resp, err = admin.RoleAssignmentAPI.ListAssignedRolesForUser(ctx, oktaemu.AdminUserID).Execute()
	if status, _ := sdkError(t, resp, err); status != 403 {
		t.Fatalf("roles without okta.roles.read: status %d; want 403", status)
	}
	wa := resp.Header.Get("WWW-Authenticate")
	for _, want := range []string{`Bearer authorization_uri="` + srv.URL + `/oauth2/v1/authorize"`, `realm="` + srv.URL + `"`,
		`scope="okta.roles.read"`, `error="insufficient_scope"`,
		`error_description="The access token provided does not contain the required scopes."`,
		`resource="/api/v1/users/` + oktaemu.AdminUserID + `/roles"`} {
		if !strings.Contains(wa, want) {
			t.Errorf("WWW-Authenticate %q lacks %s", wa, want)
		}
	}
}

// TestSDKRateLimitRetry: with a small per-minute limit the SDK gets 429s,
// computes its wait from X-Rate-Limit-Reset and Date, and retries. Waiting
// is simulated: when a 429 passes, the transport checks the wait the
// headers ask for and moves the emulator clock to the reset time, and a
// maximum backoff of 0 lets the SDK retry at once rather than sleep.
func TestSDKRateLimitRetry(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 5, RateLimitPerMinute: 3, Now: stoppedClock})
	rt := &clockOnRetry{srv: srv, t: t, base: newSpecTransport(t)}
	c := newSDK(t, srv, &http.Client{Transport: rt}, okta.WithToken(oktaemu.DemoAPIToken),
		okta.WithRateLimitMaxRetries(2), okta.WithRateLimitMaxBackOff(0))
	ctx := t.Context()
	devs, _, err := c.DeviceAPI.ListDevices(ctx).Execute()
	if err != nil || len(devs) != 5 {
		t.Fatalf("ListDevices: %d, %v", len(devs), err)
	}
	for i := range 7 {
		d, _, err := c.DeviceAPI.GetDevice(ctx, devs[i%5].GetId()).Execute()
		if err != nil || d.GetId() != devs[i%5].GetId() {
			t.Fatalf("GetDevice #%d: %v", i, err)
		}
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.throttled < 2 || rt.retries < rt.throttled {
		t.Errorf("%d 429 responses, %d retried requests; want at least 2 of each", rt.throttled, rt.retries)
	}
	// Without retries the SDK gives up at once.
	c0 := newSDK(t, srv, http.DefaultClient, okta.WithToken(oktaemu.DemoAPIToken))
	for range 4 {
		_, _, err = c0.DeviceAPI.GetDevice(ctx, devs[0].GetId()).Execute()
	}
	if err == nil || !strings.Contains(err.Error(), "too many requests") {
		t.Errorf("fourth call in a window of 3 without retries: %v; want the SDK's too many requests error", err)
	}
}

type clockOnRetry struct {
	srv  *emutest.Server
	t    *testing.T
	base http.RoundTripper

	mu                 sync.Mutex
	throttled, retries int
}

func (c *clockOnRetry) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("X-Okta-Retry-Count") != "" {
		c.mu.Lock()
		c.retries++
		c.mu.Unlock()
	}
	resp, err := c.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	date, derr := http.ParseTime(resp.Header.Get("Date"))
	reset, rerr := strconv.ParseInt(resp.Header.Get("X-Rate-Limit-Reset"), 10, 64)
	if derr != nil || rerr != nil {
		c.t.Errorf("429 with Date %q and X-Rate-Limit-Reset %q", resp.Header.Get("Date"), resp.Header.Get("X-Rate-Limit-Reset"))
		return resp, nil
	}
	wait := time.Duration(reset-date.Unix()+1) * time.Second
	if wait <= 0 || wait > 61*time.Second {
		c.t.Errorf("429 asks to wait %v; want (0, 61s]", wait)
	}
	c.mu.Lock()
	c.throttled++
	c.mu.Unlock()
	c.srv.AdvanceClock(c.t, wait)
	return resp, nil
}

// TestSDKPrivateKey: client_credentials with an ES256 key works like RS256
// (covered by TestSDKDevices); failures reach the SDK as errors rather than
// unauthenticated calls.
func TestSDKPrivateKey(t *testing.T) {
	rsaPEM, rsaJWKS := serviceJWKS(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(rsaJWKS, &set); err != nil {
		t.Fatal(err)
	}
	set.Keys = append(set.Keys, jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "ec-key", Algorithm: "ES256", Use: "sig"})
	jwks, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	srv := emutest.Start(t, oktaemu.Config{Devices: 2, ServiceAppJWKS: jwks})
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)}))
	tests := []struct {
		name, key, kid string
		scopes         []string
		ok             bool
	}{
		{"ES256", ecPEM, "ec-key", []string{"okta.devices.read"}, true},
		{"unregistered key", otherPEM, serviceKeyID, []string{"okta.devices.read"}, false},
		{"wrong key id", rsaPEM, "ec-key", []string{"okta.devices.read"}, false},
		{"ungranted scope", rsaPEM, serviceKeyID, []string{"okta.users.read"}, false},
	}
	lists := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newSDK(t, srv, http.DefaultClient, okta.WithAuthorizationMode("PrivateKey"),
				okta.WithClientId(oktaemu.DemoServiceClientID), okta.WithScopes(tt.scopes),
				okta.WithPrivateKey(tt.key), okta.WithPrivateKeyId(tt.kid))
			devs, _, err := c.DeviceAPI.ListDevices(t.Context()).Execute()
			if tt.ok {
				lists++
				if err != nil || len(devs) != 2 {
					t.Errorf("ListDevices: %d devices, %v; want 2", len(devs), err)
				}
			} else if err == nil {
				t.Errorf("ListDevices succeeded; want a token error")
			}
		})
	}
	if n := srv.Stats(t)["GET /api/v1/devices"]; n != lists {
		t.Errorf("%d device lists reached the API; want %d (only with a token)", n, lists)
	}
}

// TestSDKConcurrent drives one org from several SDK clients at once (run
// with -race): lifecycle changes on distinct devices, lists and searches
// that page across them.
func TestSDKConcurrent(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 120})
	ctx := t.Context()
	c := newSDK(t, srv, http.DefaultClient, okta.WithToken(oktaemu.DemoAPIToken))
	active, _ := listAll(t, c, c.DeviceAPI.ListDevices(ctx).Search(`status eq "ACTIVE"`))
	if len(active) < 8 {
		t.Fatalf("%d active devices; want 8", len(active))
	}
	var wg sync.WaitGroup
	for i := range 8 {
		id := active[i].GetId()
		// Clients are made here: newSDK may call t.Fatal.
		c1 := newSDK(t, srv, http.DefaultClient, okta.WithToken(oktaemu.DemoAPIToken))
		c2 := newSDK(t, srv, http.DefaultClient, okta.WithToken(oktaemu.DemoAPIToken))
		wg.Go(func() {
			c := c1
			for range 5 {
				if _, err := c.DeviceAPI.SuspendDevice(ctx, id).Execute(); err != nil {
					t.Errorf("suspend %s: %v", id, err)
					return
				}
				if _, err := c.DeviceAPI.UnsuspendDevice(ctx, id).Execute(); err != nil {
					t.Errorf("unsuspend %s: %v", id, err)
					return
				}
			}
		})
		wg.Go(func() {
			c := c2
			for range 3 {
				devs, _, err := c.DeviceAPI.ListDevices(ctx).Limit(25).Expand("user").Execute()
				if err != nil || len(devs) != 25 {
					t.Errorf("list: %d devices, %v", len(devs), err)
					return
				}
				if _, _, err := c.DeviceAPI.ListDevices(ctx).Search(`status eq "SUSPENDED" or status eq "ACTIVE"`).Execute(); err != nil {
					t.Errorf("search: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, d := range active[:8] {
		got, _, err := c.DeviceAPI.GetDevice(ctx, d.GetId()).Execute()
		if err != nil || got.GetStatus() != "ACTIVE" {
			t.Errorf("device %s after suspend/unsuspend rounds: %s, %v; want ACTIVE", d.GetId(), got.GetStatus(), err)
		}
	}
}
