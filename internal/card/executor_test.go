package card

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

var manageCards = []string{"activate-device", "deactivate-device", "suspend-device", "unsuspend-device", "delete-device"}

// TestInsufficientScopeBeforeAnyCall: a connection granted only
// okta.devices.read runs a manage card: the card fails with
// insufficient_scope naming card, scope, granted scopes and the fix, and
// the org sees no request at all.
func TestInsufficientScopeBeforeAnyCall(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 10})
	e.addConn("Read only", "SSWS "+oktaemu.DemoAPIToken, []string{ScopeRead})
	id := e.device(okta.StatusActive)
	inputs := map[string]map[string]any{}
	for _, c := range manageCards {
		inputs[c] = map[string]any{"deviceId": id}
	}
	inputs["custom-api-action"] = map[string]any{"method": "POST", "relativeUrl": "/api/v1/devices/" + id + "/lifecycle/suspend"}

	before := e.srv.Stats(t)
	for card, in := range inputs {
		t.Run(card, func(t *testing.T) {
			c, _ := Lookup("okta-devices/" + card)
			res := e.run(c.Ref, "Read only", in)
			wantProblem(t, res, problem.InsufficientScope, c.Name, c.Ref, ScopeManage, "was granted okta.devices.read",
				"grant okta.devices.manage to the OAuth app in Okta (Okta API Scopes tab), then reauthorize the connection",
				"with custom scopes, also tick okta.devices.manage")
			want := map[string]any{"card": c.Ref, "requiredScope": ScopeManage, "grantedScopes": []string{ScopeRead}, "connection": "conn-read-only"}
			if diff := cmp.Diff(want, res.Error.Details); diff != "" {
				t.Errorf("details (-want +got):\n%s", diff)
			}
			if len(res.RequestIDs) != 0 {
				t.Errorf("request ids = %v; want none", res.RequestIDs)
			}
		})
	}
	if diff := cmp.Diff(before, e.srv.Stats(t)); diff != "" {
		t.Errorf("the org saw requests (-before +after):\n%s", diff)
	}

	// okta.devices.manage alone also allows the read cards.
	e.addConn("Manage only", "SSWS "+oktaemu.DemoAPIToken, []string{ScopeManage})
	if res := e.run("okta-devices/read-device", "Manage only", map[string]any{"deviceId": id}); res.Status != StatusSucceeded {
		t.Errorf("read-device with okta.devices.manage: %v", res.Error)
	}
	// With no Okta API scope at all, the message says so.
	e.addConn("None", "SSWS "+oktaemu.DemoAPIToken, nil)
	res := e.run("okta-devices/read-device", "None", map[string]any{"deviceId": id})
	wantProblem(t, res, problem.InsufficientScope, "was granted no Okta API scope", ScopeRead)
}

// TestInsufficientScopeFromOkta: cardflow believes the scope granted, but
// the access token lacks it; Okta's 403 WWW-Authenticate header gives the
// same error code, with the scope Okta names.
func TestInsufficientScopeFromOkta(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 10})
	e.userConn("Stale", "admin@example.com", []string{ScopeRead}, allScopes)
	id := e.device(okta.StatusActive)
	res := e.run("okta-devices/suspend-device", "Stale", map[string]any{"deviceId": id})
	wantProblem(t, res, problem.InsufficientScope, "Okta refused", ScopeManage, "reauthorize the connection")
	if res.Error.Details["requiredScope"] != ScopeManage || res.Error.Details["oktaRequestId"] == "" {
		t.Errorf("details = %v; want the scope from the header and Okta's request id", res.Error.Details)
	}
	if len(res.RequestIDs) != 2 {
		t.Errorf("request ids = %v; want the GET's and the refused POST's", res.RequestIDs)
	}
	if got := e.status(id); got != okta.StatusActive {
		t.Errorf("device is %s; want ACTIVE", got)
	}
}

