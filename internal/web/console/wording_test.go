package console

import "testing"

// TestInConsole: the server's remedies that name command-line steps read,
// on a console page, as the console's steps; others are left as they are.
func TestInConsole(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"hook deactivated",
			"disable and enable the flows that use it (cardflow flows disable NAME, then enable NAME) to register it again, or activate it in the Admin Console (Workflow > Event Hooks)",
			"disable and enable the flows that use it (Disable, then Enable, on each flow's page) to register it again, or activate it in the Admin Console (Workflow > Event Hooks)"},
		{"hook registration failed",
			"check the connection (cardflow connections test), then enable the flow again",
			"check the connection (Test on the connection's page), then enable the flow again"},
		{"client secret rejected on refresh",
			"if the OAuth app's client secret was rotated, give the connection the new one (Change secret on its console page, or cardflow connections update conn_x --client-secret-stdin); it reauthorizes with it",
			"if the OAuth app's client secret was rotated, give the connection the new one (Change secret on the connection's page); it reauthorizes with it"},
		{"client secret rejected before a reauthorization",
			"give the connection the app's current secret (Change secret on its console page, or cardflow connections update conn_x --client-secret-stdin), which reauthorizes it; if the app was deactivated, activate it again in the Okta Admin Console (Applications), then reauthorize",
			"give the connection the app's current secret (Change secret on the connection's page), which reauthorizes it; if the app was deactivated, activate it again in the Okta Admin Console (Applications), then reauthorize"},
		{"client secret rejected at the callback",
			"copy the client ID and secret from the OAuth app's General tab in the Okta Admin Console and give them to this connection: Change secret on its console page, or cardflow connections update conn_x --client-secret-stdin [--client-id ID]; it reauthorizes with them",
			"copy the client ID and secret from the OAuth app's General tab in the Okta Admin Console and give them to this connection: Change secret on the connection's page; it reauthorizes with them"},
		{"connection waiting for its sign-in",
			"open the authorize URL and sign in with an account assigned to the OAuth app (a super admin), or reauthorize to get a new URL",
			"reauthorize it (Reauthorize on the connection's page opens the org's sign-in page again) and sign in with an account assigned to the OAuth app (a super admin)"},
		{"flow changed meanwhile",
			"read it again with GET /api/v1/flows/flow_1 (cardflow flows show nightly) and retry",
			"reload the flow's page and try again"},
		{"another command",
			"list the flows (cardflow flows list) and name the document as that flow",
			"list the flows and name the document as that flow"},
		{"flow names a missing connection",
			`step "device": there is no okta-devices connection "Temp"; create it (cardflow connections create) or use the nickname or id of an existing one`,
			`step "device": there is no okta-devices connection "Temp"; create it (New Connection on the Connections page) or use the nickname or id of an existing one`},
		{"flow names a broken connection",
			`fix what cardflow connections show "Prod" reports and test the connection`,
			`fix what the page of connection "Prod" reports and test the connection`},
		{"scope not ticked",
			`reauthorize connection "RO" with okta.devices.manage ticked (Customize scopes), or with the default scopes, and make sure the OAuth app grants it (cardflow connections reauthorize "RO" --scope okta.devices.read,okta.devices.manage, or --default-scopes)`,
			`reauthorize connection "RO" with okta.devices.manage ticked (Customize scopes), or with the default scopes, and make sure the OAuth app grants it`},
		{"scope not granted",
			`grant okta.devices.manage to the OAuth app in Okta (Okta API Scopes tab), then reauthorize connection "RO" (cardflow connections reauthorize "RO")`,
			`grant okta.devices.manage to the OAuth app in Okta (Okta API Scopes tab), then reauthorize connection "RO"`},
		{"no notification receivers",
			"start the server (cardflow serve, or cardflow demo) with -notify-url URL (or CARDFLOW_NOTIFY_URLS) and CARDFLOW_NOTIFY_SECRET, then test again",
			"start the server (cardflow serve, or cardflow demo) with -notify-url URL (or CARDFLOW_NOTIFY_URLS) and CARDFLOW_NOTIFY_SECRET, then test again"},
		{"no command", "reauthorize the connection", "reauthorize the connection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := inConsole(tc.in); got != tc.want {
				t.Errorf("inConsole(%q)\n= %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}
