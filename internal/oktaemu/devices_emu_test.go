package oktaemu_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

func TestLifecycleStateMachine(t *testing.T) {
	tests := []struct {
		from, op string
		want     int
		to       string
	}{
		{"CREATED", "activate", 204, "ACTIVE"},
		{"CREATED", "suspend", 400, "CREATED"},
		{"CREATED", "deactivate", 400, "CREATED"},
		{"ACTIVE", "activate", 204, "ACTIVE"},
		{"ACTIVE", "suspend", 204, "SUSPENDED"},
		{"ACTIVE", "unsuspend", 204, "ACTIVE"},
		{"ACTIVE", "deactivate", 204, "DEACTIVATED"},
		{"SUSPENDED", "suspend", 204, "SUSPENDED"},
		{"SUSPENDED", "unsuspend", 204, "ACTIVE"},
		{"SUSPENDED", "activate", 400, "SUSPENDED"},
		{"SUSPENDED", "deactivate", 204, "DEACTIVATED"},
		{"DEACTIVATED", "activate", 204, "ACTIVE"},
		{"DEACTIVATED", "deactivate", 204, "DEACTIVATED"},
		{"DEACTIVATED", "suspend", 400, "DEACTIVATED"},
		{"DEACTIVATED", "unsuspend", 400, "DEACTIVATED"},
	}
	s := emutest.Start(t, oktaemu.Config{Devices: 60})
	for _, tc := range tests {
		t.Run(tc.from+"/"+tc.op, func(t *testing.T) {
			s.Reset(t)
			id := emuDevicesByStatus(t, s)[tc.from][0]
			r := emuCall(t, s, "POST", "/api/v1/devices/"+id+"/lifecycle/"+tc.op, sswsAdmin, "")
			if r.status != tc.want {
				t.Fatalf("POST %s from %s: status %d; want %d: %s", tc.op, tc.from, r.status, tc.want, r.body)
			}
			if tc.want == 400 {
				if r.errorCode() != "E0000001" || !strings.Contains(r.body, "The device is "+tc.from) {
					t.Errorf("error body %s; want E0000001 naming %s", r.body, tc.from)
				}
			}
			g := emuCall(t, s, "GET", "/api/v1/devices/"+id, sswsAdmin, "")
			var d struct {
				Status string
				Links  map[string]json.RawMessage `json:"_links"`
			}
			if err := json.Unmarshal([]byte(g.body), &d); err != nil {
				t.Fatal(err)
			}
			if d.Status != tc.to {
				t.Errorf("status after %s: %s; want %s", tc.op, d.Status, tc.to)
			}
			var rels []string
			for k := range d.Links {
				rels = append(rels, k)
			}
			slices.Sort(rels)
			want := map[string][]string{
				"CREATED": {"activate", "self", "users"}, "DEACTIVATED": {"activate", "self", "users"},
				"ACTIVE": {"deactivate", "self", "suspend", "users"}, "SUSPENDED": {"deactivate", "self", "unsuspend", "users"},
			}[tc.to]
			if diff := cmp.Diff(want, rels); diff != "" {
				t.Errorf("_links relations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLifecycleEdgeCases(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 60})
	byStatus := emuDevicesByStatus(t, s)

	t.Run("no content length", func(t *testing.T) {
		req, _ := http.NewRequest("POST", s.URL+"/api/v1/devices/"+byStatus["ACTIVE"][0]+"/lifecycle/suspend", strings.NewReader(""))
		req.Body = io.NopCloser(strings.NewReader(""))
		req.ContentLength = -1 // chunked, no Content-Length
		req.Header.Set("Authorization", sswsAdmin)
		if r := emuDo(t, s, req); r.status != 411 || r.header.Get("X-Okta-Request-Id") == "" {
			t.Errorf("status %d, request id %q; want 411 with a request id", r.status, r.header.Get("X-Okta-Request-Id"))
		}
	})
	t.Run("unknown device", func(t *testing.T) {
		r := emuCall(t, s, "POST", "/api/v1/devices/guoNOPE/lifecycle/suspend", sswsAdmin, "")
		want := "Not found: Resource not found: guoNOPE (GenericUDObject)"
		var e struct{ ErrorCode, ErrorSummary, ErrorLink, ErrorID string }
		_ = json.Unmarshal([]byte(r.body), &e)
		if r.status != 404 || e.ErrorCode != "E0000007" || e.ErrorSummary != want || e.ErrorLink != "E0000007" || e.ErrorID == "" {
			t.Errorf("got %d %s; want 404 E0000007 %q", r.status, r.body, want)
		}
	})
	t.Run("delete active", func(t *testing.T) {
		id := byStatus["ACTIVE"][1]
		r := emuCall(t, s, "DELETE", "/api/v1/devices/"+id, sswsAdmin, "")
		if r.status != 400 || r.errorCode() != "E0000001" || !strings.Contains(r.body, "ACTIVE") {
			t.Errorf("got %d %s; want 400 E0000001 naming ACTIVE", r.status, r.body)
		}
	})
	t.Run("deactivate drops users then delete", func(t *testing.T) {
		var id string
		for _, cand := range byStatus["ACTIVE"] {
			u := emuCall(t, s, "GET", "/api/v1/devices/"+cand+"/users", sswsAdmin, "")
			if u.body != "[]" {
				id = cand
				break
			}
		}
		if id == "" {
			t.Fatal("no active device with users in the demo org")
		}
		if r := emuCall(t, s, "POST", "/api/v1/devices/"+id+"/lifecycle/deactivate", sswsAdmin, ""); r.status != 204 {
			t.Fatalf("deactivate: %d %s", r.status, r.body)
		}
		if u := emuCall(t, s, "GET", "/api/v1/devices/"+id+"/users", sswsAdmin, ""); u.body != "[]" {
			t.Errorf("users after deactivate: %s; want []", u.body)
		}
		if r := emuCall(t, s, "DELETE", "/api/v1/devices/"+id, sswsAdmin, ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		if r := emuCall(t, s, "GET", "/api/v1/devices/"+id, sswsAdmin, ""); r.status != 404 {
			t.Errorf("get after delete: %d; want 404", r.status)
		}
	})
}

func TestDeviceListPaging(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 450})
	next := "/api/v1/devices"
	seen := map[string]bool{}
	pages := 0
	for next != "" {
		r := emuCall(t, s, "GET", next, sswsAdmin, "")
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", next, r.status, r.body)
		}
		var devs []struct{ ID string }
		if err := json.Unmarshal([]byte(r.body), &devs); err != nil {
			t.Fatal(err)
		}
		for _, d := range devs {
			if seen[d.ID] {
				t.Fatalf("device %s listed twice", d.ID)
			}
			seen[d.ID] = true
		}
		lines := r.header.Values("Link")
		if len(lines) == 0 || !strings.HasSuffix(lines[0], `>; rel="self"`) || !strings.HasPrefix(lines[0], "<"+s.URL+"/api/v1/devices") {
			t.Fatalf("Link lines %q; want self first, on the request origin", lines)
		}
		next = ""
		if len(lines) == 2 {
			u, err := url.Parse(strings.TrimSuffix(strings.TrimPrefix(lines[1], "<"), `>; rel="next"`))
			if err != nil || u.Host != strings.TrimPrefix(s.URL, "http://") {
				t.Fatalf("next link %q", lines[1])
			}
			next = u.RequestURI()
		}
		pages++
	}
	if len(seen) != 450 || pages != 3 {
		t.Errorf("saw %d devices in %d pages; want 450 in 3", len(seen), pages)
	}
}

func TestDeviceListParameters(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 40})
	tests := []struct {
		name, query string
		status      int
		code        string
		check       func(t *testing.T, devs []map[string]any)
	}{
		{name: "limit", query: "limit=7", status: 200, check: func(t *testing.T, devs []map[string]any) {
			if len(devs) != 7 {
				t.Errorf("%d devices; want 7", len(devs))
			}
		}},
		{name: "bad limit", query: "limit=0", status: 400, code: "E0000001"},
		{name: "search", query: "search=" + url.QueryEscape(`status eq "SUSPENDED" and profile.platform pr`), status: 200, check: func(t *testing.T, devs []map[string]any) {
			if len(devs) == 0 {
				t.Fatal("no suspended device")
			}
			for _, d := range devs {
				if d["status"] != "SUSPENDED" {
					t.Errorf("device %v in a search for SUSPENDED", d["id"])
				}
			}
		}},
		{name: "stale search", query: "search=" + url.QueryEscape(`lastUpdated lt "`+time90DaysAgo(s)+`"`), status: 200, check: func(t *testing.T, devs []map[string]any) {
			if len(devs) == 0 {
				t.Error("no device last updated over 90 days ago")
			}
		}},
		{name: "no match", query: "search=" + url.QueryEscape(`profile.displayName eq "nothing"`), status: 200, check: func(t *testing.T, devs []map[string]any) {
			if len(devs) != 0 {
				t.Errorf("%d devices; want none", len(devs))
			}
		}},
		{name: "bad search", query: "search=" + url.QueryEscape(`status eq`), status: 400, code: "E0000031"},
		// A date that is no date is an invalid search, not a comparison of
		// texts under which "yesterday" comes after every date.
		{name: "date that is no date", query: "search=" + url.QueryEscape(`lastUpdated lt "yesterday"`), status: 400, code: "E0000031"},
		{name: "date as a number", query: "search=" + url.QueryEscape(`created gt 2024`), status: 400, code: "E0000031"},
		{name: "date without milliseconds", query: "search=" + url.QueryEscape(`lastUpdated lt "`+strings.Replace(time90DaysAgo(s), ".000Z", "Z", 1)+`"`), status: 200,
			check: func(t *testing.T, devs []map[string]any) {
				cut := time90DaysAgo(s)
				if len(devs) == 0 {
					t.Error("no device last updated over 90 days ago")
				}
				for _, d := range devs {
					if lu, _ := d["lastUpdated"].(string); lu >= cut {
						t.Errorf("device %v last updated %s, not before %s", d["id"], lu, cut)
					}
				}
			}},
		{name: "date with an offset", query: "search=" + url.QueryEscape(`lastUpdated ge "2000-01-01T01:00:00+01:00"`), status: 200, check: func(t *testing.T, devs []map[string]any) {
			if len(devs) == 0 {
				t.Error("no device last updated since 2000")
			}
		}},
		{name: "expand userSummary", query: "expand=userSummary", status: 200, check: func(t *testing.T, devs []map[string]any) {
			withUsers := 0
			for _, d := range devs {
				emb, ok := d["_embedded"].(map[string]any)
				if !ok {
					t.Fatalf("device %v has no _embedded", d["id"])
				}
				users := emb["users"].([]any)
				for _, u := range users {
					withUsers++
					user := u.(map[string]any)["user"].(map[string]any)
					if _, full := user["status"]; full || user["profile"].(map[string]any)["login"] == "" {
						t.Errorf("user summary %v", user)
					}
				}
			}
			if withUsers == 0 {
				t.Error("no embedded users")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := emuCall(t, s, "GET", "/api/v1/devices?"+tc.query, sswsAdmin, "")
			if r.status != tc.status || r.errorCode() != tc.code {
				t.Fatalf("status %d %s; want %d %s: %s", r.status, r.errorCode(), tc.status, tc.code, r.body)
			}
			if tc.check != nil {
				var devs []map[string]any
				if err := json.Unmarshal([]byte(r.body), &devs); err != nil {
					t.Fatal(err)
				}
				tc.check(t, devs)
			}
		})
	}
}

func time90DaysAgo(s *emutest.Server) string {
	return s.Now().AddDate(0, 0, -90).UTC().Format("2006-01-02T15:04:05.000Z")
}

func TestDemoDevicesDeterministic(t *testing.T) {
	a := emutest.Start(t, oktaemu.Config{Devices: 30})
	b := emutest.Start(t, oktaemu.Config{Devices: 30})
	ra := emuCall(t, a, "GET", "/api/v1/devices", sswsAdmin, "")
	rb := emuCall(t, b, "GET", "/api/v1/devices", sswsAdmin, "")
	strip := func(s string, srv *emutest.Server) string { return strings.ReplaceAll(s, srv.URL, "ORG") }
	if diff := cmp.Diff(strip(ra.body, a), strip(rb.body, b)); diff != "" {
		t.Errorf("same N, different devices (-a +b):\n%s", diff)
	}
	var devs []struct {
		ID      string
		Status  string
		Profile map[string]any
	}
	if err := json.Unmarshal([]byte(ra.body), &devs); err != nil {
		t.Fatal(err)
	}
	statuses, platforms := map[string]bool{}, map[string]bool{}
	for _, d := range devs {
		if len(d.ID) != 20 || !strings.HasPrefix(d.ID, "guo") {
			t.Errorf("device id %q; want guo + 17 characters", d.ID)
		}
		statuses[d.Status] = true
		platforms[d.Profile["platform"].(string)] = true
		for _, f := range []string{"displayName", "serialNumber", "osVersion", "manufacturer", "model", "registered", "secureHardwarePresent", "diskEncryptionType"} {
			if _, ok := d.Profile[f]; !ok {
				t.Errorf("device %s lacks profile.%s", d.ID, f)
			}
		}
	}
	if len(statuses) != 4 || len(platforms) != 4 {
		t.Errorf("statuses %v, platforms %v; want all four of each", statuses, platforms)
	}
}
