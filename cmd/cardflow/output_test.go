package main

import (
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
)

// TestWhenNamesTheZone: a time is shown in a zone (when: the local one)
// with its name,
// so that a flow's next run at 02:00 Berlin time does not read as 01:00
// of an unnamed zone; the zero time is "-".
func TestWhenNamesTheZone(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	if got, want := whenIn(time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC), cet), "2026-12-06 02:00:00 CET"; got != want {
		t.Errorf("whenIn = %q; want %q", got, want)
	}
	if got := whenIn(time.Time{}, cet); got != "-" {
		t.Errorf("whenIn(zero) = %q; want -", got)
	}
}

// TestActorText: the audit table names each kind of actor as the console
// does, the server acting on its own included.
func TestActorText(t *testing.T) {
	for _, tt := range []struct {
		a    *api.Actor
		want string
	}{
		{nil, "-"},
		{&api.Actor{Type: "user", Login: "ada@example.com"}, "ada@example.com"},
		{&api.Actor{Type: "token", Login: "ada@example.com", TokenName: "ci"}, "token ci of ada@example.com"},
		{&api.Actor{Type: "token", TokenName: "ci"}, "token ci of the bootstrap admin"},
		{&api.Actor{Type: "bootstrap"}, "bootstrap admin"},
		{&api.Actor{Type: "server"}, "cardflow"},
	} {
		if got := actorText(tt.a); got != tt.want {
			t.Errorf("actorText(%+v) = %q; want %q", tt.a, got, tt.want)
		}
	}
}

// TestPlainHTTPWarning: a client that would send its token over plain http
// to another machine warns; https and this machine's own addresses do not.
func TestPlainHTTPWarning(t *testing.T) {
	for server, warn := range map[string]bool{
		"http://cardflow.example.com:8080": true,
		"http://10.0.0.5:8080":             true,
		"https://cardflow.example.com":     false,
		"http://127.0.0.1:8080":            false,
		"http://localhost:8080":            false,
		"http://[::1]:8080":                false,
	} {
		var stderr strings.Builder
		e := &env{stderr: &stderr, getenv: func(k string) string {
			return map[string]string{"CARDFLOW_API_TOKEN": "cf_x", "CARDFLOW_SERVER": server}[k]
		}}
		_, o := newClientFlagSet(e, "test", "test")
		if _, err := o.client(); err != nil {
			t.Fatalf("%s: %v", server, err)
		}
		if got := strings.Contains(stderr.String(), "over plain http"); got != warn {
			t.Errorf("%s: warned %t (%q); want %t", server, got, stderr.String(), warn)
		}
	}
}

// TestPrintPlanOfATriggeredRun: a plan of a triggered run says which run
// it is and the inputs on.inputs computed, before the steps.
func TestPrintPlanOfATriggeredRun(t *testing.T) {
	var b strings.Builder
	published := time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)
	printPlan(&b, &api.Plan{Flow: "on-enrollment", Trigger: &api.FlowRunTrigger{Kind: "event", Time: published, EventUUID: "e1"},
		Inputs: map[string]any{"deviceId": "guo1", "a": 1}, Steps: []api.PlanStep{}})
	want := "Plan of flow on-enrollment (nothing was changed):\n" +
		"  as the run of event e1 (published " + when(published) + "), against the org as it is now\n" +
		"  input a = 1 (on.inputs)\n" +
		"  input deviceId = \"guo1\" (on.inputs)\n"
	if got := b.String(); !strings.HasPrefix(got, want) {
		t.Errorf("printPlan:\n%s\nwant it to start\n%s", got, want)
	}

	// A tick the server wrote in the flow's zone (2026-12-05T02:00:00+01:00)
	// reads as every other time of the CLI does, with the zone's name, not
	// as +0100.
	b.Reset()
	tick := time.Date(2026, 12, 5, 2, 0, 0, 0, time.FixedZone("", 3600))
	printPlan(&b, &api.Plan{Flow: "nightly", Trigger: &api.FlowRunTrigger{Kind: "schedule", Time: tick}, Steps: []api.PlanStep{}})
	if want := "  as the run of its schedule's next tick, " + when(tick) + ", against the org as it is now\n"; !strings.Contains(b.String(), want) || strings.Contains(b.String(), "+0100") {
		t.Errorf("printPlan:\n%s\nwant it to hold\n%s", b.String(), want)
	}
}

// TestPrintFlowRunCancelOfAnEarlierServer: a run asked to stop through a
// cardflow of an earlier version, which kept only when (a rolling
// upgrade), says so and when, where show-run said nothing of the request
// while the run was stopping.
func TestPrintFlowRunCancelOfAnEarlierServer(t *testing.T) {
	at := time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
	for status, want := range map[string]string{
		"running":  "Cancel requested: asked (by whom is not recorded: a cardflow of an earlier version took the request) at " + when(at) + "; the items in flight finish",
		"canceled": "Canceled: asked (by whom is not recorded: a cardflow of an earlier version took the request) at " + when(at) + "\n",
	} {
		var b strings.Builder
		printFlowRun(&b, &api.FlowRun{ID: "r1", Flow: "bulk", FlowVersion: 1, Status: status, CancelRequestedAt: &at})
		if got := b.String(); !strings.Contains(got, want) {
			t.Errorf("show-run of a %s run asked to stop by an earlier server:\n%s\nwant %q in it", status, got, want)
		}
	}
	var b strings.Builder
	printFlowRun(&b, &api.FlowRun{ID: "r2", Flow: "bulk", FlowVersion: 1, Status: "running"})
	if got := b.String(); strings.Contains(got, "ancel") {
		t.Errorf("show-run of a run nobody asked to stop:\n%s\nwant no cancel line", got)
	}
}
