package card

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

func TestSearchDevices(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 450})
	tests := []struct {
		name      string
		input     map[string]any
		wantCount int // -1: some
		wantGets  int
		check     func(d map[string]any) bool
	}{
		{name: "all", input: map[string]any{"resultSet": "all"}, wantCount: 450, wantGets: 3},
		{name: "first200 is the default", input: map[string]any{}, wantCount: 200, wantGets: 1},
		{name: "first", input: map[string]any{"resultSet": "first"}, wantCount: 1, wantGets: 1},
		{name: "filters", input: map[string]any{"status": "active", "platform": "MACOS", "resultSet": "all"}, wantCount: -1, wantGets: 1,
			check: func(d map[string]any) bool {
				return d["status"] == "ACTIVE" && d["profile"].(map[string]any)["platform"] == "MACOS"
			}},
		{name: "boolean filter given as text", input: map[string]any{"registered": "false", "resultSet": "all"}, wantCount: -1, wantGets: 1,
			check: func(d map[string]any) bool { return d["profile"].(map[string]any)["registered"] == false }},
		{name: "raw search with a filter", input: map[string]any{"platform": "WINDOWS", "search": `status eq "SUSPENDED" or status eq "DEACTIVATED"`, "resultSet": "all"}, wantCount: -1, wantGets: 1,
			check: func(d map[string]any) bool {
				s := d["status"]
				return (s == "SUSPENDED" || s == "DEACTIVATED") && d["profile"].(map[string]any)["platform"] == "WINDOWS"
			}},
		{name: "quotes in a value are data", input: map[string]any{"model": `x" or status eq "ACTIVE`, "resultSet": "all"}, wantCount: 0, wantGets: 1},
		{name: "expand", input: map[string]any{"expand": "userSummary", "resultSet": "first200"}, wantCount: 200, wantGets: 1,
			check: func(d map[string]any) bool {
				emb, ok := d["_embedded"].(map[string]any)
				return ok && emb["users"] != nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.srv.Stats(t)["GET /api/v1/devices"]
			res := e.run("okta-devices/search-devices", "Prod", tt.input)
			if res.Status != StatusSucceeded {
				t.Fatalf("search failed: %v", res.Error)
			}
			devices := res.Output["devices"].([]any)
			if res.Output["count"] != len(devices) {
				t.Errorf("count = %v; want %d", res.Output["count"], len(devices))
			}
			if tt.wantCount >= 0 && len(devices) != tt.wantCount || tt.wantCount < 0 && len(devices) == 0 {
				t.Errorf("found %d devices; want %d (-1: some)", len(devices), tt.wantCount)
			}
			for _, d := range devices {
				if tt.check != nil && !tt.check(d.(map[string]any)) {
					t.Errorf("device does not match the filter: %v", d)
					break
				}
			}
			if got := e.srv.Stats(t)["GET /api/v1/devices"] - before; got != tt.wantGets {
				t.Errorf("made %d list requests; want %d", got, tt.wantGets)
			}
		})
	}

	res := e.run("okta-devices/search-devices", "Prod", map[string]any{"search": `status eq`})
	wantProblem(t, res, problem.InvalidInput, "Okta rejected the search filter", "Invalid search criteria")
	if res.Error.Details["field"] != "search" {
		t.Errorf("field = %v; want search", res.Error.Details["field"])
	}
	if strings.Contains(res.Error.Remedy, "dates") {
		t.Errorf("remedy %q of a filter without a date speaks of dates", res.Error.Remedy)
	}
	// A date that is no date: the remedy gives the form dates must have.
	res = e.run("okta-devices/search-devices", "Prod", map[string]any{"search": `lastUpdated lt "yesterday"`})
	wantProblem(t, res, problem.InvalidInput, "Okta rejected the search filter", "Invalid search criteria")
	if !strings.Contains(res.Error.Remedy, `"2024-12-23T00:00:00.000Z"`) {
		t.Errorf("remedy %q of a filter with a malformed date does not give the form of a date", res.Error.Remedy)
	}

	res = e.run("okta-devices/search-devices", "Prod", map[string]any{"model": "Mac\xffBook"})
	wantProblem(t, res, problem.InvalidInput, "model", "not valid UTF-8")
	if res.Error.Details["field"] != "model" {
		t.Errorf("field = %v; want model", res.Error.Details["field"])
	}
	if want := "give model as the device's value shows it in Okta (UTF-8 text, at most 1024 bytes), or leave it out"; res.Error.Remedy != want {
		t.Errorf("remedy %q; want %q", res.Error.Remedy, want)
	}

	_, err := e.exec.Run(context.Background(), Request{Card: "okta-devices/search-devices", Connection: "Prod", Input: map[string]any{"status": "LOST"}})
	if p, ok := problem.As(err); !ok || p.Code != problem.InvalidInput || p.Details["field"] != "status" || !strings.Contains(p.Message, "CREATED, ACTIVE, SUSPENDED, DEACTIVATED") {
		t.Errorf("status LOST: error = %v; want invalid_input on status listing the statuses", err)
	}
}

