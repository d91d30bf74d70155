package oktaemu_test

// Okta's official Go SDK (okta-sdk-golang v5, unmodified) against the
// emulator, in its three authorization modes: SSWS, Bearer (an access token
// from the code flow) and PrivateKey (client_credentials with
// private_key_jwt for the service app). Every management response the SDK
// receives is also validated against the OpenAPI document (specTransport).

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
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

// newSDK returns an SDK client for the emulator. The SDK keeps only the
// host name of the org URL, so the port is put back; its GET cache is off
// so that reads after a lifecycle call are fresh.
func newSDK(t *testing.T, srv *emutest.Server, hc *http.Client, opts ...okta.ConfigSetter) *okta.APIClient {
	t.Helper()
	base := []okta.ConfigSetter{
		okta.WithOrgUrl(srv.URL),
		okta.WithTestingDisableHttpsCheck(true),
		okta.WithCache(false),
		okta.WithHttpClientPtr(hc),
		okta.WithRateLimitMaxRetries(0),
	}
	cfg, err := okta.NewConfiguration(append(base, opts...)...)
	if err != nil {
		t.Fatalf("okta.NewConfiguration: %v", err)
	}
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Host = u.Host
	return okta.NewAPIClient(cfg)
}

// serviceKey is the service app's signing key, made once per test binary.
var serviceKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

const serviceKeyID = "cardflow-test-key"

// serviceJWKS returns the private key in PEM and the public JWK Set to
// register with Config.ServiceAppJWKS.
func serviceJWKS(t *testing.T) (pemKey string, jwks []byte) {
	t.Helper()
	key, err := serviceKey()
	if err != nil {
		t.Fatal(err)
	}
	pemKey = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: serviceKeyID, Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return pemKey, jwks
}

// sdkError returns the HTTP status and Okta errorCode of a failed SDK call.
func sdkError(t *testing.T, resp *okta.APIResponse, err error) (int, string) {
	t.Helper()
	if err == nil {
		t.Fatalf("SDK call succeeded; want an error")
	}
	status := 0
	if resp != nil && resp.Response != nil {
		status = resp.StatusCode
	}
	var ge *okta.GenericOpenAPIError
	if !errors.As(err, &ge) {
		t.Fatalf("SDK error %T %v; want *okta.GenericOpenAPIError", err, err)
	}
	return status, oktaErrorCode(ge.Body())
}

// devicesModes starts one org per SDK authorization mode with n devices and
// returns a client for each. Responses do not depend on the mode, so only
// the SSWS client validates them against the OpenAPI document (validating
// is slow under the race detector).
func devicesModes(t *testing.T, n int) map[string]func(t *testing.T) (*emutest.Server, *okta.APIClient) {
	return map[string]func(t *testing.T) (*emutest.Server, *okta.APIClient){
		"SSWS": func(t *testing.T) (*emutest.Server, *okta.APIClient) {
			srv := emutest.Start(t, oktaemu.Config{Devices: n})
			return srv, newSDK(t, srv, newSpecTransport(t).client(), okta.WithToken(oktaemu.DemoAPIToken))
		},
		"Bearer": func(t *testing.T) (*emutest.Server, *okta.APIClient) {
			srv := emutest.Start(t, oktaemu.Config{Devices: n})
			l := newOIDCClient(t, srv).signIn(t, oktaemu.AdminLogin)
			return srv, newSDK(t, srv, http.DefaultClient,
				okta.WithAuthorizationMode("Bearer"), okta.WithToken(l.token.AccessToken))
		},
		"PrivateKey": func(t *testing.T) (*emutest.Server, *okta.APIClient) {
			pemKey, jwks := serviceJWKS(t)
			srv := emutest.Start(t, oktaemu.Config{Devices: n, ServiceAppJWKS: jwks})
			return srv, newSDK(t, srv, http.DefaultClient,
				okta.WithAuthorizationMode("PrivateKey"),
				okta.WithClientId(oktaemu.DemoServiceClientID),
				okta.WithScopes([]string{"okta.devices.read", "okta.devices.manage"}),
				okta.WithPrivateKey(pemKey),
				okta.WithPrivateKeyId(serviceKeyID))
		},
	}
}

