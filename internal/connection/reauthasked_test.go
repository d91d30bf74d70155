package connection

import (
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

// TestRefusedReauthorizationNamesTheScopesAsked: a reauthorization refused
// for its scopes (a misspelt one, none) is audited naming the scopes asked
// for, as given, where its event had no input and the audit log did not
// say what had been asked.
func TestRefusedReauthorizationNamesTheScopesAsked(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	v := e.connect(t, "Prod")
	for _, tc := range []struct {
		sel  *ScopeSelection
		want string
	}{
		{CustomScopeSelection("okta.devices.read", "okta.devices.mange"), "custom scopes okta.devices.read okta.devices.mange"},
		{&ScopeSelection{Mode: ScopeModeCustom}, "custom scopes "},
		{&ScopeSelection{Mode: ScopeModeDefault, Scopes: []string{"okta.devices.read"}}, "default scopes okta.devices.read"},
	} {
		if _, err := e.m.Reauthorize(ctx, v.ID, tc.sel, tester); err == nil {
			t.Fatalf("Reauthorize(%+v): want it refused", tc.sel)
		}
		evs, err := e.store.ListAudit(ctx, store.AuditFilter{Action: store.ActionConnectionReauthorize, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Outcome != "failure" || evs[0].InputSummary != tc.want {
			t.Errorf("the refused reauthorization's audit event %+v; want a failure naming %q", evs, tc.want)
		}
	}
}
