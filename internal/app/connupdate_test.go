package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestConnectionUpdate changes the client secret of a connection whose
// app's secret was rotated at the org before its sign-in and of a working
// one: each needs reauthorization with a reason, its cards fail until
// then, and run again after it. A secret the org refuses is refused, the
// connection unchanged. A service connection is refused with a pointer to
// rotate-key.
func TestConnectionUpdate(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 3}, nil)
	patch := func(id string, body map[string]any) (int, connJSON, apiErr) {
		t.Helper()
		var out struct {
			Connection connJSON `json:"connection"`
		}
		code, data := h.call("PATCH", "/api/v1/connections/"+id, body, &out)
		var e apiErr
		if code != http.StatusOK {
			if err := json.Unmarshal(data, &e); err != nil {
				t.Fatalf("PATCH %s: %d %s", id, code, data)
			}
		}
		return code, out.Connection, e
	}
	// reauthorize signs a connection in through reauthorize; its page says
	// so as it was authorized before or not (want: "reauthorized" or
	// "connected").
	reauthorize := func(id, want string) {
		t.Helper()
		var re struct {
			AuthorizeURL string `json:"authorizeUrl"`
		}
		if code, data := h.call("POST", "/api/v1/connections/"+id+"/reauthorize", map[string]any{}, &re); code != http.StatusOK {
			t.Fatalf("reauthorize: %d %s", code, data)
		}
		if code, page := h.signIn(re.AuthorizeURL, oktaemu.AdminLogin); code != http.StatusOK || !strings.Contains(page, "is "+want) {
			t.Fatalf("reauthorization callback: %d\n%s", code, page)
		}
	}

	wrong, authURL := h.create("Wrong", oktaemu.DemoClientSecret, nil)
	secret := h.emu.RotateClientSecret(t, oktaemu.DemoAppID)
	h.signIn(authURL, oktaemu.AdminLogin)
	if got := h.connection(wrong.ID); got.Status != "error" || !strings.Contains(got.Remedy, "cardflow connections update "+wrong.ID+" --client-secret-stdin") {
		t.Fatalf("signed in after the app's secret was rotated: status %q, remedy %q; want error, with a remedy that names connections update", got.Status, got.Remedy)
	}
	// The secret the org no longer takes is refused, the connection
	// unchanged.
	code, _, refused := patch("wrong", map[string]any{"clientSecret": oktaemu.DemoClientSecret})
	if code != http.StatusBadRequest || refused.Error.Code != "invalid_input" || refused.Error.Details["field"] != "clientSecret" || !strings.Contains(refused.Error.Message, "invalid_client") {
		t.Errorf("PATCH with the old secret: %d %+v; want 400 invalid_input on clientSecret naming invalid_client", code, refused.Error)
	}
	if got := h.connection(wrong.ID); got.Status != "error" || got.StatusReasonCode != "client_secret_refused" {
		t.Errorf("after the refused PATCH: status %q (%s); want error client_secret_refused, unchanged", got.Status, got.StatusReasonCode)
	}
	code, v, _ := patch("wrong", map[string]any{"clientSecret": secret})
	if code != http.StatusOK || v.Status != "needs_reauthorization" || !strings.Contains(v.StatusReason, "client secret was changed") || v.Remedy == "" {
		t.Fatalf("PATCH: %d %+v; want needs_reauthorization with a reason and a remedy", code, v)
	}
	reauthorize(wrong.ID, "connected") // its first sign-in failed
	if code, r := h.run("okta-devices/search-devices", wrong.ID, map[string]any{"resultSet": "first"}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("a card after the update and reauthorization: %d %+v", code, r)
	}

	// A working connection: its tokens are discarded at once.
	if code, v, _ := patch(wrong.ID, map[string]any{"clientSecret": secret, "clientId": oktaemu.DemoClientID}); code != http.StatusOK || v.Status != "needs_reauthorization" {
		t.Fatalf("PATCH of an active connection: %d %+v", code, v)
	}
	if _, r := h.run("okta-devices/search-devices", wrong.ID, map[string]any{"resultSet": "first"}); r.Status != "failed" || r.Error == nil || !strings.Contains(r.Error.Message+r.Error.Code, "reauthoriz") {
		t.Errorf("a card before the reauthorization: %+v; want a failure asking for reauthorization", r)
	}
	reauthorize(wrong.ID, "reauthorized")
	if _, r := h.run("okta-devices/search-devices", wrong.ID, map[string]any{"resultSet": "first"}); r.Status != "succeeded" {
		t.Errorf("a card after the second reauthorization: %+v", r)
	}

	tests := []struct {
		name     string
		body     map[string]any
		wantCode int
		field    string
	}{
		{name: "no secret", body: map[string]any{"clientId": "x"}, wantCode: http.StatusBadRequest, field: "clientSecret"},
		{name: "bad client id", body: map[string]any{"clientId": "has space", "clientSecret": "s"}, wantCode: http.StatusBadRequest, field: "clientId"},
		{name: "domain is not changeable", body: map[string]any{"domain": "other.okta.com", "clientSecret": "s"}, wantCode: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, e := patch(wrong.ID, tt.body)
			if code != tt.wantCode || (tt.field != "" && e.Error.Details["field"] != tt.field) {
				t.Errorf("PATCH %v: %d %+v; want %d on field %q", tt.body, code, e, tt.wantCode, tt.field)
			}
		})
	}
	if got := h.connection(wrong.ID); got.Status != "active" {
		t.Errorf("refused updates changed the connection: status %q", got.Status)
	}

	svc, _ := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	code, _, e := patch(svc.ID, map[string]any{"clientSecret": "s"})
	if remedy, _ := e.Error.Details["remedy"].(string); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "private key") || !strings.Contains(remedy, "rotate-key") {
		t.Errorf("PATCH of a service connection: %d %+v; want 400 pointing to rotate-key", code, e)
	}

	var updates []map[string]any
	outcomes := map[string]int{}
	orgRefused := false
	for _, ev := range h.audit("action=connection.update") {
		updates = append(updates, ev)
		outcomes[ev["outcome"].(string)]++
		if s, _ := ev["inputSummary"].(string); strings.Contains(s, oktaemu.DemoClientSecret) || strings.Contains(s, secret) {
			t.Errorf("the audit records a secret: %v", ev)
		}
		if msg, _ := ev["error"].(string); strings.Contains(msg, "invalid_client") {
			orgRefused = true
		}
	}
	if outcomes["success"] != 2 || outcomes["failure"] < 3 || !orgRefused {
		t.Errorf("connection.update audit events %v; want the two successes and the refusals, the org's among them", updates)
	}
}
