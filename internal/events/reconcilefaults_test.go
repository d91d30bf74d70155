package events

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// orgHooks lists the event hooks at the org.
func orgHooks(t *testing.T, in *intake) []okta.EventHook {
	t.Helper()
	req, _ := http.NewRequest("GET", in.srv.URL+"/api/v1/eventHooks", nil)
	req.Header.Set("Authorization", "SSWS "+oktaemu.DemoAPIToken)
	resp, err := in.srv.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var hs []okta.EventHook
	if err := jsonDecode(resp, &hs); err != nil {
		t.Fatalf("list hooks: %v", err)
	}
	return hs
}

// TestReconcileAfterFaultyAnswers: an event hook whose creation's answer
// was lost is found and used at the next round, not created a second time
// (the org would keep both, each counting against its 25 hooks); a 5xx of
// Okta's own at verification is told as Okta's, not as an unreachable
// public URL; the next round completes the hook.
func TestReconcileAfterFaultyAnswers(t *testing.T) {
	tests := []struct {
		name       string
		fault      emutest.FaultSpec
		wantReason []string
		notReason  string
	}{
		{name: "creation's answer lost behind a 502",
			fault:      emutest.FaultSpec{Method: "POST", Path: "/api/v1/eventHooks", Status: 502, Body: "html", After: true},
			wantReason: []string{"Okta answered 502"}},
		{name: "creation's connection reset after the hook was made",
			fault: emutest.FaultSpec{Method: "POST", Path: "/api/v1/eventHooks", Body: "reset", After: true}},
		{name: "verification answered 503 by Okta",
			fault:      emutest.FaultSpec{Method: "POST", Path: "/api/v1/eventHooks/{eventHookId}/lifecycle/verify", Status: 503},
			wantReason: []string{"Okta answered 503"}, notReason: "could not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newIntake(t, oktaemu.Config{Devices: 5})
			ctx := t.Context()
			rec := &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: in.hook.URL}
			in.srv.Inject(t, tt.fault)
			_, err := rec.Reconcile(ctx, connID, []string{"device.user.remove"})
			if err == nil {
				t.Fatal("first round succeeded; want the fault to fail it")
			}
			src, gerr := in.st.GetEventSource(ctx, connID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			text := src.HookReason + "; " + src.HookRemedy
			if src.HookStatus != store.HookError || strings.ContainsAny(text, "<>") || tt.notReason != "" && strings.Contains(text, tt.notReason) {
				t.Errorf("status %s: %q; want error, no HTML, not %q", src.HookStatus, text, tt.notReason)
			}
			for _, w := range tt.wantReason {
				if !strings.Contains(text, w) {
					t.Errorf("reason %q; want %q", text, w)
				}
			}
			src, err = rec.Reconcile(ctx, connID, []string{"device.user.remove"})
			if err != nil || src.HookStatus != store.HookActive {
				t.Fatalf("second round: %v, status %s (%s)", err, src.HookStatus, src.HookReason)
			}
			hs := orgHooks(t, in)
			if len(hs) != 1 || hs[0].ID != src.HookID || hs[0].Status != "ACTIVE" || hs[0].VerificationStatus != "VERIFIED" {
				t.Errorf("hooks at the org %+v; want exactly the connection's one (%s), active and verified", hs, src.HookID)
			}
		})
	}
}
