package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestCLIRunIDGivenForAFlow: a flow run's id given where a flow is named
// (flows runs, flows show) is refused naming the command that shows that
// run, and a card run's id the same; an id of nothing is not_found, not an
// empty list of runs.
func TestCLIRunIDGivenForAFlow(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	code, out, errOut := runCLI(t, s.vars, "flows", "run", "../../examples/offboard-user-devices.yaml", "--input", "login="+oktaemu.UserLogin, "--json")
	if code != exitOK {
		t.Fatalf("flows run: exit %d\n%s%s", code, out, errOut)
	}
	var flowRun struct{ ID string }
	if err := json.Unmarshal([]byte(out), &flowRun); err != nil || flowRun.ID == "" {
		t.Fatalf("flows run --json: %v\n%s", err, out)
	}
	code, out, errOut = runCLI(t, s.vars, "run", "search-devices", "--connection", "Demo org", "--json")
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	var cardRun struct{ ID string }
	if err := json.Unmarshal([]byte(out), &cardRun); err != nil || cardRun.ID == "" {
		t.Fatalf("run --json: %v\n%s", err, out)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"flows", "runs", flowRun.ID}, flowRun.ID + ` is the id of a run of flow "offboard-user-devices", not of a flow: show the run with cardflow flows show-run ` + flowRun.ID},
		{[]string{"flows", "show", flowRun.ID}, "show the run with cardflow flows show-run " + flowRun.ID},
		{[]string{"flows", "runs", cardRun.ID}, cardRun.ID + " is the id of a card run (okta-devices/search-devices), not of a flow: show it with cardflow runs show " + cardRun.ID},
		{[]string{"flows", "runs", strings.Repeat("ab", 16)}, `no flow has the id or name "` + strings.Repeat("ab", 16) + `"`},
	} {
		code, out, errOut := runCLI(t, s.vars, tt.args...)
		if code != exitFailure || !strings.Contains(errOut, "not_found") || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d\n%s%s\nwant not_found saying %q", strings.Join(tt.args, " "), code, out, errOut, tt.want)
		}
	}
	// The flow's own id still lists its runs, and so does the id of the
	// flow once deleted.
	code, out, errOut = runCLI(t, s.vars, "flows", "show-run", flowRun.ID, "--json")
	var shown struct {
		FlowID string `json:"flowId"`
	}
	if err := json.Unmarshal([]byte(out), &shown); code != exitOK || err != nil || shown.FlowID == "" {
		t.Fatalf("flows show-run --json: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	for _, step := range []string{"stored", "deleted"} {
		if step == "deleted" {
			if code, out, errOut := runCLI(t, s.vars, "flows", "delete", "offboard-user-devices", "--yes"); code != exitOK {
				t.Fatalf("flows delete: exit %d\n%s%s", code, out, errOut)
			}
		}
		if code, out, errOut := runCLI(t, s.vars, "flows", "runs", shown.FlowID); code != exitOK || !strings.Contains(out, flowRun.ID) {
			t.Errorf("flows runs FLOW_ID of the %s flow: exit %d\n%s%s\nwant the run listed", step, code, out, errOut)
		}
	}
}
