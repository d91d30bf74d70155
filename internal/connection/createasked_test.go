package connection

import (
	"context"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestRefusedCreateNamesTheOrgAsked: a refused creation is audited naming
// the domain and client ID asked for, when they are valid, where it named
// the nickname only and the audit log did not say which org or app was
// tried; a refused domain or client ID, which may hold what was pasted
// with it (a password, the client secret), is left out.
func TestRefusedCreateNamesTheOrgAsked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	last := func() *store.AuditEvent {
		t.Helper()
		evs, err := e.store.ListAudit(ctx, store.AuditFilter{Action: store.ActionConnectionCreate, Limit: 1})
		if err != nil || len(evs) != 1 {
			t.Fatalf("audit: %v, %v", evs, err)
		}
		return evs[0]
	}
	good := CreateInput{Connector: connector, Nickname: "Prod", Domain: e.emu.URL, ClientID: oktaemu.DemoClientID, ClientSecret: "wrong-secret"}
	if _, _, err := e.m.Create(ctx, good, tester); err == nil {
		t.Fatal("Create with a wrong secret: want it refused")
	}
	if ev, want := last(), "nickname Prod, domain "+e.emu.URL+", client ID "+oktaemu.DemoClientID; ev.Outcome != "failure" || ev.InputSummary != want {
		t.Errorf("refused create audited %q (%s); want %q", ev.InputSummary, ev.Outcome, want)
	}
	bad := good
	bad.Domain, bad.ClientID = "https://admin:Passw0rd@example.okta.com", oktaemu.DemoClientID+"\tthe-secret"
	if _, _, err := e.m.Create(ctx, bad, tester); err == nil {
		t.Fatal("Create with a bad domain: want it refused")
	}
	if ev := last(); ev.InputSummary != "nickname Prod" || strings.Contains(ev.InputSummary+ev.Error, "Passw0rd") || strings.Contains(ev.InputSummary+ev.Error, "the-secret") {
		t.Errorf("refused create with a bad domain and client ID audited %q / %q; want the nickname only, nothing pasted with them", ev.InputSummary, ev.Error)
	}
	if _, _, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "", Domain: e.emu.URL, ClientID: oktaemu.DemoServiceClientID}, tester); err == nil {
		t.Fatal("CreateService without a nickname: want it refused")
	}
	if ev, want := last(), "service connection, nickname , domain "+e.emu.URL+", client ID "+oktaemu.DemoServiceClientID; ev.InputSummary != want {
		t.Errorf("refused service create audited %q; want %q", ev.InputSummary, want)
	}
}
