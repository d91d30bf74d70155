package flow

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExamplesValidate parses and validates every flow in examples/ against
// the nine okta-devices cards, an event card, and the demo's "Demo org"
// connection with the scopes the demo grants.
func TestExamplesValidate(t *testing.T) {
	env := demoEnv()
	env.conns[0].GrantedScopes = append(env.conns[0].GrantedScopes, "okta.eventHooks.manage", "okta.logs.read")
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("found %d example flows (%v); want at least 2", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Parse(src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := doc.Validate(context.Background(), eventEnv{env}); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tr := doc.Trigger; tr != nil && tr.Event != nil && tr.Event.Connection != "Demo org" {
				t.Errorf("the event trigger uses connection %q; want Demo org (the demo creates it)", tr.Event.Connection)
			}
			for _, st := range doc.Steps {
				if st.Connection != "Demo org" {
					t.Errorf("step %s uses connection %q; want Demo org (the demo creates it)", st.ID, st.Connection)
				}
			}
		})
	}
}

// TestOffboardExample plans and runs the offboarding example over devices
// with embedded users (search-devices with expand=userSummary).
func TestOffboardExample(t *testing.T) {
	src, err := os.ReadFile("../../examples/offboard-user-devices.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := validated(t, string(src))
	user := func(login string) map[string]any {
		return map[string]any{"managementStatus": "MANAGED", "user": map[string]any{"id": "00u" + login[:3], "profile": map[string]any{"login": login}}}
	}
	cards := newDeviceCards(0)
	cards.devices = []map[string]any{
		{"id": "guo1", "status": "ACTIVE", "_embedded": map[string]any{"users": []any{user("leaver@example.com")}}},
		{"id": "guo2", "status": "ACTIVE", "_embedded": map[string]any{"users": []any{user("stayer@example.com")}}},
		{"id": "guo3", "status": "ACTIVE", "_embedded": map[string]any{"users": []any{user("stayer@example.com"), user("Leaver@Example.com")}}},
		{"id": "guo4", "status": "ACTIVE"},
	}
	inputs, err := ParseInputs(doc, map[string]string{"login": "leaver@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := (&Runner{Cards: cards}).Plan(context.Background(), doc, inputs)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	wantChanges := []Change{{DeviceID: "guo1", From: "ACTIVE", To: "SUSPENDED"}, {DeviceID: "guo3", From: "ACTIVE", To: "SUSPENDED"}}
	if diff := cmp.Diff(wantChanges, plan.Steps[1].Changes); diff != "" {
		t.Errorf("planned changes mismatch (-want +got):\n%s", diff)
	}
	res, err := (&Runner{Cards: cards, State: newMemState()}).Run(context.Background(), "r", doc, inputs)
	if err != nil || res.Status != StatusSucceeded {
		t.Fatalf("Run = %+v, %v; want success", res, err)
	}
	for id, want := range map[string]string{"guo1": "SUSPENDED", "guo2": "ACTIVE", "guo3": "SUSPENDED", "guo4": "ACTIVE"} {
		if got := cards.find(id)["status"]; got != want {
			t.Errorf("%s status = %v; want %v", id, got, want)
		}
	}
}