// TestReadOnlyAdmin: the authorizing account is a read-only admin; reads
// work, every manage card explains that the account's role does not allow
// it.
func TestReadOnlyAdmin(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 30})
	e.userConn("RO", "readonly@example.com", allScopes, allScopes)
	ids := map[string]string{
		"activate-device": e.device(okta.StatusDeactivated), "deactivate-device": e.device(okta.StatusActive),
		"suspend-device": e.device(okta.StatusActive), "unsuspend-device": e.device(okta.StatusSuspended),
		"delete-device": e.device(okta.StatusDeactivated),
	}
	for _, card := range manageCards {
		t.Run(card, func(t *testing.T) {
			res := e.run("okta-devices/"+card, "RO", map[string]any{"deviceId": ids[card]})
			wantProblem(t, res, problem.Forbidden, "the account readonly@example.com that authorized connection \"RO\" has an admin role that does not allow",
				"super administrator")
		})
	}
	if res := e.run("okta-devices/search-devices", "RO", nil); res.Status != StatusSucceeded {
		t.Errorf("search as a read-only admin: %v", res.Error)
	}
}

// TestInvalidTokenNeedsReauthorization: an access token that expired on the
// org's clock, and one the org never issued, both end in
// needs_reauthorization (the connection's transport has already tried its
// one refresh when Okta still says 401).
func TestInvalidTokenNeedsReauthorization(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 10})
	e.userConn("Expired", "admin@example.com", allScopes, allScopes)
	e.addConn("Bogus", "Bearer not-a-token-of-this-org", allScopes)
	id := e.device(okta.StatusActive)
	if res := e.run("okta-devices/read-device", "Expired", map[string]any{"deviceId": id}); res.Status != StatusSucceeded {
		t.Fatalf("read-device with a fresh token: %v", res.Error)
	}
	e.srv.AdvanceClock(t, 2*time.Hour) // access tokens live 1 h
	for _, conn := range []string{"Expired", "Bogus"} {
		for _, ref := range []string{"okta-devices/read-device", "okta-devices/suspend-device"} {
			res := e.run(ref, conn, map[string]any{"deviceId": id})
			wantProblem(t, res, problem.NeedsReauthorization, `connection "`+conn+`"`, "Invalid token provided", `reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "`+conn+`")`)
		}
	}
	if got := e.status(id); got != okta.StatusActive {
		t.Errorf("device is %s; want ACTIVE", got)
	}
}

func TestConnectionNotActive(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 10})
	id := e.device(okta.StatusActive)
	e.setStatus("Prod", store.StatusNeedsReauthorization, "the refresh token was revoked", "reauthorize the connection in cardflow")
	before := e.apiRequests()
	res := e.run("okta-devices/read-device", "Prod", map[string]any{"deviceId": id})
	wantProblem(t, res, problem.NeedsReauthorization, "the refresh token was revoked", "reauthorize the connection in cardflow")
	// Worded as the refresh that found it words it (connection.Manager),
	// so that the items of one plan say the same.
	if want := `connection "Prod" needs reauthorization: the refresh token was revoked`; res.Error.Message != want {
		t.Errorf("message %q; want %q", res.Error.Message, want)
	}
	e.setStatus("Prod", store.StatusNeedsReauthorization, "the refresh token was revoked", "")
	res = e.run("okta-devices/read-device", "Prod", map[string]any{"deviceId": id})
	wantProblem(t, res, problem.NeedsReauthorization, `reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Prod")`)
	e.setStatus("Prod", store.StatusPending, "", "")
	res = e.run("okta-devices/read-device", "Prod", map[string]any{"deviceId": id})
	wantProblem(t, res, problem.ConnectionPending, `connection "Prod" is not authorized yet (pending): its authorization was never finished`)
	e.setStatus("Prod", store.StatusPending, "waiting for an administrator to finish signing in to the org", "open the authorize URL and sign in")
	res = e.run("okta-devices/read-device", "Prod", map[string]any{"deviceId": id})
	wantProblem(t, res, problem.ConnectionPending, `connection "Prod" is not authorized yet (pending): waiting for an administrator to finish signing in to the org`, "open the authorize URL and sign in")
	if err := e.exec.Preflight(context.Background(), "okta-devices/read-device", "Prod"); problem.CodeOf(err) != problem.ConnectionPending {
		t.Errorf("Preflight of a pending connection = %v; want connection_pending", err)
	}
	e.setStatus("Prod", store.StatusNeedsReauthorization, "the refresh token was revoked", "reauthorize the connection in cardflow")
	if err := e.exec.Preflight(context.Background(), "okta-devices/read-device", "Prod"); problem.CodeOf(err) != problem.NeedsReauthorization {
		t.Errorf("Preflight = %v; want needs_reauthorization", err)
	}
	// A person's connection whose first sign-in failed was never
	// authorized either: refused as not authorized yet, not as needing
	// a reauthorization it never had; one authorized before, in error, as
	// needing one.
	e.setStatus("Prod", store.StatusError, "the account is not assigned to the OAuth app", "assign it, then reauthorize")
	res = e.run("okta-devices/read-device", "Prod", map[string]any{"deviceId": id})
	wantProblem(t, res, problem.NeedsReauthorization, `connection "Prod" is in error: the account is not assigned to the OAuth app`)
	e.setNeverAuthorized("Prod")
	res = e.run("okta-devices/read-device", "Prod", map[string]any{"deviceId": id})
	wantProblem(t, res, problem.ConnectionPending, `connection "Prod" is not authorized yet (its sign-in failed): the account is not assigned to the OAuth app`, "assign it, then reauthorize")
	if err := e.exec.Preflight(context.Background(), "okta-devices/read-device", "Prod"); problem.CodeOf(err) != problem.ConnectionPending {
		t.Errorf("Preflight of a connection whose first sign-in failed = %v; want connection_pending", err)
	}
	if n := e.apiRequests() - before; n != 0 {
		t.Errorf("made %d requests; want 0", n)
	}
}

