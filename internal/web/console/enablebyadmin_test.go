package console_test

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestDisabledFlowSaysWhoEnablesIt: a viewer or operator on the page of a
// disabled flow, which says it starts no runs until enabled and shows
// them no Enable, is told that an admin enables flows; an admin gets the
// button instead.
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
	}
}
