package console_test

import (
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserRevokeNamesTheRunsGoing: the question before revoking a
// person names the flow runs they started that are going now (the revoke
// cancels them), where it said only that such runs are canceled; and
// Forget binding of a login that holds nothing but a running run asks
// first, naming the run, where it canceled it without asking.
func TestBrowserRevokeNamesTheRunsGoing(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	rey := newTab(t, e)
	rey.ssoSignIn(oktaemu.ReadOnlyLogin)
	ada := newTab(t, e)
	ada.ssoSignIn(oktaemu.AdminLogin)
	revokePage := "/people/" + url.PathEscape(oktaemu.ReadOnlyLogin) + "/revoke"

	// With nothing going, the question says so.
	ada.open(revokePage)
	ada.wantText("They have none going now.")

	// Rey runs the flow; two of its suspensions wait at the org.
	hold := e.emu.Hold(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 0)
	rey.open("/flows/" + flowID)
	rey.click(button("Run"))
	loc := rey.location()
	runID := path.Base(loc)
	if err := hold.Await(rey.ctx, 2); err != nil {
		rey.fatalf("two suspensions never waited at the org: %v", err)
	}

	ada.open(revokePage)
	ada.wantText("1 flow run they started is going now and will be canceled", "suspend-everything")
	if strings.Contains(ada.mainText(), "They have none going now.") {
		ada.fatalf("the question says Rey has no run going while one runs")
	}
	if href := eval[string](ada, "read the run's link", `document.querySelector('ul.runs-going a').getAttribute('href')`); href != "/flow-runs/"+runID {
		ada.fatalf("the run going links to %q; want /flow-runs/%s", href, runID)
	}
	ada.screenshot("revoke-person-runs-going")

	// Rey's session ends: he holds nothing but his binding and the run.
	if n, err := e.store.DeleteSessionsOf(t.Context(), store.Actor{Type: store.ActorUser, Login: oktaemu.ReadOnlyLogin}); err != nil || n != 1 {
		t.Fatalf("ending Rey's session: %d, %v", n, err)
	}
	ada.open("/people")
	ada.click(`//button[.="Forget binding of ` + oktaemu.ReadOnlyLogin + `"]`)
	ada.wantText("Forget the binding of "+oktaemu.ReadOnlyLogin+"?", "1 flow run they started is going now and will be canceled", "suspend-everything")
	ada.screenshot("forget-binding-runs-going")
	run, err := e.store.GetFlowRun(t.Context(), runID)
	if err != nil {
		t.Fatal(err)
	}
	if !run.CancelRequestedAt.IsZero() {
		t.Fatalf("Forget binding canceled Rey's run before anyone answered its question")
	}
	if _, err := e.store.PersonBinding(t.Context(), oktaemu.ReadOnlyLogin); err != nil {
		t.Fatalf("Rey's binding before the question was answered: %v", err)
	}

	ada.click(button("Forget binding and cancel the runs"))
	ada.wantText("Revoked the access of "+oktaemu.ReadOnlyLogin, "1 flow run they started canceled")
	hold.Release()
	e.waitFlowRunEnd(t, loc)
	if run, err = e.store.GetFlowRun(t.Context(), runID); err != nil || run.Status != store.FlowRunCanceled {
		t.Fatalf("Rey's run after the answered question: %+v, %v; want canceled", run, err)
	}
}
