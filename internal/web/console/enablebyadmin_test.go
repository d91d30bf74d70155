package console_test

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestDisabledFlowSaysWhoEnablesIt: a viewer or operator on the page of a
// disabled flow, which says it starts no runs until enabled and shows
// them no Enable, is told that an admin enables flows; an admin gets the
// button instead. A viewer, shown no Plan or Run, is told that an operator
// or admin runs flows.
func TestDisabledFlowSaysWhoEnablesIt(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, nightlyFlow)
	for _, tc := range []struct {
		login, want string
	}{
		{oktaemu.UserLogin, "A cardflow admin enables flows; you have the viewer role, so ask one."},
		{oktaemu.ReadOnlyLogin, "A cardflow admin enables flows; you have the operator role, so ask one."},
		{oktaemu.AdminLogin, ""},
	} {
		c := ssoSignInHTTP(t, e, tc.login)
		_, body := get(t, c, e.url+"/flows/"+flowID)
		if !strings.Contains(body, "until enabled") {
			t.Fatalf("the flow's page as %s does not say it is disabled:\n%s", tc.login, body)
		}
		if tc.want == "" {
			if strings.Contains(body, `id="enable-by-admin"`) || !strings.Contains(body, ">Enable</button>") {
				t.Errorf("as %s: want the Enable button and no word to ask an admin", tc.login)
			}
			continue
		}
		if !strings.Contains(body, tc.want) {
			t.Errorf("as %s: the flow's page lacks %q", tc.login, tc.want)
		}
		// Plan and Run: the viewer, who may do neither, is told who does,
		// where the page had no word of running the flow; the operator
		// gets the buttons.
		const runByOperator = `<p class="help" id="run-by-operator">A cardflow operator or admin plans and runs flows by hand; you have the viewer role, so ask one.</p>`
		if viewer := tc.login == oktaemu.UserLogin; viewer != strings.Contains(body, runByOperator) || viewer == strings.Contains(body, ">Run</button>") {
			t.Errorf("as %s: the flow's page says who runs flows: %v, has Run: %v; want one or the other", tc.login, strings.Contains(body, runByOperator), strings.Contains(body, ">Run</button>"))
		}
	}
}
