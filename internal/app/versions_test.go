package app

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

type versionedRun struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	FlowVersion int    `json:"flowVersion"`
	RerunOf     string `json:"rerunOf"`
	Actor       struct {
		Type  string `json:"type"`
		Login string `json:"login"`
	} `json:"actor"`
	Trigger struct {
		Kind string    `json:"kind"`
		Time time.Time `json:"time"`
	} `json:"trigger"`
	Steps []struct {
		ID string `json:"id"`
	} `json:"steps"`
}

type versionJSON struct {
	Version  int       `json:"version"`
	Latest   bool      `json:"latest"`
	StoredAt time.Time `json:"storedAt"`
	StoredBy *struct {
		Login string `json:"login"`
	} `json:"storedBy"`
	SHA256 string `json:"sha256"`
	Size   int    `json:"size"`
	Source string `json:"source"`
}

// TestFlowVersionsAndRerun: storing a flow again adds a version (the same
// bytes do not); a scheduled tick runs the latest version and records it;
// a rerun of a version-1 run after version 2 was stored runs version 1
// again, keeps the original's schedule trigger and names the original and
// who asked; deleting the flow deletes its versions and keeps its runs.
func TestFlowVersionsAndRerun(t *testing.T) {
	t.Parallel()
	clock := emutest.NewClock(time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC))
	h := startHarness(t, oktaemu.Config{Devices: 5}, func(c *Config) {
		c.Now, c.SchedulePoll = clock.Now, 20*time.Millisecond
	})
	h.connect("Prod")
	v1 := scheduledFlow
	// Version 2 renames the step: which version a run ran shows in its
	// steps. The trigger is the same, so the flow stays enabled.
	v2 := strings.Replace(scheduledFlow, "id: find", "id: find_v2", 1)

	var put struct {
		Flow struct {
			ID      string `json:"id"`
			Version int    `json:"version"`
		} `json:"flow"`
		Unchanged bool `json:"unchanged"`
	}
	if code, data := h.postYAML("/api/v1/flows", v1, &put); code != http.StatusCreated || put.Flow.Version != 1 || put.Unchanged {
		t.Fatalf("store v1: %d %s; want version 1", code, data)
	}
	id := put.Flow.ID
	if code, data := h.postYAML("/api/v1/flows", v1, &put); code != http.StatusCreated || put.Flow.Version != 1 || !put.Unchanged {
		t.Fatalf("store v1 again: %d %s; want unchanged, still version 1", code, data)
	}
	if code, data := h.call("POST", "/api/v1/flows/"+id+"/enable", nil, nil); code != http.StatusOK {
		t.Fatalf("enable: %d %s", code, data)
	}
	tick := time.Date(2025, 6, 1, 10, 1, 0, 0, time.UTC)
	clock.Advance(time.Minute)
	var runs []triggeredRun
	waitFor(t, "the first tick's run to finish", func() bool {
		runs = h.runsOf(id)
		return len(runs) == 1 && runs[0].Status == "succeeded"
	})
	var first versionedRun
	h.call("GET", "/api/v1/flow-runs/"+runs[0].ID, nil, &first)
	if first.FlowVersion != 1 || first.Trigger.Kind != "schedule" || !first.Trigger.Time.Equal(tick) || first.Steps[0].ID != "find" {
		t.Fatalf("first tick's run: %+v; want version 1, schedule at %v, step find", first, tick)
	}

	if code, data := h.postYAML("/api/v1/flows", v2, &put); code != http.StatusCreated || put.Flow.Version != 2 || put.Unchanged {
		t.Fatalf("store v2: %d %s; want version 2", code, data)
	}
	var latest struct {
		Version int    `json:"version"`
		Enabled bool   `json:"enabled"`
		Source  string `json:"source"`
	}
	h.call("GET", "/api/v1/flows/minutely-read", nil, &latest)
	if latest.Version != 2 || latest.Source != v2 || !latest.Enabled {
		t.Errorf("GET the flow: version %d, enabled %t; want version 2's source, still enabled", latest.Version, latest.Enabled)
	}
	var list struct {
		Latest   int           `json:"latest"`
		Versions []versionJSON `json:"versions"`
	}
	if code, data := h.call("GET", "/api/v1/flows/minutely-read/versions", nil, &list); code != http.StatusOK {
		t.Fatalf("list versions: %d %s", code, data)
	}
	if list.Latest != 2 || len(list.Versions) != 2 || list.Versions[0].Version != 2 || !list.Versions[0].Latest ||
		list.Versions[1].Version != 1 || list.Versions[1].Latest || list.Versions[1].Size != len(v1) ||
		list.Versions[1].SHA256 == list.Versions[0].SHA256 || list.Versions[0].Source != "" {
		t.Errorf("versions = %+v; want 2 then 1, with sizes and distinct hashes, no sources", list)
	}
	var one versionJSON
	if code, data := h.call("GET", "/api/v1/flows/"+id+"/versions/1", nil, &one); code != http.StatusOK || one.Source != v1 || one.Latest {
		t.Errorf("version 1: %d %s; want v1's source, not the latest", code, data)
	}
	for path, want := range map[string]int{"/versions/3": http.StatusNotFound, "/versions/0": http.StatusBadRequest, "/versions/x": http.StatusBadRequest} {
		if code, data := h.call("GET", "/api/v1/flows/"+id+path, nil, nil); code != want {
			t.Errorf("GET %s: %d %s; want %d", path, code, data, want)
		}
	}

	// The next tick runs the latest version.
	clock.Advance(time.Minute)
	waitFor(t, "the second tick's run to finish", func() bool {
		runs = h.runsOf(id)
		return len(runs) == 2 && runs[0].Status == "succeeded"
	})
	var second versionedRun
	h.call("GET", "/api/v1/flow-runs/"+runs[0].ID, nil, &second)
	if second.FlowVersion != 2 || second.Steps[0].ID != "find_v2" {
		t.Errorf("second tick's run: version %d, step %s; want version 2, step find_v2", second.FlowVersion, second.Steps[0].ID)
	}

	// An operator reruns the version-1 run.
	op, err := h.app.Tokens.Create(t.Context(), access.Principal{Actor: store.Actor{Type: store.ActorUser, Login: "olga@example.com"}, Role: access.Operator}, "laptop", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var again versionedRun
	if code, data := h.callWith(op.Token, "POST", "/api/v1/flow-runs/"+first.ID+"/rerun", map[string]any{}, &again); code != http.StatusAccepted {
		t.Fatalf("rerun: %d %s", code, data)
	}
	h.waitFlowRun(t.Context(), again.ID, "succeeded", "failed", "canceled")
	h.call("GET", "/api/v1/flow-runs/"+again.ID, nil, &again)
	if again.Status != "succeeded" || again.FlowVersion != 1 || again.Steps[0].ID != "find" || again.RerunOf != first.ID ||
		again.Trigger.Kind != "schedule" || !again.Trigger.Time.Equal(tick) || again.Actor.Login != "olga@example.com" {
		t.Errorf("rerun of the version-1 run: %+v; want version 1 (step find), rerunOf %s, the schedule trigger at %v, actor olga", again, first.ID, tick)
	}
	if ev := h.audit("action=flow.store"); len(ev) != 3 {
		t.Errorf("%d flow.store audit events; want 3 (v1, v1 unchanged, v2)", len(ev))
	} else if s, _ := ev[2]["inputSummary"].(string); !strings.Contains(s, "version 2") {
		t.Errorf("latest flow.store audit summary %q; want it to name version 2", s)
	}

	// Deleting the flow deletes its versions; its runs stay.
	if code, data := h.call("DELETE", "/api/v1/flows/"+id, nil, nil); code != http.StatusOK {
		t.Fatalf("delete: %d %s", code, data)
	}
	if code, _ := h.call("GET", "/api/v1/flows/"+id+"/versions", nil, nil); code != http.StatusNotFound {
		t.Errorf("versions of a deleted flow: %d; want 404", code)
	}
	if _, err := h.app.Store.GetFlowVersion(t.Context(), id, 1); err == nil {
		t.Errorf("version 1 of a deleted flow is still stored")
	}
	if code, _ := h.call("GET", "/api/v1/flow-runs/"+first.ID, nil, &first); code != http.StatusOK || first.FlowVersion != 1 {
		t.Errorf("a run of the deleted flow: %d, version %d; want readable, version 1", code, first.FlowVersion)
	}
}
