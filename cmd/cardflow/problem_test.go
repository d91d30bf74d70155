package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAPIErrorText(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{
			name: "remedy on its own line, scalars as key: value",
			body: `{"code":"invalid_input","message":"unknown scope \"x\"; choose from a, b","details":{"remedy":"choose from a, b","field":"scopes","validScopes":["a","b"],"limit":1000,"none":null}}`,
			want: "invalid_input: unknown scope \"x\"\nRemedy: choose from a, b\nfield: scopes\nlimit: 1000\nnone: -\nvalidScopes: a, b",
		},
		{
			name: "issues one per line",
			body: `{"code":"invalid_input","message":"inputs are wrong","details":{"errors":[{"line":25,"column":5,"step":"x","message":"unknown card"},{"message":"no position"}]}}`,
			want: "invalid_input: inputs are wrong\nerrors:\n  line 25, column 5: step \"x\": unknown card\n  no position",
		},
		{
			name: "issues the message already lists are not repeated",
			body: `{"code":"invalid_input","message":"the flow document has 1 problem:\n  line 3, column 7: step \"s\": bad","details":{"errors":[{"line":3,"column":7,"step":"s","message":"bad"}],"field":"source"}}`,
			want: "invalid_input: the flow document has 1 problem:\n  line 3, column 7: step \"s\": bad\nfield: source",
		},
		{
			name: "objects in a list as key: value pairs",
			body: `{"code":"insufficient_scope","message":"card c needs s2","details":{"scopes":[{"card":"c","grantedScopes":["s1"],"requiredScope":"s2"}]}}`,
			want: "insufficient_scope: card c needs s2\nscopes:\n  card: c, grantedScopes: s1, requiredScope: s2",
		},
		{
			name: "object fields already said are left out",
			body: `{"code":"insufficient_scope","message":"card c needs s2; grant s2","details":{"remedy":"grant s2","card":"c","scopes":[{"card":"c","requiredScope":"s2","remedy":"grant s2"},{"card":"d","requiredScope":"s3"}]}}`,
			want: "insufficient_scope: card c needs s2\nRemedy: grant s2\ncard: c\nscopes:\n  requiredScope: s2\n  card: d, requiredScope: s3",
		},
		{
			name: "empty strings are left out",
			body: `{"code":"insufficient_scope","message":"the trigger needs okta.logs.read","details":{"step":"","card":"c","scopes":[{"card":"c","step":"","requiredScope":"s2"}]}}`,
			want: "insufficient_scope: the trigger needs okta.logs.read\ncard: c\nscopes:\n  requiredScope: s2",
		},
		{
			name: "list elements the message already says are left out",
			body: `{"code":"invalid_input","message":"input \"n\": \"x\" is not a number; give n","details":{"remedy":"give n","errors":["input \"n\": \"x\" is not a number"],"missing":["a","b"]}}`,
			want: "invalid_input: input \"n\": \"x\" is not a number\nRemedy: give n\nmissing: a, b",
		},
		{
			name: "a long value the message quotes is not repeated",
			body: `{"code":"invalid_input","message":"Okta rejected the search filter \"status eq \\\"ACTIVE\\\" and profile.displayName sw \\\"Sales\\\"\"; check the search expression","details":{"remedy":"check the search expression","field":"search","filter":"status eq \"ACTIVE\" and profile.displayName sw \"Sales\"","oktaRequestId":"req1"}}`,
			want: "invalid_input: Okta rejected the search filter \"status eq \\\"ACTIVE\\\" and profile.displayName sw \\\"Sales\\\"\"\nRemedy: check the search expression\nfield: search\noktaRequestId: req1",
		},
		{
			name: "a long value the remedy quotes is not repeated",
			body: `{"code":"invalid_input","message":"unknown card \"suspnd-device\"; did you mean okta-devices/suspend-device? The cards that run: a, b","details":{"remedy":"did you mean okta-devices/suspend-device? The cards that run: a, b","field":"card","suggestion":"okta-devices/suspend-device"}}`,
			want: "invalid_input: unknown card \"suspnd-device\"\nRemedy: did you mean okta-devices/suspend-device? The cards that run: a, b\nfield: card",
		},
		{
			name: "a flow refused for a connection never authorized: its issues step by step are left out, as for one to reauthorize",
			body: `{"code":"connection_pending","message":"connection \"New\" is not authorized yet (pending): waiting for an administrator to finish signing in to the org (used by steps a, b); reauthorize it","details":{"remedy":"reauthorize it","errors":[{"line":4,"column":17,"step":"a","message":"connection \"New\" is not authorized yet (pending), not active"},{"line":7,"column":17,"step":"b","message":"connection \"New\" is not authorized yet (pending), not active"}]}}`,
			want: "connection_pending: connection \"New\" is not authorized yet (pending): waiting for an administrator to finish signing in to the org (used by steps a, b)\nRemedy: reauthorize it",
		},
		{
			name: "nested object",
			body: `{"code":"conflict","message":"busy","details":{"lease":{"owner":"a","ttl":2}}}`,
			want: "conflict: busy\nlease:\n  owner: a\n  ttl: 2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			if err := json.Unmarshal([]byte(tt.body), &e.Body); err != nil {
				t.Fatal(err)
			}
			got := e.Error()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("error text (-want +got):\n%s", diff)
			}
			if strings.Contains(got, "map[") {
				t.Errorf("error text %q holds a Go map", got)
			}
		})
	}
}

func TestCLIFlowScopeIssuesShowTheRemedy(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Narrow", "--scope", "okta.devices.read")
	file := filepath.Join(t.TempDir(), "suspend.yaml")
	doc := "name: suspend-one\ninputs:\n  deviceId:\n    type: string\n    required: true\nsteps:\n" +
		"  - id: suspend\n    card: okta-devices/suspend-device\n    connection: Narrow\n    input:\n      deviceId: ${{ inputs.deviceId }}\n"
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"flows", "validate", file},
		{"flows", "plan", file, "--input", "deviceId=x"},
		{"flows", "run", file, "--input", "deviceId=x"},
	} {
		t.Run(args[1], func(t *testing.T) {
			code, out, errOut := runCLI(t, s.vars, args...)
			all := out + errOut
			if code != exitFailure {
				t.Errorf("exit %d; want %d\n%s", code, exitFailure, all)
			}
			for _, want := range []string{"okta.devices.manage", "Remedy: ", "reauthorize"} {
				if !strings.Contains(all, want) {
					t.Errorf("output lacks %q:\n%s", want, all)
				}
			}
			if strings.Contains(all, "map[") {
				t.Errorf("output holds a Go map:\n%s", all)
			}
		})
	}
}