// listAll lists devices page by page through the SDK's Link handling.
func listAll(t *testing.T, c *okta.APIClient, req okta.ApiListDevicesRequest) ([]okta.DeviceList, int) {
	t.Helper()
	devs, resp, err := req.Execute()
	if err != nil {
		t.Fatalf("ListDevices: %v", err)
	}
	pages := 1
	for resp.HasNextPage() {
		var page []okta.DeviceList
		resp, err = resp.Next(&page)
		if err != nil {
			t.Fatalf("ListDevices page %d: %v", pages+1, err)
		}
		if len(page) == 0 {
			t.Fatalf("ListDevices page %d is empty but had a next link", pages+1)
		}
		devs = append(devs, page...)
		pages++
		if pages > 100 {
			t.Fatalf("more than 100 pages")
		}
	}
	return devs, pages
}

func TestSDKDevices(t *testing.T) {
	const n = 460
	for name, start := range devicesModes(t, n) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, c := start(t)
			ctx := t.Context()

			// Paging over every device: 200 per page by default.
			all, pages := listAll(t, c, c.DeviceAPI.ListDevices(ctx))
			if len(all) != n || pages != 3 {
				t.Fatalf("listed %d devices in %d pages; want %d in 3", len(all), pages, n)
			}
			byID := map[string]okta.DeviceList{}
			byStatus := map[string][]string{}
			for _, d := range all {
				if _, dup := byID[d.GetId()]; dup {
					t.Fatalf("device %s listed twice", d.GetId())
				}
				byID[d.GetId()] = d
				byStatus[d.GetStatus()] = append(byStatus[d.GetStatus()], d.GetId())
			}
			for _, st := range []string{"CREATED", "ACTIVE", "SUSPENDED", "DEACTIVATED"} {
				if len(byStatus[st]) < 4 {
					t.Fatalf("%d %s devices; the test needs 4", len(byStatus[st]), st)
				}
			}
			small, pages := listAll(t, c, c.DeviceAPI.ListDevices(ctx).Limit(150))
			if len(small) != n || pages != 4 {
				t.Errorf("limit 150: %d devices in %d pages; want %d in 4", len(small), pages, n)
			}

			t.Run("search", func(t *testing.T) { sdkSearch(t, c, all) })
			t.Run("get", func(t *testing.T) { sdkGet(t, c, all) })
			t.Run("users", func(t *testing.T) { sdkDeviceUsers(t, c) })
			t.Run("lifecycle", func(t *testing.T) { sdkLifecycle(t, c, byStatus) })
			stats := srv.Stats(t)
			if stats["GET /api/v1/devices"] < 7 {
				t.Errorf("emulator counted %d device lists; want at least 7 (stats %v)", stats["GET /api/v1/devices"], stats)
			}
			// Bearer: one code exchange; PrivateKey: one client_credentials
			// token, cached by the SDK for every call.
			if got, want := stats["POST /oauth2/v1/token"], map[string]int{"SSWS": 0, "Bearer": 1, "PrivateKey": 1}[name]; got != want {
				t.Errorf("%s mode: %d token requests; want %d", name, got, want)
			}
		})
	}
}

