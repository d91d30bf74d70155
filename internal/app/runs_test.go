package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// runJSON is the API's card run.
type runJSON struct {
	ID             string          `json:"id"`
	Card           string          `json:"card"`
	Status         string          `json:"status"`
	Output         json.RawMessage `json:"output"`
	OktaRequestIDs []string        `json:"oktaRequestIds"`
	Error          *struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

func (h *harness) run(card, connection string, input map[string]any) (int, runJSON) {
	h.t.Helper()
	var r runJSON
	code, _ := h.call("POST", "/api/v1/runs", map[string]any{"card": card, "connection": connection, "input": input}, &r)
	return code, r
}

// firstDevice returns the id and status of a device with status.
func (h *harness) deviceWithStatus(connection, status string) string {
	h.t.Helper()
	code, r := h.run("okta-devices/search-devices", connection, map[string]any{"status": status, "resultSet": "first"})
	if code != http.StatusCreated || r.Status != "succeeded" {
		h.t.Fatalf("search-devices: %d %+v", code, r)
	}
	var out struct {
		Devices []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"devices"`
	}
	if err := json.Unmarshal(r.Output, &out); err != nil || len(out.Devices) == 0 {
		h.t.Fatalf("search-devices found no %s device: %v %s", status, err, r.Output)
	}
	return out.Devices[0].ID
}

func TestRunCards(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 20}, nil)
	c := h.connect("Prod")
	id := h.deviceWithStatus("Prod", "ACTIVE")

	code, r := h.run("okta-devices/suspend-device", "Prod", map[string]any{"deviceId": id})
	if code != http.StatusCreated || r.Status != "succeeded" || !strings.Contains(string(r.Output), `"SUSPENDED"`) {
		t.Fatalf("suspend-device: %d %+v %s", code, r, r.Output)
	}
	if len(r.OktaRequestIDs) == 0 {
		t.Errorf("the run has no Okta request ids")
	}
	// Again: already there, changed false.
	if _, r2 := h.run("okta-devices/suspend-device", c.ID, map[string]any{"deviceId": id}); r2.Status != "succeeded" || !strings.Contains(string(r2.Output), `"changed": false`) {
		t.Errorf("second suspend: %+v %s; want succeeded with changed false", r2, r2.Output)
	}
	// A disallowed transition fails with the current status named.
	_, r3 := h.run("okta-devices/delete-device", "Prod", map[string]any{"deviceId": id})
	if r3.Status != "failed" || r3.Error == nil || !strings.Contains(r3.Error.Message, "SUSPENDED") {
		t.Errorf("delete a suspended device: %+v; want failed naming SUSPENDED", r3)
	}

	// The run is in the history, with its error.
	var got runJSON
	if code, data := h.call("GET", "/api/v1/runs/"+r3.ID, nil, &got); code != 200 || got.Status != "failed" || got.Error == nil {
		t.Errorf("GET run: %d %s", code, data)
	}
	var list struct {
		Runs []runJSON `json:"runs"`
	}
	h.call("GET", "/api/v1/runs?card=okta-devices/suspend-device", nil, &list)
	if len(list.Runs) != 2 {
		t.Errorf("runs of suspend-device: %d; want 2", len(list.Runs))
	}

	// Audit: every card run, with its Okta request id and acting account.
	events := h.audit("action=card.run")
	if len(events) != 4 {
		t.Fatalf("card.run audit events: %d; want 4 (search, suspend twice, delete)", len(events))
	}
	suspend := events[1]
	if suspend["card"] != "okta-devices/suspend-device" || suspend["actingAs"] != oktaemu.AdminLogin ||
		suspend["oktaRequestId"] == nil || suspend["connectionId"] != c.ID || !strings.Contains(suspend["inputSummary"].(string), id) ||
		fmt.Sprint(suspend["actor"]) != "map[type:bootstrap]" || suspend["outcome"] != "success" {
		t.Errorf("audit event of the suspend: %v", suspend)
	}
	if events[3]["outcome"] != "failure" || events[3]["error"] == nil {
		t.Errorf("audit event of the failed delete: %v", events[3])
	}

	// Request errors are not runs.
	tests := []struct {
		name       string
		body       map[string]any
		wantStatus int
		wantCode   string
	}{
		{name: "unknown card", body: map[string]any{"card": "okta-devices/melt-device", "connection": "Prod", "input": map[string]any{}}, wantStatus: 400, wantCode: "invalid_input"},
		{name: "unknown connection", body: map[string]any{"card": "okta-devices/read-device", "connection": "Nope", "input": map[string]any{"deviceId": id}}, wantStatus: 404, wantCode: "not_found"},
		{name: "missing input", body: map[string]any{"card": "okta-devices/read-device", "connection": "Prod", "input": map[string]any{}}, wantStatus: 400, wantCode: "invalid_input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiErr
			code, data := h.call("POST", "/api/v1/runs", tt.body, &e)
			if code != tt.wantStatus || e.Error.Code != tt.wantCode {
				t.Errorf("got %d %s; want %d %s\n%s", code, e.Error.Code, tt.wantStatus, tt.wantCode, data)
			}
		})
	}
}

func TestRunInsufficientScopeMakesNoCall(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 5}, nil)
	c, authURL := h.create("ReadOnly", oktaemu.DemoClientSecret, []string{"okta.devices.read"})
	if code, page := h.signIn(authURL, oktaemu.AdminLogin); code != http.StatusOK {
		t.Fatalf("authorize: %d\n%s", code, page)
	}
	id := h.deviceWithStatus(c.ID, "ACTIVE")
	before := h.emu.Stats(t)
	code, r := h.run("okta-devices/suspend-device", "ReadOnly", map[string]any{"deviceId": id})
	if code != http.StatusCreated || r.Status != "failed" || r.Error == nil || r.Error.Code != "insufficient_scope" {
		t.Fatalf("suspend with read-only scopes: %d %+v; want a failed run with insufficient_scope", code, r)
	}
	for _, w := range []string{"okta-devices/suspend-device", "okta.devices.manage", "reauthorize"} {
		if !strings.Contains(r.Error.Message, w) {
			t.Errorf("insufficient_scope message %q does not mention %q", r.Error.Message, w)
		}
	}
	after := h.emu.Stats(t)
	for k, n := range after {
		if strings.Contains(k, "/api/v1/devices") && n != before[k] {
			t.Errorf("the preflight let %d call(s) %s reach the org; want none", n-before[k], k)
		}
	}
}

// TestRunAfterRevokedGrant: a scope grant revoked on the OAuth app is left
// out of the connection's next token, and from then on a card needing it
// fails with Insufficient Scope before calling the org, and the connection
// shows it missing.
func TestRunAfterRevokedGrant(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 5})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now = emu.Now })
	c := h.connect("Prod")
	id := h.deviceWithStatus(c.ID, "ACTIVE")
	h.emu.RevokeGrant(t, "okta.devices.manage")
	h.emu.AdvanceClock(t, time.Hour) // the access token that still had it expires
	before := h.emu.Stats(t)
	code, r := h.run("okta-devices/suspend-device", "Prod", map[string]any{"deviceId": id})
	if code != http.StatusCreated || r.Status != "failed" || r.Error == nil || r.Error.Code != "insufficient_scope" ||
		!strings.Contains(r.Error.Message, "okta.devices.manage") || strings.Contains(r.Error.Message, "Okta refused") {
		t.Fatalf("suspend after the grant was revoked: %d %+v; want a failed run with the preflight's insufficient_scope", code, r.Error)
	}
	after := h.emu.Stats(t)
	for k, n := range after {
		if strings.Contains(k, "/lifecycle/") && n != before[k] {
			t.Errorf("the preflight let %d call(s) %s reach the org; want none", n-before[k], k)
		}
	}
	if got := h.connection(c.ID); !slices.Equal(got.MissingScopes, []string{"okta.devices.manage"}) {
		t.Errorf("connection after the refresh: missing %v; want [okta.devices.manage]", got.MissingScopes)
	}
}

// TestOktaRefusedScopeNamesScopesNow: when the org refuses a token this
// server still took for fresh (revoked, or expired by the org's clock),
// the connection refreshes it during the call and the new token lacks a
// scope revoked meanwhile; Okta's insufficient_scope then lists the
// connection's granted scopes as they are after that refresh, not the
// ones read before the run, which still had the scope Okta refused.
func TestOktaRefusedScopeNamesScopesNow(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 5})
	start := emu.Now()
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now = func() time.Time { return start } })
	c := h.connect("Prod")
	id := h.deviceWithStatus(c.ID, "ACTIVE")
	h.emu.RevokeGrant(t, "okta.devices.manage")
	h.emu.AdvanceClock(t, time.Hour) // the org's clock only: this server still takes the token for fresh
	code, r := h.run("okta-devices/suspend-device", "Prod", map[string]any{"deviceId": id})
	if code != http.StatusCreated || r.Status != "failed" || r.Error == nil || r.Error.Code != "insufficient_scope" ||
		!strings.Contains(r.Error.Message, "Okta refused") {
		t.Fatalf("suspend: %d %+v; want a failed run with Okta's insufficient_scope", code, r.Error)
	}
	_, granted, _ := strings.Cut(r.Error.Message, "was granted")
	if granted, _, _ = strings.Cut(granted, ")"); strings.Contains(granted, "okta.devices.manage") {
		t.Errorf("message: %q; want the granted scopes without okta.devices.manage", r.Error.Message)
	}
	if g, _ := r.Error.Details["grantedScopes"].([]any); slices.Contains(g, any("okta.devices.manage")) {
		t.Errorf("grantedScopes: %v; want them without okta.devices.manage", g)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 3}, nil)
	c := h.connect("Metered")
	h.run("okta-devices/search-devices", c.ID, map[string]any{"resultSet": "first"})
	h.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, nil)
	if code, _ := h.callWith("", "GET", "/metrics", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d; want 401", code)
	}
	// A scraper needs no more than a viewer's token: viewers read
	// everything but secrets, and metrics hold none.
	viewer, err := h.app.Tokens.Create(t.Context(), access.Bootstrap, "prometheus", access.Viewer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if code, data := h.callWith(viewer.Token, "GET", "/metrics", nil, nil); code != http.StatusOK || !strings.Contains(string(data), "cardflow_card_runs_total") {
		t.Errorf("/metrics with a viewer token: %d; want 200 with the metrics", code)
	}
	if code, _ := h.callWith(access.TokenPrefix+"wrong", "GET", "/metrics", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong personal token: %d; want 401", code)
	}
	code, data := h.call("GET", "/metrics", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`cardflow_card_runs_total{card="okta-devices/search-devices"`,
		`cardflow_okta_request_duration_seconds`,
		`cardflow_oauth_token_requests_total{grant_type="authorization_code",status="200"} 1`,
		`cardflow_oauth_token_requests_total{grant_type="refresh_token",status="200"} 1`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// pageAll follows a list's next addresses from path and returns the ids
// (key id, or uuid for events) of the records in the order listed, failing
// the test on a record listed twice.
func pageAll(t *testing.T, h *harness, path, list, key string) (ids []string, pages int) {
	t.Helper()
	seen := map[string]bool{}
	for path != "" {
		var page map[string]any
		if code, data := h.call("GET", path, nil, &page); code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, data)
		}
		recs, _ := page[list].([]any)
		for _, r := range recs {
			id := fmt.Sprint(r.(map[string]any)[key])
			if seen[id] {
				t.Errorf("%s %s listed twice", list, id)
			}
			seen[id] = true
			ids = append(ids, id)
		}
		if pages++; pages > 10 {
			t.Fatalf("still paging %s after %d pages", list, pages)
		}
		path, _ = page["next"].(string)
	}
	return ids, pages
}

// TestListsPageWithoutLoss: card runs, flow runs, events and audit events
// that share a timestamp (here, on a clock that stands still) are paged by (time, id):
// following next lists each once, and the last page has no next.
func TestListsPageWithoutLoss(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	h := startHarness(t, oktaemu.Config{Devices: 3}, func(c *Config) { c.Now = func() time.Time { return at } })
	c := h.connect("Prod")
	for range 7 {
		if code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); code != http.StatusCreated {
			t.Fatalf("run: %d %+v", code, r)
		}
	}
	if ids, pages := pageAll(t, h, "/api/v1/runs?limit=3&connection="+c.ID, "runs", "id"); len(ids) != 7 || pages != 3 {
		t.Errorf("paged %d card runs in %d pages; want 7 in 3", len(ids), pages)
	}
	// Personal tokens page the same way, newest first.
	for i := range 5 {
		if _, err := h.app.Tokens.Create(t.Context(), access.Bootstrap, fmt.Sprintf("t%d", i), access.Viewer, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if ids, pages := pageAll(t, h, "/api/v1/tokens?limit=2", "tokens", "id"); len(ids) != 5 || pages != 3 ||
		!slices.IsSortedFunc(ids, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("paged tokens %v in %d pages; want 5 in 3, newest (on a standing clock: the highest id) first", ids, pages)
	}
	// The audit log pages the same way: a full page has next.
	if ids, pages := pageAll(t, h, "/api/v1/audit?limit=3&action=card.run&connection=Prod", "events", "id"); len(ids) != 7 || pages != 3 {
		t.Errorf("paged %d card.run audit events in %d pages; want 7 in 3", len(ids), pages)
	}

	var put putAnswer
	if code, data := h.postYAML("/api/v1/flows", `name: find
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod
`, &put); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	for range 5 {
		if code, data := h.call("POST", "/api/v1/flows/"+put.Flow.ID+"/runs?wait=true", map[string]any{}, nil); code/100 != 2 {
			t.Fatalf("flow run: %d %s", code, data)
		}
	}
	for _, path := range []string{"/api/v1/flows/" + put.Flow.ID + "/runs?limit=2", "/api/v1/flow-runs?limit=2&flow=" + put.Flow.ID,
		"/api/v1/flow-runs?limit=2&flow=find"} { // ?flow= takes the name too, as the flow's own routes do
		if ids, pages := pageAll(t, h, path, "runs", "id"); len(ids) != 5 || pages != 3 {
			t.Errorf("%s: paged %d flow runs in %d pages; want 5 in 3", path, len(ids), pages)
		}
	}
	// A flow that does not exist is not a filter that matches nothing; a
	// filter on a flow's own runs is not taken (the path names the flow).
	if code, data := h.call("GET", "/api/v1/flow-runs?flow=finder", nil, nil); code != http.StatusNotFound {
		t.Errorf("?flow= of no flow: %d %s; want 404", code, data)
	}
	if code, data := h.call("GET", "/api/v1/flows/find/runs?flow=other", nil, nil); code != http.StatusBadRequest || !strings.Contains(string(data), `unknown query parameter \"flow\"`) {
		t.Errorf("?flow= on a flow's runs: %d %s; want 400 unknown query parameter", code, data)
	}
	// A flow's versions page the same way, newest first.
	for i := range 3 {
		if code, data := h.postYAML("/api/v1/flows", fmt.Sprintf("name: find\ndescription: take %d\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Prod\n", i), nil); code != http.StatusCreated {
			t.Fatalf("store version %d: %d %s", i+2, code, data)
		}
	}
	if vs, pages := pageAll(t, h, "/api/v1/flows/find/versions?limit=3", "versions", "version"); fmt.Sprint(vs) != "[4 3 2 1]" || pages != 2 {
		t.Errorf("paged versions %v in %d pages; want [4 3 2 1] in 2", vs, pages)
	}
	// A deleted flow's runs stay readable by its id.
	if code, data := h.call("DELETE", "/api/v1/flows/find", nil, nil); code/100 != 2 {
		t.Fatalf("delete the flow: %d %s", code, data)
	}
	if ids, _ := pageAll(t, h, "/api/v1/flow-runs?flow="+put.Flow.ID, "runs", "id"); len(ids) != 5 {
		t.Errorf("the deleted flow's runs by its id: %d; want 5", len(ids))
	}
	// By its name, which no stored flow has now, the answer says where
	// its runs are.
	want := `the flow \"find\" was deleted; its runs stay readable by its id: cardflow flows runs ` + put.Flow.ID
	if code, data := h.call("GET", "/api/v1/flow-runs?flow=find", nil, nil); code != http.StatusNotFound || !strings.Contains(string(data), want) {
		t.Errorf("?flow= of a deleted flow's name: %d %s; want 404 with %s", code, data, want)
	}

	var evs []*store.Event
	for i := range 5 {
		uuid := fmt.Sprintf("00000000-0000-4000-8000-00000000000%d", i)
		evs = append(evs, &store.Event{UUID: uuid, ConnectionID: c.ID, EventType: "device.user.remove", Published: at, ReceivedAt: at,
			Raw: json.RawMessage(`{"uuid":"` + uuid + `","eventType":"device.user.remove","published":"2026-06-01T12:00:00.000Z"}`)})
	}
	if _, err := h.app.Store.PutEvents(t.Context(), evs, store.ViaPoll); err != nil {
		t.Fatal(err)
	}
	if ids, pages := pageAll(t, h, "/api/v1/events?limit=2&connection=Prod", "events", "uuid"); len(ids) != 5 || pages != 3 {
		t.Errorf("paged %d events in %d pages; want 5 in 3", len(ids), pages)
	}

	for _, path := range []string{"/api/v1/runs?beforeId=x", "/api/v1/flow-runs?beforeId=x", "/api/v1/events?beforeId=x"} {
		if code, data := h.call("GET", path, nil, nil); code != http.StatusBadRequest || !strings.Contains(string(data), "beforeId needs before") {
			t.Errorf("%s: %d %s; want 400 saying it needs before", path, code, data)
		}
	}
}
