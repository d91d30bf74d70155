package okta

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

func TestListDevicesWalksEveryPage(t *testing.T) {
	srv, c := startOrg(t, oktaemu.Config{Devices: 450})
	seen := map[string]bool{}
	for d, err := range c.ListDevices(context.Background(), ListOptions{}) {
		if err != nil {
			t.Fatalf("ListDevices: %v", err)
		}
		if seen[d.ID] {
			t.Fatalf("device %s listed twice", d.ID)
		}
		seen[d.ID] = true
		if !strings.HasPrefix(d.ID, "guo") || d.Status == "" || d.Profile.DisplayName == "" || d.Profile.Platform == "" || d.Created.IsZero() {
			t.Fatalf("device decoded incompletely: %+v", d)
		}
	}
	if len(seen) != 450 {
		t.Errorf("listed %d devices; want 450", len(seen))
	}
	if got := srv.Stats(t)["GET /api/v1/devices"]; got != 3 {
		t.Errorf("GET /api/v1/devices made %d times; want 3 (pages of 200)", got)
	}
}

func TestListDevicesSearchAndExpand(t *testing.T) {
	_, c := startOrg(t, oktaemu.Config{Devices: 120})
	n, withUsers := 0, 0
	for d, err := range c.ListDevices(context.Background(), ListOptions{Search: `status eq "ACTIVE" and profile.platform eq "MACOS"`, Expand: "userSummary", Limit: 7}) {
		if err != nil {
			t.Fatalf("ListDevices: %v", err)
		}
		n++
		if d.Status != StatusActive || d.Profile.Platform != "MACOS" {
			t.Errorf("device %s is %s/%s; want ACTIVE/MACOS", d.ID, d.Status, d.Profile.Platform)
		}
		if d.Embedded != nil && len(d.Embedded.Users) > 0 {
			withUsers++
			if u := d.Embedded.Users[0].User; u.ID == "" || u.Profile.Login == "" {
				t.Errorf("embedded user of %s decoded incompletely: %+v", d.ID, u)
			}
		}
	}
	if n == 0 || withUsers == 0 {
		t.Errorf("found %d ACTIVE MACOS devices, %d with users; want some of each", n, withUsers)
	}
}

func TestListDevicesStopsFetchingWhenTheLoopStops(t *testing.T) {
	srv, c := startOrg(t, oktaemu.Config{Devices: 450})
	n := 0
	for _, err := range c.ListDevices(context.Background(), ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 5 {
			break
		}
	}
	if got := srv.Stats(t)["GET /api/v1/devices"]; got != 1 {
		t.Errorf("GET /api/v1/devices made %d times; want 1", got)
	}
}

func TestListDevicesErrors(t *testing.T) {
	_, c := startOrg(t, oktaemu.Config{Devices: 10})
	tests := []struct {
		name  string
		opts  ListOptions
		check func(error) bool
	}{
		{name: "bad filter", opts: ListOptions{Search: `status eq`}, check: func(err error) bool {
			var ae *APIError
			return errors.As(err, &ae) && ae.Code == CodeInvalidSearch && ae.Status == 400 && ae.RequestID != ""
		}},
		{name: "bad expand", opts: ListOptions{Expand: "groups"}, check: func(err error) bool {
			var re *RequestError
			return errors.As(err, &re) && re.Field == "expand"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got error
			for _, err := range c.ListDevices(context.Background(), tt.opts) {
				got = err
			}
			if !tt.check(got) {
				t.Errorf("ListDevices(%+v) error = %v; not the expected one", tt.opts, got)
			}
		})
	}
}

// TestListDevicesRefusesForeignNextLink puts a reverse proxy in front of the
// org that tells the org its own host, so the org's next links name the
// org's origin while the client talks to the proxy's: a next link that
// leaves the client's origin must not be followed.
func TestListDevicesRefusesForeignNextLink(t *testing.T) {
	srv, _ := startOrg(t, oktaemu.Config{Devices: 250})
	target, _ := url.Parse(srv.URL)
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target) // sets the outbound Host to the org's
	}})
	t.Cleanup(proxy.Close)
	c := clientFor(t, srv, "SSWS "+oktaemu.DemoAPIToken)
	c.BaseURL, _ = url.Parse(proxy.URL)

	n := 0
	var got error
	for _, err := range c.ListDevices(context.Background(), ListOptions{}) {
		if err != nil {
			got = err
			break
		}
		n++
	}
	if n != 200 {
		t.Errorf("listed %d devices before stopping; want the first page of 200", n)
	}
	if got == nil || !strings.Contains(got.Error(), "leaves the org") {
		t.Errorf("error = %v; want a refusal to follow the next link", got)
	}
	if c := srv.Stats(t)["GET /api/v1/devices"]; c != 1 {
		t.Errorf("GET /api/v1/devices made %d times; want 1", c)
	}
}

