package oktaemu_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

func TestRateLimitBuckets(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC)
	s := emutest.Start(t, oktaemu.Config{Devices: 2, RateLimitPerMinute: 3, Now: func() time.Time { return start }})
	wantReset := strconv.FormatInt(time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC).Unix(), 10)
	for i := range 3 {
		r := emuCall(t, s, "GET", "/api/v1/devices", sswsAdmin, "")
		h := r.header
		if r.status != 200 || h.Get("X-Rate-Limit-Limit") != "3" || h.Get("X-Rate-Limit-Remaining") != strconv.Itoa(2-i) ||
			h.Get("X-Rate-Limit-Reset") != wantReset || h.Get("Date") != "Sun, 01 Mar 2026 12:00:10 GMT" {
			t.Fatalf("call %d: %d limit %s remaining %s reset %s date %s", i, r.status, h.Get("X-Rate-Limit-Limit"),
				h.Get("X-Rate-Limit-Remaining"), h.Get("X-Rate-Limit-Reset"), h.Get("Date"))
		}
	}
	r := emuCall(t, s, "GET", "/api/v1/devices", sswsAdmin, "")
	if r.status != 429 || r.errorCode() != "E0000047" || r.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("fourth call: %d %s remaining %s; want 429 E0000047", r.status, r.body, r.header.Get("X-Rate-Limit-Remaining"))
	}
	if r := emuCall(t, s, "GET", "/api/v1/users/me", sswsAdmin, ""); r.status != 200 {
		t.Errorf("users bucket while devices is exhausted: %d", r.status)
	}
	if r := emuCall(t, s, "GET", "/oauth2/v1/keys", "", ""); r.status != 200 || r.header.Get("X-Rate-Limit-Limit") != "" {
		t.Errorf("keys: %d with limit header %q; want 200 and no rate limit", r.status, r.header.Get("X-Rate-Limit-Limit"))
	}
	s.AdvanceClock(t, 50*time.Second)
	if r := emuCall(t, s, "GET", "/api/v1/devices", sswsAdmin, ""); r.status != 200 {
		t.Errorf("after the reset: %d; want 200", r.status)
	}
}

func TestControlEndpoints(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 20})
	active := emuDevicesByStatus(t, s)["ACTIVE"]
	suspend := "/api/v1/devices/" + active[0] + "/lifecycle/suspend"

	s.Fault(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 503, 2)
	s.Fault(t, "", "/api/v1/devices/"+active[1], 500, 1)
	s.Fault(t, "POST", "/oauth2/v1/token", 503, 1)
	for i := range 2 {
		if r := emuCall(t, s, "POST", suspend, sswsAdmin, ""); r.status != 503 || r.errorCode() != "E0000009" {
			t.Errorf("faulted suspend %d: %d %s", i, r.status, r.body)
		}
	}
	if r := emuCall(t, s, "POST", suspend, sswsAdmin, ""); r.status != 204 {
		t.Errorf("suspend after the faults: %d", r.status)
	}
	if r := emuCall(t, s, "GET", "/api/v1/devices/"+active[1], sswsAdmin, ""); r.status != 500 {
		t.Errorf("literal path fault: %d", r.status)
	}
	if r := emuForm(t, s, "/oauth2/v1/token", nil); r.status != 503 || !strings.Contains(r.body, `"error":"temporarily_unavailable"`) {
		t.Errorf("token fault: %d %s", r.status, r.body)
	}
	want := map[string]int{
		"GET /api/v1/devices":                               1,
		"POST /api/v1/devices/{deviceId}/lifecycle/suspend": 3,
		"GET /api/v1/devices/{deviceId}":                    1,
		"POST /oauth2/v1/token":                             1,
	}
	if diff := cmp.Diff(want, s.Stats(t)); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	s.AdvanceClock(t, time.Hour)
	s.Reset(t)
	if got := emuDevicesByStatus(t, s)["ACTIVE"]; !cmp.Equal(got, active) {
		t.Errorf("after reset, active devices %v; want %v", got, active)
	}
	if d := time.Until(s.Now()); d > time.Minute {
		t.Errorf("clock still %v ahead after reset", d)
	}
	bad := emuCall(t, s, "POST", "/_emulator/clock", "", `{"advance":"soon"}`)
	if bad.status != 400 {
		t.Errorf("bad clock body: %d", bad.status)
	}
}

func TestLoadFixture(t *testing.T) {
	fx, err := oktaemu.LoadFixtureFile("testdata/fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	s := emutest.Start(t, oktaemu.Config{Fixture: fx})
	r := emuCall(t, s, "GET", "/api/v1/devices?search="+`profile.batteryCycles%20gt%20300`, "SSWS fixture-token", "")
	var devs []struct {
		ID, Status string
	}
	if err := json.Unmarshal([]byte(r.body), &devs); err != nil || r.status != 200 {
		t.Fatalf("search: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff([]struct{ ID, Status string }{{"guoFixtureDevice0001", "SUSPENDED"}}, devs); diff != "" {
		t.Errorf("numeric search (-want +got):\n%s", diff)
	}
	all := emuCall(t, s, "GET", "/api/v1/devices", "SSWS fixture-token", "")
	if n := strings.Count(all.body, `"resourceType":"UDDevice"`); n != 5 {
		t.Errorf("%d devices; want 2 listed + 3 generated", n)
	}
	if r := emuCall(t, s, "GET", "/api/v1/devices", sswsAdmin, ""); r.status != 401 {
		t.Errorf("demo token against a fixture org: %d; want 401", r.status)
	}

	bad := []struct{ name, doc, want string }{
		{"unknown field", `{"users":[],"colour":1}`, "unknown field"},
		{"bad status", `{"users":[],"devices":[{"status":"LOST","profile":{"displayName":"x","platform":"IOS","registered":true}}]}`, "LOST"},
		{"bad platform", `{"users":[],"devices":[{"profile":{"displayName":"x","platform":"PALM","registered":true}}]}`, "platform"},
		{"unknown user", `{"users":[],"apiTokens":[{"token":"t","user":"ghost"}]}`, "apiTokens[0]"},
		{"unknown scope", `{"users":[],"apps":[{"id":"a","clientId":"c","type":"web","clientSecret":"s","grants":["okta.nope.read"]}]}`, "okta.nope.read"},
		{"service app JWKS", `{"users":[],"apps":[{"id":"a","clientId":"c","type":"service","jwks":{"keys":"no"}}]}`, "jwks"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oktaemu.LoadFixture(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadFixture: %v; want an error mentioning %q", err, tc.want)
			}
		})
	}
}
