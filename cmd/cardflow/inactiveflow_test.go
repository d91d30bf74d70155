package main

import (
	"context"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestCLIFlowOfConnectionToReauthorize: a flow whose steps all use a
// connection that needs reauthorization is refused with that connection
// named once, with its reason, the steps that use it and the fix as the
// remedy, as a card run on it says; not as problems of the flow document,
// which has none, one line per step. The remedy is the same whether the
// flow is run or planned. Storing it is not refused: the document is
// stored, with the connection's state as a warning of each step that uses
// it, saying the same fix.
func TestCLIFlowOfConnectionToReauthorize(t *testing.T) {
	s := startServerWith(t, oktaemu.Config{Devices: 2})
	s.connect(t, "Demo org")
	var upOut, upErr strings.Builder
	e := &env{stdin: strings.NewReader(oktaemu.DemoClientSecret), stdout: &upOut, stderr: &upErr, getenv: func(k string) string { return s.vars[k] }}
	if code := run(context.Background(), []string{"connections", "update", "Demo org", "--client-secret-stdin", "--no-reauthorize"}, e); code != exitOK {
		t.Fatalf("connections update --no-reauthorize: exit %d\n%s%s", code, &upOut, &upErr)
	}
	for _, cmd := range [][]string{
		{"flows", "run", "../../examples/offboard-user-devices.yaml", "--input", "login=user@example.com"},
		{"flows", "plan", "../../examples/offboard-user-devices.yaml", "--input", "login=user@example.com"},
	} {
		code, out, errOut := runCLI(t, s.vars, cmd...)
		if code != exitFailure {
			t.Errorf("%s with its connection to reauthorize: exit %d; want %d\n%s%s", cmd[:2], code, exitFailure, out, errOut)
		}
		for _, want := range []string{
			`cardflow: needs_reauthorization: connection "Demo org" needs reauthorization: the client secret was changed`,
			`(used by steps find, suspend)`,
			"\nRemedy: reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize \"Demo org\")\n",
		} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s with its connection to reauthorize: stderr lacks %q\n%s", cmd[:2], want, errOut)
			}
		}
		if strings.Contains(errOut, "flow document") || strings.Count(errOut, "needs reauthorization") != 1 {
			t.Errorf("%s with its connection to reauthorize: stderr speaks of the flow document, or of the connection more than once\n%s", cmd[:2], errOut)
		}
	}
	code, out, errOut := runCLI(t, s.vars, "flows", "store", "../../examples/offboard-user-devices.yaml")
	if code != exitOK {
		t.Fatalf("flows store with its connection to reauthorize: exit %d; want %d (stored, with warnings)\n%s%s", code, exitOK, out, errOut)
	}
	for _, line := range []string{"19:17", "27:17"} {
		want := `warning: ../../examples/offboard-user-devices.yaml:` + line + `: connection "Demo org" needs reauthorization`
		if !strings.Contains(errOut, want) {
			t.Errorf("flows store with its connection to reauthorize: stderr lacks %q\n%s", want, errOut)
		}
	}
	for _, want := range []string{
		`connection "Demo org" needs reauthorization: the client secret was changed, so the tokens issued with the previous one were discarded; the flow is not run, planned or enabled until it is active; reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Demo org")`,
	} {
		if strings.Count(errOut, want) != 2 {
			t.Errorf("flows store with its connection to reauthorize: stderr says %q other than once per step\n%s", want, errOut)
		}
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "show", "offboard-user-devices"); code != exitOK {
		t.Errorf("flows show of the flow stored with its connection to reauthorize: exit %d\n%s%s", code, out, errOut)
	}
}
