package oktaemu_test

// Response validation against Okta's management OpenAPI document
// (testdata/openapi/management.yaml, Apache-2.0, see its README).
//
// specTransport validates every JSON response of the management API that
// passes through it, so the SDK tests are validated too; TestOpenAPIResponses
// drives every Devices, grants and roles operation, their errors included,
// over plain HTTP.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// specRelPath is where the document lives relative to the module root.
var specRelPath = filepath.Join("internal", "oktaemu", "testdata", "openapi", "management.yaml")

var (
	specOnce sync.Once
	spec     *openapi3.T
	specErr  error
)

// The document is large (3.5 MB of YAML): loading it takes half a second,
// several under the race detector. It is loaded once per test binary, and
// that starts as the binary starts, beside the tests that do not need it.
func init() { go loadSpecOnce() }

func loadSpecOnce() {
	specOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			specErr = err
			return
		}
		path := filepath.Join(root, specRelPath)
		doc, err := openapi3.NewLoader().LoadFromFile(path)
		if err != nil {
			specErr = fmt.Errorf("loading %s: %w", path, err)
			return
		}
		specErr = adjustSpec(doc)
		spec = doc
	})
}

// loadSpec returns the adjusted management document.
func loadSpec(t testing.TB) *openapi3.T {
	t.Helper()
	loadSpecOnce()
	if specErr != nil {
		t.Fatalf("OpenAPI document: %v", specErr)
	}
	return spec
}

// moduleRoot finds the directory holding go.mod, from the package directory
// up, so the path does not depend on which package runs the tests.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// adjustSpec corrects the places where the document disagrees with what
// Okta serves and what Okta's own examples, docs, SDKs and Terraform
// provider rely on (OKTA.md §1). Everything else is validated as written.
//
//   - DeviceStatus: the enum lists ACTIVE, DEACTIVATED, SUSPENDED and
//     UNSUSPENDED. UNSUSPENDED is an action, not a state, and the newly
//     registered state CREATED (from which "activate" starts) is missing.
//     CREATED is added; UNSUSPENDED is left in (the emulator never sends it).
//   - Device.resourceAlternateId is declared as a non-nullable string, but
//     Okta sends null for devices (as in the document's own examples).
//     It is made nullable.
//   - ApplicationAccessibility.errorRedirectUrl and loginRedirectUrl: the
//     same; the document's own app examples show both as null.
//   - Role assignments: the RoleType enum and the discriminators of a
//     client app's roles and of a user's new role leave out MOBILE_ADMIN,
//     a standard role (Mobile Administrator) that the list of a user's
//     roles maps to StandardRole. It is added to the enum and mapped to
//     StandardRole there too.
func adjustSpec(doc *openapi3.T) error {
	status := doc.Components.Schemas["DeviceStatus"]
	if status == nil || status.Value == nil {
		return errors.New("schema DeviceStatus not found")
	}
	if !slices.Contains(status.Value.Enum, any("CREATED")) {
		status.Value.Enum = append(status.Value.Enum, "CREATED")
	}
	device := doc.Components.Schemas["Device"]
	if device == nil || device.Value == nil {
		return errors.New("schema Device not found")
	}
	alt := device.Value.Properties["resourceAlternateId"]
	if alt == nil || alt.Value == nil {
		return errors.New("property Device.resourceAlternateId not found")
	}
	alt.Value.Nullable = true
	acc := doc.Components.Schemas["ApplicationAccessibility"]
	if acc == nil || acc.Value == nil {
		return errors.New("schema ApplicationAccessibility not found")
	}
	for _, name := range []string{"errorRedirectUrl", "loginRedirectUrl"} {
		p := acc.Value.Properties[name]
		if p == nil || p.Value == nil {
			return fmt.Errorf("property ApplicationAccessibility.%s not found", name)
		}
		p.Value.Nullable = true
	}
	return addMobileAdmin(doc)
}

