package oktaemu_test

// The System Log, event hooks and their deliveries, and the device control
// endpoints, over plain HTTP with every management response validated
// against the OpenAPI document.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// hookReceiver is an event hook endpoint: it answers the verification
// challenge and records every delivery. answer, when set, picks the status
// of each delivery attempt (n counts from 1); block holds deliveries until
// the test ends.
type hookReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string

	mu         sync.Mutex
	verifies   []http.Header
	deliveries []receivedDelivery
	answer     func(n int) int
	badVerify  bool
	block      chan struct{}
}

type receivedDelivery struct {
	header   http.Header
	envelope struct {
		EventType          string `json:"eventType"`
		EventTypeVersion   string `json:"eventTypeVersion"`
		CloudEventsVersion string `json:"cloudEventsVersion"`
		Source             string `json:"source"`
		EventID            string `json:"eventId"`
		EventTime          string `json:"eventTime"`
		ContentType        string `json:"contentType"`
		Data               struct {
			Events []logEventView `json:"events"`
		} `json:"data"`
	}
}

// logEventView is the part of a LogEvent the tests read.
type logEventView struct {
	UUID           string `json:"uuid"`
	Published      string `json:"published"`
	EventType      string `json:"eventType"`
	DisplayMessage string `json:"displayMessage"`
	Actor          struct {
		ID, Type, AlternateID, DisplayName string
	} `json:"actor"`
	Target []struct {
		ID          string `json:"id"`
		Type        string `json:"type"`
		AlternateID string `json:"alternateId"`
		DisplayName string `json:"displayName"`
	} `json:"target"`
	Outcome struct {
		Result string `json:"result"`
	} `json:"outcome"`
}

func (e logEventView) target(typ string) string {
	for _, t := range e.Target {
		if t.Type == typ {
			return t.ID
		}
	}
	return ""
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	h := &hookReceiver{t: t, secret: "hook-secret-" + t.Name(), block: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(func() {
		close(h.block)
		h.srv.Close()
	})
	return h
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != h.secret {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	switch r.Method {
	case http.MethodGet:
		h.mu.Lock()
		h.verifies = append(h.verifies, r.Header.Clone())
		bad := h.badVerify
		h.mu.Unlock()
		v := r.Header.Get("X-Okta-Verification-Challenge")
		if bad {
			v = "wrong"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"verification": v})
	case http.MethodPost:
		var d receivedDelivery
		d.header = r.Header.Clone()
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &d.envelope); err != nil {
			h.t.Errorf("delivery body is not JSON: %v: %s", err, b)
		}
		h.mu.Lock()
		h.deliveries = append(h.deliveries, d)
		n := len(h.deliveries)
		answer := h.answer
		h.mu.Unlock()
		status := http.StatusOK
		if answer != nil {
			status = answer(n)
		}
		if status == 0 {
			<-h.block
			return
		}
		w.WriteHeader(status)
	}
}

func (h *hookReceiver) got() []receivedDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.deliveries)
}

// events lists the events of every delivery received, in arrival order.
func (h *hookReceiver) events() []logEventView {
	var out []logEventView
	for _, d := range h.got() {
		out = append(out, d.envelope.Data.Events...)
	}
	return out
}

// hookBody is a create or replace body for an event hook to uri.
func hookBody(name, uri, secret string, types ...string) map[string]any {
	return map[string]any{
		"name":   name,
		"events": map[string]any{"type": "EVENT_TYPE", "items": types},
		"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{
			"uri":        uri,
			"headers":    []map[string]string{{"key": "X-Other-Header", "value": "other"}},
			"authScheme": map[string]string{"type": "HEADER", "key": "Authorization", "value": secret},
		}},
	}
}

type hookView struct {
	ID                 string `json:"id"`
	Status             string `json:"status"`
	VerificationStatus string `json:"verificationStatus"`
	Channel            struct {
		Config struct {
			URI        string            `json:"uri"`
			AuthScheme map[string]string `json:"authScheme"`
		} `json:"config"`
	} `json:"channel"`
}

// createVerifiedHook registers and verifies an event hook to rcv.
func createVerifiedHook(t *testing.T, hc *http.Client, srv *emutest.Server, rcv *hookReceiver, types ...string) string {
	t.Helper()
	code, _, body := apiCall{method: "POST", path: "/api/v1/eventHooks", auth: sswsAdmin, body: hookBody("cardflow", rcv.srv.URL+"/hooks/okta/x", rcv.secret, types...)}.do(t, hc, srv.URL)
	var h hookView
	if err := json.Unmarshal(body, &h); code != 200 || err != nil {
		t.Fatalf("create hook: %d %v: %s", code, err, body)
	}
	code, _, body = apiCall{method: "POST", path: "/api/v1/eventHooks/" + h.ID + "/lifecycle/verify", auth: sswsAdmin}.do(t, hc, srv.URL)
	if code != 200 || !strings.Contains(string(body), `"verificationStatus":"VERIFIED"`) {
		t.Fatalf("verify hook: %d: %s", code, body)
	}
	return h.ID
}

// listLogs reads one page of the System Log.
func listLogs(t *testing.T, hc *http.Client, srv *emutest.Server, query string) ([]logEventView, string) {
	t.Helper()
	code, hdr, body := apiCall{method: "GET", path: "/api/v1/logs?" + query, auth: sswsAdmin}.do(t, hc, srv.URL)
	if code != 200 {
		t.Fatalf("GET /api/v1/logs?%s: %d: %s", query, code, body)
	}
	var evs []logEventView
	if err := json.Unmarshal(body, &evs); err != nil {
		t.Fatal(err)
	}
	return evs, nextLink(hdr)
}

