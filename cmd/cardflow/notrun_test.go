package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestCLINotRunItems: flows show-run of a run canceled while a suspension
// waited for the org's rate limit counts that item, and those never
// started, under NOT RUN (notRun with --json), not FAILED. The org allows
// 5 Devices API calls a minute and its clock stands at the start of a
// window, so a call past them would wait the whole minute.
func TestCLINotRunItems(t *testing.T) {
	clock := emutest.NewClock(time.Now().Truncate(time.Minute).Add(500 * time.Millisecond))
	s := startServerWith(t, oktaemu.Config{Devices: 6, RateLimitPerMinute: 5, Now: clock.Now})
	s.connect(t, "Prod")
	file := filepath.Join(t.TempDir(), "suspend.yaml")
	doc := "name: suspend-active\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Prod\n" +
		"    input: {status: ACTIVE, resultSet: all}\n  - id: suspend\n    card: okta-devices/suspend-device\n    connection: Prod\n" +
		"    for_each: ${{ steps.find.output.devices }}\n    input: {deviceId: '${{ item.id }}', status: '${{ item.status }}'}\n"
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, s.vars, "flows", "run", file, "--no-wait", "--json")
	var started struct{ ID string }
	if code != exitOK || json.Unmarshal([]byte(out), &started) != nil || started.ID == "" {
		t.Fatalf("flows run --no-wait --json: exit %d\n%s%s", code, out, errOut)
	}
	type step struct {
		ID            string `json:"id"`
		Status        string `json:"status"`
		Items         int    `json:"items"`
		Succeeded     int    `json:"succeeded"`
		Failed        int    `json:"failed"`
		NotRun        int    `json:"notRun"`
		Changed       *int   `json:"changed"`
		RateLimitWait string `json:"rateLimitWait"`
	}
	var run struct {
		Status string `json:"status"`
		Steps  []step `json:"steps"`
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	showRun := func(what string, done func() bool) {
		t.Helper()
		for !done() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s: %s", what, out)
			}
			time.Sleep(10 * time.Millisecond)
			code, out, errOut = runCLI(t, s.vars, "flows", "show-run", started.ID, "--json")
			if code != exitOK || json.Unmarshal([]byte(out), &run) != nil {
				t.Fatalf("flows show-run --json: exit %d\n%s%s", code, out, errOut)
			}
		}
	}
	showRun("a suspension to wait for the rate limit", func() bool { return len(run.Steps) == 2 && run.Steps[1].RateLimitWait != "" })
	if code, out, errOut := runCLI(t, s.vars, "flows", "cancel", started.ID); code != exitOK {
		t.Fatalf("flows cancel: exit %d\n%s%s", code, out, errOut)
	}
	showRun("the run to end canceled", func() bool { return run.Status == "canceled" })
	st := run.Steps[1]
	if st.Status != "canceled" || st.Failed != 0 || st.Succeeded < 1 || st.NotRun < 1 || st.Succeeded+st.NotRun != st.Items {
		t.Fatalf("suspend step with --json: %+v; want canceled, none failed, the items not done not run", st)
	}
	// Each suspension done changed its device; the search changes none,
	// and says nothing of changes.
	if st.Changed == nil || *st.Changed != st.Succeeded || run.Steps[0].Changed != nil {
		t.Errorf("changed of the steps with --json: find %v, suspend %v; want none for the search and %d for the suspensions", run.Steps[0].Changed, st.Changed, st.Succeeded)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "show-run", started.ID)
	if code != exitOK {
		t.Fatalf("flows show-run: exit %d\n%s%s", code, out, errOut)
	}
	var header, row []string
	for line := range strings.Lines(out) {
		switch f := strings.Fields(line); {
		case len(f) > 0 && f[0] == "STEP":
			header = f
		case len(f) > 0 && f[0] == "suspend":
			row = f
		}
	}
	wantHeader := []string{"STEP", "STATUS", "ITEMS", "SUCCEEDED", "CHANGED", "FAILED", "SKIPPED", "NOT", "RUN", "ERROR"}
	wantRow := []string{"suspend", "canceled", strconv.Itoa(st.Items), strconv.Itoa(st.Succeeded), strconv.Itoa(st.Succeeded), "0", "0", strconv.Itoa(st.NotRun), "the"}
	if !slices.Equal(header, wantHeader) || len(row) < len(wantRow) || !slices.Equal(row[:len(wantRow)], wantRow) {
		t.Errorf("flows show-run:\n%s\nwant the suspend step's row to start %q under %q", out, wantRow, wantHeader)
	}
}
