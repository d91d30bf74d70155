package card

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/problem"
)

const (
	getDevice    = "GET /api/v1/devices/{deviceId}"
	deleteDev    = "DELETE /api/v1/devices/{deviceId}"
	lifecyclePOS = "POST /api/v1/devices/{deviceId}/lifecycle/"
)

// apiCalls returns the /api/ requests the org served while fn ran, by
// route.
func (e *env) apiCalls(fn func()) map[string]int {
	e.t.Helper()
	before := e.srv.Stats(e.t)
	fn()
	got := map[string]int{}
	for k, v := range e.srv.Stats(e.t) {
		if _, path, _ := strings.Cut(k, " "); strings.HasPrefix(path, "/api/") && v != before[k] {
			got[k] = v - before[k]
		}
	}
	return got
}

// TestLifecycleKnownStatus: with the status input a lifecycle card makes
// one POST per change and no read; already there or a disallowed
// transition costs no call at all; when Okta's answer contradicts the
// known status the card reads the device once and reports the truth.
func TestLifecycleKnownStatus(t *testing.T) {
	tests := []struct {
		name        string
		card        string
		real, known string // the device's status, and the status the run is given
		wantCalls   map[string]int
		wantOutput  map[string]any // with the device id added; nil when the run fails
		wantCode    problem.Code
		wantParts   []string
		wantStatus  string // the device's status afterwards
	}{
		{name: "change", card: "suspend-device", real: okta.StatusActive, known: okta.StatusActive,
			wantCalls:  map[string]int{lifecyclePOS + "suspend": 1},
			wantOutput: map[string]any{"status": okta.StatusSuspended, "changed": true, "basis": BasisKnown}, wantStatus: okta.StatusSuspended},
		{name: "change from the second allowed status", card: "deactivate-device", real: okta.StatusSuspended, known: okta.StatusSuspended,
			wantCalls:  map[string]int{lifecyclePOS + "deactivate": 1},
			wantOutput: map[string]any{"status": okta.StatusDeactivated, "changed": true, "basis": BasisKnown}, wantStatus: okta.StatusDeactivated},
		{name: "already there", card: "suspend-device", real: okta.StatusSuspended, known: okta.StatusSuspended,
			wantCalls:  map[string]int{},
			wantOutput: map[string]any{"status": okta.StatusSuspended, "changed": false, "basis": BasisKnown}, wantStatus: okta.StatusSuspended},
		{name: "status given in lower case", card: "unsuspend-device", real: okta.StatusSuspended, known: "suspended",
			wantCalls:  map[string]int{lifecyclePOS + "unsuspend": 1},
			wantOutput: map[string]any{"status": okta.StatusActive, "changed": true, "basis": BasisKnown}, wantStatus: okta.StatusActive},
		{name: "disallowed", card: "suspend-device", real: okta.StatusDeactivated, known: okta.StatusDeactivated,
			wantCalls: map[string]int{}, wantCode: problem.Conflict,
			wantParts: []string{"is DEACTIVATED (its known status)", "activate it, then suspend it"}, wantStatus: okta.StatusDeactivated},
		{name: "stale: Okta refuses, the read shows a disallowed status", card: "suspend-device", real: okta.StatusDeactivated, known: okta.StatusActive,
			wantCalls: map[string]int{lifecyclePOS + "suspend": 1, getDevice: 1}, wantCode: problem.Conflict,
			wantParts: []string{"is DEACTIVATED;", "activate it, then suspend it"}, wantStatus: okta.StatusDeactivated},
		{name: "the known status is trusted: refused, no call", card: "activate-device", real: okta.StatusDeactivated, known: okta.StatusSuspended,
			wantCalls: map[string]int{},
			wantCode:  problem.Conflict, wantParts: []string{"is SUSPENDED (its known status)", "unsuspend it"}, wantStatus: okta.StatusDeactivated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, oktaemu.Config{Devices: 20})
			id := e.device(tt.real)
			var res *Result
			calls := e.apiCalls(func() {
				res = e.run("okta-devices/"+tt.card, "Prod", map[string]any{"deviceId": id, "status": tt.known})
			})
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("Okta calls (-want +got):\n%s", diff)
			}
			if tt.wantCode != "" {
				wantProblem(t, res, tt.wantCode, tt.wantParts...)
			} else {
				want := map[string]any{"deviceId": id}
				for k, v := range tt.wantOutput {
					want[k] = v
				}
				if diff := cmp.Diff(want, res.Output); diff != "" || res.Error != nil {
					t.Errorf("error %v, output (-want +got):\n%s", res.Error, diff)
				}
			}
			if got := e.status(id); got != tt.wantStatus {
				t.Errorf("device is %s; want %s", got, tt.wantStatus)
			}
		})
	}
}

