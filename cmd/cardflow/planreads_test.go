package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestCLIPlanReadsSayTheirPlan: runs list and audit mark the card run a
// flow plan's read step made "(plan of NAME)" and leave it out or list it
// alone with --plans; runs show says what it was for. It read as a card
// run somebody ran.
func TestCLIPlanReadsSayTheirPlan(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	file := "../../examples/offboard-user-devices.yaml"
	if code, out, errOut := runCLI(t, s.vars, "flows", "plan", file, "--input", "login="+oktaemu.UserLogin); code != exitOK {
		t.Fatalf("flows plan: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, s.vars, "runs", "list", "--json")
	var runs struct {
		Runs []struct {
			ID   string `json:"id"`
			Card string `json:"card"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &runs); code != exitOK || err != nil || len(runs.Runs) != 1 {
		t.Fatalf("runs list --json: exit %d %v\n%s%s; want the plan's search", code, err, out, errOut)
	}
	id := runs.Runs[0].ID

	const mark = "okta-devices/search-devices (plan of offboard-user-devices)"
	for _, tt := range []struct {
		args []string
		want bool
	}{
		{[]string{"runs", "list"}, true},
		{[]string{"runs", "list", "--plans", "only"}, true},
		{[]string{"runs", "list", "--plans", "include"}, true},
		{[]string{"runs", "list", "--plans", "exclude"}, false},
		{[]string{"audit", "--action", "card.run"}, true},
		{[]string{"audit", "--plans", "only"}, true},
		{[]string{"audit", "--plans", "exclude"}, false},
	} {
		code, out, errOut := runCLI(t, s.vars, tt.args...)
		if code != exitOK || strings.Contains(out, mark) != tt.want || tt.args[0] == "runs" && strings.Contains(out, id) != tt.want {
			t.Errorf("%v: exit %d\n%s%s; want the plan's search listed (%t) as %q", tt.args, code, out, errOut, tt.want, mark)
		}
	}
	code, out, errOut = runCLI(t, s.vars, "runs", "show", id)
	if code != exitOK || !regexp.MustCompile(`(?m)^For: +plan of flow offboard-user-devices \(not stored\)$`).MatchString(out) {
		t.Errorf("runs show: exit %d\n%s%s; want it to say it was for a plan of the flow file", code, out, errOut)
	}
	for _, cmd := range [][]string{{"runs", "list"}, {"audit"}} {
		code, _, errOut := runCLI(t, s.vars, append(cmd, "--plans", "hide")...)
		if code != exitUsage || !strings.Contains(errOut, `--plans "hide": want include, exclude or only`) {
			t.Errorf("%v --plans hide: exit %d %s; want a usage error", cmd, code, errOut)
		}
	}
}

// TestPlanCard: a plan's read names its plan beside the card; an event of
// no card (flow.plan) shows no card, not a bare "(plan of NAME)".
func TestPlanCard(t *testing.T) {
	p := &api.PlanRef{FlowID: "f1", FlowName: "offboard"}
	for _, tt := range []struct {
		card string
		plan *api.PlanRef
		want string
	}{
		{"okta-devices/read-device", nil, "okta-devices/read-device"},
		{"okta-devices/read-device", p, "okta-devices/read-device (plan of offboard)"},
		{"", p, ""},
	} {
		if got := planCard(tt.card, tt.plan); got != tt.want {
			t.Errorf("planCard(%q, %v) = %q; want %q", tt.card, tt.plan, got, tt.want)
		}
	}
}