// addMobileAdmin adds the role type MOBILE_ADMIN to RoleType and maps it
// to StandardRole in the role assignment answers whose discriminator
// leaves it out (the assignments of a client app, a user's new
// assignment), as the list of a user's roles has it.
func addMobileAdmin(doc *openapi3.T) error {
	rt := doc.Components.Schemas["RoleType"]
	if rt == nil || rt.Value == nil {
		return errors.New("schema RoleType not found")
	}
	if !slices.Contains(rt.Value.Enum, any("MOBILE_ADMIN")) {
		rt.Value.Enum = append(rt.Value.Enum, "MOBILE_ADMIN")
	}
	n := 0
	for path, item := range doc.Paths.Map() {
		if !strings.Contains(path, "/roles") {
			continue
		}
		for _, op := range item.Operations() {
			for _, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				for _, mt := range resp.Value.Content {
					sc := mt.Schema
					if sc != nil && sc.Value != nil && sc.Value.Items != nil {
						sc = sc.Value.Items
					}
					if sc == nil || sc.Value == nil || sc.Value.Discriminator == nil {
						continue
					}
					m := sc.Value.Discriminator.Mapping
					if std, ok := m["SUPER_ADMIN"]; ok {
						if _, ok := m["MOBILE_ADMIN"]; !ok {
							m["MOBILE_ADMIN"] = std
							n++
						}
					}
				}
			}
		}
	}
	if n == 0 {
		return errors.New("no role assignment answer without MOBILE_ADMIN found")
	}
	return nil
}

// findRoute matches a request path against the document's path templates,
// preferring the template with the most literal segments
// ("/api/v1/devices/{deviceId}/lifecycle/activate" over ".../{x}/{y}").
func findRoute(doc *openapi3.T, method, path string) (*routers.Route, map[string]string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var (
		best       *routers.Route
		bestParams map[string]string
		bestScore  = -1
	)
	for tmpl, item := range doc.Paths.Map() {
		op := item.GetOperation(method)
		if op == nil {
			continue
		}
		tsegs := strings.Split(strings.Trim(tmpl, "/"), "/")
		if len(tsegs) != len(segs) {
			continue
		}
		params := map[string]string{}
		score := 0
		for i, ts := range tsegs {
			if strings.HasPrefix(ts, "{") && strings.HasSuffix(ts, "}") {
				if segs[i] == "" {
					score = -1
					break
				}
				params[ts[1:len(ts)-1]] = segs[i]
				continue
			}
			if ts != segs[i] {
				score = -1
				break
			}
			score++
		}
		if score > bestScore {
			best = &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: method, Operation: op}
			bestParams, bestScore = params, score
		}
	}
	return best, bestParams
}

// validateResponse checks one response of the management API against the
// document. body is the complete response body.
func validateResponse(ctx context.Context, doc *openapi3.T, req *http.Request, status int, header http.Header, body []byte) (operation string, err error) {
	route, params := findRoute(doc, req.Method, req.URL.Path)
	if route == nil {
		return "", fmt.Errorf("%s %s: no operation in the document", req.Method, req.URL.Path)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
		},
		Status: status,
		Header: header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			MultiError:         true,
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	}
	return route.Operation.OperationID, openapi3filter.ValidateResponse(ctx, in)
}

// specTransport validates the management API's JSON responses that pass
// through it and counts them per operation and status. Responses without a
// body (204, and Okta's empty 403 for a missing scope) have nothing to
// validate.
type specTransport struct {
	t    testing.TB
	doc  *openapi3.T
	base http.RoundTripper

	mu        sync.Mutex
	validated map[string]int // "operationId status" -> count
}

func newSpecTransport(t testing.TB) *specTransport {
	t.Helper()
	return &specTransport{t: t, doc: loadSpec(t), base: http.DefaultTransport, validated: map[string]int{}}
}

// client returns an HTTP client whose responses are validated.
func (st *specTransport) client() *http.Client { return &http.Client{Transport: st} }

