package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIFlowRunsByStatus: flows runs without a flow lists every flow's
// runs with a FLOW column, --status keeps the runs of one status (of one
// flow, or of all), an empty result names the filter, and a status that
// is none is refused with the ones there are, by the CLI and the API.
func TestCLIFlowRunsByStatus(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	dir := t.TempDir()
	read := func(name, id string) string {
		file := filepath.Join(dir, name+".yaml")
		doc := "name: " + name + "\nsteps:\n  - id: read\n    card: okta-devices/read-device\n    connection: Demo org\n    input: {deviceId: " + id + "}\n"
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "run", read("reads-nothing", "guoNOPE")); code == exitOK {
		t.Fatalf("flows run of a flow reading a device that is not there: exit 0\n%s%s", out, errOut)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "run", "../../examples/offboard-user-devices.yaml", "--input", "login=nobody@example.com"); code != exitOK {
		t.Fatalf("flows run: exit %d\n%s%s", code, out, errOut)
	}

	code, out, errOut := runCLI(t, s.vars, "flows", "runs")
	if code != exitOK || !strings.HasPrefix(out, "FLOW ") || !strings.Contains(out, "\nreads-nothing ") || !strings.Contains(out, "\noffboard-user-devices ") {
		t.Errorf("flows runs: exit %d\n%s%s\nwant both flows' runs, under FLOW", code, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "runs", "--status", "failed")
	if code != exitOK || !strings.Contains(out, "\nreads-nothing ") || strings.Contains(out, "offboard-user-devices") || strings.Count(out, "\n") != 2 {
		t.Errorf("flows runs --status failed: exit %d\n%s%s\nwant the failed run alone", code, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "runs", "offboard-user-devices", "--status", "failed")
	if code != exitOK || out != "No runs of flow offboard-user-devices match --status failed.\n" {
		t.Errorf("flows runs NAME --status failed: exit %d\n%s%s\nwant no runs, naming the filter", code, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "runs", "offboard-user-devices", "--status", "succeeded")
	if code != exitOK || !strings.HasPrefix(out, "RUN ") || strings.Count(out, "\n") != 2 {
		t.Errorf("flows runs NAME --status succeeded: exit %d\n%s%s\nwant its one run, without FLOW", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, s.vars, "flows", "runs", "--status", "done"); code != exitUsage || !strings.Contains(errOut, `--status "done": want queued, running, succeeded, failed or canceled`) {
		t.Errorf("flows runs --status done: exit %d\n%s\nwant refused with the statuses there are", code, errOut)
	}
	code, body := s.api(t, "GET", "/api/v1/flow-runs?status=done", "")
	if code != 400 || !strings.Contains(body, `status \"done\" is not a flow run's status`) || !strings.Contains(body, "give one of queued, running, succeeded, failed, canceled") {
		t.Errorf("GET /api/v1/flow-runs?status=done: %d %s; want 400 naming the statuses", code, body)
	}
}