// TestLifecycleKnownStatusCorrected: a known status that Okta contradicts
// is corrected by one read, and the card then does what the read-first
// card would have done.
func TestLifecycleKnownStatusCorrected(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 20})
	// Known ACTIVE, really CREATED: deactivate is refused by Okta, and the
	// read shows that CREATED allows no deactivation either.
	created := e.device(okta.StatusCreated)
	var res *Result
	calls := e.apiCalls(func() {
		res = e.run("okta-devices/deactivate-device", "Prod", map[string]any{"deviceId": created, "status": "ACTIVE"})
	})
	wantProblem(t, res, problem.Conflict, "device "+created+" is CREATED;", "activate it, then deactivate it")
	if res.Error.Details["basis"] != BasisRead {
		t.Errorf("basis = %v; want %s", res.Error.Details["basis"], BasisRead)
	}
	if diff := cmp.Diff(map[string]int{lifecyclePOS + "deactivate": 1, getDevice: 1}, calls); diff != "" {
		t.Errorf("Okta calls (-want +got):\n%s", diff)
	}

	// Known CREATED, really SUSPENDED: Okta refuses the activation, the
	// read shows SUSPENDED, and activating a SUSPENDED device is refused.
	suspended := e.device(okta.StatusSuspended)
	calls = e.apiCalls(func() {
		res = e.run("okta-devices/activate-device", "Prod", map[string]any{"deviceId": suspended, "status": "CREATED"})
	})
	wantProblem(t, res, problem.Conflict, "is SUSPENDED;", "unsuspend it")
	if diff := cmp.Diff(map[string]int{lifecyclePOS + "activate": 1, getDevice: 1}, calls); diff != "" {
		t.Errorf("Okta calls (-want +got):\n%s", diff)
	}

	// Okta refuses once although the device allows the transition (its
	// status changed and changed back): the read shows it allowed, and the
	// card posts again.
	active := e.device(okta.StatusActive)
	e.srv.Fault(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 400, 1)
	calls = e.apiCalls(func() {
		res = e.run("okta-devices/suspend-device", "Prod", map[string]any{"deviceId": active, "status": "ACTIVE"})
	})
	if diff := cmp.Diff(map[string]any{"deviceId": active, "status": "SUSPENDED", "changed": true, "basis": BasisRead}, res.Output); diff != "" || res.Error != nil {
		t.Errorf("error %v, output (-want +got):\n%s", res.Error, diff)
	}
	if diff := cmp.Diff(map[string]int{lifecyclePOS + "suspend": 2, getDevice: 1}, calls); diff != "" {
		t.Errorf("Okta calls (-want +got):\n%s", diff)
	}

	// Refused twice: one read only, then the refusal stands.
	active = e.device(okta.StatusActive)
	e.srv.Fault(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 400, 2)
	calls = e.apiCalls(func() {
		res = e.run("okta-devices/suspend-device", "Prod", map[string]any{"deviceId": active, "status": "ACTIVE"})
	})
	wantProblem(t, res, problem.Conflict, "Okta refused to suspend device "+active, "read it and run the card again")
	if diff := cmp.Diff(map[string]int{lifecyclePOS + "suspend": 2, getDevice: 1}, calls); diff != "" {
		t.Errorf("Okta calls (-want +got):\n%s", diff)
	}

	// A device that is gone: the POST's 404 stands, no read.
	calls = e.apiCalls(func() {
		res = e.run("okta-devices/suspend-device", "Prod", map[string]any{"deviceId": "guo0000000000000none", "status": "ACTIVE"})
	})
	wantProblem(t, res, problem.NotFound, "guo0000000000000none")
	if diff := cmp.Diff(map[string]int{lifecyclePOS + "suspend": 1}, calls); diff != "" {
		t.Errorf("Okta calls (-want +got):\n%s", diff)
	}

	// A status that is not one is refused before anything runs.
	_, err := e.exec.Run(context.Background(), Request{Card: "okta-devices/suspend-device", Connection: "Prod",
		Input: map[string]any{"deviceId": created, "status": "LOST"}})
	if p, ok := problem.As(err); !ok || p.Code != problem.InvalidInput || p.Details["field"] != "status" {
		t.Errorf("status LOST: error = %v; want invalid_input on status", err)
	}
}

