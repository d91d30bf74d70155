package main

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/api"
)

func TestIssueInFile(t *testing.T) {
	tests := []struct {
		name  string
		issue api.FlowIssue
		want  string
	}{
		{name: "line and column", issue: api.FlowIssue{Line: 3, Column: 7, Step: "s", Message: "bad"}, want: "f.yaml:3:7: step s: bad"},
		{name: "line only", issue: api.FlowIssue{Line: 3, Message: "bad"}, want: "f.yaml:3: bad"},
		{name: "no position", issue: api.FlowIssue{Step: "s", Message: "bad"}, want: "f.yaml:step s: bad"},
		{name: "a message that starts with line is kept", issue: api.FlowIssue{Message: "line breaks are not allowed"}, want: "f.yaml:line breaks are not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := issueInFile(tt.issue, "f.yaml"); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestFlowInputs(t *testing.T) {
	f := &api.Flow{Name: "offboard", Inputs: map[string]api.FlowInput{"login": {Type: "string"}, "dryRun": {Type: "bool"}}}
	got, err := flowInputs(f, []string{"login=a@example.com", "dryRun=true"})
	if err != nil {
		t.Fatal(err)
	}
	if got["login"] != "a@example.com" || got["dryRun"] != "true" {
		t.Errorf("got %v; want login=a@example.com and dryRun=\"true\" (text the server reads by the input's type)", got)
	}
	_, err = flowInputs(f, []string{"bogus=1"})
	if want := `flow offboard has no input "bogus"; its inputs: dryRun, login`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got error %v; want it to contain %q", err, want)
	}
	_, err = flowInputs(&api.Flow{Name: "empty"}, []string{"x=1"})
	if want := "flow empty takes no inputs"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got error %v; want it to contain %q", err, want)
	}
}
