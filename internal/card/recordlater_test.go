package card

import (
	"context"
	"errors"
	"testing"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/problem"
)

// TestRunRecordLater: with RecordLater, Run stores the run as running and
// leaves the finished run and its audit event to the caller; BeforeCall
// comes after the run is stored and before the card acts, and its error
// keeps the card from acting.
func TestRunRecordLater(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 10})
	ctx := context.Background()
	id := e.device(okta.StatusActive)

	var statusBefore string
	res, err := e.exec.Run(ctx, Request{Card: "okta-devices/suspend-device", Connection: "prod", Input: map[string]any{"deviceId": id},
		Actor: alice, RecordLater: true, BeforeCall: func() error {
			statusBefore = e.status(id)
			return nil
		}})
	if err != nil || res.Status != StatusSucceeded || res.Finished == nil {
		t.Fatalf("Run = %+v, %v; want a success left to record", res, err)
	}
	if statusBefore != okta.StatusActive || e.status(id) != okta.StatusSuspended {
		t.Errorf("device %s before BeforeCall returned, %s after Run; want ACTIVE, then SUSPENDED", statusBefore, e.status(id))
	}
	run, err := e.st.GetRun(ctx, res.RunID)
	if err != nil || run.Status != StatusRunning {
		t.Fatalf("stored run = %+v, %v; want running until the caller stores it", run, err)
	}
	if f := res.Finished; f.Run.ID != res.RunID || f.Run.Status != StatusSucceeded || f.Event.Action != "card.run" || f.Event.Outcome != "success" {
		t.Errorf("Finished = %+v, %+v; want the succeeded run and its card.run event", f.Run, f.Event)
	}
	if err := e.st.FinishRun(ctx, res.Finished.Run, res.Finished.Event); err != nil {
		t.Fatal(err)
	}
	if run, err = e.st.GetRun(ctx, res.RunID); err != nil || run.Status != StatusSucceeded {
		t.Errorf("stored run after FinishRun = %+v, %v; want succeeded", run, err)
	}

	// A BeforeCall error: the card does not act, the run fails.
	other := e.device(okta.StatusActive)
	before := e.mutations()
	res, err = e.exec.Run(ctx, Request{Card: "okta-devices/suspend-device", Connection: "prod", Input: map[string]any{"deviceId": other},
		Actor: alice, BeforeCall: func() error { return errors.New("disk full") }})
	if err != nil || res.Status != StatusFailed || res.Error == nil || res.Error.Code != problem.Internal {
		t.Fatalf("Run = %+v, %v; want a failed run with an internal error", res, err)
	}
	if n := e.mutations() - before; n != 0 || e.status(other) != okta.StatusActive {
		t.Errorf("%d calls that change something, device %s; want none, still ACTIVE", n, e.status(other))
	}
	if run, err = e.st.GetRun(ctx, res.RunID); err != nil || run.Status != StatusFailed {
		t.Errorf("stored run = %+v, %v; want failed", run, err)
	}
}