func TestRejectedRequests(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 10})
	before := e.srv.Stats(t)
	tests := []struct {
		name  string
		req   Request
		code  problem.Code
		field string
	}{
		{"unknown card", Request{Card: "okta-devices/reboot-device", Connection: "Prod"}, problem.InvalidInput, "card"},
		{"no connector", Request{Card: "read-device", Connection: "Prod"}, problem.InvalidInput, "card"},
		{"missing input", Request{Card: "okta-devices/read-device", Connection: "Prod"}, problem.InvalidInput, "deviceId"},
		{"empty input", Request{Card: "okta-devices/suspend-device", Connection: "Prod", Input: map[string]any{"deviceId": ""}}, problem.InvalidInput, "deviceId"},
		{"blank input", Request{Card: "okta-devices/suspend-device", Connection: "Prod", Input: map[string]any{"deviceId": "  "}}, problem.InvalidInput, "deviceId"},
		{"blank relativeUrl", Request{Card: "okta-devices/custom-api-action", Connection: "Prod", Input: map[string]any{"method": "GET", "relativeUrl": " "}}, problem.InvalidInput, "relativeUrl"},
		{"full URL as relativeUrl", Request{Card: "okta-devices/custom-api-action", Connection: "Prod", Input: map[string]any{"method": "GET", "relativeUrl": "https://evil.example/api/v1/devices"}}, problem.InvalidInput, "relativeUrl"},
		{"relativeUrl outside /api/v1/", Request{Card: "okta-devices/custom-api-action", Connection: "Prod", Input: map[string]any{"method": "POST", "relativeUrl": "/api/v2/devices"}}, problem.InvalidInput, "relativeUrl"},
		{"query value not a value", Request{Card: "okta-devices/custom-api-action", Connection: "Prod", Input: map[string]any{"method": "GET", "relativeUrl": "/api/v1/devices", "query": map[string]any{"limit": map[string]any{}}}}, problem.InvalidInput, "query"},
		{"unknown input", Request{Card: "okta-devices/read-device", Connection: "Prod", Input: map[string]any{"deviceId": "guo1", "force": true}}, problem.InvalidInput, "force"},
		{"unknown connection", Request{Card: "okta-devices/read-device", Connection: "Nope", Input: map[string]any{"deviceId": "guo1"}}, problem.NotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.exec.Run(context.Background(), tt.req)
			p, ok := problem.As(err)
			if res != nil || !ok || p.Code != tt.code || tt.field != "" && p.Details["field"] != tt.field {
				t.Errorf("Run = %v, %v; want no result and %s on %q", res, err, tt.code, tt.field)
			}
		})
	}
	runs, err := e.st.ListRuns(context.Background(), store.RunFilter{})
	if err != nil || len(runs) != 0 {
		t.Errorf("recorded %d runs (%v); want none for rejected requests", len(runs), err)
	}
	// A plan (what flows plan asks for each item) refuses them alike.
	if _, err := e.exec.Plan(context.Background(), Request{Card: "okta-devices/delete-device", Connection: "Prod", Input: map[string]any{"deviceId": " "}}); err == nil {
		t.Errorf("Plan with a blank deviceId: no error; want it refused")
	}
	if _, err := e.exec.Plan(context.Background(), Request{Card: "okta-devices/custom-api-action", Connection: "Prod", Input: map[string]any{"method": "DELETE", "relativeUrl": "/oauth2/v1/keys"}}); err == nil {
		t.Errorf("Plan with a relativeUrl outside /api/v1/: no error; want it refused")
	}
	if diff := cmp.Diff(before, e.srv.Stats(t)); diff != "" {
		t.Errorf("the org saw requests (-before +after):\n%s", diff)
	}
}

