package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite"
)

// TestCLIListsWhatStopsEnabledFlows: flows list says, beside "enabled",
// that an event flow's connection has failing System Log polls and that a
// connection a flow uses needs reauthorization, as the console's list
// does; connections list marks the failing polls.
func TestCLIListsWhatStopsEnabledFlows(t *testing.T) {
	var dir string
	s := startServerWith(t, oktaemu.Config{Devices: 2}, func(c *app.Config) { dir = c.DataDir })
	id := s.connect(t, "Demo org")
	flowFile := filepath.Join(t.TempDir(), "quarantine.yaml")
	writeFile(t, flowFile, quarantineFlow)
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", flowFile, "--enable"); code != exitOK {
		t.Fatalf("flows store --enable: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", "../../examples/nightly-stale-cleanup.yaml", "--enable"); code != exitOK {
		t.Fatalf("flows store --enable: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := runCLI(t, s.vars, "flows", "list"); code != exitOK || strings.Contains(out, "—") {
		t.Fatalf("flows list with working connections: exit %d\n%s; want no problem named", code, out)
	}

	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "cardflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	since := s.emu.Now()
	failing := store.PollStatus{Error: "Okta refused the System Log request (E0000006)", Remedy: "grant the app okta.logs.read", FailingSince: since}
	if err := st.SetPollStatus(t.Context(), id, "", failing, since, nil); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, s.vars, "flows", "list")
	if code != exitOK || !regexp.MustCompile(`quarantine-new-devices\s+event .*enabled — connection Demo org: System Log polls failing\s`).MatchString(out) ||
		regexp.MustCompile(`nightly-stale-cleanup.*—`).MatchString(out) {
		t.Errorf("flows list with failing polls: exit %d\n%s; want the event flow (only) to say its connection's polls fail", code, out)
	}
	if code, out, _ := runCLI(t, s.vars, "connections", "list"); code != exitOK || !strings.Contains(out, "active (System Log polls failing)") {
		t.Errorf("connections list with failing polls: exit %d\n%s; want it marked", code, out)
	}
	if err := st.SetPollStatus(t.Context(), id, "", store.PollStatus{}, since.Add(time.Minute), nil); err != nil {
		t.Fatal(err)
	}

	var upOut, upErr strings.Builder
	e := &env{stdin: strings.NewReader(oktaemu.DemoClientSecret), stdout: &upOut, stderr: &upErr, getenv: func(k string) string { return s.vars[k] }}
	if code := run(context.Background(), []string{"connections", "update", "Demo org", "--client-secret-stdin", "--no-reauthorize"}, e); code != exitOK {
		t.Fatalf("connections update --no-reauthorize: exit %d\n%s%s", code, &upOut, &upErr)
	}
	code, out, _ = runCLI(t, s.vars, "flows", "list")
	for _, name := range []string{"quarantine-new-devices", "nightly-stale-cleanup"} {
		if code != exitOK || !regexp.MustCompile(name+`\s+.*enabled — connection Demo org needs reauthorization\s`).MatchString(out) {
			t.Errorf("flows list with a connection to reauthorize: exit %d\n%s; want %s to name it beside enabled", code, out, name)
		}
	}
	if code, out, _ := runCLI(t, s.vars, "flows", "list", "--json"); code != exitOK || !strings.Contains(out, `"problem": "needs reauthorization"`) {
		t.Errorf("flows list --json: exit %d\n%s; want problems", code, out)
	}
}

// TestFlowListState: each problem the API names reads as a sentence
// beside "enabled"; a disabled flow names none.
func TestFlowListState(t *testing.T) {
	tests := []struct {
		name     string
		enabled  bool
		problems []api.FlowProblem
		want     string
	}{
		{"none", true, nil, "enabled"},
		{"disabled", false, []api.FlowProblem{{Connection: "Prod", Problem: "error"}}, "disabled"},
		{"needs reauthorization", true, []api.FlowProblem{{Connection: "Prod", Problem: "needs reauthorization"}}, "enabled — connection Prod needs reauthorization"},
		{"pending", true, []api.FlowProblem{{Connection: "Prod", Problem: "pending"}}, "enabled — connection Prod is pending (not authorized yet)"},
		{"error", true, []api.FlowProblem{{Connection: "Prod", Problem: "error"}}, "enabled — connection Prod is in error"},
		{"gone and polls", true, []api.FlowProblem{{Connection: "Old", Problem: "no such connection"}, {Connection: "Prod", Problem: "System Log polls failing"}},
			"enabled — connection Old does not exist; connection Prod: System Log polls failing"},
		{"hook works, polls fail", true, []api.FlowProblem{{Connection: "Prod", Problem: "System Log polls fail; events arrive only by the event hook", Severity: "warning"}},
			"enabled — warning: connection Prod: System Log polls fail; events arrive only by the event hook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := api.Flow{Enabled: tt.enabled, Trigger: map[string]any{"kind": "schedule"}, Problems: tt.problems}
			if got := flowListState(&f); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

// TestEnablementText: storing a flow says how to enable it with the
// command line, not the API; other outcomes keep the server's words.
func TestEnablementText(t *testing.T) {
	trig := map[string]any{"kind": "schedule"}
	for _, tt := range []struct {
		outcome, message string
		trigger          map[string]any
		want             string
	}{
		{"new", "stored disabled, as every flow with a trigger is: enable it with POST /api/v1/flows/f1/enable", trig,
			"Stored disabled, as every flow with a trigger is; enable it with: cardflow flows enable 'night ly'"},
		{"disabled", "disabled: the trigger changed; check it and enable it with POST /api/v1/flows/f1/enable again", trig,
			"Disabled: the trigger changed; check it and enable it again with: cardflow flows enable 'night ly'"},
		{"disabled", "disabled: the new version has no trigger", nil, "disabled: the new version has no trigger"},
		{"kept", "still enabled: the trigger is unchanged", trig, "still enabled: the trigger is unchanged"},
	} {
		f := &api.Flow{Name: "night ly", Trigger: tt.trigger}
		if got := enablementText(&api.Enablement{Outcome: tt.outcome, Message: tt.message}, f); got != tt.want {
			t.Errorf("%s: got %q; want %q", tt.outcome, got, tt.want)
		}
	}
}