func (st *specTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := st.base.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/api/v1/") && !strings.HasPrefix(req.URL.Path, "/oauth2/v1/clients/") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if resp.Header.Get("X-Okta-Request-Id") == "" {
		st.t.Errorf("%s %s: %d response without X-Okta-Request-Id", req.Method, req.URL, resp.StatusCode)
	}
	if len(body) == 0 {
		// Only a 204 and Okta's missing-scope 403 (its challenge is in
		// WWW-Authenticate) have no body.
		scope403 := resp.StatusCode == http.StatusForbidden && resp.Header.Get("WWW-Authenticate") != ""
		if resp.StatusCode != http.StatusNoContent && !scope403 {
			st.t.Errorf("%s %s: %d response without a body", req.Method, req.URL, resp.StatusCode)
		}
		return resp, nil
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		st.t.Errorf("%s %s: %d response with Content-Type %q; want application/json", req.Method, req.URL, resp.StatusCode, resp.Header.Get("Content-Type"))
		return resp, nil
	}
	op, verr := validateResponse(req.Context(), st.doc, req, resp.StatusCode, resp.Header, body)
	if verr != nil {
		st.t.Errorf("%s %s: %d response does not validate against the OpenAPI document: %v\nbody: %.2000s", req.Method, req.URL, resp.StatusCode, verr, body)
		return resp, nil
	}
	st.mu.Lock()
	st.validated[fmt.Sprintf("%s %d", op, resp.StatusCode)]++
	st.mu.Unlock()
	return resp, nil
}

// seen returns the "operationId status" pairs validated so far.
func (st *specTransport) seen() map[string]int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return maps.Clone(st.validated)
}

// apiCall is a raw management API call.
type apiCall struct {
	method, path, auth string
	body               any
}

