package app

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestDisableNamesTheDroppedReruns: POST /api/v1/flows/{id}/disable
// answers the ids of the flow's failed event runs that waited for their
// connection to run again by themselves, which it dropped, and each such
// run says it is not rerun because the flow was disabled; so does storing
// a version with another trigger, which disables the flow. Before, they
// said nothing, and a round dropped them later, silently.
func TestDisableNamesTheDroppedReruns(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	h.connect("Prod devices")
	id := storeEnabledFlow(t, h, "poll")
	fl, err := h.app.Store.GetFlow(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	// The runs wait for a connection in error, which nothing makes active
	// meanwhile: no round reruns them.
	stopped := &store.Connection{ID: "conn_stopped", Nickname: "Stopped", Connector: "okta-devices", Status: store.StatusError, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := h.app.Store.CreateConnection(t.Context(), stopped); err != nil {
		t.Fatal(err)
	}
	wait := func() *store.FlowRun {
		t.Helper()
		now := time.Now().UTC()
		r := &store.FlowRun{FlowID: fl.ID, FlowName: fl.Name, Source: fl.Source, FlowVersion: fl.Version, Status: flow.StatusFailed,
			Actor: fl.EnabledBy, CreatedAt: now, FinishedAt: now, Trigger: []byte(`{"kind":"event"}`), RerunWhenActive: stopped.ID, RerunConnection: stopped.Nickname}
		if err := h.app.Store.CreateFlowRun(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	waiting := wait()
	var off api.Flow
	if code, body := h.call("POST", "/api/v1/flows/"+id+"/disable", nil, &off); code != http.StatusOK || off.Enabled {
		t.Fatalf("disable: %d %s", code, body)
	}
	if !slices.Equal(off.DroppedReruns, []string{waiting.ID}) {
		t.Errorf("droppedReruns %v; want [%s]", off.DroppedReruns, waiting.ID)
	}
	var run api.FlowRun
	if code, body := h.call("GET", "/api/v1/flow-runs/"+waiting.ID, nil, &run); code != http.StatusOK || run.RerunWhenActive == nil || run.RerunWhenActive.NotRerun != "flow "+fl.Name+" was disabled" {
		t.Errorf("the dropped run: %d %s; want notRerun saying the flow was disabled", code, body)
	}
	var again api.Flow
	if code, body := h.call("POST", "/api/v1/flows/"+id+"/disable", nil, &again); code != http.StatusOK || again.DroppedReruns != nil {
		t.Errorf("disable again: %d %s; want nothing dropped", code, body)
	}

	// Enabled again, another run waits; a version whose trigger reads the
	// events another way disables the flow, and drops it.
	if err := h.app.Store.SetFlowEnabled(t.Context(), fl.ID, fl.Trigger, true, time.Time{}, fl.EnabledBy); err != nil {
		t.Fatal(err)
	}
	second := wait()
	var stored api.FlowStored
	if code, body := h.postYAML("/api/v1/flows", strings.Replace(quarantineYAML, "DELIVERY", "hook+poll", 1), &stored); code != http.StatusCreated ||
		stored.Enablement == nil || stored.Enablement.Outcome != "disabled" || !slices.Equal(stored.Flow.DroppedReruns, []string{second.ID}) {
		t.Errorf("store with another trigger: %d %s; want it disabled, dropping run %s", code, body, second.ID)
	}
	if r, err := h.app.Store.GetFlowRun(t.Context(), second.ID); err != nil || r.RerunSkipped != "flow "+fl.Name+" was disabled" {
		t.Errorf("the run dropped by the store: %+v, %v", r, err)
	}
}