// nextLink returns the path and query of the rel="next" link, or "".
func nextLink(h http.Header) string {
	for _, l := range h.Values("Link") {
		if strings.HasSuffix(l, `rel="next"`) {
			u, err := url.Parse(strings.TrimPrefix(l[:strings.Index(l, ">")], "<"))
			if err != nil {
				return ""
			}
			return u.RawQuery
		}
	}
	return ""
}

func waitDeliveries(t *testing.T, srv *emutest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Org.WaitDeliveries(ctx); err != nil {
		t.Fatalf("deliveries not done: %v (%+v)", err, srv.Org.DeliveryStats())
	}
}

func emuControl(t *testing.T, srv *emutest.Server, method, path, body string) emuResp {
	t.Helper()
	return emuCall(t, srv, method, path, "", body)
}

func TestSystemLogRecordsDeviceEvents(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Fixture: fixtureWithTokens(60), Now: stoppedClock})
	st := newSpecTransport(t)
	hc := st.client()
	ids := deviceIDsByStatus(t, hc, srv.URL)
	active, deactivated := ids["ACTIVE"], ids["DEACTIVATED"]

	// An admin suspends and unsuspends, deletes; the same-state call
	// changes nothing and records nothing.
	for _, c := range []apiCall{
		{method: "POST", path: "/api/v1/devices/" + active[0] + "/lifecycle/suspend"},
		{method: "POST", path: "/api/v1/devices/" + active[0] + "/lifecycle/suspend"},
		{method: "POST", path: "/api/v1/devices/" + active[0] + "/lifecycle/unsuspend"},
		{method: "DELETE", path: "/api/v1/devices/" + deactivated[0]},
	} {
		c.auth = sswsAdmin
		if code, _, body := c.do(t, hc, srv.URL); code != 204 {
			t.Fatalf("%s %s: %d: %s", c.method, c.path, code, body)
		}
	}
	// A person enrolls a device; another account is added, then removed.
	r := emuControl(t, srv, "POST", "/_emulator/devices", `{"user":"alice.nguyen@example.com","platform":"IOS","displayName":"Alice's iPhone","serialNumber":"F2LX0001"}`)
	if r.status != 201 {
		t.Fatalf("enroll: %d: %s", r.status, r.body)
	}
	var dev struct{ ID, Status string }
	if err := json.Unmarshal([]byte(r.body), &dev); err != nil || dev.Status != "ACTIVE" {
		t.Fatalf("enroll answer %s (%v); want an ACTIVE device", r.body, err)
	}
	if r := emuControl(t, srv, "POST", "/_emulator/devices/"+dev.ID+"/users", `{"user":"bob.martin@example.com"}`); r.status != 204 {
		t.Fatalf("add user: %d: %s", r.status, r.body)
	}
	if r := emuControl(t, srv, "DELETE", "/_emulator/devices/"+dev.ID+"/users/alice.nguyen@example.com", ""); r.status != 204 {
		t.Fatalf("remove user: %d: %s", r.status, r.body)
	}
	// The device's users changed accordingly.
	code, _, body := apiCall{method: "GET", path: "/api/v1/devices/" + dev.ID + "/users", auth: sswsAdmin}.do(t, hc, srv.URL)
	if code != 200 || !strings.Contains(string(body), "bob.martin@example.com") || strings.Contains(string(body), "alice.nguyen") {
		t.Fatalf("device users after the changes: %d: %s", code, body)
	}

	evs, next := listLogs(t, hc, srv, "")
	if next == "" {
		t.Errorf("polling request without a next link")
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.EventType)
	}
	want := []string{"device.lifecycle.suspend", "device.lifecycle.unsuspend", "device.lifecycle.delete",
		"device.enrollment.create", "device.user.add", "device.user.add", "device.user.remove"}
	if !slices.Equal(types, want) {
		t.Fatalf("event types %v; want %v", types, want)
	}
	admin := evs[0]
	if admin.Actor.ID != oktaemu.AdminUserID || admin.Actor.Type != "User" || admin.Actor.AlternateID != oktaemu.AdminLogin {
		t.Errorf("actor of an SSWS call %+v; want the token's user", admin.Actor)
	}
	if admin.target("UDDevice") != active[0] || admin.Outcome.Result != "SUCCESS" || admin.UUID == "" || admin.DisplayMessage == "" {
		t.Errorf("suspend event %+v; want the device as UDDevice target, SUCCESS, a uuid and a message", admin)
	}
	if evs[2].target("UDDevice") != deactivated[0] {
		t.Errorf("delete event targets %+v; want the deleted device", evs[2].Target)
	}
	enroll, removed := evs[3], evs[6]
	if enroll.target("UDDevice") != dev.ID || enroll.target("User") == "" || enroll.Actor.AlternateID != "alice.nguyen@example.com" {
		t.Errorf("enrollment event %+v; want the device and the user as targets, the user as actor", enroll)
	}
	if removed.target("UDDevice") != dev.ID || removed.target("User") == "" || removed.Target[1].AlternateID != "alice.nguyen@example.com" {
		t.Errorf("device.user.remove event %+v; want the device and the removed user", removed)
	}
	uuids := map[string]bool{}
	for _, e := range evs {
		uuids[e.UUID] = true
	}
	if len(uuids) != len(evs) {
		t.Errorf("event uuids are not unique: %v", evs)
	}
	if st.seen()["listLogEvents 200"] == 0 {
		t.Errorf("no validated System Log response; validated %v", st.seen())
	}
}

