package oktaemu_test

// Okta's official Go SDK (okta-sdk-golang v5, unmodified) against the
// emulator, in its three authorization modes: SSWS, Bearer (an access token
// from the code flow) and PrivateKey (client_credentials with
// private_key_jwt for the service app). Every management response the SDK
// receives is also validated against the OpenAPI document (specTransport).

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

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

// oktaemuServiceOpts are the SDK options of the demo service app signing
// with pemKey.
func oktaemuServiceOpts(pemKey string) []okta.ConfigSetter {
	return []okta.ConfigSetter{
		okta.WithAuthorizationMode("PrivateKey"),
		okta.WithClientId(oktaemu.DemoServiceClientID),
		okta.WithScopes([]string{"okta.devices.read", "okta.devices.manage"}),
		okta.WithPrivateKey(pemKey),
		okta.WithPrivateKeyId(serviceKeyID),
	}
}