// TestDeleteKnownStatus: delete-device from a known status goes straight
// to the calls, and a contradicted known status is corrected by one read.
func TestDeleteKnownStatus(t *testing.T) {
	const ref = "okta-devices/delete-device"
	tests := []struct {
		name      string
		real      string
		input     map[string]any // deviceId added
		wantCalls map[string]int
		wantOut   map[string]any // deviceId added; nil when the run fails
		wantCode  problem.Code
		wantParts []string
		wantAfter string
	}{
		{name: "known DEACTIVATED", real: okta.StatusDeactivated, input: map[string]any{"status": "DEACTIVATED"},
			wantCalls: map[string]int{deleteDev: 1},
			wantOut:   map[string]any{"deleted": true, "deactivated": false, "basis": BasisKnown}, wantAfter: StatusDeleted},
		{name: "known ACTIVE with deactivateFirst: two calls, no read", real: okta.StatusActive, input: map[string]any{"status": "ACTIVE", "deactivateFirst": true},
			wantCalls: map[string]int{lifecyclePOS + "deactivate": 1, deleteDev: 1},
			wantOut:   map[string]any{"deleted": true, "deactivated": true, "basis": BasisKnown}, wantAfter: StatusDeleted},
		{name: "known ACTIVE without deactivateFirst: refused, no call", real: okta.StatusActive, input: map[string]any{"status": "ACTIVE"},
			wantCalls: map[string]int{}, wantCode: problem.Conflict,
			wantParts: []string{"is ACTIVE (its known status)", "deactivate it before deleting, or set deactivateFirst"}, wantAfter: okta.StatusActive},
		{name: "stale DEACTIVATED, really ACTIVE, deactivateFirst: read once, then deactivate and delete", real: okta.StatusActive,
			input:     map[string]any{"status": "DEACTIVATED", "deactivateFirst": true},
			wantCalls: map[string]int{deleteDev: 2, getDevice: 1, lifecyclePOS + "deactivate": 1},
			wantOut:   map[string]any{"deleted": true, "deactivated": true, "basis": BasisRead}, wantAfter: StatusDeleted},
		{name: "stale DEACTIVATED, really SUSPENDED: read once, refused", real: okta.StatusSuspended, input: map[string]any{"status": "DEACTIVATED"},
			wantCalls: map[string]int{deleteDev: 1, getDevice: 1}, wantCode: problem.Conflict,
			wantParts: []string{"is SUSPENDED; Okta deletes only DEACTIVATED devices"}, wantAfter: okta.StatusSuspended},
		{name: "stale SUSPENDED, really CREATED, deactivateFirst: read once, refused", real: okta.StatusCreated,
			input:     map[string]any{"status": "SUSPENDED", "deactivateFirst": true},
			wantCalls: map[string]int{lifecyclePOS + "deactivate": 1, getDevice: 1}, wantCode: problem.Conflict,
			wantParts: []string{"is CREATED;", "activate it, then deactivate it before deleting"}, wantAfter: okta.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, oktaemu.Config{Devices: 20})
			id := e.device(tt.real)
			in := map[string]any{"deviceId": id}
			for k, v := range tt.input {
				in[k] = v
			}
			var res *Result
			calls := e.apiCalls(func() { res = e.run(ref, "Prod", in) })
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("Okta calls (-want +got):\n%s", diff)
			}
			if tt.wantCode != "" {
				wantProblem(t, res, tt.wantCode, tt.wantParts...)
			} else {
				want := map[string]any{"deviceId": id}
				for k, v := range tt.wantOut {
					want[k] = v
				}
				if diff := cmp.Diff(want, res.Output); diff != "" || res.Error != nil {
					t.Errorf("error %v, output (-want +got):\n%s", res.Error, diff)
				}
			}
			if got := e.status(id); got != tt.wantAfter {
				t.Errorf("device is %s; want %s", got, tt.wantAfter)
			}
		})
	}
}

// TestPlanKnownStatus: a plan from known statuses makes no call to Okta
// and predicts what the run then does.
func TestPlanKnownStatus(t *testing.T) {
	e := newEnv(t, oktaemu.Config{Devices: 20})
	ctx := context.Background()
	active := e.device(okta.StatusActive)
	tests := []struct {
		name   string
		card   string
		input  map[string]any
		change *Change
		out    map[string]any
		code   problem.Code
	}{
		{"suspend ACTIVE", "suspend-device", map[string]any{"status": "ACTIVE"}, &Change{active, "", "ACTIVE", "SUSPENDED"},
			map[string]any{"deviceId": active, "status": "SUSPENDED", "changed": true, "basis": BasisKnown}, ""},
		{"suspend SUSPENDED", "suspend-device", map[string]any{"status": "SUSPENDED"}, nil,
			map[string]any{"deviceId": active, "status": "SUSPENDED", "changed": false, "basis": BasisKnown}, ""},
		{"suspend CREATED", "suspend-device", map[string]any{"status": "CREATED"}, nil, nil, problem.Conflict},
		{"delete ACTIVE with deactivateFirst", "delete-device", map[string]any{"status": "ACTIVE", "deactivateFirst": true},
			&Change{active, "", "ACTIVE", "DELETED"}, map[string]any{"deviceId": active, "deleted": true, "deactivated": true, "basis": BasisKnown}, ""},
		{"delete SUSPENDED", "delete-device", map[string]any{"status": "SUSPENDED"}, nil, nil, problem.Conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := map[string]any{"deviceId": active}
			for k, v := range tt.input {
				in[k] = v
			}
			var res *Result
			calls := e.apiCalls(func() {
				var err error
				if res, err = e.exec.Plan(ctx, Request{Card: "okta-devices/" + tt.card, Connection: "Prod", Input: in}); err != nil {
					t.Fatal(err)
				}
			})
			if len(calls) != 0 {
				t.Errorf("plan made Okta calls %v; want none", calls)
			}
			checkOutputKeys(t, "okta-devices/"+tt.card, res.Output)
			if tt.code != "" {
				wantProblem(t, res, tt.code, "(its known status)")
				return
			}
			if diff := cmp.Diff(tt.change, res.Change); diff != "" {
				t.Errorf("change (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.out, res.Output); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}