// TestSystemLogActorIsTheCaller: a user's access token and a service app
// are recorded as who they are.
func TestSystemLogActorIsTheCaller(t *testing.T) {
	pemKey, jwks := serviceJWKS(t)
	srv := emutest.Start(t, oktaemu.Config{Devices: 60, ServiceAppJWKS: jwks})
	hc := newSpecTransport(t).client()
	active := deviceIDsByStatus(t, hc, srv.URL)["ACTIVE"]

	tok := emuLogin(t, srv, oktaemu.AdminLogin, emuScopes("okta.devices.manage", "okta.logs.read")...)
	if code, _, body := (apiCall{method: "POST", path: "/api/v1/devices/" + active[0] + "/lifecycle/suspend", auth: "Bearer " + tok.AccessToken}).do(t, hc, srv.URL); code != 204 {
		t.Fatalf("suspend with a user's token: %d: %s", code, body)
	}
	svc := newSDK(t, srv, http.DefaultClient, oktaemuServiceOpts(pemKey)...)
	if _, err := svc.DeviceAPI.SuspendDevice(context.Background(), active[1]).Execute(); err != nil {
		t.Fatalf("suspend as the service app: %v", err)
	}
	// The user's token reads the log with okta.logs.read.
	code, _, body := apiCall{method: "GET", path: "/api/v1/logs?filter=" + url.QueryEscape(`eventType eq "device.lifecycle.suspend"`), auth: "Bearer " + tok.AccessToken}.do(t, hc, srv.URL)
	var evs []logEventView
	if err := json.Unmarshal(body, &evs); code != 200 || err != nil || len(evs) != 2 {
		t.Fatalf("logs with a user's token: %d %v: %s", code, err, body)
	}
	if evs[0].Actor.ID != oktaemu.AdminUserID || evs[0].Actor.Type != "User" {
		t.Errorf("actor of a user's token %+v; want the user", evs[0].Actor)
	}
	if evs[1].Actor.ID != oktaemu.DemoServiceClientID || evs[1].Actor.Type != "PublicClientApp" {
		t.Errorf("actor of the service app %+v; want the app", evs[1].Actor)
	}
	// A token without okta.logs.read gets Okta's empty 403.
	noLogs := emuLogin(t, srv, oktaemu.AdminLogin, emuScopes("okta.devices.read")...)
	code, hdr, _ := apiCall{method: "GET", path: "/api/v1/logs", auth: "Bearer " + noLogs.AccessToken}.do(t, hc, srv.URL)
	if code != 403 || !strings.Contains(hdr.Get("WWW-Authenticate"), `scope="okta.logs.read"`) {
		t.Errorf("logs without okta.logs.read: %d %q; want 403 naming the scope", code, hdr.Get("WWW-Authenticate"))
	}
}

func TestSystemLogQueries(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 60, Now: stoppedClock})
	hc := newSpecTransport(t).client()
	active := deviceIDsByStatus(t, hc, srv.URL)["ACTIVE"]
	start := srv.Org.Now()
	// Six events, a second apart: suspend and unsuspend three devices.
	for i := range 3 {
		for _, op := range []string{"suspend", "unsuspend"} {
			srv.AdvanceClock(t, time.Second)
			if code, _, body := (apiCall{method: "POST", path: "/api/v1/devices/" + active[i] + "/lifecycle/" + op, auth: sswsAdmin}).do(t, hc, srv.URL); code != 204 {
				t.Fatalf("%s: %d: %s", op, code, body)
			}
		}
	}
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	count := func(query string) (int, bool) {
		evs, next := listLogs(t, hc, srv, query)
		return len(evs), next != ""
	}
	tests := []struct {
		name     string
		query    string
		want     int
		wantNext bool
	}{
		{"all, polling", "", 6, true},
		{"eventType", q("filter", `eventType eq "device.lifecycle.suspend"`), 3, true},
		{"target.id", q("filter", `target.id eq "`+active[1]+`"`), 2, true},
		{"and", q("filter", `eventType eq "device.lifecycle.unsuspend" and target.id eq "`+active[2]+`"`), 1, true},
		{"or", q("filter", `target.id eq "`+active[0]+`" or target.id eq "`+active[2]+`"`), 4, true},
		{"sw", q("filter", `eventType sw "device."`), 6, true},
		{"ew", q("filter", `eventType ew ".unsuspend"`), 3, true},
		{"co", q("filter", `eventType co "lifecycle.sus"`), 3, true},
		{"limit", q("limit", "4"), 4, true},
		{"limit 0", q("limit", "0"), 0, true},
		{"since", q("since", start.Add(3500*time.Millisecond).Format(time.RFC3339Nano)), 3, true},
		{"bounded", q("since", start.Format(time.RFC3339Nano), "until", start.Add(2500*time.Millisecond).Format(time.RFC3339Nano)), 2, false},
		{"bounded paged", q("since", start.Format(time.RFC3339Nano), "until", start.Add(time.Hour).Format(time.RFC3339Nano), "limit", "5"), 5, true},
		{"descending", q("sortOrder", "DESCENDING", "limit", "2"), 2, true},
		{"keyword", q("q", "unsuspend"), 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, next := count(tt.query)
			if n != tt.want || next != tt.wantNext {
				t.Errorf("?%s: %d events, next link %v; want %d, %v", tt.query, n, next, tt.want, tt.wantNext)
			}
		})
	}

	// Descending order is newest first, and its pages do not overlap.
	evs, next := listLogs(t, hc, srv, q("sortOrder", "DESCENDING", "limit", "4"))
	more, last := listLogs(t, hc, srv, next)
	if len(evs) != 4 || len(more) != 2 || last != "" || evs[0].EventType != "device.lifecycle.unsuspend" || evs[0].target("UDDevice") != active[2] {
		t.Errorf("descending pages %d+%d (next %q), first %+v; want 4+2, the newest first", len(evs), len(more), last, evs)
	}

	for _, tt := range []struct {
		name, query, code string
	}{
		{"limit over 1000", q("limit", "1001"), "E0000001"},
		{"bad since", q("since", "yesterday"), "E0000001"},
		{"since too old", q("since", start.Add(-181*24*time.Hour).Format(time.RFC3339)), "E0000053"},
		{"bad filter", q("filter", `eventType eq`), "E0000053"},
		{"unknown attribute", q("filter", `published gt "2020-01-01T00:00:00Z"`), "E0000053"},
		{"bad cursor", q("after", "nope"), "E0000001"},
		{"bad sortOrder", q("sortOrder", "UP"), "E0000001"},
	} {
		code, _, body := apiCall{method: "GET", path: "/api/v1/logs?" + tt.query, auth: sswsAdmin}.do(t, hc, srv.URL)
		if code != 400 || oktaErrorCode(body) != tt.code {
			t.Errorf("%s: %d %s; want 400 %s", tt.name, code, body, tt.code)
		}
	}
}