func TestSearchDevicesStream(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 450})
	n := 0
	res, err := e.exec.RunStream(context.Background(), Request{Card: "okta-devices/search-devices", Connection: "Prod", Input: map[string]any{"resultSet": "all"}},
		func(d map[string]any) error {
			if d["id"] == "" {
				t.Errorf("streamed a device without id: %v", d)
			}
			n++
			return nil
		})
	if err != nil || res.Status != StatusSucceeded {
		t.Fatalf("RunStream = %+v, %v", res, err)
	}
	if n != 450 || res.Output["count"] != 450 || res.Output["devices"] != nil {
		t.Errorf("streamed %d devices, output %v; want 450 and only the count", n, res.Output)
	}
	if _, err := e.exec.RunStream(context.Background(), Request{Card: "okta-devices/read-device", Connection: "Prod"}, nil); problem.CodeOf(err) != problem.InvalidInput {
		t.Errorf("RunStream(read-device) error = %v; want invalid_input", err)
	}
}

func TestReadDeviceAndUsers(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 40})
	// The device with the most users, from an expanded list.
	best, most := "", -1
	for d, err := range e.admin.ListDevices(context.Background(), okta.ListOptions{Expand: "user"}) {
		if err != nil {
			t.Fatal(err)
		}
		if d.Embedded != nil && len(d.Embedded.Users) > most {
			best, most = d.ID, len(d.Embedded.Users)
		}
	}

	res := e.run("okta-devices/read-device", "Prod", map[string]any{"deviceId": best})
	dev, _ := res.Output["device"].(map[string]any)
	if res.Status != StatusSucceeded || dev["id"] != best || dev["resourceType"] != "UDDevice" {
		t.Fatalf("read-device = %v %v; want the device", res.Output, res.Error)
	}
	if _, ok := dev["created"].(string); !ok {
		t.Errorf("created = %#v; want Okta's timestamp text", dev["created"])
	}

	res = e.run("okta-devices/list-device-users", "Prod", map[string]any{"deviceId": best})
	users, _ := res.Output["users"].([]any)
	if res.Status != StatusSucceeded || len(users) != most || most == 0 {
		t.Fatalf("list-device-users = %d users (%v); want %d", len(users), res.Error, most)
	}
	u := users[0].(map[string]any)["user"].(map[string]any)
	if u["id"] == nil || u["profile"].(map[string]any)["login"] == nil {
		t.Errorf("user = %v; want id and profile.login", u)
	}

	for _, ref := range []string{"okta-devices/read-device", "okta-devices/list-device-users"} {
		res = e.run(ref, "Prod", map[string]any{"deviceId": "guo0000000000000none"})
		wantProblem(t, res, problem.NotFound, "guo0000000000000none")
	}
}

