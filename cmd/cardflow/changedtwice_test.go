package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestCLIDeactivateThenDelete: a flow that deactivates the devices of a
// search and then deletes the same devices is planned as the run then
// goes: every device DEACTIVATED → DELETED, and the run deletes them all.
// The delete step gives each device's status from the search (before the
// deactivation) or none. The plan read the devices at Okta, found them
// still ACTIVE or SUSPENDED and predicted that every delete would fail;
// the run given the search's status refused every delete, the device
// being "ACTIVE" as far as the card was told.
func TestCLIDeactivateThenDelete(t *testing.T) {
	for _, tt := range []struct {
		name, deleteInput string
	}{
		{"status from the search", `{deviceId: '${{ item.id }}', status: '${{ item.status }}'}`},
		{"no status", `{deviceId: '${{ item.id }}'}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startServerWith(t, oktaemu.Config{Devices: 8})
			s.connect(t, "Prod")
			file := filepath.Join(t.TempDir(), "remove.yaml")
			writeFile(t, file, "name: remove-devices\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Prod\n"+
				"    input: {search: 'status eq \"ACTIVE\" or status eq \"SUSPENDED\"', resultSet: all}\n"+
				"  - id: deactivate\n    card: okta-devices/deactivate-device\n    connection: Prod\n"+
				"    for_each: ${{ steps.find.output.devices }}\n    input: {deviceId: '${{ item.id }}', status: '${{ item.status }}'}\n"+
				"  - id: delete\n    card: okta-devices/delete-device\n    connection: Prod\n"+
				"    for_each: ${{ steps.find.output.devices }}\n    input: "+tt.deleteInput+"\n")

			code, out, errOut := runCLI(t, s.vars, "flows", "plan", file, "--json")
			var plan struct {
				Steps []struct {
					ID      string `json:"id"`
					Changes []struct {
						DeviceID, From, To string
					} `json:"changes"`
					Errors []json.RawMessage `json:"errors"`
				} `json:"steps"`
			}
			if err := json.Unmarshal([]byte(out), &plan); err != nil || len(plan.Steps) != 3 {
				t.Fatalf("flows plan: exit %d %v\n%s%s; want a plan of 3 steps", code, err, out, errOut)
			}
			var deactivated []string
			for _, ch := range plan.Steps[1].Changes {
				deactivated = append(deactivated, ch.DeviceID)
			}
			var deleted []string
			for _, ch := range plan.Steps[2].Changes {
				if ch.From != "DEACTIVATED" || ch.To != "DELETED" {
					t.Errorf("plan of delete: %s %s → %s; want DEACTIVATED → DELETED", ch.DeviceID, ch.From, ch.To)
				}
				deleted = append(deleted, ch.DeviceID)
			}
			if code != exitOK || len(deactivated) < 2 || !slices.Equal(deleted, deactivated) || len(plan.Steps[2].Errors) != 0 {
				t.Errorf("flows plan: exit %d; deactivates %v, deletes %v, errors %s; want every device it deactivates deleted\n%s", code, deactivated, deleted, plan.Steps[2].Errors, errOut)
			}

			code, out, errOut = runCLI(t, s.vars, "flows", "run", file, "--json")
			var run struct {
				Status string `json:"status"`
				Steps  []struct {
					ID        string `json:"id"`
					Succeeded int    `json:"succeeded"`
					Failed    int    `json:"failed"`
				} `json:"steps"`
			}
			if err := json.Unmarshal([]byte(out), &run); code != exitOK || err != nil || run.Status != "succeeded" || len(run.Steps) != 3 ||
				run.Steps[2].Succeeded != len(deactivated) || run.Steps[2].Failed != 0 {
				t.Fatalf("flows run: exit %d %v\n%s%s; want it to succeed, deleting the %d devices it deactivated", code, err, out, errOut, len(deactivated))
			}
			org := s.emu.ClientAs("SSWS " + oktaemu.DemoAPIToken)
			for _, id := range deactivated {
				resp, err := org.Get(s.emu.URL + "/api/v1/devices/" + id)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("device %s after the run: %s; want it deleted", id, resp.Status)
				}
			}
		})
	}
}
