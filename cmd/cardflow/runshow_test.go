package main

import (
	"encoding/json"
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
