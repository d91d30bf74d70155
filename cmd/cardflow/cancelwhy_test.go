package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLICanceledRunSaysWhoAsked: flows show-run of a run asked to stop
// while an item of it is held at the org says who asked and when, while
// it stops and once it is canceled, in text and with --json, and flows
// runs says it where an error would be, where both said only the status.
func TestCLICanceledRunSaysWhoAsked(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Held")
	file := filepath.Join(t.TempDir(), "read.yaml")
	// The first step's search is held at the org; the second never starts.
	doc := "name: cancel-held\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Held\n    input: {status: ACTIVE}\n" +
		"  - id: again\n    card: okta-devices/search-devices\n    connection: Held\n    input: {status: ACTIVE}\n"
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	hold := s.emu.Hold(t, "GET", "/api/v1/devices", 0)
	defer hold.Release()
	code, out, errOut := runCLI(t, s.vars, "flows", "run", file, "--no-wait", "--json")
	var started struct{ ID string }
	if code != exitOK || json.Unmarshal([]byte(out), &started) != nil || started.ID == "" {
		t.Fatalf("flows run --no-wait --json: exit %d\n%s%s", code, out, errOut)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := hold.Await(ctx, 1); err != nil {
		t.Fatalf("the run's search never reached the org: %v", err)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "cancel", started.ID); code != exitOK {
		t.Fatalf("flows cancel: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "show-run", started.ID)
	if code != exitOK || !strings.Contains(out, "Cancel requested: asked by bootstrap admin at ") {
		t.Errorf("flows show-run of a run stopping: exit %d; want who asked it to stop\n%s%s", code, out, errOut)
	}

	hold.Release()
	var run struct {
		Status            string `json:"status"`
		CancelRequestedAt string `json:"cancelRequestedAt"`
		CancelRequestedBy struct {
			Type string `json:"type"`
		} `json:"cancelRequestedBy"`
	}
	for run.Status != "canceled" {
		if ctx.Err() != nil || run.Status == "succeeded" || run.Status == "failed" {
			t.Fatalf("the run is %s; want canceled", run.Status)
		}
		time.Sleep(10 * time.Millisecond)
		code, out, errOut = runCLI(t, s.vars, "flows", "show-run", started.ID, "--json")
		if code != exitOK || json.Unmarshal([]byte(out), &run) != nil {
			t.Fatalf("flows show-run --json: exit %d\n%s%s", code, out, errOut)
		}
	}
	if run.CancelRequestedBy.Type != "bootstrap" || run.CancelRequestedAt == "" {
		t.Errorf("flows show-run --json of the canceled run:\n%s\nwant cancelRequestedAt and cancelRequestedBy, the bootstrap admin", out)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "show-run", started.ID)
	if code != exitOK || !strings.Contains(out, "Canceled: asked by bootstrap admin at ") {
		t.Errorf("flows show-run of the canceled run: exit %d; want who asked it to stop\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "runs", "cancel-held")
	if code != exitOK || !strings.Contains(out, "canceled: asked by bootstrap admin") {
		t.Errorf("flows runs: exit %d; want the canceled run saying who asked\n%s%s", code, out, errOut)
	}
}