func TestLifecycleCards(t *testing.T) {
	tests := []struct {
		card        string
		from        string
		want        string
		wrongFrom   string
		wrongRemedy string
	}{
		{"activate-device", okta.StatusDeactivated, okta.StatusActive, okta.StatusSuspended, "to make it ACTIVE, unsuspend it"},
		{"activate-device", okta.StatusCreated, okta.StatusActive, okta.StatusSuspended, "unsuspend it"},
		{"deactivate-device", okta.StatusActive, okta.StatusDeactivated, okta.StatusCreated, "activate it, then deactivate it"},
		{"deactivate-device", okta.StatusSuspended, okta.StatusDeactivated, okta.StatusCreated, "activate it"},
		{"suspend-device", okta.StatusActive, okta.StatusSuspended, okta.StatusDeactivated, "to make it SUSPENDED, activate it, then suspend it"},
		{"unsuspend-device", okta.StatusSuspended, okta.StatusActive, okta.StatusDeactivated, "to make it ACTIVE, activate it"},
	}
	for _, tt := range tests {
		t.Run(tt.card+" from "+tt.from, func(t *testing.T) {
			e := newEnv(t, oktaemu.Config{Devices: 20})
			ref := "okta-devices/" + tt.card
			id := e.device(tt.from)

			res := e.run(ref, "Prod", map[string]any{"deviceId": id})
			if diff := cmp.Diff(map[string]any{"deviceId": id, "status": tt.want, "changed": true, "basis": BasisRead}, res.Output); diff != "" || res.Error != nil {
				t.Fatalf("first run: error %v, output (-want +got):\n%s", res.Error, diff)
			}
			if got := e.status(id); got != tt.want {
				t.Errorf("device is %s; want %s", got, tt.want)
			}

			// Again: already there, succeeds unchanged, posts nothing.
			before := e.mutations()
			res = e.run(ref, "Prod", map[string]any{"deviceId": id})
			if diff := cmp.Diff(map[string]any{"deviceId": id, "status": tt.want, "changed": false, "basis": BasisRead}, res.Output); diff != "" {
				t.Errorf("second run output (-want +got):\n%s", diff)
			}
			if n := e.mutations() - before; n != 0 {
				t.Errorf("second run made %d POST/DELETE requests; want 0", n)
			}

			// From a status the action does not allow.
			other := e.device(tt.wrongFrom)
			before = e.mutations()
			res = e.run(ref, "Prod", map[string]any{"deviceId": other})
			wantProblem(t, res, problem.Conflict, "is "+tt.wrongFrom, tt.wrongRemedy)
			if n := e.mutations() - before; n != 0 {
				t.Errorf("refused run made %d POST/DELETE requests; want 0", n)
			}
			if got := e.status(other); got != tt.wrongFrom {
				t.Errorf("refused device is %s; want it still %s", got, tt.wrongFrom)
			}

			res = e.run(ref, "Prod", map[string]any{"deviceId": "guo0000000000000none"})
			wantProblem(t, res, problem.NotFound, "device guo0000000000000none was not found")
		})
	}
}

func TestDeleteDevice(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 30})
	const ref = "okta-devices/delete-device"

	id := e.device(okta.StatusDeactivated)
	res := e.run(ref, "Prod", map[string]any{"deviceId": id})
	if diff := cmp.Diff(map[string]any{"deviceId": id, "deleted": true, "deactivated": false, "basis": BasisRead}, res.Output); diff != "" {
		t.Errorf("delete DEACTIVATED: error %v, output (-want +got):\n%s", res.Error, diff)
	}
	if got := e.status(id); got != StatusDeleted {
		t.Errorf("device is %s; want it deleted", got)
	}
	res = e.run(ref, "Prod", map[string]any{"deviceId": id})
	wantProblem(t, res, problem.NotFound, id)

	active := e.device(okta.StatusActive)
	before := e.mutations()
	res = e.run(ref, "Prod", map[string]any{"deviceId": active})
	wantProblem(t, res, problem.Conflict, "device "+active+" is ACTIVE", "deactivate it before deleting, or set deactivateFirst")
	if n := e.mutations() - before; n != 0 {
		t.Errorf("refused delete made %d POST/DELETE requests; want 0", n)
	}

	res = e.run(ref, "Prod", map[string]any{"deviceId": active, "deactivateFirst": "true"})
	if diff := cmp.Diff(map[string]any{"deviceId": active, "deleted": true, "deactivated": true, "basis": BasisRead}, res.Output); diff != "" {
		t.Errorf("delete ACTIVE with deactivateFirst: error %v, output (-want +got):\n%s", res.Error, diff)
	}
	if got := e.status(active); got != StatusDeleted {
		t.Errorf("device is %s; want it deleted", got)
	}

	created := e.device(okta.StatusCreated)
	res = e.run(ref, "Prod", map[string]any{"deviceId": created, "deactivateFirst": true})
	wantProblem(t, res, problem.Conflict, "is CREATED", "activate it, then deactivate it before deleting")
}

