package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/api"
)

// TestPrintRunHeadlineFirst: runs show starts with the line cardflow run
// prints (id, status, card, connection), then who ran it with what input,
// then the error and the output.
func TestPrintRunHeadlineFirst(t *testing.T) {
	started := time.Date(2026, 12, 5, 14, 6, 19, 0, time.UTC)
	finished := started.Add(7 * time.Millisecond)
	r := &api.Run{
		ID: "84cb", Card: "okta-devices/suspend-device", Status: "failed",
		Connection: &api.ConnectionRef{ID: "conn_x", Nickname: "Demo org"},
		Actor:      &api.Actor{Type: "bootstrap"}, ActingAs: "admin@example.com",
		Input:     json.RawMessage(`{"deviceId":"guo1"}`),
		Output:    json.RawMessage(`null`),
		Error:     &api.Error{Code: "conflict", Message: "Okta refused"},
		StartedAt: started, FinishedAt: &finished,
	}
	var b strings.Builder
	printRun(&b, r)
	var starts []string
	for _, line := range strings.Split(b.String(), "\n") {
		if line != "" && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "{") && !strings.HasPrefix(line, "}") {
			starts = append(starts, strings.SplitN(line, " ", 2)[0])
		}
	}
	want := []string{"Run", "Started:", "By:", "Acting", "Input:", "Error:"}
	if diff := cmp.Diff(want, starts); diff != "" {
		t.Errorf("runs show lines (-want +got):\n%s\n%s", diff, b.String())
	}
	if !strings.HasPrefix(b.String(), "Run 84cb failed (okta-devices/suspend-device on Demo org, 7ms)\n") {
		t.Errorf("first line of:\n%s\nwant the run's headline", b.String())
	}
}

// TestPrintRunFieldsInOneColumn: the values of runs show's fields start in
// one column ("Acting as:" was one column out of line with "Started:" and
// "By:"), the longest label's when a run has Okta request IDs.
func TestPrintRunFieldsInOneColumn(t *testing.T) {
	started := time.Date(2026, 12, 5, 14, 6, 19, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		run    api.Run
		labels []string
	}{
		{"a run", api.Run{ID: "84cb", Status: "running", Card: "okta-devices/suspend-device", Actor: &api.Actor{Type: "bootstrap"}, ActingAs: "admin@example.com", StartedAt: started},
			[]string{"Started:", "By:", "Acting as:"}},
		{"with a device and Okta request IDs", api.Run{ID: "84cb", Status: "running", Card: "okta-devices/suspend-device", Actor: &api.Actor{Type: "bootstrap"}, StartedAt: started,
			DeviceName: "Ada's\tMac", Input: []byte(`{"deviceId":"guo1"}`), OktaRequestIDs: []string{"req1"}},
			[]string{"Started:", "By:", "Acting as:", "Okta request IDs:", "Device:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			printRun(&b, &tc.run)
			cols := map[int][]string{}
			for _, line := range strings.Split(b.String(), "\n") {
				for _, l := range tc.labels {
					if rest, ok := strings.CutPrefix(line, l+" "); ok {
						col := len(line) - len(strings.TrimLeft(rest, " "))
						cols[col] = append(cols[col], l)
					}
				}
			}
			if len(cols) != 1 {
				t.Errorf("the values start in columns %v; want one column:\n%s", cols, b.String())
			}
			if n := len(slices.Concat(slices.Collect(maps.Values(cols))...)); n != len(tc.labels) {
				t.Errorf("%d of the labels %v printed; want all:\n%s", n, tc.labels, b.String())
			}
		})
	}
}
