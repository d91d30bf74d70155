package app

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

const deleteListFlow = `name: delete-listed
inputs:
  ids: {type: list, required: true}
steps:
  - id: del
    card: okta-devices/delete-device
    connection: Prod
    for_each: ${{ inputs.ids }}
    input:
      deviceId: ${{ item }}
`

// devicesWithStatus returns the ids of every device with status.
func (h *harness) devicesWithStatus(connection, status string) []string {
	h.t.Helper()
	code, r := h.run("okta-devices/search-devices", connection, map[string]any{"status": status, "resultSet": "all"})
	if code != http.StatusCreated || r.Status != "succeeded" {
		h.t.Fatalf("search-devices: %d %+v", code, r)
	}
	var out struct {
		Devices []struct {
			ID string `json:"id"`
		} `json:"devices"`
	}
	if err := json.Unmarshal(r.Output, &out); err != nil {
		h.t.Fatal(err)
	}
	var ids []string
	for _, d := range out.Devices {
		ids = append(ids, d.ID)
	}
	return ids
}

// TestResumedDeleteAlreadyDone: a flow run deleted devices and was
// interrupted before it recorded the items. Resumed, an item whose card
// run succeeded takes that run's output without a new call; a delete whose
// attempt was cut off (still running) finds no device and succeeds with
// the card's outputs (deleted: true, deactivated, basis), naming the
// attempt, where it said changed: false, an output the card does not
// have, of a device the item had deleted. A device that was
// never there still fails with not_found, and an untouched device is
// deleted as usual.
func TestResumedDeleteAlreadyDone(t *testing.T) {
	t.Parallel()
	// The server resumes the run as its claimant after a crash (its writes
	// are fenced by the run's owner).
	h := startHarness(t, oktaemu.Config{Devices: 40}, func(c *Config) { c.Owner = "this-server" })
	h.connect("Prod")
	ids := h.devicesWithStatus("Prod", "DEACTIVATED")
	if len(ids) < 3 {
		t.Fatalf("%d deactivated devices; the test needs 3", len(ids))
	}
	st, ctx := h.app.Store, t.Context()
	list := []string{ids[0], ids[1], "guo0000000000000none", ids[2]}
	inputs, _ := json.Marshal(map[string]any{"ids": list})
	now := time.Now()
	run := &store.FlowRun{ID: "fr_resumed", FlowName: "delete-listed", Source: []byte(deleteListFlow), Inputs: inputs,
		Status: flow.StatusRunning, Actor: store.Actor{Type: store.ActorUser, Login: "test"}, Owner: "this-server", LeaseUntil: now.Add(time.Hour),
		CreatedAt: now, StartedAt: now}
	if err := st.CreateFlowRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if err := st.PutFlowStep(ctx, "", &store.FlowStep{RunID: run.ID, StepID: "del", Status: flow.StatusRunning, Items: len(list), StartedAt: now}); err != nil {
		t.Fatal(err)
	}
	// Item 0: the interrupted attempt deleted the device and recorded its
	// card run, but not the item.
	res, err := h.app.Executor.Run(ctx, card.Request{Card: "okta-devices/delete-device", Connection: "Prod",
		Input: map[string]any{"deviceId": ids[0]}, Actor: store.Actor{Type: store.ActorUser, Login: "test"}, FlowRunID: run.ID, StepID: "del", ItemIndex: 0})
	if err != nil || res.Status != card.StatusSucceeded {
		t.Fatalf("first attempt at item 0: %v %+v", err, res)
	}
	// Item 1: the attempt died with its card run still running after the
	// device was deleted.
	if code, r := h.run("okta-devices/delete-device", "Prod", map[string]any{"deviceId": ids[1]}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("delete %s: %d %+v", ids[1], code, r)
	}
	running := &store.Run{Card: "okta-devices/delete-device", ConnectionID: "x", ConnectionNickname: "Prod", Actor: store.Actor{Type: store.ActorUser, Login: "test"},
		Status: card.StatusRunning, Input: json.RawMessage(`{"deviceId":"` + ids[1] + `"}`),
		FlowRunID: run.ID, StepID: "del", ItemIndex: 1, StartedAt: now}
	if err := st.CreateRun(ctx, running); err != nil {
		t.Fatal(err)
	}

	got, err := h.app.Flows.Resume(ctx, run)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if got.Status != flow.StatusFailed || got.Steps[0].Succeeded != 3 || got.Steps[0].Failed != 1 {
		t.Errorf("resumed run = %+v; want 3 succeeded and the missing device failed", got)
	}
	items, err := st.ListFlowItems(ctx, run.ID, "del")
	if err != nil || len(items) != len(list) {
		t.Fatalf("items: %v %d; want %d", err, len(items), len(list))
	}
	// The card's own outputs: no changed (a delete has none, and it did
	// change the device); deactivated false, as the attempt deleted a
	// device it did not deactivate (no deactivateFirst).
	already := map[string]any{"deleted": true, "deactivated": false, "basis": "read", "note": "already deleted by the interrupted attempt"}
	tests := []struct {
		name       string
		status     string
		wantOutput map[string]any
		wantRef    string
		wantCode   string
	}{
		{"deleted by an attempt that finished", "succeeded", res.Output, res.RunID, ""},
		{"deleted by an attempt that died mid-call", "succeeded", already, running.ID, ""},
		{"never there", "failed", nil, "", "not_found"},
		{"untouched", "succeeded", map[string]any{"deleted": true, "deactivated": false, "basis": "read"}, "", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := items[i]
			if it.Status != tt.status || it.ErrorCode != tt.wantCode {
				t.Fatalf("item %d = %s %s (%s); want %s %s", i, it.Status, it.ErrorCode, it.Error, tt.status, tt.wantCode)
			}
			if tt.wantOutput != nil {
				var out map[string]any
				if err := json.Unmarshal(it.Output, &out); err != nil {
					t.Fatal(err)
				}
				want := map[string]any{"deviceId": list[i]}
				for k, v := range tt.wantOutput {
					want[k] = v
				}
				if diff := cmp.Diff(want, out); diff != "" {
					t.Errorf("output (-want +got):\n%s", diff)
				}
			}
			if tt.wantRef != "" && it.RunRef != tt.wantRef {
				t.Errorf("RunRef = %q; want the interrupted attempt's run %q", it.RunRef, tt.wantRef)
			}
		})
	}

	// Outside a resumed step, a delete that finds no device fails as before.
	code, r := h.run("okta-devices/delete-device", "Prod", map[string]any{"deviceId": ids[0]})
	if code != http.StatusCreated || r.Error == nil || r.Error.Code != "not_found" {
		t.Errorf("direct delete of a deleted device: %d %+v; want not_found", code, r)
	}
}
