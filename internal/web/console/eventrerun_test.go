package console_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestEventsSayWhatCameOfTheRerun: on the Events page, the failed run of
// an event that its connection stopped says what came of it: the status
// of the run that ran it again by itself (a link to it, the last of a
// chain of such reruns), or that it runs again once the connection is
// active again, where the page said only "Failed" of an event whose
// rerun succeeded.
func TestEventsSayWhatCameOfTheRerun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	conn, flowID := enabledEventFlowInError(t, e)
	run := func(r *store.FlowRun) *store.FlowRun {
		r.FlowID, r.FlowName, r.Source, r.FlowVersion, r.CreatedAt, r.StartedAt, r.FinishedAt = flowID, "quarantine-on-user-removal", []byte(quarantineFlow), 1, at, at, at
		r.Actor = store.Actor{Type: store.ActorUser, Login: "ada@example.com"}
		r.Trigger = []byte(`{"kind":"event","time":"2026-12-07T09:00:00Z"}`)
		return r
	}
	event := func(uuid string, r *store.FlowRun) {
		t.Helper()
		raw := `{"uuid":"` + uuid + `","eventType":"device.user.remove","published":"2026-12-07T09:00:00Z","target":[{"id":"guo9","type":"UDDevice"}]}`
		if _, err := e.store.PutEvents(ctx, []*store.Event{{UUID: uuid, ConnectionID: conn.ID, EventType: "device.user.remove", Published: at, Raw: json.RawMessage(raw)}}, store.ViaPoll); err != nil {
			t.Fatal(err)
		}
		if err := e.store.StartEventRun(ctx, uuid, flowID, r); err != nil {
			t.Fatal(err)
		}
	}
	event("e-waits", run(&store.FlowRun{ID: "fr_waiting", Status: "failed", RerunWhenActive: conn.ID, RerunConnection: "Robot"}))
	// Ran again, and that rerun failed and ran again too: the last says.
	for _, r := range []*store.FlowRun{
		run(&store.FlowRun{ID: "fr_rerun2", Status: "succeeded", RerunOf: "fr_rerun1"}),
		run(&store.FlowRun{ID: "fr_rerun1", Status: "failed", RerunOf: "fr_done", RerunWhenActive: conn.ID, RerunConnection: "Robot", RerunBy: "fr_rerun2"}),
	} {
		if err := e.store.CreateFlowRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	event("e-reran", run(&store.FlowRun{ID: "fr_done", Status: "failed", RerunWhenActive: conn.ID, RerunConnection: "Robot", RerunBy: "fr_rerun1"}))

	c, _, _ := signInHTTP(t, e.url, "/events")
	_, page := get(t, c, e.url+"/events")
	for _, want := range []string{
		`Failed, ran again: <a href="/flow-runs/fr_rerun2">Succeeded`,
		"Failed, runs again when connection Robot is active again",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the Events page does not say %q:\n%s", want, page)
		}
	}
}