// TestSystemLogPollingFeed: following next links yields every event once,
// in order, and an empty page still links on to the events after it.
func TestSystemLogPollingFeed(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 60, Now: stoppedClock})
	hc := newSpecTransport(t).client()
	active := deviceIDsByStatus(t, hc, srv.URL)["ACTIVE"]
	toggle := func(i int) {
		for _, op := range []string{"suspend", "unsuspend"} {
			if code, _, body := (apiCall{method: "POST", path: "/api/v1/devices/" + active[i%3] + "/lifecycle/" + op, auth: sswsAdmin}).do(t, hc, srv.URL); code != 204 {
				t.Fatalf("%s: %d: %s", op, code, body)
			}
		}
	}
	var seen []string
	query := url.Values{"since": {srv.Org.Now().Format(time.RFC3339Nano)}, "limit": {"3"}}.Encode()
	for round := range 4 {
		toggle(round)
		for range 3 {
			evs, next := listLogs(t, hc, srv, query)
			if next == "" {
				t.Fatalf("polling page without a next link")
			}
			for _, e := range evs {
				seen = append(seen, e.UUID)
			}
			query = next
		}
	}
	if len(seen) != 8 || len(slices.Compact(slices.Clone(seen))) != 8 {
		t.Errorf("polling saw %d events (%d distinct); want the 8 recorded, once each", len(seen), len(slices.Compact(slices.Clone(seen))))
	}
}

