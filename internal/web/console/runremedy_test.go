package console_test

import (
	"context"
	"encoding/json"
	"html"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestRunPageRemedyInConsoleWords: the page of a card run that failed for
// its connection gives the fix as the connection's page does, with the
// console's buttons, where it gave the remedy written for the command
// line: "open the authorize URL", which the console never shows, for a
// connection waiting for its sign-in, and "cardflow connections update
// ... --client-secret-stdin" for one whose client secret the org refused.
func TestRunPageRemedyInConsoleWords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.createPending(t, "Half done", nil)
	// The app's secret rotated while its sign-in was under way.
	_, authURL, _ := e.createRotated(t, "Wrong secret")
	cb := e.emu.SignIn(t, authURL, oktaemu.AdminLogin, oktaemu.DemoPassword)
	if res, err := e.manager.Callback(ctx, cb.Query()); err == nil && res.OK {
		t.Fatal("the org took the wrong client secret")
	}
	c, _, _ := signInHTTP(t, e.url, "/runs")
	for _, tc := range []struct {
		nickname string
		want     string
		not      []string
	}{
		{"Half done", "How to fix it:</strong> Reauthorize it (Reauthorize on the connection's page opens the org's sign-in page again) and sign in with an account assigned to the OAuth app (a super admin).",
			[]string{"authorize URL"}},
		{"Wrong secret", "How to fix it:</strong> Copy the client ID and secret from the OAuth app's General tab in the Okta Admin Console and give them to this connection: Change secret on the connection's page; it reauthorizes with them.",
			[]string{"cardflow connections", "--client-secret-stdin"}},
	} {
		code, out := e.api(t, "POST", "/api/v1/runs", "application/json", `{"card":"okta-devices/search-devices","connection":"`+tc.nickname+`","input":{}}`)
		var run struct{ ID, Status string }
		if err := json.Unmarshal([]byte(out), &run); code != 201 || err != nil || run.Status != "failed" {
			t.Fatalf("%s: run a card: %d %s; want a failed run", tc.nickname, code, out)
		}
		_, body := get(t, c, e.url+"/runs/"+run.ID)
		body = html.UnescapeString(body)
		if !strings.Contains(body, tc.want) {
			t.Errorf("%s: the run's page lacks %q", tc.nickname, tc.want)
		}
		for _, n := range tc.not {
			if strings.Contains(body, n) {
				t.Errorf("%s: the run's page says %q, which the console does not show", tc.nickname, n)
			}
		}
	}
}
