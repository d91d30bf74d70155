package main

import "testing"

func TestIssueInFile(t *testing.T) {
	tests := []struct {
		name  string
		issue issueView
		want  string
	}{
		{name: "line and column", issue: issueView{Line: 3, Column: 7, Step: "s", Message: "bad"}, want: "f.yaml:3:7: step s: bad"},
		{name: "line only", issue: issueView{Line: 3, Message: "bad"}, want: "f.yaml:3: bad"},
		{name: "no position", issue: issueView{Step: "s", Message: "bad"}, want: "f.yaml:step s: bad"},
		{name: "a message that starts with line is kept", issue: issueView{Message: "line breaks are not allowed"}, want: "f.yaml:line breaks are not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.issue.inFile("f.yaml"); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}