func TestEventHookRules(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Fixture: fixtureWithTokens(5)})
	st := newSpecTransport(t)
	hc := st.client()
	rcv := newHookReceiver(t)
	good := func() map[string]any {
		return hookBody("cardflow", rcv.srv.URL+"/hook", rcv.secret, "device.user.remove")
	}
	with := func(change func(b map[string]any)) map[string]any {
		b := good()
		change(b)
		return b
	}
	config := func(b map[string]any) map[string]any {
		return b["channel"].(map[string]any)["config"].(map[string]any)
	}
	for _, tt := range []struct {
		name string
		body map[string]any
	}{
		{"no name", with(func(b map[string]any) { delete(b, "name") })},
		{"ineligible type", with(func(b map[string]any) {
			b["events"] = map[string]any{"type": "EVENT_TYPE", "items": []string{"user.session.end.unknown"}}
		})},
		{"no events", with(func(b map[string]any) { b["events"] = map[string]any{"type": "EVENT_TYPE", "items": []string{}} })},
		{"http on a public host", with(func(b map[string]any) { config(b)["uri"] = "http://hooks.example.com/okta" })},
		{"not a URL", with(func(b map[string]any) { config(b)["uri"] = "hooks" })},
		{"reserved header", with(func(b map[string]any) {
			config(b)["headers"] = []map[string]string{{"key": "Content-Type", "value": "text/plain"}}
		})},
		{"filter", with(func(b map[string]any) {
			b["events"].(map[string]any)["filter"] = map[string]any{"eventFilterMap": []any{}}
		})},
	} {
		code, _, body := apiCall{method: "POST", path: "/api/v1/eventHooks", auth: sswsAdmin, body: tt.body}.do(t, hc, srv.URL)
		if code != 400 || oktaErrorCode(body) != "E0000001" {
			t.Errorf("create with %s: %d %s; want 400 E0000001", tt.name, code, body)
		}
	}
	if code, _, body := (apiCall{method: "POST", path: "/api/v1/eventHooks", auth: sswsAdmin, body: with(func(b map[string]any) {
		config(b)["uri"] = "https://hooks.example.com/okta"
	})}).do(t, hc, srv.URL); code != 200 {
		t.Errorf("create with an https URI: %d: %s", code, body)
	}

	code, _, body := apiCall{method: "POST", path: "/api/v1/eventHooks", auth: sswsAdmin, body: good()}.do(t, hc, srv.URL)
	var h hookView
	if err := json.Unmarshal(body, &h); code != 200 || err != nil {
		t.Fatalf("create: %d %v: %s", code, err, body)
	}
	if h.Status != "ACTIVE" || h.VerificationStatus != "UNVERIFIED" || !strings.HasPrefix(h.ID, "who") {
		t.Errorf("new hook %+v; want ACTIVE, UNVERIFIED, a who id", h)
	}
	if h.Channel.Config.AuthScheme["value"] != "" || strings.Contains(string(body), rcv.secret) {
		t.Errorf("the auth scheme's value came back: %s", body)
	}
	path := "/api/v1/eventHooks/" + h.ID
	readOnly := "SSWS " + readOnlyAPIToken
	for _, c := range []struct {
		call     apiCall
		want     int
		wantCode string
	}{
		{apiCall{method: "GET", path: path}, 200, ""},
		{apiCall{method: "GET", path: "/api/v1/eventHooks"}, 200, ""},
		{apiCall{method: "GET", path: "/api/v1/eventHooks/whoUNKNOWN"}, 404, "E0000007"},
		{apiCall{method: "GET", path: path, auth: readOnly}, 200, ""},
		{apiCall{method: "POST", path: path + "/lifecycle/deactivate", auth: readOnly}, 403, "E0000006"},
		{apiCall{method: "DELETE", path: path}, 400, "E0000001"}, // still ACTIVE
		{apiCall{method: "PUT", path: path, body: with(func(b map[string]any) { b["name"] = "renamed" })}, 200, ""},
		{apiCall{method: "PUT", path: "/api/v1/eventHooks/whoUNKNOWN", body: good()}, 404, "E0000007"},
		{apiCall{method: "POST", path: path + "/lifecycle/verify"}, 200, ""},
		{apiCall{method: "POST", path: path + "/lifecycle/deactivate"}, 200, ""},
		{apiCall{method: "POST", path: path + "/lifecycle/activate"}, 200, ""},
		{apiCall{method: "POST", path: path + "/lifecycle/deactivate"}, 200, ""},
		{apiCall{method: "POST", path: "/api/v1/eventHooks/whoUNKNOWN/lifecycle/verify"}, 404, "E0000007"},
		{apiCall{method: "DELETE", path: path}, 204, ""},
		{apiCall{method: "DELETE", path: path}, 404, "E0000007"},
	} {
		if c.call.auth == "" {
			c.call.auth = sswsAdmin
		}
		code, _, body := c.call.do(t, hc, srv.URL)
		if code != c.want || oktaErrorCode(body) != c.wantCode {
			t.Errorf("%s %s: %d %s; want %d %s", c.call.method, c.call.path, code, body, c.want, c.wantCode)
		}
	}

	// A failed verification: 400 with Okta's cause, one retry, the hook
	// stays UNVERIFIED; the GET carried the auth header and the challenge.
	rcv.mu.Lock()
	rcv.badVerify, rcv.verifies = true, nil
	rcv.mu.Unlock()
	code, _, body = apiCall{method: "POST", path: "/api/v1/eventHooks", auth: sswsAdmin, body: good()}.do(t, hc, srv.URL)
	if err := json.Unmarshal(body, &h); code != 200 || err != nil {
		t.Fatalf("create: %d %v: %s", code, err, body)
	}
	code, _, body = apiCall{method: "POST", path: "/api/v1/eventHooks/" + h.ID + "/lifecycle/verify", auth: sswsAdmin}.do(t, hc, srv.URL)
	var verr struct {
		ErrorCode, ErrorSummary string
		ErrorCauses             []struct{ ErrorSummary string }
	}
	_ = json.Unmarshal(body, &verr)
	if code != 400 || verr.ErrorCode != "E0000001" || verr.ErrorSummary != "Api validation failed: eventHook" ||
		len(verr.ErrorCauses) != 1 || verr.ErrorCauses[0].ErrorSummary != "Unable to verify event hook. Hook cardflow execution failed" {
		t.Errorf("failed verification: %d %s; want 400 with Okta's body and cause", code, body)
	}
	rcv.mu.Lock()
	verifies := rcv.verifies
	rcv.mu.Unlock()
	if len(verifies) != 2 || verifies[0].Get("X-Okta-Verification-Challenge") == "" || verifies[0].Get("X-Other-Header") != "other" {
		t.Errorf("verification requests %v; want 2 GETs with the challenge and the custom header", verifies)
	}
	code, _, body = apiCall{method: "GET", path: "/api/v1/eventHooks/" + h.ID, auth: sswsAdmin}.do(t, hc, srv.URL)
	if code != 200 || !strings.Contains(string(body), `"verificationStatus":"UNVERIFIED"`) {
		t.Errorf("after a failed verification: %d %s; want UNVERIFIED", code, body)
	}

	// 25 active hooks at most (two exist now).
	for i := range oktaemu.MaxActiveEventHooks - 2 {
		if code, _, body := (apiCall{method: "POST", path: "/api/v1/eventHooks", auth: sswsAdmin, body: good()}).do(t, hc, srv.URL); code != 200 {
			t.Fatalf("hook %d: %d: %s", i+3, code, body)
		}
	}
	code, _, body = apiCall{method: "POST", path: "/api/v1/eventHooks", auth: sswsAdmin, body: good()}.do(t, hc, srv.URL)
	if code != 400 || !strings.Contains(string(body), "25") {
		t.Errorf("26th active hook: %d %s; want 400 naming the limit", code, body)
	}

	seen := st.seen()
	for _, want := range []string{"listEventHooks 200", "createEventHook 200", "createEventHook 400", "getEventHook 200",
		"getEventHook 404", "replaceEventHook 200", "replaceEventHook 404", "deleteEventHook 400", "deleteEventHook 404",
		"activateEventHook 200", "deactivateEventHook 200", "deactivateEventHook 403", "verifyEventHook 200", "verifyEventHook 400", "verifyEventHook 404"} {
		if seen[want] == 0 {
			t.Errorf("no validated response for %q; validated %v", want, seen)
		}
	}
}