func TestGetDeviceAndNotFound(t *testing.T) {
	_, c := startOrg(t, oktaemu.Config{Devices: 10})
	id := firstDevice(t, c, StatusActive)
	d, err := c.GetDevice(context.Background(), id)
	if err != nil {
		t.Fatalf("GetDevice(%s): %v", id, err)
	}
	if d.ID != id || d.ResourceID != id || d.Status != StatusActive || d.ResourceType != "UDDevice" {
		t.Errorf("GetDevice(%s) = %+v; want the ACTIVE device", id, d)
	}

	_, err = c.GetDevice(context.Background(), "guo0000000000000none")
	var ae *APIError
	if !IsNotFound(err) || !errors.As(err, &ae) || ae.Code != CodeNotFound || ae.RequestID == "" {
		t.Errorf("GetDevice(unknown) error = %v; want E0000007 with a request id", err)
	}

	for _, bad := range []string{"", "..", "guo/../x", "guo?x=1"} {
		var re *RequestError
		if _, err := c.GetDevice(context.Background(), bad); !errors.As(err, &re) {
			t.Errorf("GetDevice(%q) error = %v; want a RequestError", bad, err)
		}
	}
}

func TestLifecycleIsNeverStale(t *testing.T) {
	_, c := startOrg(t, oktaemu.Config{Devices: 10})
	ctx := context.Background()
	id := firstDevice(t, c, StatusActive)
	if _, err := c.GetDevice(ctx, id); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		action string
		want   string
	}{
		{ActionSuspend, StatusSuspended},
		{ActionSuspend, StatusSuspended}, // same state: 204 in Okta
		{ActionUnsuspend, StatusActive},
		{ActionDeactivate, StatusDeactivated},
		{ActionActivate, StatusActive},
	}
	for _, s := range steps {
		if err := c.Lifecycle(ctx, id, s.action); err != nil {
			t.Fatalf("Lifecycle(%s): %v", s.action, err)
		}
		d, err := c.GetDevice(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != s.want {
			t.Errorf("after %s the device reads %s; want %s", s.action, d.Status, s.want)
		}
	}
}

func TestLifecycleAndDeleteErrors(t *testing.T) {
	_, c := startOrg(t, oktaemu.Config{Devices: 10})
	ctx := context.Background()
	id := firstDevice(t, c, StatusActive)

	var ae *APIError
	if err := c.DeleteDevice(ctx, id); !errors.As(err, &ae) || ae.Status != 400 {
		t.Errorf("delete ACTIVE error = %v; want 400", err)
	}
	if err := c.Lifecycle(ctx, id, "explode"); err == nil {
		t.Errorf("Lifecycle(explode) = nil; want a RequestError")
	}
	if err := c.Lifecycle(ctx, id, ActionDeactivate); err != nil {
		t.Fatal(err)
	}
	if err := c.Lifecycle(ctx, id, ActionSuspend); !errors.As(err, &ae) || ae.Status != 400 || ae.Code != CodeValidation || !strings.Contains(ae.Summary, "DEACTIVATED") {
		t.Errorf("suspend DEACTIVATED error = %v; want 400 E0000001 naming DEACTIVATED", err)
	}
	if err := c.DeleteDevice(ctx, id); err != nil {
		t.Fatalf("delete DEACTIVATED: %v", err)
	}
	if _, err := c.GetDevice(ctx, id); !IsNotFound(err) {
		t.Errorf("GetDevice after delete error = %v; want not found", err)
	}
}

func TestListDeviceUsers(t *testing.T) {
	_, c := startOrg(t, oktaemu.Config{Devices: 30})
	ctx := context.Background()
	best, most := "", -1
	for d, err := range c.ListDevices(ctx, ListOptions{Expand: "user"}) {
		if err != nil {
			t.Fatal(err)
		}
		if d.Embedded != nil && len(d.Embedded.Users) > most {
			best, most = d.ID, len(d.Embedded.Users)
		}
	}
	users, err := c.ListDeviceUsers(ctx, best)
	if err != nil {
		t.Fatalf("ListDeviceUsers: %v", err)
	}
	if len(users) != most || most == 0 {
		t.Fatalf("ListDeviceUsers(%s) = %d users; want %d (as expanded), more than 0", best, len(users), most)
	}
	for _, u := range users {
		if u.User.ID == "" || u.User.Profile.Login == "" || u.ManagementStatus == "" {
			t.Errorf("device user decoded incompletely: %+v", u)
		}
	}
	if _, err := c.ListDeviceUsers(ctx, "guo0000000000000none"); !IsNotFound(err) {
		t.Errorf("ListDeviceUsers(unknown) error = %v; want not found", err)
	}
}

