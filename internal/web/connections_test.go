package web

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/google/go-cmp/cmp"
)

// recordingConnections is a Connections that records the reauthorize
// selection and deletes by nickname like the manager does.
type recordingConnections struct {
	sel    *connection.ScopeSelection
	called bool
	// deleted is the delete method called: "DeleteWithResult" or
	// "DeleteIfUnused".
	deleted string
}

func (c *recordingConnections) Create(context.Context, connection.CreateInput, store.Actor) (*connection.View, string, error) {
	return nil, "", problem.New(problem.Internal, "not used")
}

func (c *recordingConnections) Reauthorize(_ context.Context, _ string, sel *connection.ScopeSelection, _ store.Actor) (string, error) {
	c.called, c.sel = true, sel
	return "https://org.example/authorize", nil
}

func (c *recordingConnections) Callback(context.Context, url.Values) (*connection.CallbackResult, error) {
	return nil, problem.New(problem.Internal, "not used")
}

func (c *recordingConnections) CreateService(context.Context, connection.ServiceInput, store.Actor) (*connection.View, json.RawMessage, error) {
	return nil, nil, problem.New(problem.Internal, "not used")
}

func (c *recordingConnections) RotateKey(context.Context, string, string, store.Actor) (*connection.View, json.RawMessage, error) {
	return nil, nil, problem.New(problem.Internal, "not used")
}

func (c *recordingConnections) Update(context.Context, string, connection.UpdateInput, store.Actor) (*connection.View, error) {
	return nil, problem.New(problem.Internal, "not used")
}

func (c *recordingConnections) Get(context.Context, string) (*connection.View, error) {
	return nil, problem.New(problem.NotFound, "no connection")
}

func (c *recordingConnections) List(context.Context) ([]*connection.View, error) { return nil, nil }

func (c *recordingConnections) ListPage(context.Context, store.NamePage) ([]*connection.View, error) {
	return nil, nil
}

func (c *recordingConnections) Test(context.Context, string, store.Actor) (*connection.TestResult, error) {
	return nil, problem.New(problem.Internal, "not used")
}

func (c *recordingConnections) DeleteWithResult(_ context.Context, idOrNickname string, _ store.Actor) (*connection.DeleteResult, error) {
	c.deleted = "DeleteWithResult"
	return &connection.DeleteResult{ID: "conn_abc", Nickname: idOrNickname, Revoked: true}, nil
}

func (c *recordingConnections) DeleteIfUnused(_ context.Context, idOrNickname string, _ store.Actor) (*connection.DeleteResult, error) {
	c.deleted = "DeleteIfUnused"
	return &connection.DeleteResult{ID: "conn_abc", Nickname: idOrNickname, Revoked: true}, nil
}

func TestReauthorizeBody(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		want     *connection.ScopeSelection
		wantCode string
	}{
		{name: "no body", body: "", want: nil},
		{name: "empty object", body: `{}`, want: nil},
		{name: "null scopes", body: `{"scopes": null}`, want: nil},
		{name: "custom", body: `{"scopes": ["okta.devices.read"]}`, want: connection.CustomScopeSelection("okta.devices.read")},
		{name: "custom with mode", body: `{"scopeMode": "custom", "scopes": ["okta.devices.read"]}`, want: connection.CustomScopeSelection("okta.devices.read")},
		{name: "default", body: `{"scopeMode": "default"}`, want: connection.DefaultScopeSelection()},
		{name: "default with scopes", body: `{"scopeMode": "default", "scopes": ["okta.devices.read"]}`, wantCode: "invalid_input"},
		{name: "default with empty scopes", body: `{"scopeMode": "default", "scopes": []}`, wantCode: "invalid_input"},
		{name: "custom without scopes", body: `{"scopeMode": "custom"}`, wantCode: "invalid_input"},
		{name: "unknown mode", body: `{"scopeMode": "inherit"}`, wantCode: "invalid_input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conns := &recordingConnections{}
			ts, _ := newTestServer(t, &Server{Connections: conns, History: emptyHistory{}})
			resp, m := do(t, "POST", ts.URL+"/api/v1/connections/Prod/reauthorize", testToken, tt.body)
			if tt.wantCode != "" {
				if resp.StatusCode != 400 || errCode(m) != tt.wantCode {
					t.Errorf("status %d code %q; want 400 %s", resp.StatusCode, errCode(m), tt.wantCode)
				}
				if conns.called {
					t.Errorf("Reauthorize was called with %+v; want the body refused first", conns.sel)
				}
				return
			}
			if resp.StatusCode != 200 || m["authorizeUrl"] == nil {
				t.Fatalf("status %d body %v; want 200 with authorizeUrl", resp.StatusCode, m)
			}
			if diff := cmp.Diff(tt.want, conns.sel); diff != "" {
				t.Errorf("selection (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeleteByNicknameAnswersWithTheID(t *testing.T) {
	ts, _ := newTestServer(t, &Server{Connections: &recordingConnections{}, History: emptyHistory{}})
	resp, m := do(t, "DELETE", ts.URL+"/api/v1/connections/Prod", testToken, "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d body %v; want 200", resp.StatusCode, m)
	}
	want := map[string]any{"id": "conn_abc", "nickname": "Prod", "deleted": true, "revoked": true}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
}

// TestDeleteIfUnusedParameter: DELETE /api/v1/connections/{id} deletes as
// it always did without ifUnused or with ifUnused=false, refuses to
// delete a connection in use only with ifUnused=true, and answers any
// other value (an empty one, a repeated one) 400 naming the allowed
// values, deleting nothing.
func TestDeleteIfUnusedParameter(t *testing.T) {
	tests := []struct {
		query, want string // want: the method called, or the 400's field
	}{
		{"", "DeleteWithResult"},
		{"?ifUnused=false", "DeleteWithResult"},
		{"?ifUnused=true", "DeleteIfUnused"},
		{"?ifUnused=yes", "ifUnused"},
		{"?ifUnused=", "ifUnused"},
		{"?ifUnused=TRUE", "ifUnused"},
		{"?ifUnused=true&ifUnused=true", "ifUnused"},
		{"?ifunused=true", "ifunused"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			conns := &recordingConnections{}
			ts, _ := newTestServer(t, &Server{Connections: conns, History: emptyHistory{}})
			resp, m := do(t, "DELETE", ts.URL+"/api/v1/connections/Prod"+tt.query, testToken, "")
			if strings.HasPrefix(tt.want, "Delete") {
				if resp.StatusCode != 200 || conns.deleted != tt.want {
					t.Errorf("status %d, called %q, body %v; want 200 from %s", resp.StatusCode, conns.deleted, m, tt.want)
				}
				return
			}
			e, _ := m["error"].(map[string]any)
			details, _ := e["details"].(map[string]any)
			if resp.StatusCode != 400 || conns.deleted != "" || details["field"] != tt.want {
				t.Fatalf("status %d, called %q, body %v; want 400 for field %s and nothing deleted", resp.StatusCode, conns.deleted, m, tt.want)
			}
			if msg, _ := e["message"].(string); tt.want == "ifUnused" && !strings.Contains(msg, "ifUnused must be true or false") {
				t.Errorf("message %q; want it to name the allowed values", msg)
			}
		})
	}
}