func TestEventHookDeliveries(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 60, Now: stoppedClock})
	hc := newSpecTransport(t).client()
	active := deviceIDsByStatus(t, hc, srv.URL)["ACTIVE"]
	rcv := newHookReceiver(t)
	other := newHookReceiver(t)
	hookID := createVerifiedHook(t, hc, srv, rcv, "device.lifecycle.suspend", "device.lifecycle.unsuspend")
	// A hook that is not verified receives nothing.
	if code, _, body := (apiCall{method: "POST", path: "/api/v1/eventHooks", auth: sswsAdmin, body: hookBody("unverified", other.srv.URL, other.secret, "device.lifecycle.suspend")}).do(t, hc, srv.URL); code != 200 {
		t.Fatalf("create: %d: %s", code, body)
	}
	suspend := func(op string, i int) {
		t.Helper()
		if code, _, body := (apiCall{method: "POST", path: "/api/v1/devices/" + active[i] + "/lifecycle/" + op, auth: sswsAdmin}).do(t, hc, srv.URL); code != 204 {
			t.Fatalf("%s: %d: %s", op, code, body)
		}
	}
	suspend("suspend", 0)
	suspend("deactivate", 1) // not subscribed
	waitDeliveries(t, srv)
	got := rcv.got()
	if len(got) != 1 {
		t.Fatalf("%d deliveries; want 1", len(got))
	}
	d := got[0]
	env := d.envelope
	if d.header.Get("Authorization") != rcv.secret || d.header.Get("Content-Type") != "application/json" ||
		d.header.Get("X-Other-Header") != "other" || d.header.Get("User-Agent") != "Okta-Integrations" {
		t.Errorf("delivery headers %v", d.header)
	}
	if env.EventType != "com.okta.event_hook" || env.CloudEventsVersion != "0.1" || env.EventTypeVersion != "1.0" ||
		env.ContentType != "application/json" || env.EventID == "" || env.Source != srv.URL+"/api/v1/eventHooks/"+hookID {
		t.Errorf("envelope %+v", env)
	}
	logged, _ := listLogs(t, hc, srv, url.Values{"filter": {`eventType eq "device.lifecycle.suspend"`}}.Encode())
	if len(env.Data.Events) != 1 || len(logged) != 1 || env.Data.Events[0].UUID != logged[0].UUID || env.Data.Events[0].target("UDDevice") != active[0] {
		t.Errorf("delivered %+v; want the System Log's event %+v", env.Data.Events, logged)
	}
	if len(other.got()) != 0 {
		t.Errorf("an unverified hook received %d deliveries", len(other.got()))
	}

	// A deactivated hook receives nothing.
	apiCall{method: "POST", path: "/api/v1/eventHooks/" + hookID + "/lifecycle/deactivate", auth: sswsAdmin}.do(t, hc, srv.URL)
	suspend("unsuspend", 0)
	waitDeliveries(t, srv)
	if n := len(rcv.got()); n != 1 {
		t.Errorf("a deactivated hook received a delivery (%d in all)", n)
	}
	if st := srv.Org.DeliveryStats(); st.Sent != 1 || st.Failed != 0 || st.Pending != 0 {
		t.Errorf("stats %+v; want 1 sent", st)
	}
}