func sdkSearch(t *testing.T, c *okta.APIClient, all []okta.DeviceList) {
	ctx := t.Context()
	first := all[0]
	name := first.Profile.DisplayName
	tests := []struct {
		name   string
		filter string
		match  func(d okta.DeviceList) bool
	}{
		{"status", `status eq "SUSPENDED"`, func(d okta.DeviceList) bool { return d.GetStatus() == "SUSPENDED" }},
		{"and", `profile.platform eq "WINDOWS" and status eq "ACTIVE"`, func(d okta.DeviceList) bool {
			return d.Profile.Platform == "WINDOWS" && d.GetStatus() == "ACTIVE"
		}},
		{"or not", `status eq "CREATED" or not (profile.platform eq "IOS")`, func(d okta.DeviceList) bool {
			return d.GetStatus() == "CREATED" || d.Profile.Platform != "IOS"
		}},
		{"id", `id eq "` + first.GetId() + `"`, func(d okta.DeviceList) bool { return d.GetId() == first.GetId() }},
		{"display name sw", `profile.displayName sw "` + name[:4] + `"`, func(d okta.DeviceList) bool {
			return strings.HasPrefix(strings.ToLower(d.Profile.DisplayName), strings.ToLower(name[:4]))
		}},
		{"display name co", `profile.displayName co "` + name[2:6] + `"`, func(d okta.DeviceList) bool {
			return strings.Contains(strings.ToLower(d.Profile.DisplayName), strings.ToLower(name[2:6]))
		}},
		{"lastUpdated gt", `lastUpdated gt "` + first.GetLastUpdated().UTC().Format("2006-01-02T15:04:05.000Z") + `"`, func(d okta.DeviceList) bool {
			return d.GetLastUpdated().After(first.GetLastUpdated())
		}},
		{"booleans", `profile.registered eq true and profile.secureHardwarePresent eq false`, func(d okta.DeviceList) bool {
			return d.Profile.Registered && d.Profile.SecureHardwarePresent != nil && !*d.Profile.SecureHardwarePresent
		}},
		{"present", `profile.imei pr or profile.udid pr`, func(d okta.DeviceList) bool {
			return d.Profile.GetImei() != "" || d.Profile.GetUdid() != ""
		}},
		{"no match", `status eq "NOPE"`, func(okta.DeviceList) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := listAll(t, c, c.DeviceAPI.ListDevices(ctx).Search(tt.filter).Limit(100))
			var gotIDs, wantIDs []string
			for _, d := range got {
				gotIDs = append(gotIDs, d.GetId())
			}
			for _, d := range all {
				if tt.match(d) {
					wantIDs = append(wantIDs, d.GetId())
				}
			}
			slices.Sort(gotIDs)
			slices.Sort(wantIDs)
			if !slices.Equal(gotIDs, wantIDs) {
				t.Errorf("search %s: %d devices; want %d", tt.filter, len(gotIDs), len(wantIDs))
			}
			if got == nil {
				t.Errorf("search %s: nil slice; want a (possibly empty) JSON array", tt.filter)
			}
		})
	}
	for _, bad := range []string{`status eq`, `status co "ACT"`, `(status eq "ACTIVE"`} {
		_, resp, err := c.DeviceAPI.ListDevices(ctx).Search(bad).Execute()
		if status, code := sdkError(t, resp, err); status != 400 || code != "E0000031" {
			t.Errorf("search %q: %d %s; want 400 E0000031", bad, status, code)
		}
	}
}

// lifecycleLinks are the lifecycle links a device of each status offers.
var lifecycleLinks = map[string][]string{
	"CREATED":     {"activate"},
	"ACTIVE":      {"deactivate", "suspend"},
	"SUSPENDED":   {"deactivate", "unsuspend"},
	"DEACTIVATED": {"activate"},
}

