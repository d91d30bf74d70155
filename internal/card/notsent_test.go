package card

import (
	"context"
	"net/http"
	"testing"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/problem"
)

// TestNotSent: a card run whose wait to send a call a stop ended
// (StopWaiting) is NotSent when it had sent nothing but reads: a
// suspension whose read of the device was answered 429 and not sent
// again. One whose suspension went out (answered 429, then not sent
// again), after a read or without one, is not: the run does not judge an
// answer to a change it sent.
func TestNotSent(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 20})
	const read, suspend = "/api/v1/devices/{deviceId}", "/api/v1/devices/{deviceId}/lifecycle/suspend"
	tests := []struct {
		name    string
		fault   string         // the route answered 429 once
		input   map[string]any // besides deviceId
		notSent bool
	}{
		{"its read answered 429", read, nil, true},
		{"it read, then its suspension answered 429", suspend, nil, false},
		{"its suspension (status known) answered 429", suspend, map[string]any{"status": okta.StatusActive}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := e.device(okta.StatusActive)
			e.srv.Inject(t, emutest.FaultSpec{Method: methodOf(tt.fault), Path: tt.fault, Status: http.StatusTooManyRequests, Count: 1,
				ResetIn: "1h", Headers: map[string]string{"X-Rate-Limit-Limit": "600"}})
			defer e.srv.ClearFaults(t)
			in := map[string]any{"deviceId": id}
			for k, v := range tt.input {
				in[k] = v
			}
			stop, end := context.WithCancelCause(context.Background())
			end(&StopReason{Why: "its flow run was asked to stop", Remedy: "rerun it"})
			res, err := e.exec.Run(StopWaiting(context.Background(), stop), Request{Card: "okta-devices/suspend-device", Connection: "Prod", Input: in, Actor: testActor})
			if err != nil {
				t.Fatal(err)
			}
			wantProblem(t, res, problem.Internal, "did not send its call to Okta: its flow run was asked to stop")
			if res.NotSent != tt.notSent {
				t.Errorf("NotSent = %t; want %t", res.NotSent, tt.notSent)
			}
		})
	}
}

// methodOf is the method of the faulted route: GET for a read, POST for a
// lifecycle call.
func methodOf(route string) string {
	if route == "/api/v1/devices/{deviceId}" {
		return http.MethodGet
	}
	return http.MethodPost
}