func TestEventHookRetries(t *testing.T) {
	var logs emutest.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := emutest.Start(t, oktaemu.Config{Devices: 60, Now: stoppedClock, Logger: logger})
	hc := newSpecTransport(t).client()
	active := deviceIDsByStatus(t, hc, srv.URL)["ACTIVE"]
	rcv := newHookReceiver(t)
	createVerifiedHook(t, hc, srv, rcv, "device.lifecycle.suspend")
	tests := []struct {
		name     string
		answer   func(n int) int
		attempts int // received by the hook; -1: not counted
		stats    oktaemu.DeliveryStats
		timeout  time.Duration // of the deliveries; 0: the default
	}{
		{"5xx then 200", func(n int) int { return map[bool]int{true: 503, false: 200}[n%2 == 1] }, 2, oktaemu.DeliveryStats{Sent: 1, Retried: 1}, 0},
		{"5xx twice", func(int) int { return 500 }, 2, oktaemu.DeliveryStats{Failed: 1, Retried: 1}, 0},
		{"4xx", func(int) int { return 400 }, 1, oktaemu.DeliveryStats{Failed: 1}, 0},
		{"204", func(int) int { return 204 }, 1, oktaemu.DeliveryStats{Sent: 1}, 0},
		// The hook never answers, so any timeout expires: a short one keeps
		// the test from waiting, but may expire before a request reaches
		// the hook, so the hook's count is not checked; the logged reason
		// shows that both attempts timed out.
		{"timeout twice", func(int) int { return 0 }, -1, oktaemu.DeliveryStats{Failed: 1, Retried: 1}, time.Millisecond},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Org.Reset()
			createVerifiedHook(t, hc, srv, rcv, "device.lifecycle.suspend")
			rcv.mu.Lock()
			rcv.deliveries, rcv.answer = nil, tt.answer
			rcv.mu.Unlock()
			srv.Org.SetHookTimeout(tt.timeout)
			defer srv.Org.SetHookTimeout(0)
			logged := len(logs.String())
			if code, _, body := (apiCall{method: "POST", path: "/api/v1/devices/" + active[i] + "/lifecycle/suspend", auth: sswsAdmin}).do(t, hc, srv.URL); code != 204 {
				t.Fatalf("suspend: %d: %s", code, body)
			}
			waitDeliveries(t, srv)
			got := rcv.got()
			if tt.attempts >= 0 && len(got) != tt.attempts {
				t.Errorf("%d attempts; want %d", len(got), tt.attempts)
			}
			if len(got) > 2 {
				t.Errorf("%d attempts; want at most 2", len(got))
			}
			if len(got) == 2 && got[0].envelope.EventID != got[1].envelope.EventID {
				t.Errorf("a retry has another eventId")
			}
			if st := srv.Org.DeliveryStats(); st != tt.stats {
				t.Errorf("stats %+v; want %+v", st, tt.stats)
			}
			if tt.stats.Failed > 0 {
				evs, _ := listLogs(t, hc, srv, url.Values{"filter": {`eventType eq "event_hook.delivery"`}}.Encode())
				if len(evs) != 1 || evs[0].Outcome.Result != "FAILURE" {
					t.Errorf("failed delivery logged as %+v; want one event_hook.delivery FAILURE", evs)
				}
			}
			if tt.timeout > 0 {
				var failure string
				for _, line := range strings.Split(logs.String()[logged:], "\n") {
					if strings.Contains(line, "event hook delivery failed") {
						failure = line
					}
				}
				if !strings.Contains(failure, "deadline exceeded") && !strings.Contains(failure, "timeout") {
					t.Errorf("delivery failure logged as %q; want a timeout", failure)
				}
			}
		})
	}
}

func TestEventHookFaults(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 60, Now: stoppedClock})
	hc := newSpecTransport(t).client()
	active := deviceIDsByStatus(t, hc, srv.URL)["ACTIVE"]
	rcv := newHookReceiver(t)
	createVerifiedHook(t, hc, srv, rcv, "device.lifecycle.suspend", "device.lifecycle.unsuspend")
	op := func(op string, i int) {
		t.Helper()
		if code, _, body := (apiCall{method: "POST", path: "/api/v1/devices/" + active[i] + "/lifecycle/" + op, auth: sswsAdmin}).do(t, hc, srv.URL); code != 204 {
			t.Fatalf("%s: %d: %s", op, code, body)
		}
		waitDeliveries(t, srv)
	}
	fault := func(body string) {
		t.Helper()
		if r := emuControl(t, srv, "POST", "/_emulator/faults", body); r.status != 204 {
			t.Fatalf("fault %s: %d: %s", body, r.status, r.body)
		}
	}
	fault(`{"hook":"drop","count":1}`)
	op("suspend", 0)
	if n := len(rcv.got()); n != 0 {
		t.Fatalf("a dropped delivery arrived (%d)", n)
	}
	fault(`{"hook":"duplicate","count":1}`)
	op("unsuspend", 0)
	got := rcv.got()
	if len(got) != 2 || got[0].envelope.EventID != got[1].envelope.EventID || got[0].envelope.Data.Events[0].UUID != got[1].envelope.Data.Events[0].UUID {
		t.Fatalf("duplicated delivery: %d deliveries; want the same one twice", len(got))
	}
	fault(`{"hook":"delay","count":1,"delay":"5s"}`)
	op("suspend", 1)
	op("suspend", 2)
	evs := rcv.events()
	if len(evs) != 3 || evs[2].target("UDDevice") != active[2] {
		t.Fatalf("with the first delivery delayed: %d events; want the second one only", len(evs)-2)
	}
	srv.AdvanceClock(t, 4*time.Second)
	waitDeliveries(t, srv)
	if len(rcv.events()) != 3 {
		t.Fatalf("a delayed delivery arrived before its delay")
	}
	srv.AdvanceClock(t, time.Second)
	waitDeliveries(t, srv)
	evs = rcv.events()
	if len(evs) != 4 || evs[3].target("UDDevice") != active[1] {
		t.Fatalf("after the delay: %d events, last %+v; want the delayed one last", len(evs), evs[len(evs)-1])
	}
	r := emuControl(t, srv, "GET", "/_emulator/stats", "")
	var stats struct {
		Deliveries oktaemu.DeliveryStats `json:"deliveries"`
	}
	if err := json.Unmarshal([]byte(r.body), &stats); err != nil {
		t.Fatal(err)
	}
	want := oktaemu.DeliveryStats{Sent: 4, Dropped: 1, Duplicated: 1, Delayed: 1}
	if stats.Deliveries != want {
		t.Errorf("stats %+v; want %+v", stats.Deliveries, want)
	}

	// A probabilistic fault affects about that share of deliveries,
	// deterministically for a seed.
	srv.Org.Reset()
	rcv.mu.Lock()
	rcv.deliveries = nil
	rcv.mu.Unlock()
	createVerifiedHook(t, hc, srv, rcv, "device.lifecycle.suspend", "device.lifecycle.unsuspend")
	fault(`{"hook":"drop","probability":0.5,"seed":7}`)
	for i := range 20 {
		op("suspend", i%10)
		op("unsuspend", i%10)
	}
	st := srv.Org.DeliveryStats()
	if st.Dropped < 5 || st.Dropped > 35 || st.Dropped+st.Sent != 40 {
		t.Errorf("with half dropped: %+v; want about 20 of 40 dropped", st)
	}

	for _, bad := range []string{`{"hook":"lose"}`, `{"hook":"delay","count":1}`, `{"hook":"drop","probability":2}`} {
		if r := emuControl(t, srv, "POST", "/_emulator/faults", bad); r.status != 400 {
			t.Errorf("fault %s: %d; want 400", bad, r.status)
		}
	}
}

