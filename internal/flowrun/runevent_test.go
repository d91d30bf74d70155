package flowrun

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/store"
)

// TestRunEventSaysInputsNotComputed: the flow.run audit event of a
// triggered run that ended before it computed its inputs says so, where it
// read "inputs " with nothing after; a run with inputs names them.
func TestRunEventSaysInputsNotComputed(t *testing.T) {
	s := &Service{now: func() time.Time { return time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC) }}
	run := &store.FlowRun{FlowName: "quarantine", ID: "fr_1", Status: flow.StatusFailed, Error: "on.event.if could not be evaluated"}
	if got, want := s.runEvent(run).InputSummary, "flow quarantine, run fr_1, inputs not computed (the run ended before its trigger's inputs were)"; got != want {
		t.Errorf("summary %q; want %q", got, want)
	}
	run.Status, run.Inputs = flow.StatusSucceeded, json.RawMessage(`{"platform":"IOS"}`)
	if got, want := s.runEvent(run).InputSummary, `flow quarantine, run fr_1, inputs {"platform":"IOS"}`; got != want {
		t.Errorf("summary %q; want %q", got, want)
	}
}