// do performs c against base and returns the status, headers and body.
func (c apiCall) do(t *testing.T, hc *http.Client, base string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if c.body != nil {
		b, err := json.Marshal(c.body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(c.method, base+c.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.method == http.MethodPost && c.body == nil {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	req.Header.Set("Accept", "application/json")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// oktaErrorCode returns the errorCode of an Okta error body.
func oktaErrorCode(body []byte) string {
	var e struct {
		ErrorCode string `json:"errorCode"`
	}
	_ = json.Unmarshal(body, &e)
	return e.ErrorCode
}

// deviceIDsByStatus lists the devices of each status with SSWS.
func deviceIDsByStatus(t *testing.T, hc *http.Client, base string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, st := range []string{"CREATED", "ACTIVE", "SUSPENDED", "DEACTIVATED"} {
		q := url.Values{"search": {`status eq "` + st + `"`}}
		code, _, body := apiCall{method: "GET", path: "/api/v1/devices?" + q.Encode(), auth: sswsAdmin}.do(t, hc, base)
		if code != http.StatusOK {
			t.Fatalf("search %s: status %d; want 200: %s", st, code, body)
		}
		var devs []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &devs); err != nil {
			t.Fatal(err)
		}
		for _, d := range devs {
			out[st] = append(out[st], d.ID)
		}
		if len(out[st]) < 3 {
			t.Fatalf("demo org has %d %s devices; the test needs 3", len(out[st]), st)
		}
	}
	return out
}

const (
	readOnlyAPIToken = "read-only-api-token"
	noRoleAPIToken   = "no-role-api-token"
)

// stoppedClock is a base clock for tests whose timing must not depend on
// the wall clock (rate-limit windows); AdvanceClock still moves the org.
func stoppedClock() time.Time { return time.Date(2026, 3, 2, 10, 0, 30, 0, time.UTC) }

// fixtureWithTokens is the demo org with n devices and SSWS tokens for the
// read-only admin and the user without an admin role.
func fixtureWithTokens(n int) *oktaemu.Fixture {
	fx := oktaemu.DemoFixture(n)
	fx.APITokens = append(fx.APITokens,
		oktaemu.FixtureAPIToken{Token: readOnlyAPIToken, User: oktaemu.ReadOnlyLogin},
		oktaemu.FixtureAPIToken{Token: noRoleAPIToken, User: oktaemu.UserLogin})
	return fx
}

func TestOpenAPIResponses(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Fixture: fixtureWithTokens(60)})
	st := newSpecTransport(t)
	hc := st.client()
	ids := deviceIDsByStatus(t, hc, srv.URL)
	created, active, suspended, deactivated := ids["CREATED"], ids["ACTIVE"], ids["SUSPENDED"], ids["DEACTIVATED"]

	tests := []struct {
		name     string
		call     apiCall
		want     int
		wantCode string // errorCode of an error body
	}{
		{"list", apiCall{method: "GET", path: "/api/v1/devices"}, 200, ""},
		{"list page", apiCall{method: "GET", path: "/api/v1/devices?limit=7"}, 200, ""},
		{"list after", apiCall{method: "GET", path: "/api/v1/devices?limit=5&after=" + active[0]}, 200, ""},
		{"list expand user", apiCall{method: "GET", path: "/api/v1/devices?expand=user&limit=20"}, 200, ""},
		{"list expand userSummary", apiCall{method: "GET", path: "/api/v1/devices?expand=userSummary&limit=20"}, 200, ""},
		{"search", apiCall{method: "GET", path: "/api/v1/devices?search=" + url.QueryEscape(`profile.platform eq "WINDOWS" or status eq "SUSPENDED"`)}, 200, ""},
		{"search none", apiCall{method: "GET", path: "/api/v1/devices?search=" + url.QueryEscape(`id eq "guoNOPE"`)}, 200, ""},
		{"search malformed", apiCall{method: "GET", path: "/api/v1/devices?search=" + url.QueryEscape(`status eq`)}, 400, "E0000031"},
		{"search co not allowed", apiCall{method: "GET", path: "/api/v1/devices?search=" + url.QueryEscape(`status co "ACT"`)}, 400, "E0000031"},
		{"get created", apiCall{method: "GET", path: "/api/v1/devices/" + created[0]}, 200, ""},
		{"get active", apiCall{method: "GET", path: "/api/v1/devices/" + active[0]}, 200, ""},
		{"get suspended", apiCall{method: "GET", path: "/api/v1/devices/" + suspended[0]}, 200, ""},
		{"get deactivated", apiCall{method: "GET", path: "/api/v1/devices/" + deactivated[0]}, 200, ""},
		{"get unknown", apiCall{method: "GET", path: "/api/v1/devices/guoUNKNOWN"}, 404, "E0000007"},
		{"device users", apiCall{method: "GET", path: "/api/v1/devices/" + active[0] + "/users"}, 200, ""},
		{"device users unknown", apiCall{method: "GET", path: "/api/v1/devices/guoUNKNOWN/users"}, 404, "E0000007"},
		{"suspend", apiCall{method: "POST", path: "/api/v1/devices/" + active[1] + "/lifecycle/suspend"}, 204, ""},
		{"unsuspend", apiCall{method: "POST", path: "/api/v1/devices/" + active[1] + "/lifecycle/unsuspend"}, 204, ""},
		{"deactivate", apiCall{method: "POST", path: "/api/v1/devices/" + active[2] + "/lifecycle/deactivate"}, 204, ""},
		{"activate", apiCall{method: "POST", path: "/api/v1/devices/" + created[1] + "/lifecycle/activate"}, 204, ""},
		{"suspend wrong state", apiCall{method: "POST", path: "/api/v1/devices/" + created[2] + "/lifecycle/suspend"}, 400, "E0000001"},
		{"activate unknown", apiCall{method: "POST", path: "/api/v1/devices/guoUNKNOWN/lifecycle/activate"}, 404, "E0000007"},
		{"delete active", apiCall{method: "DELETE", path: "/api/v1/devices/" + active[0]}, 400, "E0000001"},
		{"delete deactivated", apiCall{method: "DELETE", path: "/api/v1/devices/" + deactivated[1]}, 204, ""},
		{"delete unknown", apiCall{method: "DELETE", path: "/api/v1/devices/guoUNKNOWN"}, 404, "E0000007"},
		{"user devices", apiCall{method: "GET", path: "/api/v1/users/" + oktaemu.AdminUserID + "/devices"}, 200, ""},
		{"grants", apiCall{method: "GET", path: "/api/v1/apps/" + oktaemu.DemoAppID + "/grants"}, 200, ""},
		{"grants unknown app", apiCall{method: "GET", path: "/api/v1/apps/0oaUNKNOWN/grants"}, 404, "E0000007"},
		{"grant", apiCall{method: "POST", path: "/api/v1/apps/" + oktaemu.DemoAppID + "/grants", body: map[string]string{"issuer": "ISSUER", "scopeId": "okta.users.read"}}, 201, ""},
		{"grant unknown scope", apiCall{method: "POST", path: "/api/v1/apps/" + oktaemu.DemoAppID + "/grants", body: map[string]string{"issuer": "ISSUER", "scopeId": "okta.nothing.read"}}, 400, "E0000001"},
		{"grant without scope", apiCall{method: "POST", path: "/api/v1/apps/" + oktaemu.DemoAppID + "/grants", body: map[string]string{"issuer": "ISSUER"}}, 400, "E0000001"},
		{"get grant unknown", apiCall{method: "GET", path: "/api/v1/apps/" + oktaemu.DemoAppID + "/grants/oagUNKNOWN"}, 404, "E0000007"},
		{"roles admin", apiCall{method: "GET", path: "/api/v1/users/" + oktaemu.AdminUserID + "/roles"}, 200, ""},
		{"roles read-only", apiCall{method: "GET", path: "/api/v1/users/" + oktaemu.ReadOnlyUserID + "/roles"}, 200, ""},
		{"roles none", apiCall{method: "GET", path: "/api/v1/users/" + oktaemu.UserUserID + "/roles"}, 200, ""},
		{"roles unknown user", apiCall{method: "GET", path: "/api/v1/users/00uUNKNOWN/roles"}, 404, "E0000007"},
		{"user", apiCall{method: "GET", path: "/api/v1/users/" + oktaemu.AdminUserID}, 200, ""},
		{"user by login", apiCall{method: "GET", path: "/api/v1/users/" + oktaemu.ReadOnlyLogin}, 200, ""},
		{"user me", apiCall{method: "GET", path: "/api/v1/users/me"}, 200, ""},
		{"user unknown", apiCall{method: "GET", path: "/api/v1/users/00uUNKNOWN"}, 404, "E0000007"},
		{"app", apiCall{method: "GET", path: "/api/v1/apps/" + oktaemu.DemoAppID}, 200, ""},
		{"app users", apiCall{method: "GET", path: "/api/v1/apps/" + oktaemu.DemoAppID + "/users"}, 200, ""},
		{"no credentials", apiCall{method: "GET", path: "/api/v1/devices", auth: "-"}, 403, "E0000005"},
		{"bad token", apiCall{method: "GET", path: "/api/v1/devices", auth: "SSWS wrong"}, 401, "E0000011"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.call
			switch c.auth {
			case "":
				c.auth = sswsAdmin
			case "-":
				c.auth = ""
			}
			c.path = strings.ReplaceAll(c.path, "ISSUER", srv.URL)
			if b, ok := c.body.(map[string]string); ok && b["issuer"] == "ISSUER" {
				b["issuer"] = srv.URL
			}
			code, _, body := c.do(t, hc, srv.URL)
			if code != tt.want {
				t.Fatalf("%s %s: status %d; want %d: %s", c.method, c.path, code, tt.want, body)
			}
			if tt.wantCode != "" {
				if got := oktaErrorCode(body); got != tt.wantCode {
					t.Errorf("%s %s: errorCode %q; want %q: %s", c.method, c.path, got, tt.wantCode, body)
				}
			}
		})
	}

	// A grant's own URL, then its revocation.
	code, _, body := apiCall{method: "GET", path: "/api/v1/apps/" + oktaemu.DemoAppID + "/grants", auth: sswsAdmin}.do(t, hc, srv.URL)
	var grants []struct {
		ID      string `json:"id"`
		ScopeID string `json:"scopeId"`
	}
	if err := json.Unmarshal(body, &grants); code != 200 || err != nil || len(grants) == 0 {
		t.Fatalf("list grants: status %d, %v: %s", code, err, body)
	}
	gid := grants[0].ID
	for _, c := range []struct {
		call apiCall
		want int
	}{
		{apiCall{method: "GET", path: "/api/v1/apps/" + oktaemu.DemoAppID + "/grants/" + gid, auth: sswsAdmin}, 200},
		{apiCall{method: "DELETE", path: "/api/v1/apps/" + oktaemu.DemoAppID + "/grants/" + gid, auth: sswsAdmin}, 204},
		{apiCall{method: "GET", path: "/api/v1/apps/" + oktaemu.DemoAppID + "/grants/" + gid, auth: sswsAdmin}, 404},
	} {
		if code, _, body := c.call.do(t, hc, srv.URL); code != c.want {
			t.Errorf("%s %s: status %d; want %d: %s", c.call.method, c.call.path, code, c.want, body)
		}
	}

	// The read-only admin may read but not change (E0000006); a user
	// without an admin role may do neither.
	readOnly := "SSWS " + readOnlyAPIToken
	noRole := "SSWS " + noRoleAPIToken
	for _, c := range []struct {
		call     apiCall
		want     int
		wantCode string
	}{
		{apiCall{method: "GET", path: "/api/v1/devices/" + active[0], auth: readOnly}, 200, ""},
		{apiCall{method: "POST", path: "/api/v1/devices/" + active[0] + "/lifecycle/suspend", auth: readOnly}, 403, "E0000006"},
		{apiCall{method: "GET", path: "/api/v1/devices", auth: noRole}, 403, "E0000006"},
		{apiCall{method: "POST", path: "/api/v1/apps/" + oktaemu.DemoAppID + "/grants", auth: readOnly, body: map[string]string{"issuer": srv.URL, "scopeId": "okta.users.read"}}, 403, "E0000006"},
	} {
		code, _, body := c.call.do(t, hc, srv.URL)
		if code != c.want || oktaErrorCode(body) != c.wantCode {
			t.Errorf("%s %s as %s: status %d %q; want %d %q: %s", c.call.method, c.call.path, c.call.auth[:12], code, oktaErrorCode(body), c.want, c.wantCode, body)
		}
	}

	// Every operation the issue names was validated with its success status
	// and at least one error.
	seen := st.seen()
	for _, want := range []string{
		"listDevices 200", "listDevices 400", "getDevice 200", "getDevice 404",
		"listDeviceUsers 200", "listDeviceUsers 404", "activateDevice 404",
		"suspendDevice 400", "deleteDevice 400", "deleteDevice 404", "suspendDevice 403",
		"listScopeConsentGrants 200", "listScopeConsentGrants 404", "grantConsentToScope 201",
		"grantConsentToScope 400", "grantConsentToScope 403", "getScopeConsentGrant 200",
		"getScopeConsentGrant 404", "listAssignedRolesForUser 200", "listAssignedRolesForUser 404",
		"listApplicationUsers 200", "listUserDevices 200",
	} {
		if seen[want] == 0 {
			t.Errorf("no validated response for %q; validated: %v", want, seen)
		}
	}
}

// TestOpenAPIRateLimited validates the 429 body and headers.
func TestOpenAPIRateLimited(t *testing.T) {
	// A clock that moves only when told, so no window ends by itself.
	srv := emutest.Start(t, oktaemu.Config{Devices: 5, RateLimitPerMinute: 2, Now: stoppedClock})
	st := newSpecTransport(t)
	hc := st.client()
	for i, want := range []struct {
		status    int
		remaining string
	}{{200, "1"}, {200, "0"}, {429, "0"}} {
		code, hdr, body := apiCall{method: "GET", path: "/api/v1/devices", auth: sswsAdmin}.do(t, hc, srv.URL)
		if code != want.status {
			t.Fatalf("call %d in a window of 2: status %d; want %d: %s", i+1, code, want.status, body)
		}
		if code == http.StatusTooManyRequests && oktaErrorCode(body) != "E0000047" {
			t.Errorf("429 errorCode %q; want E0000047", oktaErrorCode(body))
		}
		if hdr.Get("X-Rate-Limit-Limit") != "2" || hdr.Get("X-Rate-Limit-Remaining") != want.remaining {
			t.Errorf("call %d: X-Rate-Limit-Limit %q, Remaining %q; want 2, %s", i+1, hdr.Get("X-Rate-Limit-Limit"), hdr.Get("X-Rate-Limit-Remaining"), want.remaining)
		}
		date, derr := http.ParseTime(hdr.Get("Date"))
		reset, rerr := strconv.ParseInt(hdr.Get("X-Rate-Limit-Reset"), 10, 64)
		if derr != nil || rerr != nil || reset <= date.Unix() || reset > date.Unix()+60 {
			t.Errorf("call %d: Date %q, X-Rate-Limit-Reset %q; want a reset within the next minute", i+1, hdr.Get("Date"), hdr.Get("X-Rate-Limit-Reset"))
		}
	}
	if st.seen()["listDevices 429"] != 1 {
		t.Errorf("429 not validated; validated: %v", st.seen())
	}
	// Discovery and keys are not rate limited.
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/oauth2/v1/keys"} {
		for range 3 {
			if code, _, body := (apiCall{method: "GET", path: path}).do(t, hc, srv.URL); code != 200 {
				t.Errorf("GET %s with the API limit spent: %d; want 200: %s", path, code, body)
			}
		}
	}
	// The window ends on the emulator clock.
	srv.AdvanceClock(t, time.Minute)
	if code, _, body := (apiCall{method: "GET", path: "/api/v1/devices", auth: sswsAdmin}).do(t, hc, srv.URL); code != 200 {
		t.Errorf("after the window: %d; want 200: %s", code, body)
	}
}