// TestEventHookBatches: events recorded while a delivery is in flight go
// out together in the next one.
func TestEventHookBatches(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 60, Now: stoppedClock})
	hc := newSpecTransport(t).client()
	active := deviceIDsByStatus(t, hc, srv.URL)["ACTIVE"]
	rcv := newHookReceiver(t)
	createVerifiedHook(t, hc, srv, rcv, "device.lifecycle.suspend")
	arrived, release := make(chan struct{}), make(chan struct{})
	rcv.mu.Lock()
	rcv.answer = func(n int) int {
		if n == 1 {
			close(arrived)
			<-release
		}
		return 200
	}
	rcv.mu.Unlock()
	for i := range 6 {
		if code, _, body := (apiCall{method: "POST", path: "/api/v1/devices/" + active[i] + "/lifecycle/suspend", auth: sswsAdmin}).do(t, hc, srv.URL); code != 204 {
			t.Fatalf("suspend: %d: %s", code, body)
		}
		if i == 0 {
			<-arrived // the first delivery is at the receiver
		}
	}
	close(release)
	waitDeliveries(t, srv)
	got := rcv.got()
	if len(got) != 2 || len(got[1].envelope.Data.Events) != 5 {
		t.Fatalf("%d deliveries; want 2, the second with the 5 events recorded meanwhile", len(got))
	}
}

func TestDeviceControlEndpoints(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 5})
	for _, tt := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/_emulator/devices", `{"user":"nobody@example.com"}`, 404},
		{"POST", "/_emulator/devices", `{"user":"admin@example.com","platform":"BEOS"}`, 400},
		{"POST", "/_emulator/devices", `not json`, 400},
		{"POST", "/_emulator/devices/guoUNKNOWN/users", `{"user":"admin@example.com"}`, 404},
		{"DELETE", "/_emulator/devices/guoUNKNOWN/users/admin@example.com", ``, 404},
	} {
		if r := emuControl(t, srv, tt.method, tt.path, tt.body); r.status != tt.want {
			t.Errorf("%s %s %s: %d %s; want %d", tt.method, tt.path, tt.body, r.status, r.body, tt.want)
		}
	}
	r := emuControl(t, srv, "POST", "/_emulator/devices", `{"user":"admin@example.com"}`)
	var dev struct{ ID string }
	if err := json.Unmarshal([]byte(r.body), &dev); r.status != 201 || err != nil {
		t.Fatalf("enroll: %d %s", r.status, r.body)
	}
	if r := emuControl(t, srv, "POST", "/_emulator/devices/"+dev.ID+"/users", `{"user":"admin@example.com"}`); r.status != 400 {
		t.Errorf("adding a device's own user again: %d; want 400", r.status)
	}
	if r := emuControl(t, srv, "DELETE", "/_emulator/devices/"+dev.ID+"/users/user@example.com", ""); r.status != 404 {
		t.Errorf("removing a user the device does not have: %d; want 404", r.status)
	}
}

// TestSystemLogPollingCursorAge: a polling cursor is refused, as a since
// that far back is, once its position last moved more than 180 days ago;
// one kept in use (each page's next link, in an org that records events)
// is never too old. A page that finds nothing new links on with the
// cursor it was asked with.
func TestSystemLogPollingCursorAge(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 3})
	hc := newSpecTransport(t).client()
	_, kept := listLogs(t, hc, srv, url.Values{"since": {srv.Org.Now().Format(time.RFC3339Nano)}}.Encode())
	if _, again := listLogs(t, hc, srv, kept); again != kept {
		t.Errorf("a page with nothing new linked on to %q; want the cursor it was asked with, %q", again, kept)
	}
	used := kept
	for i := range 4 { // an event and a page every 50 days: each next link is fresh
		srv.AdvanceClock(t, 50*24*time.Hour)
		emuControl(t, srv, "POST", "/_emulator/devices", fmt.Sprintf(`{"user":"admin@example.com","displayName":"Laptop %d"}`, i))
		_, used = listLogs(t, hc, srv, used)
	}
	if used == "" || used == kept {
		t.Fatalf("polling next link %q; want a new one", used)
	}
	code, _, body := apiCall{method: "GET", path: "/api/v1/logs?" + kept, auth: sswsAdmin}.do(t, hc, srv.URL)
	if code != 400 || oktaErrorCode(body) != "E0000001" || !strings.Contains(string(body), "180 days") {
		t.Errorf("a cursor of 200 days ago: %d %s; want 400 E0000001 naming its age", code, body)
	}
}
