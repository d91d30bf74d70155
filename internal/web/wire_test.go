package web

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/store"
)

var update = flag.Bool("update", false, "rewrite testdata/wire.json from the current conversions")

// The conversions of this file are those of the handlers; the samples
// below go through them.
func wireConnection(v *connection.View) any { return connectionJSON(v) }

func wireConnectionDetail(v *connection.View) any {
	return api.ConnectionDetail{Connection: connectionJSON(v), EventSource: &api.EventSource{
		HookStatus: "deactivated", Reason: "Okta deactivated the event hook", EventTypes: []string{},
		UpdatedAt: wireTime}}
}

func wirePlan(p *flow.PlanResult) any { return planJSON(p) }

func wireConnectors(cs []card.Connector) any {
	return api.ConnectorList{Connectors: connectorsJSON(cs)}
}

var wireTime = time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC)

// wireSamples are representative answers of the API built from domain
// values: empty and nil lists, absent and present optional fields.
func wireSamples(t *testing.T) map[string]any {
	t.Helper()
	at := wireTime
	later := at.Add(90 * time.Second)
	pending := &connection.View{ID: "conn_1", Connector: "okta-devices", Nickname: "Prod", Domain: "example.okta.com",
		ClientID: "0oa1", Status: "pending", ScopeMode: "default", Auth: "user", CreatedAt: at, UpdatedAt: at}
	active := &connection.View{ID: "conn_2", Connector: "okta-devices", Nickname: "Svc", Domain: "example.okta.com",
		ClientID: "0oa2", Status: "active", StatusReason: "r", Remedy: "m", StatusReasonCode: "key_refused", ScopeMode: "custom",
		RequestedScopes: []string{"okta.devices.read", "okta.devices.manage"}, GrantedScopes: []string{"okta.devices.read"},
		MissingScopes: []string{"okta.devices.manage"}, MissingScopeCards: map[string][]string{"okta.devices.manage": {"okta-devices/suspend-device"}},
		AuthorizedBy: &connection.AuthorizedBy{Type: "service", ClientID: "0oa2"}, AuthorizedAt: &at, Auth: "service",
		RefreshTokenExpiresAt: &later, ExpiresSoon: true, DPoP: true,
		PublicJWK: json.RawMessage(`{"kty":"EC"}`), NextPublicJWK: json.RawMessage(`{"kty":"RSA"}`), CreatedAt: at, UpdatedAt: later}
	user := &connection.View{ID: "conn_3", Status: "active", AuthorizedBy: &connection.AuthorizedBy{Type: "user", UserID: "00u1", Login: "a@example.com", Name: "A"},
		RequestedScopes: []string{}, GrantedScopes: []string{}, MissingScopes: []string{}, MissingScopeCards: map[string][]string{}}

	doc, err := flow.Parse([]byte(`name: wire
description: a flow for the wire test
inputs:
  login: {type: string, required: true, description: whose devices}
  dryRun: {type: bool, default: true}
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod
    input: {status: ACTIVE}
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod
    for_each: ${{ steps.find.output.devices }}
    input: {deviceId: "${{ item.id }}"}
`))
	if err != nil {
		t.Fatal(err)
	}
	stored := &store.Flow{ID: "flow_1", Name: "wire", Source: []byte("name: wire\n"), Version: 3, StoredBy: store.Actor{Type: store.ActorUser, Login: "a@example.com"},
		Trigger: []byte(`{"cron":"0 2 * * *","kind":"schedule","timezone":"UTC"}`), Enabled: true, NextRunAt: later,
		EnabledBy: store.Actor{Type: store.ActorToken, Login: "a@example.com", TokenName: "ci"}, CreatedAt: at, UpdatedAt: later}
	bare := &store.Flow{ID: "flow_2", Name: "bare", CreatedAt: at, UpdatedAt: at}
	// A flow whose document (parsed from its source) has a warning.
	est := &store.Flow{ID: "flow_3", Name: "est", Version: 1, CreatedAt: at, UpdatedAt: at,
		Source:  []byte("name: est\non:\n  schedule:\n    cron: \"0 2 * * *\"\n    timezone: EST\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Prod\n"),
		Trigger: []byte(`{"cron":"0 2 * * *","kind":"schedule","timezone":"EST"}`)}
	estDoc, err := flow.Parse(est.Source)
	if err != nil {
		t.Fatal(err)
	}

	full := &store.Run{ID: "run_1", Card: "okta-devices/suspend-device", ConnectionID: "conn_1", ConnectionNickname: "Prod",
		Actor: store.Actor{Type: store.ActorBootstrap}, ActingAs: "a@example.com", Status: "failed",
		Input: json.RawMessage(`{"deviceId":"guo1"}`), Output: json.RawMessage(`{"status":"SUSPENDED"}`),
		ErrorCode: "upstream_error", ErrorMessage: "Okta answered 500", Remedy: "try again", OktaRequestIDs: []string{"r1", "r2"},
		FlowRunID: "frun_1", StepID: "suspend", ItemIndex: 0, StartedAt: at, FinishedAt: later}
	minimal := &store.Run{ID: "run_2", Card: "okta-devices/read-device", Status: "running", StartedAt: at}

	plan := &flow.PlanResult{Flow: "wire", Steps: []flow.PlanStep{
		{ID: "find", Card: "okta-devices/search-devices", Mode: "read", Items: 1, Changes: []flow.Change{}},
		{ID: "suspend", Card: "okta-devices/suspend-device", Mode: "manage", Items: 3,
			Changes: []flow.Change{{DeviceID: "guo1", From: "ACTIVE", To: "SUSPENDED"}, {Call: "POST /api/v1/x"}},
			Errors:  []flow.PlanError{{Index: -1, Message: "m"}}, Unsimulated: []flow.Unsimulated{{Index: 2, Call: "POST /api/v1/x"}}},
		{ID: "never", Card: "okta-devices/delete-device", Mode: "manage"},
	}}

	return map[string]any{
		"connection pending":     wireConnection(pending),
		"connection service":     wireConnection(active),
		"connection user":        wireConnection(user),
		"connection detail":      wireConnectionDetail(active),
		"run full":               runJSON(full),
		"run minimal":            runJSON(minimal),
		"run from result":        resultJSON("okta-devices/read-device", &card.Result{RunID: "run_3", Status: "succeeded", Output: map[string]any{"id": "guo1"}}),
		"flow with source":       flowJSON(stored, doc, true),
		"flow unparsed":          flowJSON(bare, nil, false),
		"flow with a warning":    flowJSON(est, estDoc, false),
		"flow with its last run": flowWithLastRun(bare, &store.FlowRun{ID: "frun_1", FlowID: "flow_2", FlowName: "bare", Status: "succeeded", CreatedAt: at, FinishedAt: later}),
		"flow run header":        flowRunHeader(&store.FlowRun{ID: "frun_1", FlowID: "flow_1", FlowName: "wire", Status: "queued", CreatedAt: at}),
		"flow run header full":   flowRunHeader(&store.FlowRun{ID: "frun_2", FlowID: "flow_1", FlowName: "wire", Status: "failed", Actor: store.Actor{Type: store.ActorUser, Login: "a@example.com"}, Inputs: json.RawMessage(`{"login":"a"}`), Error: "boom", CreatedAt: at, StartedAt: at, FinishedAt: later, CancelRequestedAt: later, Trigger: json.RawMessage(`{"kind":"event","time":"2026-12-04T10:00:00Z","eventUuid":"e1","event":{"uuid":"e1"}}`)}),
		"flow run canceled on a revoke": flowRunHeader(&store.FlowRun{ID: "frun_3", FlowID: "flow_1", FlowName: "wire", Status: "canceled", Actor: store.Actor{Type: store.ActorToken, Login: "ada@example.com", TokenName: "cardflow login"}, CreatedAt: at, StartedAt: at, FinishedAt: later,
			CancelRequestedAt: later, CancelRequestedBy: store.Actor{Type: store.ActorUser, Login: "admin@example.com"}, CancelReason: "its starter ada@example.com's access was revoked"}),
		"plan":                        wirePlan(plan),
		"plan with a warning":         wirePlan(&flow.PlanResult{Flow: "wire", Steps: []flow.PlanStep{}, Warnings: []flow.Warning{{Line: 5, Column: 15, Path: "on.schedule.timezone", Message: "m", Remedy: "r"}}}),
		"token":                       TokenView(&store.APIToken{ID: "tok_1", Name: "ci", Hash: "h", Role: "operator", OwnerType: store.ActorUser, OwnerLogin: "a@example.com", CreatedAt: at, ExpiresAt: later, LastUsedAt: later}),
		"token never used, bootstrap": TokenView(&store.APIToken{ID: "tok_2", Name: "b", Role: "admin", OwnerType: store.ActorBootstrap, CreatedAt: at, ExpiresAt: later}),
		"connectors":                  wireConnectors(card.Connectors()),
		"person":                      PersonView(&access.Person{Login: "a@example.com", Name: "A", Role: access.Admin, Sessions: 2, LastSeen: later, Tokens: 1, SoonestExpiry: later, LatestExpiry: later, LastActivity: later, EnabledFlows: []string{"nightly-cleanup"}, Subject: "00u1a2b3c4d5e6f7g8h9", Issuer: "https://example.okta.com"}),
		"person with tokens only":     PersonView(&access.Person{Login: "b@example.com", Role: access.Viewer, Tokens: 1, SoonestExpiry: later, LatestExpiry: later, LastActivity: at}),
		"people with bound sign-ins": api.PeopleList{People: []api.Person{}, Next: "/api/v1/people?before=x&beforeId=y",
			Bound: []api.BoundSignIn{BoundSignInView(&store.PersonBinding{Login: "c@example.com", Subject: "00u9", Issuer: "https://old.example.com", BoundAt: at}, "https://idp.example.com"),
				BoundSignInView(&store.PersonBinding{Login: "d@example.com", Subject: "00u8", BoundAt: later}, "https://idp.example.com")}, BoundNext: "/api/v1/people?boundAfter=d%40example.com&limit=2",
			FlowsWithoutAccess: []api.FlowsActingAs{{Login: "e@example.com", EnabledFlows: []string{"nightly-cleanup"}}}},
		"person revoked":            api.PersonRevoked{Login: "a@example.com", SessionsEnded: 2, TokensRevoked: 0, EnabledFlows: []string{"nightly-cleanup"}, SubjectForgotten: true, Issuer: "https://example.okta.com/oauth2/default", FlowRunsCanceled: 3},
		"person revoked, runs left": api.PersonRevoked{Login: "b@example.com", SessionsEnded: 1, TokensRevoked: 1, EnabledFlows: []string{}, FlowRunsCanceled: 1, Warning: "w"},
		"connection created":        api.ConnectionCreated{AuthorizeURL: "https://example.okta.com/oauth2/v1/authorize?x", Connection: connectionJSON(pending)},
		"connection key":            api.ConnectionKey{Connection: connectionJSON(active), PublicJWK: json.RawMessage(`{"kty":"EC"}`)},
		"connection test":           api.ConnectionTest{OK: false, Status: "error", StatusReason: "r", StatusReasonCode: "no_admin_role", Remedy: "m", MissingScopes: []string{}, MissingScopeCards: map[string][]string{}, Auth: "user"},
		"connection test missing scope": api.ConnectionTest{OK: true, Status: "active", MissingScopes: []string{"okta.devices.manage"},
			MissingScopeCards: map[string][]string{"okta.devices.manage": {"okta-devices/suspend-device"}}, Auth: "user"},
		"connection deleted": api.ConnectionDeleted{ID: "conn_1", Nickname: "Prod", Deleted: true, Revoked: false, Warning: "w"},
		"flow stored":        api.FlowStored{Flow: flowJSON(bare, nil, false), Enablement: &api.Enablement{Outcome: "new", Message: "m"}, Warnings: warningsJSON(nil)},
		"flow deleted":       api.FlowDeleted{ID: "flow_1", Name: "wire", Deleted: true},
		"flow invalid":       api.FlowValidation{Flow: "wire", Code: "invalid_input", Message: "m", Remedy: "r", Issues: []api.FlowIssue{{Line: 3, Column: 5, Step: "s", Message: "m"}}, Warnings: warningsJSON(nil)},
		"flow valid":         api.FlowValidation{Valid: true, Flow: "wire", Issues: []api.FlowIssue{}, Warnings: warningsJSON(nil)},
		"flow valid with a warning": api.FlowValidation{Valid: true, Flow: "wire", Issues: []api.FlowIssue{},
			Warnings: warningsJSON([]flow.Warning{{Line: 5, Column: 15, Path: "on.schedule.timezone", Message: "m", Remedy: "r"}})},
	}
}

// TestWireFormat: the JSON of representative answers is what
// testdata/wire.json holds, to the byte. A change here is a change of the
// API that its clients see: make it on purpose (-update) and say so.
func TestWireFormat(t *testing.T) {
	got := map[string]json.RawMessage{}
	for name, v := range wireSamples(t) {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = b
	}
	file := filepath.Join("testdata", "wire.json")
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]json.RawMessage
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("testdata has %q, which no sample makes", name)
		}
	}
	for name, g := range got {
		if diff := cmp.Diff(string(compact(t, want[name])), string(compact(t, g))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	if len(b) == 0 {
		return nil
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// flowWithLastRun is a stored flow as listed, with its last run.
func flowWithLastRun(f *store.Flow, last *store.FlowRun) api.Flow {
	js := flowJSON(f, nil, false)
	h := flowRunHeader(last)
	js.LastRun = &h
	return js
}