// TestRunRecordsAndAudits: every run is recorded with its input, output or
// error and Okta's request ids, and audited.
func TestRunRecordsAndAudits(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 10})
	reg := prometheus.NewRegistry()
	e.exec.Metrics = NewMetrics()
	if err := e.exec.Metrics.Register(reg); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := e.device(okta.StatusActive)
	dev, err := e.admin.GetDevice(ctx, id)
	if err != nil {
		t.Fatal(err)
	}

	res, err := e.exec.Run(ctx, Request{Card: "okta-devices/suspend-device", Connection: "prod", Input: map[string]any{"deviceId": id},
		Actor: alice, FlowRunID: "fr1", StepID: "suspend", ItemIndex: 3})
	if err != nil || res.Status != StatusSucceeded || res.RunID == "" || len(res.RequestIDs) != 2 {
		t.Fatalf("Run = %+v, %v; want a recorded success with two request ids", res, err)
	}
	run, err := e.st.GetRun(ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	want := &store.Run{ID: res.RunID, Card: "okta-devices/suspend-device", ConnectionID: "conn-prod", ConnectionNickname: "Prod",
		Actor: alice, ActingAs: "admin@example.com", Status: StatusSucceeded,
		Input:          json.RawMessage(`{"deviceId":"` + id + `"}`),
		Output:         json.RawMessage(`{"basis":"read","changed":true,"deviceId":"` + id + `","status":"SUSPENDED"}`),
		OktaRequestIDs: res.RequestIDs, FlowRunID: "fr1", StepID: "suspend", ItemIndex: 3,
		DeviceName: dev.Profile.DisplayName} // the card read the device to decide
	if diff := cmp.Diff(want, run, cmpRun); diff != "" {
		t.Errorf("recorded run (-want +got):\n%s", diff)
	}
	if run.StartedAt.IsZero() || run.FinishedAt.Before(run.StartedAt) {
		t.Errorf("run times %v .. %v; want a start and a later finish", run.StartedAt, run.FinishedAt)
	}

	failed := e.run("okta-devices/activate-device", "Prod", map[string]any{"deviceId": "guo0000000000000none"})
	frun, err := e.st.GetRun(ctx, failed.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if frun.Status != StatusFailed || frun.ErrorCode != "not_found" || !strings.Contains(frun.ErrorMessage, "guo0000000000000none") || frun.Remedy == "" || len(frun.Output) != 0 {
		t.Errorf("failed run recorded as %+v; want status failed, not_found with message and remedy", frun)
	}

	events, err := e.st.ListAudit(ctx, store.AuditFilter{Action: "card.run"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("audit has %d card.run events; want 2", len(events))
	}
	got := []store.AuditEvent{*events[0], *events[1]}
	wantEv := []store.AuditEvent{
		{Actor: testActor, Action: "card.run", ConnectionID: "conn-prod", ActingAs: "admin@example.com", Card: "okta-devices/activate-device",
			InputSummary: "deviceId=guo0000000000000none", Outcome: "failure", Error: failed.Error.Message, OktaRequestID: failed.RequestIDs[0]},
		{Actor: alice, Action: "card.run", ConnectionID: "conn-prod", ActingAs: "admin@example.com", Card: "okta-devices/suspend-device",
			InputSummary: "deviceId=" + id, Outcome: "success", OktaRequestID: res.RequestIDs[1]},
	}
	if diff := cmp.Diff(wantEv, got, cmpAudit); diff != "" {
		t.Errorf("audit events (-want +got):\n%s", diff)
	}

	if n := counterValue(t, e.exec.Metrics.Runs.WithLabelValues("okta-devices/suspend-device", "succeeded")); n != 1 {
		t.Errorf("succeeded suspend runs metric = %v; want 1", n)
	}
	if n := counterValue(t, e.exec.Metrics.Runs.WithLabelValues("okta-devices/activate-device", "not_found")); n != 1 {
		t.Errorf("not_found activate runs metric = %v; want 1", n)
	}
}

var (
	cmpRun   = cmpIgnoreTimes[store.Run]("StartedAt", "FinishedAt")
	cmpAudit = cmpIgnoreTimes[store.AuditEvent]("ID", "Time")
)

// cmpIgnoreTimes ignores the named fields of T and compares JSON by value.
func cmpIgnoreTimes[T any](fields ...string) cmp.Option {
	return cmp.Options{
		cmp.FilterPath(func(p cmp.Path) bool {
			sf, ok := p.Last().(cmp.StructField)
			return ok && slices.Contains(fields, sf.Name())
		}, cmp.Ignore()),
		cmp.Transformer("json", func(r json.RawMessage) any {
			var v any
			if len(r) == 0 || json.Unmarshal(r, &v) != nil {
				return string(r)
			}
			return v
		}),
	}
}

// TestPlan: manage cards say what they would change and change nothing;
// read cards run.
func TestPlan(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 30})
	ctx := context.Background()
	active, suspended, deactivated := e.device(okta.StatusActive), e.device(okta.StatusSuspended), e.device(okta.StatusDeactivated)
	// A plan that reads the device names it from what it read.
	name := map[string]string{}
	for _, id := range []string{active, deactivated} {
		res, err := e.exec.Run(ctx, Request{Card: "okta-devices/read-device", Connection: "Prod", Input: map[string]any{"deviceId": id}})
		if err != nil || res.Error != nil {
			t.Fatalf("read-device: %v %v", err, res.Error)
		}
		name[id] = res.Output["device"].(map[string]any)["profile"].(map[string]any)["displayName"].(string)
		if name[id] == "" {
			t.Fatalf("device %s has no display name", id)
		}
	}
	tests := []struct {
		name   string
		card   string
		input  map[string]any
		change *Change
		code   problem.Code
	}{
		{"suspend ACTIVE", "suspend-device", map[string]any{"deviceId": active}, &Change{active, name[active], "ACTIVE", "SUSPENDED"}, ""},
		{"suspend SUSPENDED", "suspend-device", map[string]any{"deviceId": suspended}, nil, ""},
		{"suspend DEACTIVATED", "suspend-device", map[string]any{"deviceId": deactivated}, nil, problem.Conflict},
		{"delete DEACTIVATED", "delete-device", map[string]any{"deviceId": deactivated}, &Change{deactivated, name[deactivated], "DEACTIVATED", "DELETED"}, ""},
		{"delete ACTIVE with deactivateFirst", "delete-device", map[string]any{"deviceId": active, "deactivateFirst": true}, &Change{active, name[active], "ACTIVE", "DELETED"}, ""},
		{"delete ACTIVE", "delete-device", map[string]any{"deviceId": active}, nil, problem.Conflict},
		{"unknown device", "activate-device", map[string]any{"deviceId": "guo0000000000000none"}, nil, problem.NotFound},
		{"custom POST", "custom-api-action", map[string]any{"method": "POST", "relativeUrl": "/api/v1/devices/" + active + "/lifecycle/suspend"}, nil, ""},
	}
	before := e.mutations()
	runsBefore, _ := e.st.ListRuns(ctx, store.RunFilter{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.exec.Plan(ctx, Request{Card: "okta-devices/" + tt.card, Connection: "Prod", Input: tt.input})
			if err != nil {
				t.Fatal(err)
			}
			if tt.card != "custom-api-action" { // its plan says what it would call (wouldCall)
				checkOutputKeys(t, "okta-devices/"+tt.card, res.Output)
			}
			if tt.code != "" {
				wantProblem(t, res, tt.code)
				return
			}
			if res.Status != StatusSucceeded || res.Error != nil {
				t.Fatalf("plan failed: %v", res.Error)
			}
			if diff := cmp.Diff(tt.change, res.Change); diff != "" {
				t.Errorf("change (-want +got):\n%s", diff)
			}
		})
	}
	if n := e.mutations() - before; n != 0 {
		t.Errorf("plans made %d POST/DELETE requests; want 0", n)
	}
	if runs, _ := e.st.ListRuns(ctx, store.RunFilter{}); len(runs) != len(runsBefore) {
		t.Errorf("plans of manage cards recorded %d runs; want none", len(runs)-len(runsBefore))
	}

	res, err := e.exec.Run(ctx, Request{Card: "okta-devices/read-device", Connection: "Prod", Input: map[string]any{"deviceId": active}, DryRun: true})
	if err != nil || res.Status != StatusSucceeded || res.RunID == "" || res.Output["device"] == nil {
		t.Errorf("dry run of read-device = %+v, %v; want it run and recorded", res, err)
	}
}

