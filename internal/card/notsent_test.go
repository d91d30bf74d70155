package card

import (
	"context"
	"net/http"
	"testing"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// TestNotSent: a card run whose wait to send a call a stop ended
// (StopWaiting) is NotSent when it had sent nothing but reads: a
// suspension whose read of the device was answered 429 or 503 and not
// sent again. One whose suspension went out (answered 429 or 503, then
// not sent again), after a read or without one, is not: the run does not
// judge an answer to a change it sent. Its problem says what was sent and
// what came of it: a 429 did nothing, a read changes nothing, a change
// answered 503 may have taken effect (the remedy: read the device).
func TestNotSent(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 20})
	const read, suspend = "/api/v1/devices/{deviceId}", "/api/v1/devices/{deviceId}/lifecycle/suspend"
	const refused = "Okta refused this run's call for the org's rate limit (429: it did nothing with it), and the call was not sent again: its flow run was asked to stop"
	tests := []struct {
		name    string
		fault   string         // the route answered status once
		status  int            // 429 unless set
		input   map[string]any // besides deviceId
		notSent bool
		want    string // the problem's message holds it
	}{
		{"its read answered 429", read, 0, nil, true, refused},
		{"it read, then its suspension answered 429", suspend, 0, nil, false, refused},
		{"its suspension (status known) answered 429", suspend, 0, map[string]any{"status": okta.StatusActive}, false, refused},
		{"its read answered 503", read, http.StatusServiceUnavailable, nil, true,
			"this run sent a read to Okta once (answered 503) and did not send it again: its flow run was asked to stop while it waited to; a read changes nothing at the org"},
		{"its suspension (status known) answered 503", suspend, http.StatusServiceUnavailable, map[string]any{"status": okta.StatusActive}, false,
			"this run sent its call to Okta once (answered 503) and did not send it again: its flow run was asked to stop while it waited to; whether the call changed anything at the org is unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := e.device(okta.StatusActive)
			fault := emutest.FaultSpec{Method: methodOf(tt.fault), Path: tt.fault, Status: tt.status, Count: 1}
			if tt.status == 0 {
				fault.Status, fault.ResetIn, fault.Headers = http.StatusTooManyRequests, "1h", map[string]string{"X-Rate-Limit-Limit": "600"}
			}
			e.srv.Inject(t, fault)
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
			wantProblem(t, res, problem.UpstreamError, tt.want)
			if p, _ := problem.As(res.Error); tt.status == http.StatusServiceUnavailable && !tt.notSent && p.Remedy != store.InterruptedChangeRemedy {
				t.Errorf("remedy %q; want %q", p.Remedy, store.InterruptedChangeRemedy)
			}
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
