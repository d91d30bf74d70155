package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
)

// TestRunsSayTheyRunAgainWhenActive: flows runs and flows show-run say of
// a failed event run its connection stopped that it will run again when
// the connection is active again, then which run did, or why it did not.
func TestRunsSayTheyRunAgainWhenActive(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	robot := api.ConnectionRef{ID: "conn_1", Nickname: "Robot"}
	runs := []api.FlowRun{
		{ID: "fr_wait", Flow: "quarantine", Status: "failed", Failure: "step device: forbidden", CreatedAt: at, FinishedAt: &at,
			Trigger: &api.FlowRunTrigger{Kind: "event"}, RerunWhenActive: &api.RerunWhenActive{Connection: robot}},
		{ID: "fr_done", Flow: "quarantine", Status: "failed", Failure: "step device: forbidden", CreatedAt: at, FinishedAt: &at,
			Trigger: &api.FlowRunTrigger{Kind: "event"}, RerunWhenActive: &api.RerunWhenActive{Connection: robot, Rerun: "fr_again"}},
		{ID: "fr_off", Flow: "quarantine", Status: "failed", Failure: "step device: forbidden", CreatedAt: at, FinishedAt: &at,
			Trigger: &api.FlowRunTrigger{Kind: "event"}, RerunWhenActive: &api.RerunWhenActive{Connection: robot, NotRerun: "flow quarantine was disabled"}},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v1/flow-runs/fr_wait" {
			_ = json.NewEncoder(w).Encode(runs[0])
			return
		}
		_ = json.NewEncoder(w).Encode(api.FlowRunList{Runs: runs})
	}))
	t.Cleanup(srv.Close)
	vars := map[string]string{"CARDFLOW_SERVER": srv.URL, "CARDFLOW_API_TOKEN": "x"}
	code, out, errOut := runCLI(t, vars, "flows", "runs", "quarantine")
	for _, want := range []string{
		"step device: forbidden (will run again when connection Robot is active again)",
		"step device: forbidden (ran again as run fr_again)",
		"step device: forbidden (not run again by itself: flow quarantine was disabled; to run its failed items: cardflow flows rerun fr_off --failed-only)",
	} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("flows runs: exit %d; want %q in\n%s%s", code, want, out, errOut)
		}
	}
	code, out, errOut = runCLI(t, vars, "flows", "show-run", "fr_wait")
	if want := "Rerun:   will run again when connection Robot is active again\n"; code != exitOK || !strings.Contains(out, want) {
		t.Errorf("flows show-run: exit %d; want %q in\n%s%s", code, want, out, errOut)
	}
}