func TestAuthErrors(t *testing.T) {
	srv, admin := startOrg(t, oktaemu.Config{Devices: 10})
	ctx := context.Background()
	id := firstDevice(t, admin, StatusActive)

	readOnlyScopes := accessToken(t, srv, "admin@example.com", "openid", "profile", "email", "phone", "address", "groups", "offline_access", "okta.devices.read")
	c := clientFor(t, srv, "Bearer "+readOnlyScopes)
	err := c.Lifecycle(ctx, id, ActionSuspend)
	se, ok := IsInsufficientScope(err)
	if !ok || se.Scope != "okta.devices.manage" || se.RequestID == "" {
		t.Errorf("suspend with a read-only token: error = %v; want a ScopeError for okta.devices.manage", err)
	}
	if _, err := c.GetDevice(ctx, id); err != nil {
		t.Errorf("GetDevice with okta.devices.read: %v", err)
	}

	roAdmin := accessToken(t, srv, "readonly@example.com", "openid", "profile", "email", "phone", "address", "groups", "offline_access", "okta.devices.read", "okta.devices.manage")
	c = clientFor(t, srv, "Bearer "+roAdmin)
	if err := c.Lifecycle(ctx, id, ActionSuspend); !IsForbidden(err) {
		t.Errorf("suspend as a read-only admin: error = %v; want E0000006", err)
	}

	c = clientFor(t, srv, "SSWS not-a-token")
	if _, err := c.GetDevice(ctx, id); !IsInvalidToken(err) {
		t.Errorf("GetDevice with a bad token: error = %v; want invalid token", err)
	}
}

func TestResponseSizeCap(t *testing.T) {
	_, c := startOrg(t, oktaemu.Config{Devices: 50})
	c.MaxResponseBytes = 4096
	var got error
	for _, err := range c.ListDevices(context.Background(), ListOptions{}) {
		got = err
	}
	var tl *ResponseTooLargeError
	if !errors.As(got, &tl) || tl.Limit != 4096 {
		t.Errorf("ListDevices with a 4 KiB cap: error = %v; want ResponseTooLargeError", got)
	}
	if _, err := c.GetDevice(context.Background(), firstDeviceUncapped(t, c)); err != nil {
		t.Errorf("GetDevice under a 4 KiB cap: %v", err)
	}
}

func firstDeviceUncapped(t *testing.T, c *Client) string {
	t.Helper()
	cc := *c
	cc.MaxResponseBytes = 0
	return firstDevice(t, &cc, StatusActive)
}

func TestDo(t *testing.T) {
	srv, c := startOrg(t, oktaemu.Config{Devices: 10})
	ctx := context.Background()
	id := firstDevice(t, c, StatusActive)

	res, err := c.Do(ctx, "get", "/api/v1/devices?limit=2", url.Values{"search": {`status eq "ACTIVE"`}}, http.Header{"x-custom": {"1"}}, nil)
	if err != nil {
		t.Fatalf("Do GET: %v", err)
	}
	if res.Status != 200 || res.RequestID == "" || !strings.HasPrefix(string(res.Body), "[") || len(res.Header.Values("Link")) == 0 {
		t.Errorf("Do GET = %d %q...; want 200 with a JSON array, request id and links", res.Status, res.Body[:min(len(res.Body), 40)])
	}

	res, err = c.Do(ctx, "POST", "/api/v1/devices/"+id+"/lifecycle/suspend", nil, nil, nil)
	if err != nil || res.Status != 204 {
		t.Fatalf("Do POST suspend = %v, %v; want 204", res, err)
	}

	res, err = c.Do(ctx, "GET", "api/v1/devices/nope", nil, nil, nil)
	if !IsNotFound(err) || res == nil || res.Status != 404 || !strings.Contains(string(res.Body), "E0000007") {
		t.Errorf("Do GET unknown = %v, %v; want the 404 response and error", res, err)
	}

	before := srv.Stats(t)
	refused := []struct {
		name, method, path string
		header             http.Header
		field              string
	}{
		{"dot segments out of the API", "GET", "/api/v1/../../oauth2/v1/token", nil, "relativeUrl"},
		{"escaped dot segments", "GET", "/api/v1/%2e%2e/%2e%2e/oauth2/v1/keys", nil, "relativeUrl"},
		{"absolute URL", "GET", "https://evil.example/api/v1/devices", nil, "relativeUrl"},
		{"scheme-relative URL", "GET", "//evil.example/api/v1/devices", nil, "relativeUrl"},
		{"backslash", "GET", `/api/v1/devices\..\..\x`, nil, "relativeUrl"},
		{"api root", "GET", "/api/v1", nil, "relativeUrl"},
		{"other API version", "GET", "/api/v2/devices", nil, "relativeUrl"},
		{"fragment", "GET", "/api/v1/devices#x", nil, "relativeUrl"},
		{"authorization header", "GET", "/api/v1/devices", http.Header{"authorization": {"SSWS x"}}, "headers"},
		{"host header", "GET", "/api/v1/devices", http.Header{"Host": {"evil"}}, "headers"},
		{"header injection", "GET", "/api/v1/devices", http.Header{"X-A": {"a\r\nAuthorization: x"}}, "headers"},
		{"bad method", "TRACE", "/api/v1/devices", nil, "method"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Do(ctx, tt.method, tt.path, nil, tt.header, nil)
			var re *RequestError
			if !errors.As(err, &re) || re.Field != tt.field {
				t.Errorf("Do(%s %s) error = %v; want a RequestError on %s", tt.method, tt.path, err, tt.field)
			}
		})
	}
	if diff := cmp.Diff(before, srv.Stats(t)); diff != "" {
		t.Errorf("refused calls reached the org (-before +after):\n%s", diff)
	}
}
