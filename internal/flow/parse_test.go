package flow

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/problem"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// mustParse parses src or fails the test.
func mustParse(t *testing.T, src string) *Document {
	t.Helper()
	doc, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return doc
}

// issuesOf returns the issues listed by a flow validation error.
func issuesOf(t *testing.T, err error) []Issue {
	t.Helper()
	p, ok := problem.As(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *problem.Error", err, err)
	}
	list, ok := p.Details["errors"].([]Issue)
	if !ok {
		t.Fatalf("details[errors] is %T; want []Issue", p.Details["errors"])
	}
	return list
}

func TestParseDocument(t *testing.T) {
	doc := mustParse(t, `name: suspend-stale-macs
description: Suspend Macs not updated since a date
inputs:
  since: {type: string, required: true}
  limit: {type: number, default: 10}
  dry: {type: bool, default: false, description: only look}
  tags: {type: list, default: [a, b]}
steps:
  - id: stale
    card: okta-devices/search-devices
    connection: Prod devices
    input:
      search: 'profile.platform eq "MACOS" and lastUpdated lt "${{ inputs.since }}"'
      resultSet: all
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod devices
    for_each: ${{ steps.stale.output.devices }}
    concurrency: 4
    if: ${{ item.status == "ACTIVE" }}
    input:
      deviceId: ${{ item.id }}
`)
	if got, want := doc.Name, "suspend-stale-macs"; got != want {
		t.Errorf("Name = %q; want %q", got, want)
	}
	if got, want := doc.Description, "Suspend Macs not updated since a date"; got != want {
		t.Errorf("Description = %q; want %q", got, want)
	}
	wantInputs := []*InputDef{
		{Name: "since", Type: TypeString, Required: true, Pos: Pos{4, 3}},
		{Name: "limit", Type: TypeNumber, Default: 10.0, HasDefault: true, Pos: Pos{5, 3}},
		{Name: "dry", Type: TypeBool, Default: false, HasDefault: true, Description: "only look", Pos: Pos{6, 3}},
		{Name: "tags", Type: TypeList, Default: []any{"a", "b"}, HasDefault: true, Pos: Pos{7, 3}},
	}
	if diff := cmp.Diff(wantInputs, doc.Inputs); diff != "" {
		t.Errorf("Inputs mismatch (-want +got):\n%s", diff)
	}
	type stepView struct {
		ID, Card, Connection string
		Concurrency          int
		ForEach              bool
		Deps                 []string
		Pos                  Pos
	}
	var got []stepView
	for _, s := range doc.Steps {
		got = append(got, stepView{s.ID, s.Card, s.Connection, s.Concurrency, s.ForEach(), s.DependsOn(), s.Pos})
	}
	want := []stepView{
		{"stale", "okta-devices/search-devices", "Prod devices", 1, false, nil, Pos{9, 5}},
		{"suspend", "okta-devices/suspend-device", "Prod devices", 4, true, []string{"stale"}, Pos{15, 5}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Steps mismatch (-want +got):\n%s", diff)
	}
	if s, _ := doc.Step("suspend"); s.Connector() != "okta-devices" {
		t.Errorf("Connector() = %q; want okta-devices", s.Connector())
	}
}

// wantIssue is an expected issue: its position and a part of its message.
type wantIssue struct {
	line, col int
	step      string
	contains  string
}

func (w wantIssue) matches(g Issue) bool {
	return g.Line == w.line && g.Column == w.col && g.Step == w.step && strings.Contains(g.Message, w.contains)
}

// checkIssues checks that err lists exactly the issues want, in order, and
// returns them.
func checkIssues(t *testing.T, err error, want []wantIssue) []Issue {
	t.Helper()
	got := issuesOf(t, err)
	if len(got) != len(want) {
		t.Fatalf("got %d issues; want %d:\n%v", len(got), len(want), err)
	}
	for i, w := range want {
		if g := got[i]; !w.matches(g) {
			t.Errorf("issue %d = %d:%d step %q %q;\nwant %d:%d step %q containing %q", i, g.Line, g.Column, g.Step, g.Message, w.line, w.col, w.step, w.contains)
		}
	}
	return got
}

func TestParseErrors(t *testing.T) {
	const head = "name: f\nsteps:\n"
	const step = "  - id: a\n    card: okta-devices/search-devices\n    connection: Demo org\n"
	tests := []struct {
		name string
		src  string
		want []wantIssue
	}{
		{"syntax tab", "name: f\nsteps:\n\t- id: a\n", []wantIssue{{3, 1, "", "indent with spaces, not tabs"}}},
		{"syntax duplicate key", "name: f\nname: g\n", []wantIssue{{2, 1, "", "remove or rename the repeated key"}}},
		{"syntax unclosed", "name: [f\n", []wantIssue{{1, 7, "", "YAML syntax error"}}},
		// A key indented once too often reads to YAML as more of the line
		// above it, which the parser reports there: the issue is the key's.
		{"syntax key indented too far", head + step + "     input:\n      status: ACTIVE\n", []wantIssue{{6, 6, "",
			`"input:" is indented 5 spaces, where "connection:" on line 5 is indented 4: indent the keys of one mapping by the same number of spaces`}}},
		{"syntax top-level key indented", "name: f\n steps:\n" + step, []wantIssue{{2, 2, "", `"steps:" is indented 1 space, where "name:" on line 1 is indented 0`}}},
		{"syntax key indented too little", head + step + "    input:\n      status: ACTIVE\n     resultSet: all\n", []wantIssue{{8, 6, "",
			`"resultSet:" is indented 5 spaces, where "status:" on line 7 is indented 6`}}},
		{"syntax step key indented too little", head + "  - id: a\n   card: okta-devices/search-devices\n", []wantIssue{{4, 4, "", `"card:" is indented 3 spaces, where "id:" on line 3 is indented 4`}}},
		{"syntax cron unquoted", "name: f\non:\n  schedule:\n    cron: */5 * * * *\nsteps:\n" + step, []wantIssue{{4, 15, "",
			`a value starting with * reads to YAML as an alias: put it in quotes, cron: "*/5 * * * *"`}}},
		{"syntax cron unquoted every minute", "name: f\non:\n  schedule:\n    cron: * * * * *\nsteps:\n" + step, []wantIssue{{4, 13, "", `put it in quotes, cron: "* * * * *"`}}},
		{"syntax descriptor unquoted", "name: f\non:\n  schedule:\n    cron: @daily\nsteps:\n" + step, []wantIssue{{4, 11, "", `YAML reserves @ at the start of a value: put it in quotes, cron: "@daily"`}}},
		{"syntax colon in a value", "name: f\ndescription: Offboarding: suspend devices\nsteps:\n" + step, []wantIssue{{2, 14, "",
			`the value of "description:" holds ": ", which YAML reads as another key: put the whole value in quotes`}}},
		{"syntax colon in a filter", head + step + "    input:\n      search: profile.displayName sw \"a: b\"\n", []wantIssue{{7, 15, "", "put the whole value in single quotes"}}},
		{"an expression in a flow mapping", head + step + "    input: {deviceId: ${{ inputs.x }}}\n", []wantIssue{{6, 24, "", `in quotes: {deviceId: "${{ item.id }}"}`}}},
		{"an expression in a flow sequence", head + step + "    for_each: [\"${{ 1 }}\", ${{ inputs.x }}]\n", []wantIssue{{6, 29, "", `in quotes: {deviceId: "${{ item.id }}"}`}}},
		{"empty document", "# nothing\n", []wantIssue{{1, 1, "", "the flow document is empty"}}},
		{"two documents", "name: a\n---\nname: b\n", []wantIssue{{2, 1, "", "put each flow in a file of its own"}}},
		{"not a mapping", "- a\n- b\n", []wantIssue{{1, 1, "", "a flow document must be a mapping"}}},
		{"unknown top-level key", "name: f\nstep:\n" + step, []wantIssue{
			{1, 1, "", "the flow has no steps"},
			{2, 1, "", `unknown key "step"; a flow has name, description, inputs, on and steps (did you mean "steps"?)`},
		}},
		{"missing name", "steps:\n" + step, []wantIssue{{1, 1, "", "the flow has no name: add name:"}}},
		{"empty name", "name: ''\nsteps:\n" + step, []wantIssue{{1, 1, "", "name is empty"}}},
		{"empty steps", "name: f\nsteps: []\n", []wantIssue{{2, 1, "", "steps is empty"}}},
		{"steps not a list", "name: f\nsteps: {id: a}\n", []wantIssue{{2, 1, "", "steps must be a list"}}},
		{"input without type", "name: f\ninputs:\n  since: {required: true}\nsteps:\n" + step, []wantIssue{{3, 3, "", `input "since" has no type`}}},
		{"inputs as a list", "name: f\ninputs:\n  - name: login\n    type: string\nsteps:\n" + step, []wantIssue{{3, 3, "", "inputs must be a mapping of input names to their definitions, not a list: write each input as NAME: {type: ...}, e.g. login: {type: string, required: true}"}}},
		{"input as its type alone", "name: f\ninputs:\n  login: string\nsteps:\n" + step, []wantIssue{{3, 10, "", `input "login" must be a mapping of keys to values, not a string: write login: {type: string}`}}},
		{"schedule at the top", "name: f\nschedule:\n  cron: \"0 2 * * *\"\nsteps:\n" + step, []wantIssue{{2, 1, "", `unknown key "schedule"; a flow has name, description, inputs, on and steps: schedule goes under on:, e.g. on: {schedule: {cron: "0 2 * * *", timezone: Europe/Berlin}}`}}},
		{"cron directly under on", "name: f\non:\n  cron: \"0 2 * * *\"\nsteps:\n" + step, []wantIssue{{3, 3, "", `unknown key "cron" in on; on has schedule or event, and inputs: cron goes under on.schedule`}}},
		{"input bad type", "name: f\ninputs:\n  since: {type: date}\nsteps:\n" + step, []wantIssue{{3, 11, "", `has type "date"; the types are string, number, bool and list`}}},
		{"input unknown key", "name: f\ninputs:\n  since: {type: string, requird: true}\nsteps:\n" + step, []wantIssue{{3, 25, "", `unknown key "requird" in input "since"`}}},
		{"input required and default", "name: f\ninputs:\n  n: {type: number, required: true, default: 3}\nsteps:\n" + step, []wantIssue{{3, 37, "", "remove required: true or the default"}}},
		{"input default wrong type", "name: f\ninputs:\n  n: {type: number, default: many}\nsteps:\n" + step, []wantIssue{{3, 21, "", "got a string; want a number"}}},
		{"input bad name", "name: f\ninputs:\n  my-input: {type: string}\nsteps:\n" + step, []wantIssue{{3, 3, "", `input name "my-input" is not valid`}}},
		{"input reserved name", "name: f\ninputs:\n  in: {type: string}\nsteps:\n" + step, []wantIssue{{3, 3, "", "reserved word"}}},
		{"step missing keys", head + "  - id: a\n", []wantIssue{
			{3, 5, "a", "the step has no card"},
			{3, 5, "a", "the step has no connection"},
		}},
		{"step missing id", head + "  - card: okta-devices/search-devices\n    connection: Demo org\n", []wantIssue{{3, 5, "", "the step has no id"}}},
		{"step bad id", head + "  - id: Find Devices\n    card: okta-devices/search-devices\n    connection: c\n", []wantIssue{{3, 5, "", `step id "Find Devices" is not valid`}}},
		{"step duplicate id", head + step + step, []wantIssue{{6, 5, "a", `step id "a" is already used by the step at line 3, column 5`}}},
		{"step bad card", head + "  - id: a\n    card: search-devices\n    connection: c\n", []wantIssue{{4, 5, "a", "write connector/card"}}},
		{"card input beside an empty input", head + step + "    input:\n    status: ACTIVE\n", []wantIssue{{7, 5, "a", `unknown key "status"; a step has id, card, connection, input, for_each, concurrency, if; if status is an input of the card, indent it under input: (further than input: on line 6)`}}},
		{"step unknown key", head + step + "    inputs: {}\n", []wantIssue{{6, 5, "a", `unknown key "inputs"; a step has id, card, connection, input, for_each, concurrency, if (did you mean "input"?)`}}},
		{"step not a mapping", head + "  - just a string\n", []wantIssue{{3, 5, "", "step 1 must be a mapping"}}},
		{"empty connection", head + "  - id: a\n    card: okta-devices/search-devices\n    connection: ''\n", []wantIssue{{5, 5, "a", "connection is empty"}}},
		{"expression in connection", head + "  - id: a\n    card: okta-devices/search-devices\n    connection: ${{ inputs.c }}\n", []wantIssue{{5, 5, "a", "connection cannot hold an expression"}}},
		{"concurrency too high", head + step + "    for_each: [1, 2]\n    concurrency: 100\n", []wantIssue{{7, 18, "a", "concurrency is 100; use a number from 1 to 32"}}},
		{"concurrency a fraction", head + step + "    for_each: [1, 2]\n    concurrency: 2.5\n", []wantIssue{{7, 18, "a", "concurrency must be a whole number, not 2.5"}}},
		{"concurrency too big for an int", head + step + "    for_each: [1, 2]\n    concurrency: 99999999999\n", []wantIssue{{7, 18, "a", "concurrency is 99999999999; use a number from 1 to 32"}}},
		{"concurrency zero", head + step + "    for_each: [1, 2]\n    concurrency: 0\n", []wantIssue{{7, 18, "a", "concurrency is 0; use a number from 1 to 32"}}},
		{"concurrency not a number", head + step + "    for_each: [1]\n    concurrency: lots\n", []wantIssue{{7, 18, "a", "concurrency must be a whole number, not a string"}}},
		{"concurrency without for_each", head + step + "    concurrency: 2\n", []wantIssue{{6, 5, "a", "concurrency applies only to a step with for_each"}}},
		{"for_each not a list", head + step + "    for_each: devices\n", []wantIssue{{6, 5, "a", "for_each must be a list or one ${{ }} expression"}}},
		{"if not a bool", head + step + "    if: maybe ${{ true }}\n", []wantIssue{{6, 5, "a", "if must be true, false or one ${{ }} expression"}}},
		{"input not a map", head + step + "    input: [1, 2]\n", []wantIssue{{6, 5, "a", "input must be a mapping"}}},
		{"unterminated expression", head + step + "    input: {search: '${{ inputs.x'}\n", []wantIssue{{6, 21, "a", "is not closed: end it with }}"}}},
		{"empty expression", head + step + "    input: {search: '${{  }}'}\n", []wantIssue{{6, 21, "a", "empty expression"}}},
		{"expression syntax", head + step + "    input:\n      search: ${{ 1 + }}\n", []wantIssue{{7, 23, "a", "input: Syntax error"}}},
		{"= for ==", head + step + "    if: ${{ inputs.x = 'a = b' }}\n", []wantIssue{{6, 22, "a", "if: Syntax error: token recognition error at: '= '; compare with ==, not ="}}}, // once, not again at what follows it
		{"and for &&", head + step + "    if: ${{ inputs.x == 'a' and not inputs.y }}\n", []wantIssue{{6, 29, "a", "if: Syntax error: mismatched input 'and' expecting <EOF>; CEL writes && for and, || for or and ! for not"}}},
		{"and in a string", head + step + "    if: ${{ inputs.x == 'a and b' + }}\n", []wantIssue{{6, 37, "a", "Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}; expressions are CEL, e.g."}}},
		{"expression without its $", head + step + "    input:\n      search: 'id eq \"{{ inputs.id }}\"'\n", []wantIssue{{7, 15, "a", `"{{ inputs.id }}" is text, not an expression: write ${{ inputs.id }} (a $ and two braces on each side)`}}},
		{"expression with one brace", head + step + "    input:\n      search: ${item.id}\n", []wantIssue{{7, 15, "a", `"${item.id}" is text, not an expression: write ${{ item.id }}`}}},
		{"a bare path", head + step + "    input:\n      search: steps[\"x-y\"].output.id\n", []wantIssue{{7, 15, "a", `"steps[\"x-y\"].output.id" is text, not an expression: write ${{ steps["x-y"].output.id }} for its value`}}},
		{"duration in days", head + step + "    input:\n      search: ${{ string(duration('90d')) }}\n", []wantIssue{{7, 35, "a", `input: invalid duration argument; a duration is written in hours, minutes and seconds: duration("2160h") for 90 days`}}},
		{"timestamp without a time", head + step + "    input:\n      search: ${{ string(timestamp('2024-01-01')) }}\n", []wantIssue{{7, 36, "a", `input: invalid timestamp argument; a timestamp is written in RFC 3339, with a time and a zone: timestamp("2024-01-01T00:00:00Z")`}}},
		{"bad pattern", head + step + "    input:\n      search: ${{ string('a'.matches('[')) }}\n", []wantIssue{{7, 38, "a", `input: invalid matches argument; the pattern is no regular expression`}}},
		{"or a second value", head + step + "    if: ${{ inputs.x == 'ACTIVE' || 'SUSPENDED' }}\n", []wantIssue{{6, 37, "a", `if: "SUSPENDED" is a string, not a bool (true or false): || needs a test on each side; write inputs.x in ["ACTIVE", "SUSPENDED"] (or inputs.x == "ACTIVE" || inputs.x == "SUSPENDED")`}}},
		{"and a number", head + step + "    if: ${{ true && 1 }}\n", []wantIssue{{6, 21, "a", `if: 1 is a number, not a bool (true or false): && needs a test on each side`}}},
		{"now", head + step + "    input:\n      search: ${{ now }}\n", []wantIssue{{7, 19, "a", `undeclared reference to 'now'; the time the run started is trigger.time, e.g. trigger.time - duration("2160h")`}}},
		{"a value without its quotes", head + step + "    input:\n      search: ${{ string(inputs.x == ACTIVE) }}\n", []wantIssue{{7, 38, "a", `undeclared reference to 'ACTIVE'; text is written in quotes: "ACTIVE" (the names in scope are`}}},
		{"undeclared name", head + step + "    input:\n      search: ${{ device.id }}\n", []wantIssue{{7, 19, "a", "undeclared reference to 'device'; the names in scope are inputs, steps and trigger"}}},
		{"item outside for_each", head + step + "    input:\n      search: ${{ item.id }}\n", []wantIssue{{7, 19, "a", "item and index exist only in a step with for_each"}}},
		{"item in for_each itself", head + step + "    for_each: ${{ item }}\n", []wantIssue{{6, 19, "a", "not in for_each itself"}}},
		{"unknown input", "name: f\ninputs:\n  since: {type: string}\nsteps:\n" + step + "    input:\n      search: 'x ${{ inputs.sinse }}'\n", []wantIssue{{9, 22, "a", `inputs.sinse: the flow has no input "sinse"; declare it under inputs: or use one of since`}}},
		{"unknown input by index", head + step + "    input:\n      search: ${{ inputs[\"x\"] }}\n", []wantIssue{{7, 19, "a", `the flow has no input "x"`}}},
		{"later step", head + step + "    input:\n      search: ${{ steps.b.output.x }}\n" + strings.ReplaceAll(step, "id: a", "id: b"), []wantIssue{{7, 19, "a", `steps.b: step "b" runs after this one; a step may only refer to steps before it (move "b" above "a")`}}},
		{"own output", head + step + "    input:\n      search: ${{ steps.a.output }}\n", []wantIssue{{7, 19, "a", "a step cannot use its own output"}}},
		{"unknown step", head + step + strings.ReplaceAll(step, "id: a", "id: b") + "    input:\n      search: ${{ steps.nope.output }}\n", []wantIssue{{10, 19, "b", `there is no step "nope"; the steps before this one are a`}}},
		{"output of a for_each step", head + step + "    for_each: [1]\n" + strings.ReplaceAll(step, "id: a", "id: b") + "    input:\n      search: ${{ steps.a.output }}\n", []wantIssue{{11, 19, "b", `step "a" has for_each, so it has outputs`}}},
		{"outputs of a plain step", head + step + strings.ReplaceAll(step, "id: a", "id: b") + "    input:\n      search: ${{ steps.a.outputs }}\n", []wantIssue{{10, 19, "b", "write steps.a.output"}}},
		{"step id with dash", head + strings.ReplaceAll(step, "id: a", "id: find-it") + strings.ReplaceAll(step, "id: a", "id: b") + "    input:\n      search: ${{ steps.find-it.output }}\n", []wantIssue{{10, 30, "b", `step ids with - or a leading digit are written steps["find-it"]`}}},
		{"anchor", head + "  - &s\n    id: a\n", []wantIssue{{3, 5, "", "anchors"}}},
		{"alias", head + step + "    input: {search: *x}\n", []wantIssue{{6, 21, "a", "aliases"}}},
		{"tag", head + step + "    input: {search: !!str 1}\n", []wantIssue{{6, 21, "a", "tags (!!str)"}}},
		{"infinite number", head + step + "    input: {search: .inf}\n", []wantIssue{{6, 21, "a", "not a usable number"}}},
		{"all problems at once", "name: f\ninputs:\n  x: {type: wrong}\nsteps:\n  - id: A\n    card: nope\n  - id: b\n    card: okta-devices/search-devices\n    connection: c\n    colour: red\n", []wantIssue{
			{3, 7, "", `has type "wrong"`},
			{5, 5, "", `step id "A" is not valid`},
			{5, 5, "", "the step has no connection"},
			{6, 5, "", `card "nope" is not a card reference`},
			{10, 5, "b", `unknown key "colour"`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse([]byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded (%d steps); want an error", len(doc.Steps))
			}
			if got := problem.CodeOf(err); got != problem.InvalidInput {
				t.Errorf("code = %s; want invalid_input", got)
			}
			got := checkIssues(t, err, tt.want)
			if !strings.Contains(err.Error(), got[0].String()) {
				t.Errorf("Error() = %q; want it to contain the first issue %q", err.Error(), got[0].String())
			}
		})
	}
}

// TestParseGolden checks the full error text for the documents in
// testdata/invalid against their .golden files (go test -update rewrites
// them).
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no documents in testdata/invalid (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, perr := Parse(src)
			if perr == nil {
				t.Fatal("Parse succeeded; want an error")
			}
			got := perr.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("error text mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	big := make([]byte, MaxDocumentSize+1)
	if _, err := Parse(big); problem.CodeOf(err) != problem.InvalidInput {
		t.Errorf("Parse(too big) error = %v; want invalid_input", err)
	}
	if _, err := Parse([]byte("name: \xff\n")); problem.CodeOf(err) != problem.InvalidInput {
		t.Errorf("Parse(not UTF-8) error = %v; want invalid_input", err)
	}
	deep := "name: f\nsteps:\n  - id: a\n    card: okta-devices/search-devices\n    connection: c\n    input:\n      search: " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\n"
	_, err := Parse([]byte(deep))
	if err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("Parse(deep) error = %v; want nesting error", err)
	}
}

// TestParseRefusesNamesThatNameSomethingElse: the API and the CLI name a
// flow by its id or its name, and put the name in a URL path.
func TestParseRefusesNamesThatNameSomethingElse(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"0123456789abcdef0123456789ABCDEF", "form of a flow id"},
		{"..", "looks like a path"},
		{".", "looks like a path"},
		{"../../etc", "looks like a path"},
		{`a\b`, "looks like a path"},
	} {
		src := "name: '" + tt.name + "'\nsteps:\n  - id: a\n    card: okta-devices/read-device\n    connection: c\n    input:\n      deviceId: x\n"
		if _, err := Parse([]byte(src)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("name %q: error %v; want %q", tt.name, err, tt.want)
		}
	}
	for _, ok := range []string{"offboard-user-devices", "0123456789abcdef", "v1.2 cleanup"} {
		src := "name: '" + ok + "'\nsteps:\n  - id: a\n    card: okta-devices/read-device\n    connection: c\n    input:\n      deviceId: x\n"
		if _, err := Parse([]byte(src)); err != nil {
			t.Errorf("name %q: %v; want accepted", ok, err)
		}
	}
}

