package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/store"
)

// TestFlowRunSaysItRunsAgainWhenActive: the page of a failed event run
// its connection stopped says that it will run again when the connection
// is active again, then which run did (a link to it), or why it was not
// rerun by itself; the automatic rerun's page says that cardflow started
// it by itself. The flow's list of runs says it too.
func TestFlowRunSaysItRunsAgainWhenActive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	conn, flowID := enabledEventFlowInError(t, e)
	put := func(r *store.FlowRun) {
		t.Helper()
		r.FlowID, r.FlowName, r.Source, r.FlowVersion, r.CreatedAt, r.StartedAt, r.FinishedAt = flowID, "quarantine-on-user-removal", []byte(quarantineFlow), 1, at, at, at
		r.Trigger = []byte(`{"kind":"event","time":"2026-12-07T09:00:00Z","eventUuid":"e1"}`)
		if err := e.store.CreateFlowRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	enabler := store.Actor{Type: store.ActorUser, Login: "ada@example.com"}
	put(&store.FlowRun{ID: "fr_waiting", Status: "failed", Actor: enabler, Failure: "step device: forbidden", RerunWhenActive: conn.ID, RerunConnection: "Robot"})
	put(&store.FlowRun{ID: "fr_rerun", Status: "succeeded", Actor: store.ServerActor, RerunOf: "fr_done"})
	put(&store.FlowRun{ID: "fr_done", Status: "failed", Actor: enabler, RerunWhenActive: conn.ID, RerunConnection: "Robot", RerunBy: "fr_rerun"})
	put(&store.FlowRun{ID: "fr_skipped", Status: "failed", Actor: enabler, RerunWhenActive: conn.ID, RerunConnection: "Robot", RerunSkipped: "flow quarantine-on-user-removal was disabled"})

	c, _, _ := signInHTTP(t, e.url, "/flows")
	for id, want := range map[string]string{
		"fr_waiting": "Will run again when connection Robot is active again",
		"fr_done":    `Ran again as run <a href="/flow-runs/fr_rerun">`,
		"fr_skipped": "Not run again by itself: flow quarantine-on-user-removal was disabled. Rerun failed items runs it.",
		"fr_rerun":   "by itself, once the connection the run it reruns waited for was active again",
	} {
		_, page := get(t, c, e.url+"/flow-runs/"+id)
		if !strings.Contains(page, want) {
			t.Errorf("the page of %s does not say %q:\n%s", id, want, page)
		}
	}
	// The flow's list of runs says it of each too, as flows runs does,
	// where it showed them as failed runs and nothing more.
	_, page := get(t, c, e.url+"/flows/"+flowID)
	for _, want := range []string{
		"Will run again when connection Robot is active again.",
		`Ran again as <a href="/flow-runs/fr_rerun">run <code>fr_rerun</code></a>.`,
		"Not run again by itself: flow quarantine-on-user-removal was disabled.",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the flow's page does not say %q:\n%s", want, page)
		}
	}
}

// enabledEventFlowInError stores and enables quarantineFlow on a
// connection Robot, then puts Robot in error, so that the intake's rounds
// leave its events and the runs waiting for it be.
func enabledEventFlowInError(t *testing.T, e *env) (conn *connection.View, flowID string) {
	t.Helper()
	conn = e.connect(t, "Robot", nil)
	flowID = e.storeFlow(t, strings.ReplaceAll(quarantineFlow, "connection: Prod", "connection: Robot"))
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/enable", "", ""); code != http.StatusOK {
		t.Fatalf("enable: %d %s", code, out)
	}
	if err := e.store.UpdateConnection(t.Context(), conn.ID, func(c *store.Connection) error { c.Status = store.StatusError; return nil }); err != nil {
		t.Fatal(err)
	}
	return conn, flowID
}