func deviceLinks(l *okta.LinksSelfAndFullUsersLifecycle) []string {
	var out []string
	if l == nil {
		return out
	}
	for name, present := range map[string]bool{"activate": l.Activate != nil, "deactivate": l.Deactivate != nil,
		"suspend": l.Suspend != nil, "unsuspend": l.Unsuspend != nil} {
		if present {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func sdkGet(t *testing.T, c *okta.APIClient, all []okta.DeviceList) {
	ctx := t.Context()
	seen := map[string]bool{}
	var sample []okta.DeviceList
	for _, d := range all {
		if !seen[d.GetStatus()] {
			seen[d.GetStatus()] = true
			sample = append(sample, d)
		}
	}
	for _, want := range sample {
		d, _, err := c.DeviceAPI.GetDevice(ctx, want.GetId()).Execute()
		if err != nil {
			t.Fatalf("GetDevice %s: %v", want.GetId(), err)
		}
		if d.GetId() != want.GetId() || d.GetStatus() != want.GetStatus() || d.Profile.DisplayName != want.Profile.DisplayName ||
			d.GetResourceId() != want.GetId() || d.GetResourceType() != "UDDevice" || !d.GetCreated().Equal(want.GetCreated()) {
			t.Errorf("GetDevice %s = %s %s %q; want the listed device %s %s %q", want.GetId(),
				d.GetId(), d.GetStatus(), d.Profile.DisplayName, want.GetId(), want.GetStatus(), want.Profile.DisplayName)
		}
		if d.Links == nil || d.Links.Self == nil || !strings.HasSuffix(d.Links.Self.Href, "/api/v1/devices/"+want.GetId()) {
			t.Fatalf("GetDevice %s: self link %+v", want.GetId(), d.Links)
		}
		if got, want := deviceLinks(d.Links), lifecycleLinks[d.GetStatus()]; !slices.Equal(got, want) {
			t.Errorf("GetDevice %s (%s): lifecycle links %v; want %v", d.GetId(), d.GetStatus(), got, want)
		}
		if d.Links.Users == nil || !strings.HasSuffix(d.Links.Users.Href, "/api/v1/devices/"+want.GetId()+"/users") {
			t.Errorf("GetDevice %s: users link %+v", want.GetId(), d.Links.Users)
		}
	}
	_, resp, err := c.DeviceAPI.GetDevice(ctx, "guoDOESNOTEXIST").Execute()
	status, code := sdkError(t, resp, err)
	if status != 404 || code != "E0000007" {
		t.Errorf("GetDevice unknown: %d %s; want 404 E0000007", status, code)
	}
	var ge *okta.GenericOpenAPIError
	if errors.As(err, &ge) {
		if m, ok := ge.Model().(okta.Error); !ok || m.GetErrorSummary() != "Not found: Resource not found: guoDOESNOTEXIST (GenericUDObject)" {
			t.Errorf("GetDevice unknown: model %#v; want Okta's not-found summary", ge.Model())
		}
	}
}

func sdkDeviceUsers(t *testing.T, c *okta.APIClient) {
	ctx := t.Context()
	for _, expand := range []string{"user", "userSummary"} {
		devs, _, err := c.DeviceAPI.ListDevices(ctx).Expand(expand).Limit(15).Execute()
		if err != nil {
			t.Fatalf("ListDevices expand=%s: %v", expand, err)
		}
		withUsers := 0
		for _, d := range devs {
			if d.Embedded == nil {
				t.Fatalf("expand=%s: device %s has no _embedded", expand, d.GetId())
			}
			users, _, err := c.DeviceAPI.ListDeviceUsers(ctx, d.GetId()).Execute()
			if err != nil {
				t.Fatalf("ListDeviceUsers %s: %v", d.GetId(), err)
			}
			if len(users) != len(d.Embedded.Users) {
				t.Errorf("device %s: %d users; _embedded has %d", d.GetId(), len(users), len(d.Embedded.Users))
				continue
			}
			for i, u := range users {
				e := d.Embedded.Users[i]
				if u.User == nil || e.User == nil || u.User.GetId() != e.User.GetId() || u.User.Profile == nil || e.User.Profile == nil ||
					u.User.Profile.GetLogin() != e.User.Profile.GetLogin() || u.User.Profile.GetLogin() == "" {
					t.Errorf("device %s user %d: %+v; _embedded %+v", d.GetId(), i, u.User, e.User)
				}
				if !slices.Contains([]string{"MANAGED", "NOT_MANAGED"}, u.GetManagementStatus()) {
					t.Errorf("device %s: managementStatus %q", d.GetId(), u.GetManagementStatus())
				}
			}
			if len(users) > 0 {
				withUsers++
			}
		}
		if withUsers == 0 {
			t.Errorf("expand=%s: no device among %d has users", expand, len(devs))
		}
	}
	_, resp, err := c.DeviceAPI.ListDeviceUsers(ctx, "guoDOESNOTEXIST").Execute()
	if status, code := sdkError(t, resp, err); status != 404 || code != "E0000007" {
		t.Errorf("ListDeviceUsers unknown: %d %s; want 404 E0000007", status, code)
	}
}

// sdkLifecycle runs every lifecycle operation from every status.
func sdkLifecycle(t *testing.T, c *okta.APIClient, byStatus map[string][]string) {
	ctx := t.Context()
	ops := map[string]func(id string) (*okta.APIResponse, error){
		"activate":   func(id string) (*okta.APIResponse, error) { return c.DeviceAPI.ActivateDevice(ctx, id).Execute() },
		"deactivate": func(id string) (*okta.APIResponse, error) { return c.DeviceAPI.DeactivateDevice(ctx, id).Execute() },
		"suspend":    func(id string) (*okta.APIResponse, error) { return c.DeviceAPI.SuspendDevice(ctx, id).Execute() },
		"unsuspend":  func(id string) (*okta.APIResponse, error) { return c.DeviceAPI.UnsuspendDevice(ctx, id).Execute() },
		"delete":     func(id string) (*okta.APIResponse, error) { return c.DeviceAPI.DeleteDevice(ctx, id).Execute() },
	}
	// want: the status after the call ("" = deleted) or an error code.
	tests := []struct {
		op, from, want, wantErr string
	}{
		{"activate", "CREATED", "ACTIVE", ""},
		{"activate", "DEACTIVATED", "ACTIVE", ""},
		{"activate", "ACTIVE", "ACTIVE", ""},
		{"activate", "SUSPENDED", "SUSPENDED", "E0000001"},
		{"deactivate", "ACTIVE", "DEACTIVATED", ""},
		{"deactivate", "SUSPENDED", "DEACTIVATED", ""},
		{"deactivate", "DEACTIVATED", "DEACTIVATED", ""},
		{"deactivate", "CREATED", "CREATED", "E0000001"},
		{"suspend", "ACTIVE", "SUSPENDED", ""},
		{"suspend", "SUSPENDED", "SUSPENDED", ""},
		{"suspend", "CREATED", "CREATED", "E0000001"},
		{"suspend", "DEACTIVATED", "DEACTIVATED", "E0000001"},
		{"unsuspend", "SUSPENDED", "ACTIVE", ""},
		{"unsuspend", "ACTIVE", "ACTIVE", ""},
		{"unsuspend", "CREATED", "CREATED", "E0000001"},
		{"unsuspend", "DEACTIVATED", "DEACTIVATED", "E0000001"},
		{"delete", "DEACTIVATED", "", ""},
		{"delete", "ACTIVE", "ACTIVE", "E0000001"},
		{"delete", "SUSPENDED", "SUSPENDED", "E0000001"},
		{"delete", "CREATED", "CREATED", "E0000001"},
	}
	next := map[string]int{}
	for _, tt := range tests {
		t.Run(tt.op+" from "+tt.from, func(t *testing.T) {
			id := byStatus[tt.from][next[tt.from]]
			next[tt.from]++
			before, _, err := c.DeviceAPI.GetDevice(ctx, id).Execute()
			if err != nil || before.GetStatus() != tt.from {
				t.Fatalf("device %s: %v, status %s; want %s", id, err, before.GetStatus(), tt.from)
			}
			resp, err := ops[tt.op](id)
			if tt.wantErr != "" {
				status, code := sdkError(t, resp, err)
				if status != 400 || code != tt.wantErr {
					t.Errorf("%s %s device: %d %s; want 400 %s", tt.op, tt.from, status, code, tt.wantErr)
				}
				var ge *okta.GenericOpenAPIError
				if errors.As(err, &ge) && !strings.Contains(string(ge.Body()), tt.from) {
					t.Errorf("%s %s device: error %s does not name the status", tt.op, tt.from, ge.Body())
				}
			} else if err != nil || resp.StatusCode != http.StatusNoContent {
				t.Fatalf("%s %s device: %v; want 204", tt.op, tt.from, err)
			}
			d, resp, err := c.DeviceAPI.GetDevice(ctx, id).Execute()
			switch {
			case tt.want == "":
				if status, code := sdkError(t, resp, err); status != 404 || code != "E0000007" {
					t.Errorf("get after delete: %d %s; want 404 E0000007", status, code)
				}
			case err != nil:
				t.Fatalf("get after %s: %v", tt.op, err)
			case d.GetStatus() != tt.want:
				t.Errorf("status after %s from %s: %s; want %s", tt.op, tt.from, d.GetStatus(), tt.want)
			case tt.want != tt.from && !d.GetLastUpdated().After(before.GetLastUpdated()):
				t.Errorf("lastUpdated after %s: %v; want later than %v", tt.op, d.GetLastUpdated(), before.GetLastUpdated())
			case tt.want == tt.from && !d.GetLastUpdated().Equal(before.GetLastUpdated()):
				t.Errorf("lastUpdated after a %s that changed nothing: %v; want %v", tt.op, d.GetLastUpdated(), before.GetLastUpdated())
			}
			if tt.want == "DEACTIVATED" {
				if users, _, err := c.DeviceAPI.ListDeviceUsers(ctx, id).Execute(); err != nil || len(users) != 0 {
					t.Errorf("users of a deactivated device: %d, %v; want none", len(users), err)
				}
			}
		})
	}
	for op, call := range ops {
		resp, err := call("guoDOESNOTEXIST")
		if status, code := sdkError(t, resp, err); status != 404 || code != "E0000007" {
			t.Errorf("%s unknown device: %d %s; want 404 E0000007", op, status, code)
		}
	}
}

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
		want := append(slices.Clone(oktaemu.AutoGrantedScopes), "okta.devices.read", "okta.devices.manage")
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
// is simulated: when a 429 passes, the transport moves the emulator clock
// to the reset time the SDK is waiting for.
func TestSDKRateLimitRetry(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 5, RateLimitPerMinute: 3})
	rt := &clockOnRetry{srv: srv, t: t, base: newSpecTransport(t)}
	c := newSDK(t, srv, &http.Client{Transport: rt}, okta.WithToken(oktaemu.DemoAPIToken),
		okta.WithRateLimitMaxRetries(2), okta.WithRateLimitMaxBackOff(1))
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