func TestCustomAPIAction(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 20})
	const ref = "okta-devices/custom-api-action"
	id := e.device(okta.StatusActive)

	res := e.run(ref, "Prod", map[string]any{"method": "get", "relativeUrl": "/api/v1/devices?limit=3",
		"query": map[string]any{"search": `status eq "ACTIVE"`}, "headers": map[string]any{"X-Trace": "t1"}})
	if res.Status != StatusSucceeded || res.Output["status"] != 200 {
		t.Fatalf("GET = %v %v; want 200", res.Output, res.Error)
	}
	body, _ := res.Output["body"].([]any)
	if len(body) != 3 || body[0].(map[string]any)["status"] != "ACTIVE" {
		t.Errorf("body = %v; want three ACTIVE devices", res.Output["body"])
	}
	if h := res.Output["headers"].(map[string]any); h["X-Okta-Request-Id"] == nil || !strings.Contains(h["Link"].(string), `rel="next"`) {
		t.Errorf("headers = %v; want the request id and the links", h)
	}

	res = e.run(ref, "Prod", map[string]any{"method": "POST", "relativeUrl": "/api/v1/devices/" + id + "/lifecycle/suspend"})
	if res.Status != StatusSucceeded || res.Output["status"] != 204 || res.Output["body"] != nil {
		t.Errorf("POST suspend = %v %v; want 204 and no body", res.Output, res.Error)
	}
	if got := e.status(id); got != okta.StatusSuspended {
		t.Errorf("device is %s; want SUSPENDED", got)
	}

	res = e.run(ref, "Prod", map[string]any{"method": "GET", "relativeUrl": "/api/v1/devices/nope"})
	wantProblem(t, res, problem.NotFound, "404")

	before := e.apiRequests()
	all, err := e.st.ListRuns(context.Background(), store.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	recorded := len(all)
	for _, tt := range []struct {
		name  string
		input map[string]any
		field string
	}{
		{"outside the API", map[string]any{"method": "GET", "relativeUrl": "/api/v1/../../oauth2/v1/keys"}, "relativeUrl"},
		{"another host", map[string]any{"method": "GET", "relativeUrl": "https://evil.example/api/v1/devices"}, "relativeUrl"},
		{"authorization header", map[string]any{"method": "GET", "relativeUrl": "/api/v1/devices", "headers": map[string]any{"Authorization": "SSWS x"}}, "headers"},
		{"host header", map[string]any{"method": "GET", "relativeUrl": "/api/v1/devices", "headers": map[string]any{"host": "evil"}}, "headers"},
		{"bad query value", map[string]any{"method": "GET", "relativeUrl": "/api/v1/devices", "query": map[string]any{"a": map[string]any{}}}, "query"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Refused as every card refuses a wrong input: before a run is
			// recorded.
			res, err := e.exec.Run(context.Background(), Request{Card: ref, Connection: "Prod", Input: tt.input, Actor: testActor})
			p, ok := problem.As(err)
			if res != nil || !ok || p.Code != problem.InvalidInput {
				t.Fatalf("Run = %v, %v; want no run and invalid_input", res, err)
			}
			if p.Details["field"] != tt.field {
				t.Errorf("field = %v; want %s (%v)", p.Details["field"], tt.field, p)
			}
			if p.Remedy == "" {
				t.Errorf("%v has no remedy", p)
			}
		})
	}
	if n := e.apiRequests() - before; n != 0 {
		t.Errorf("refused calls made %d requests; want 0", n)
	}
	if runs, err := e.st.ListRuns(context.Background(), store.RunFilter{}); err != nil || len(runs) != recorded {
		t.Errorf("%d runs recorded (%v); want %d: a refused input records none", len(runs), err, recorded)
	}

	// Headers are redacted in the run record.
	res = e.run(ref, "Prod", map[string]any{"method": "GET", "relativeUrl": "/api/v1/devices?limit=1", "headers": map[string]any{"X-Api-Key": "canary-secret"}})
	run, err := e.st.GetRun(context.Background(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(run.Input), "canary-secret") {
		t.Errorf("recorded input %s holds a header value", run.Input)
	}
}

