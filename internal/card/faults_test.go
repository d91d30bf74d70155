package card

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/problem"
)

// TestCardsOnFaultyAnswers: whatever Okta (or what stands in front of it)
// answers, a card ends with a clear code and message, never with raw HTML
// or a claim it did not check, and with truthful output.
func TestCardsOnFaultyAnswers(t *testing.T) {
	const (
		device  = "/api/v1/devices/{deviceId}"
		devices = "/api/v1/devices"
		suspend = "/api/v1/devices/{deviceId}/lifecycle/suspend"
	)
	tests := []struct {
		name       string
		card       string
		status     string // the device's status before
		input      map[string]any
		fault      emutest.FaultSpec
		fault2     *emutest.FaultSpec // a second fault, when set
		wantCode   problem.Code       // "": the run succeeds
		wantText   []string
		wantStatus string // the device's status after ("" : not checked)
		wantOut    map[string]any
		wantGone   bool // the device no longer exists
		// wantDeletes: DELETE requests the org got (0: not checked)
		wantDeletes int
	}{
		{name: "read-device: HTML error pages beyond the retries", card: "read-device", status: okta.StatusActive,
			fault:    emutest.FaultSpec{Method: "GET", Path: device, Status: 502, Body: "html", Count: 10},
			wantCode: problem.UpstreamError, wantText: []string{"Okta answered 502: Bad Gateway"}},
		{name: "read-device: empty 500s beyond the retries", card: "read-device", status: okta.StatusActive,
			fault:    emutest.FaultSpec{Method: "GET", Path: device, Status: 500, Body: "empty", Count: 10},
			wantCode: problem.UpstreamError, wantText: []string{"Okta answered 500"}},
		{name: "read-device: a 200 whose JSON is cut short", card: "read-device", status: okta.StatusActive,
			fault:    emutest.FaultSpec{Method: "GET", Path: device, After: true, Body: "truncated"},
			wantCode: problem.UpstreamError, wantText: []string{"could not read Okta's answer: Okta answered 200 with JSON that breaks off midway"}},
		{name: "read-device: a 200 HTML page", card: "read-device", status: okta.StatusActive,
			fault:    emutest.FaultSpec{Method: "GET", Path: device, Status: 200, Body: "html"},
			wantCode: problem.UpstreamError, wantText: []string{"could not read Okta's answer: Okta answered 200 with text/html instead of JSON"}},
		{name: "read-device: a 200 without body", card: "read-device", status: okta.StatusActive,
			fault:    emutest.FaultSpec{Method: "GET", Path: device, Status: 200, Body: "empty"},
			wantCode: problem.UpstreamError, wantText: []string{"could not read Okta's answer: Okta answered 200 with an empty body"}},
		{name: "read-device: a refused DPoP proof", card: "read-device", status: okta.StatusActive,
			fault: emutest.FaultSpec{Method: "GET", Path: device, Status: 400, Body: "empty", Headers: map[string]string{
				"WWW-Authenticate": `DPoP algs="ES256", error="invalid_dpop_proof", error_description="The DPoP proof JWT is issued more than five minutes in the past."`}},
			wantCode: problem.UpstreamError, wantText: []string{"Okta refused the DPoP proof", "invalid_dpop_proof: The DPoP proof JWT is issued more than five minutes in the past."}},
		{name: "read-device: connection reset once", card: "read-device", status: okta.StatusActive,
			fault: emutest.FaultSpec{Method: "GET", Path: device, Body: "reset"}},
		{name: "search-devices: second page answered 503", card: "search-devices", input: map[string]any{"resultSet": "all"},
			fault:   emutest.FaultSpec{Method: "GET", Path: devices, Status: 503, Skip: 1},
			wantOut: map[string]any{"count": 250}},
		{name: "search-devices: second page cut off", card: "search-devices", input: map[string]any{"resultSet": "all"},
			fault:   emutest.FaultSpec{Method: "GET", Path: devices, After: true, Body: "cut", Skip: 1},
			wantOut: map[string]any{"count": 250}},
		{name: "suspend-device: the answer lost behind a 502", card: "suspend-device", status: okta.StatusActive,
			fault:      emutest.FaultSpec{Method: "POST", Path: suspend, Status: 502, Body: "html", After: true},
			wantStatus: okta.StatusSuspended, wantOut: map[string]any{"changed": true, "status": okta.StatusSuspended}},
		{name: "suspend-device: the connection reset after the change", card: "suspend-device", status: okta.StatusActive,
			fault:      emutest.FaultSpec{Method: "POST", Path: suspend, Body: "reset", After: true},
			wantStatus: okta.StatusSuspended, wantOut: map[string]any{"changed": true, "status": okta.StatusSuspended}},
		{name: "suspend-device: every answer lost behind a 502", card: "suspend-device", status: okta.StatusActive,
			fault:      emutest.FaultSpec{Method: "POST", Path: suspend, Status: 502, Body: "html", After: true, Count: 10},
			wantStatus: okta.StatusSuspended, wantOut: map[string]any{"changed": true, "status": okta.StatusSuspended}},
		{name: "suspend-device: 503 on every attempt", card: "suspend-device", status: okta.StatusActive,
			fault:    emutest.FaultSpec{Method: "POST", Path: suspend, Status: 503, Count: 10},
			wantCode: problem.UpstreamError, wantText: []string{"Okta answered 503 to suspend device", "the device is still ACTIVE, so it was not suspended"},
			wantStatus: okta.StatusActive},
		// A 200 HTML page is not Okta's 204: the change is checked.
		{name: "suspend-device: a proxy's 200 page instead of Okta's answer", card: "suspend-device", status: okta.StatusActive,
			fault:    emutest.FaultSpec{Method: "POST", Path: suspend, Status: 200, Body: "html"},
			wantCode: problem.UpstreamError, wantText: []string{"text/html instead of JSON", "the device is still ACTIVE, so it was not suspended"},
			wantStatus: okta.StatusActive},
		{name: "suspend-device: a proxy's 200 page after Okta made the change", card: "suspend-device", status: okta.StatusActive,
			fault:      emutest.FaultSpec{Method: "POST", Path: suspend, Status: 200, Body: "html", After: true},
			wantStatus: okta.StatusSuspended, wantOut: map[string]any{"changed": true, "status": okta.StatusSuspended}},
		{name: "delete-device: a proxy's 200 page instead of Okta's answer", card: "delete-device", status: okta.StatusDeactivated,
			fault:    emutest.FaultSpec{Method: "DELETE", Path: device, Status: 200, Body: "html"},
			wantCode: problem.UpstreamError, wantText: []string{"the device is still DEACTIVATED, so it was not deleted"},
			wantStatus: okta.StatusDeactivated, wantDeletes: 1},
		// A delete is not sent again blindly; a read tells whether the
		// first one happened.
		{name: "delete-device: the answer lost behind a 502", card: "delete-device", status: okta.StatusDeactivated,
			fault:   emutest.FaultSpec{Method: "DELETE", Path: device, Status: 502, Body: "html", After: true},
			wantOut: map[string]any{"deleted": true}, wantGone: true, wantDeletes: 1},
		{name: "delete-device: the connection reset after the delete", card: "delete-device", status: okta.StatusDeactivated,
			fault:   emutest.FaultSpec{Method: "DELETE", Path: device, Body: "reset", After: true},
			wantOut: map[string]any{"deleted": true}, wantGone: true, wantDeletes: 1},
		{name: "delete-device: every answer to deactivateFirst lost behind a 502", card: "delete-device", status: okta.StatusActive,
			input:   map[string]any{"deactivateFirst": true},
			fault:   emutest.FaultSpec{Method: "POST", Path: "/api/v1/devices/{deviceId}/lifecycle/deactivate", Status: 502, Body: "html", After: true, Count: 10},
			wantOut: map[string]any{"deleted": true, "deactivated": true}, wantGone: true, wantDeletes: 1},
		{name: "delete-device: deactivateFirst answered 503 every time", card: "delete-device", status: okta.StatusActive,
			input:    map[string]any{"deactivateFirst": true},
			fault:    emutest.FaultSpec{Method: "POST", Path: "/api/v1/devices/{deviceId}/lifecycle/deactivate", Status: 503, Count: 10},
			wantCode: problem.UpstreamError, wantText: []string{"Okta answered 503 to deactivate device", "the device is still ACTIVE, so it was not deactivated, nor deleted"},
			wantStatus: okta.StatusActive},
		// A 404 that is not Okta's E0000007 (a proxy's page) proves nothing.
		{name: "delete-device: a 503, then the read answered by a proxy's 404 page", card: "delete-device", status: okta.StatusDeactivated,
			fault:    emutest.FaultSpec{Method: "DELETE", Path: device, Status: 503},
			fault2:   &emutest.FaultSpec{Method: "GET", Path: device, Status: 404, Body: "html", Skip: 1},
			wantCode: problem.UpstreamError, wantText: []string{"Okta answered 503"}, wantStatus: okta.StatusDeactivated, wantDeletes: 1},
		{name: "read-device: a proxy's 404 page", card: "read-device", status: okta.StatusActive,
			fault:    emutest.FaultSpec{Method: "GET", Path: device, Status: 404, Body: "html"},
			wantCode: problem.UpstreamError, wantText: []string{"Okta answered 404: Not Found"}},
		{name: "delete-device: a 503 before the delete", card: "delete-device", status: okta.StatusDeactivated,
			fault:    emutest.FaultSpec{Method: "DELETE", Path: device, Status: 503},
			wantCode: problem.UpstreamError, wantText: []string{"Okta answered 503 to the delete of device", "the device is still DEACTIVATED, so it was not deleted"},
			wantStatus: okta.StatusDeactivated, wantDeletes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, oktaemu.Config{Devices: 250})
			in := map[string]any{}
			id := ""
			if tt.status != "" {
				id = e.device(tt.status)
				in["deviceId"] = id
			}
			for k, v := range tt.input {
				in[k] = v
			}
			e.srv.Inject(t, tt.fault)
			if tt.fault2 != nil {
				e.srv.Inject(t, *tt.fault2)
			}
			res := e.run("okta-devices/"+tt.card, "Prod", in)
			if tt.wantCode != "" {
				wantProblem(t, res, tt.wantCode, tt.wantText...)
				if msg := res.Error.Error(); strings.ContainsAny(msg, "<>") || strings.Contains(msg, "could not reach") {
					t.Errorf("error %q; want no HTML and no claim that Okta was unreachable", msg)
				}
			} else if res.Status != StatusSucceeded {
				t.Fatalf("run failed: %v", res.Error)
			}
			for k, want := range tt.wantOut {
				if got := res.Output[k]; got != want {
					t.Errorf("output %s = %v; want %v", k, got, want)
				}
			}
			if tt.wantDeletes > 0 {
				if got := e.srv.Stats(t)["DELETE "+device]; got != tt.wantDeletes {
					t.Errorf("DELETE sent %d times; want %d", got, tt.wantDeletes)
				}
			}
			if tt.wantGone {
				if _, err := e.admin.GetDevice(t.Context(), id); !okta.IsNotFound(err) {
					t.Errorf("reading the device: %v; want it gone", err)
				}
			}
			if tt.wantStatus != "" {
				if got := e.status(id); got != tt.wantStatus {
					t.Errorf("device is %s; want %s", got, tt.wantStatus)
				}
			}
		})
	}
}