// TestParseTypeChecksInputs: an expression that misuses an input of a
// declared type fails validation, not the run.
func TestParseTypeChecksInputs(t *testing.T) {
	head := "name: t\ninputs:\n  q: {type: string}\n  n: {type: number}\n  ok: {type: bool}\n  l: {type: list}\nsteps:\n  - id: a\n    card: okta-devices/read-device\n    connection: c\n"
	for _, tt := range []struct {
		expr string
		bad  bool
		want string
	}{
		{"${{ inputs.q + 1 }}", true, "inputs.q is a string and 1 a number: + cannot join them, so the run would fail there; convert with string()"},
		{"${{ inputs.ok + 1 }}", true, "+ cannot be applied to inputs.ok (a bool) and 1 (a number), so the run would fail there"},
		{"${{ inputs.n + 1 }}", true, "inputs.n is a number, a double as every number of an input or a card, and 1 an int: inputs.n + 1 needs two of a kind, so the run would fail there; write 1.0"},
		{"${{ inputs.l + 1 }}", true, "+ cannot be applied to inputs.l (a list) and 1 (a number)"},
		{`${{ inputs.ok == "false" }}`, true, `inputs.ok is a bool and "false" a string, so inputs.ok == "false" is never true; compare with false, without quotes`},
		{`${{ inputs.q != 2 }}`, true, `inputs.q is a string and 2 a number, so inputs.q != 2 is always true; compare with a string, e.g. "2"`},
		{"${{ inputs.n == 90 && inputs.n != 1 && inputs.n in [1, 2] }}", false, ""},
		{"${{ inputs.ok && inputs.q }}", true, "inputs.q is a string, not a bool (true or false): && needs a test on each side"},
		{`${{ inputs.q + "x" }}`, false, ""},
		{"${{ inputs.n + 1.0 }}", false, ""},
		{"${{ string(inputs.n) }}", false, ""},
		{"${{ inputs.l.size() > 0 && inputs.ok }}", false, ""},
		{`${{ has(inputs.q) ? inputs["q"] : "none" }}`, false, ""},
		{`${{ [item] }}`, true, ""}, // no for_each: item is unknown (the plain compile says so)
	} {
		src := head + "    input:\n      deviceId: '" + tt.expr + "'\n"
		_, err := Parse([]byte(src))
		if bad := err != nil; bad != tt.bad {
			t.Errorf("%s: error %v; want an error %v", tt.expr, err, tt.bad)
		}
		if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: error %v; want one saying %q", tt.expr, err, tt.want)
		}
	}
}

