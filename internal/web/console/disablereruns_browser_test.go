package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserDisableSaysTheRerunsItDropped: Disable on a flow's page says
// how many failed event runs, waiting for their connection to run again by
// themselves, it dropped, naming them, as cardflow flows disable does, and
// how to run them anyway; where it said nothing, and the runs no longer
// waited.
func TestBrowserDisableSaysTheRerunsItDropped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	conn, flowID := enabledEventFlowInError(t, e)
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for _, id := range []string{"fr_wait1", "fr_wait2"} {
		r := &store.FlowRun{ID: id, FlowID: flowID, FlowName: "quarantine-on-user-removal", Source: []byte(quarantineFlow), FlowVersion: 1,
			Status: "failed", Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"}, Failure: "step device: forbidden",
			CreatedAt: at, StartedAt: at, FinishedAt: at, Trigger: []byte(`{"kind":"event","time":"2026-12-07T09:00:00Z","eventUuid":"` + id + `"}`),
			RerunWhenActive: conn.ID, RerunConnection: "Robot"}
		if err := e.store.CreateFlowRun(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}

	b := newTab(t, e)
	b.signIn()
	b.open("/flows/" + flowID)
	b.click(button("Disable"))
	b.wantText("Disabled the flow. Dropped 2 failed event runs that waited for their connection to run again by themselves (fr_wait1, fr_wait2): enabling the flow again does not bring them back.",
		"To run the failed items of one anyway, open it under Runs below and press Rerun failed items.")
	if got := b.text(`//section[@aria-labelledby="trigger-title"]`); !strings.Contains(got, "Disabled") {
		b.fatalf("after Disable the trigger section reads %q; want Disabled", got)
	}
}