func TestCustomAPIActionScopes(t *testing.T) {
	tests := []struct {
		method, path string
		want         string
	}{
		{"GET", "/api/v1/devices", ScopeRead},
		{"GET", "/api/v1/devices/guo1/users", ScopeRead},
		{"POST", "/api/v1/devices/guo1/lifecycle/suspend", ScopeManage},
		{"DELETE", "/api/v1/devices/guo1", ScopeManage},
		{"GET", "/api/v1/devices/../users/me", ""},
		{"GET", "/api/v1/users/me", ""},
		{"GET", "/api/v1/devicesx", ""},
	}
	c, _ := Lookup("okta-devices/custom-api-action")
	for _, tt := range tests {
		if got := c.RequiredScope(map[string]any{"method": tt.method, "relativeUrl": tt.path}); got != tt.want {
			t.Errorf("RequiredScope(%s %s) = %q; want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

// TestCardsRetryOnlyIdempotentCalls injects 5xx answers: GETs and lifecycle
// POSTs are retried, a DELETE is not; the emulator's counts are exact.
func TestCardsRetryOnlyIdempotentCalls(t *testing.T) {
	const (
		get     = "GET /api/v1/devices/{deviceId}"
		suspend = "POST /api/v1/devices/{deviceId}/lifecycle/suspend"
		del     = "DELETE /api/v1/devices/{deviceId}"
	)
	tests := []struct {
		name        string
		card        string
		status      string // the device's status before
		faultMethod string
		faultPath   string
		faultStatus int
		faults      int
		wantCode    problem.Code
		wantCounts  map[string]int
	}{
		{name: "read-device GET 502 twice", card: "read-device", status: okta.StatusActive, faultMethod: "GET", faultPath: "/api/v1/devices/{deviceId}", faultStatus: 502, faults: 2,
			wantCounts: map[string]int{get: 3}},
		{name: "suspend-device POST 503 once", card: "suspend-device", status: okta.StatusActive, faultMethod: "POST", faultPath: "/api/v1/devices/{deviceId}/lifecycle/suspend", faultStatus: 503, faults: 1,
			wantCounts: map[string]int{get: 1, suspend: 2}},
		{name: "delete-device DELETE 500 once", card: "delete-device", status: okta.StatusDeactivated, faultMethod: "DELETE", faultPath: "/api/v1/devices/{deviceId}", faultStatus: 500, faults: 1,
			wantCode: problem.UpstreamError, wantCounts: map[string]int{get: 2, del: 1}}, // the second GET tells the delete did not happen
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, oktaemu.Config{Devices: 20})
			id := e.device(tt.status)
			before := e.srv.Stats(t)
			e.srv.Fault(t, tt.faultMethod, tt.faultPath, tt.faultStatus, tt.faults)
			res := e.run("okta-devices/"+tt.card, "Prod", map[string]any{"deviceId": id})
			if tt.wantCode != "" {
				wantProblem(t, res, tt.wantCode, "Okta answered")
			} else if res.Status != StatusSucceeded {
				t.Fatalf("run failed: %v", res.Error)
			}
			after := e.srv.Stats(t)
			got := map[string]int{}
			for k := range tt.wantCounts {
				got[k] = after[k] - before[k]
			}
			if diff := cmp.Diff(tt.wantCounts, got); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCardRunCancelledWhileCalling: a run whose caller goes away while its
// call to Okta is in flight ends interrupted (as one whose server died)
// and says that whether the call reached Okta is unknown, and what to do:
// a manage card's, how to find out whether the change took effect; a read
// card's, that it changed nothing.
func TestCardRunCancelledWhileCalling(t *testing.T) {
	for _, tt := range []struct {
		card, method, path, remedy string
	}{
		{"okta-devices/suspend-device", "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", store.InterruptedChangeRemedy},
		{"okta-devices/read-device", "GET", "/api/v1/devices/{deviceId}", store.InterruptedReadRemedy},
	} {
		t.Run(tt.card, func(t *testing.T) {
			e := newEnv(t, oktaemu.Config{Devices: 3})
			id := e.device(okta.StatusActive)
			hold := e.srv.Hold(t, tt.method, tt.path, 0)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan *Result, 1)
			go func() {
				res, err := e.exec.Run(ctx, Request{Card: tt.card, Connection: "Prod", Input: map[string]any{"deviceId": id}, Actor: testActor})
				if err != nil {
					t.Errorf("Run: %v", err)
				}
				done <- res
			}()
			if err := hold.Await(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			cancel()
			res := <-done
			hold.Release()
			if res == nil {
				return
			}
			if res.Status != StatusInterrupted {
				t.Errorf("result status %s; want %s", res.Status, StatusInterrupted)
			}
			res.Status = StatusFailed // for wantProblem, which checks the rest
			wantProblem(t, res, problem.Internal, "whether the call reached Okta is unknown")
			if res.Error.Remedy != tt.remedy {
				t.Errorf("remedy %q; want %q", res.Error.Remedy, tt.remedy)
			}
		})
	}
}