// TestParseChecksTheKindOfForEachAndIf: a for_each or an if whose kind the
// checker knows (a declared input's type, a literal) and that is not a list
// or a bool is refused when the flow is validated; it failed on every run.
// One known only when the run gets there (a step's output) is left to it.
func TestParseChecksTheKindOfForEachAndIf(t *testing.T) {
	head := "name: t\ninputs:\n  q: {type: string}\n  ok: {type: bool}\n  l: {type: list}\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: c\n  - id: a\n    card: okta-devices/read-device\n    connection: c\n    input: {deviceId: x}\n"
	for _, tt := range []struct {
		step string
		want string // "" for valid
	}{
		{"    for_each: ${{ inputs.q }}\n", "for_each: ${{ inputs.q }} gives a string; it must give a list"},
		{"    for_each: ${{ \"abc\" }}\n", "for_each: ${{ \"abc\" }} gives a string; it must give a list"},
		{"    for_each: ${{ inputs.ok }}\n", "gives a bool; it must give a list"},
		{"    if: ${{ inputs.q }}\n", "if: ${{ inputs.q }} gives a string; it must give true or false"},
		{"    for_each: ${{ inputs.l }}\n    if: ${{ item }}\n", ""},
		{"    for_each: ${{ inputs.l }}\n    if: ${{ index }}\n", "if: ${{ index }} gives a number; it must give true or false"},
		{"    if: ${{ size(inputs.q) }}\n", "gives a number"},
		{"    for_each: ${{ inputs.l }}\n", ""},
		{"    for_each: ${{ steps.find.output.devices }}\n", ""},
		{"    for_each: ${{ inputs.l.filter(x, x != \"\") }}\n", ""},
		{"    if: ${{ inputs.ok }}\n", ""},
		{"    if: ${{ steps.find.output.count > 0.0 }}\n", ""},
		{"    if: ${{ steps.find.output.devices }}\n", ""}, // known when it runs
	} {
		_, err := Parse([]byte(head + tt.step))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v; want it valid", tt.step, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: %v; want %q", tt.step, err, tt.want)
		}
	}
}

// TestParseByteOrderMark: a document saved with a byte order mark (as
// Windows editors do) is read as without one; its first key was
// "\ufeffname", unknown.
func TestParseByteOrderMark(t *testing.T) {
	src := "\ufeffname: f\nsteps:\n  - id: a\n    card: okta-devices/read-device\n    connection: c\n    input: {deviceId: x}\n"
	doc, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v; want the flow", err)
	}
	if doc.Name != "f" {
		t.Errorf("name %q; want f", doc.Name)
	}
	_, err = Parse([]byte("\ufeffname: f\nsteps: []\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2, column 1") {
		t.Errorf("Parse: %v; want the issue at line 2, column 1", err)
	}
}

// TestLiteralsLikeExpressionsPass checks that text which only resembles an
// expression stays text: a SCIM filter, a template of another tool, a
// name with a dot.
func TestLiteralsLikeExpressionsPass(t *testing.T) {
	for _, lit := range []string{`profile.platform eq "MACOS"`, `Hello {{name}}`, `${HOME}/x`, `items.csv`, `stepsaway.io`, `item`} {
		if msg := exprLike(lit); msg != "" {
			t.Errorf("exprLike(%q) = %q; want none", lit, msg)
		}
	}
}