// TestOpenAPIValidatorCatchesErrors proves the validation is live: a device
// that breaks the document is rejected.
func TestOpenAPIValidatorCatchesErrors(t *testing.T) {
	doc := loadSpec(t)
	req := httptestRequest(t, "GET", "http://org.example/api/v1/devices/guo1")
	h := http.Header{"Content-Type": {"application/json"}}
	good := `{"id":"guo1","status":"CREATED","created":"2024-01-02T03:04:05.000Z","lastUpdated":"2024-01-02T03:04:05.000Z","resourceAlternateId":null,"profile":{"displayName":"d","platform":"MACOS","registered":true}}`
	tests := []struct {
		name, body string
		ok         bool
	}{
		{"good", good, true},
		{"unknown platform", strings.Replace(good, "MACOS", "BEOS", 1), false},
		{"unknown status", strings.Replace(good, "CREATED", "LOST", 1), false},
		{"bad date", strings.Replace(good, `"created":"2024-01-02T03:04:05.000Z"`, `"created":"yesterday"`, 1), false},
		{"missing required", strings.Replace(good, `"registered":true`, `"managed":true`, 1), false},
		{"wrong type", strings.Replace(good, `"registered":true`, `"registered":"yes"`, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := validateResponse(context.Background(), doc, req, 200, h, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Errorf("validate %s: error %v; want ok=%v", tt.body, err, tt.ok)
			}
		})
	}
}

func httptestRequest(t *testing.T, method, target string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