func TestPreflight(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 10})
	e.addConn("Read only", "SSWS "+oktaemu.DemoAPIToken, []string{ScopeRead})
	before := e.apiRequests()
	tests := []struct {
		card, conn string
		code       problem.Code
	}{
		{"okta-devices/search-devices", "Read only", ""},
		{"okta-devices/delete-device", "Read only", problem.InsufficientScope},
		{"okta-devices/delete-device", "Prod", ""},
		{"okta-devices/custom-api-action", "Read only", ""},
		{"okta-devices/nope", "Prod", problem.InvalidInput},
		{"okta-devices/read-device", "Missing", problem.NotFound},
	}
	for _, tt := range tests {
		err := e.exec.Preflight(context.Background(), tt.card, tt.conn)
		if tt.code == "" && err != nil || tt.code != "" && problem.CodeOf(err) != tt.code {
			t.Errorf("Preflight(%s, %s) = %v; want code %q", tt.card, tt.conn, err, tt.code)
		}
	}
	if n := e.apiRequests() - before; n != 0 {
		t.Errorf("preflight made %d requests; want 0", n)
	}
}

// counterValue reads a counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 { return counterValueTB(t, c) }

func counterValueTB(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestEventCardDoesNotRun: an event card starts flows; running it is an
// input error, before any connection is looked up.
func TestEventCardDoesNotRun(t *testing.T) {
	e := &Executor{}
	_, err := e.Run(t.Context(), Request{Card: "okta-devices/device-suspended", Connection: "Prod"})
	p, ok := problem.As(err)
	if !ok || p.Code != problem.InvalidInput || !strings.Contains(p.Message, "event card") {
		t.Errorf("running an event card: %v; want invalid_input naming the event card", err)
	}
}

// TestUnknownCardSuggestion: a misspelt card is answered with the card it
// probably meant, as written (connector/card or a bare name), and one
// nothing is near lists the cards.
func TestUnknownCardSuggestion(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 1})
	for _, tt := range []struct{ card, want string }{
		{"okta-devices/suspnd-device", "did you mean okta-devices/suspend-device? The cards: "},
		{"okta-devices/raed-device", "did you mean okta-devices/read-device?"},
		{"supsend-device", "did you mean okta-devices/suspend-device?"},
		{"okta-devices/reboot-device", "use one of okta-devices/"},
	} {
		_, err := e.exec.Run(t.Context(), Request{Card: tt.card, Connection: "Prod"})
		p, ok := problem.As(err)
		if !ok || p.Code != problem.InvalidInput || !strings.Contains(p.Remedy, tt.want) {
			t.Errorf("Run(%s) = %v (remedy %q); want invalid_input with %q", tt.card, err, remedyOf(p), tt.want)
		}
	}
}

func remedyOf(p *problem.Error) string {
	if p == nil {
		return ""
	}
	return p.Remedy
}
