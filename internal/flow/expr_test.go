package flow

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// evalInput evaluates the input of the document's first step.
func evalInput(t *testing.T, doc *Document, act map[string]any) (any, error) {
	t.Helper()
	return doc.Steps[0].input.eval(context.Background(), act, "input")
}

func TestExpressionsTypedAndInterpolated(t *testing.T) {
	doc := mustParse(t, `name: exprs
inputs:
  n: {type: number}
  s: {type: string}
  tags: {type: list}
steps:
  - id: a
    card: okta-devices/search-devices
    connection: Demo org
    input:
      list: ${{ inputs.tags }}
      bool: ${{ inputs.n > 2 }}
      number: ${{ inputs.n }}
      int: ${{ 1 + 2 }}
      map: '${{ {"n": inputs.n, "s": inputs.s} }}'
      string: ${{ inputs.s }}
      text: "n=${{ inputs.n }} half=${{ inputs.n / 2.0 }} tags=${{ inputs.tags }} ok=${{ true }} none=${{ null }}"
      upper: ${{ inputs.s.upperAscii() }}-suffix
      nested: {deep: ["x-${{ inputs.s }}", 2, 2.5, true, ~]}
      plain: hello ${ {not an expression} }
      block: |
        line ${{ inputs.s }}
`)
	got, err := evalInput(t, doc, map[string]any{
		"inputs": map[string]any{"n": 3.0, "s": "abc", "tags": []any{"a", "b"}},
		"steps":  map[string]any{},
	})
	if err != nil {
		t.Fatalf("eval: %v", err)
	}
	want := map[string]any{
		"list":   []any{"a", "b"},
		"bool":   true,
		"number": 3.0,
		"int":    int64(3),
		"map":    map[string]any{"n": 3.0, "s": "abc"},
		"string": "abc",
		"text":   `n=3 half=1.5 tags=["a","b"] ok=true none=`,
		"upper":  "ABC-suffix",
		"nested": map[string]any{"deep": []any{"x-abc", int64(2), 2.5, true, nil}},
		"plain":  "hello ${ {not an expression} }",
		"block":  "line abc\n",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("input mismatch (-want +got):\n%s", diff)
	}
}

func TestExpressionItemAndIndex(t *testing.T) {
	doc := mustParse(t, `name: items
steps:
  - id: a
    card: okta-devices/search-devices
    connection: Demo org
    for_each: [x, y]
    input:
      search: ${{ string(index) + ":" + item }}
      first: ${{ index == 0 }}
`)
	got, err := evalInput(t, doc, map[string]any{"inputs": map[string]any{}, "steps": map[string]any{}, "item": "y", "index": int64(1)})
	if err != nil {
		t.Fatalf("eval: %v", err)
	}
	if diff := cmp.Diff(map[string]any{"search": "1:y", "first": false}, got); diff != "" {
		t.Errorf("input mismatch (-want +got):\n%s", diff)
	}
	list, err := doc.Steps[0].forEach.eval(context.Background(), nil, "for_each")
	if err != nil || !cmp.Equal(list, []any{"x", "y"}) {
		t.Errorf("literal for_each = %v, %v; want [x y]", list, err)
	}
}

func TestExpressionRuntimeErrors(t *testing.T) {
	tests := []struct {
		name, expr, want string
	}{
		{"missing key", `${{ inputs.m.missing }}`, "input.v: ${{ inputs.m.missing }}: no such key: missing"},
		{"bad overload", `${{ inputs.m.n + "x" }}`, "no such overload"},
		{"division by zero", `${{ 1 / 0 }}`, "division by zero"},
		{"a version as a number", `${{ int(inputs.m.v) }}`, `type conversion error from 'string' to 'int': the string is not a number on this item (a version such as 14.2.1 is not one); convert its first part, e.g. int(item.profile.osVersion.split(".")[0])`},
		{"device without users", `${{ inputs.m.devices.filter(d, d._embedded.users.size() > 0) }}`, "no such key: _embedded; a device has _embedded (its users) only from a search with expand: user or userSummary"},
		{"a field some devices lack", `${{ inputs.m.devices.filter(d, d.profile.imei != "") }}`, `no such key: imei (Okta leaves out a field a device or user does not have, so d.profile.imei is there on some items only: test has(d.profile.imei) first, e.g. has(d.profile.imei) && ...)`},
		// CEL says "index out of bounds: 0" alone: which list, and why.
		{"first of an empty list", `${{ inputs.m.none[0].id }}`, "index out of bounds: 0 (inputs.m.none has no element 0: it is empty; a search that finds nothing gives an empty list: guard the step with if: ${{ size(inputs.m.none) > 0 }}, or go over the list with for_each)"},
		{"past the end", `${{ inputs.m.devices[1].id + inputs.m.devices[0].id }}`, "index out of bounds: 1 (inputs.m.devices has no element 1: it has 1 or fewer;"},
		{"two lists by one index", `${{ inputs.m.devices[1].id + inputs.m.none[1].id }}`, "index out of bounds: 1 (the list has no element 1: it has 1 or fewer; a search that finds nothing gives an empty list: guard the step with if: ${{ size(LIST) > 1 }}"},
		{"cost limit", `${{ lists.range(100000).map(i, lists.range(100000).size()).size() }}`, "actual cost limit exceeded (one evaluation may cost 100 000 000 CEL cost units); make the expression cheaper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustParse(t, "name: e\ninputs:\n  m: {type: string}\nsteps:\n  - id: a\n    card: okta-devices/search-devices\n    connection: c\n    input:\n      v: '"+tt.expr+"'\n")
			// The cost limit's error is the proof that evaluation stopped
			// early; a wall-clock bound would fail on a loaded machine.
			_, err := evalInput(t, doc, map[string]any{"inputs": map[string]any{"m": map[string]any{"n": 1.0, "v": "14.2.1", "devices": []any{map[string]any{"id": "guo1", "profile": map[string]any{"displayName": "x"}}}, "none": []any{}}}, "steps": map[string]any{}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("eval error = %v; want one containing %q", err, tt.want)
			}
		})
	}
}

func TestExpressionAbsentOptionalInput(t *testing.T) {
	doc := mustParse(t, `name: e
inputs:
  df: {type: bool}
  m: {type: string}
steps:
  - id: a
    card: okta-devices/delete-device
    connection: c
    input:
      deactivateFirst: ${{ inputs.df }}
`)
	tests := []struct {
		name   string
		inputs map[string]any
		want   string
	}{
		{"absent optional input", map[string]any{}, `input "df" was not given and has no default; give it a value, declare a default (default: ...) or test has(inputs.df) first`},
		{"missing key inside a given input is not about inputs", map[string]any{"df": map[string]any{}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := evalInput(t, doc, map[string]any{"inputs": tt.inputs, "steps": map[string]any{}})
			if tt.want == "" {
				if err != nil && strings.Contains(err.Error(), "was not given") {
					t.Errorf("eval error = %v; want no hint about an absent input", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("eval error = %v; want one containing %q", err, tt.want)
			}
		})
	}
}

func TestExpressionCancelled(t *testing.T) {
	doc := mustParse(t, "name: e\nsteps:\n  - id: a\n    card: okta-devices/search-devices\n    connection: c\n    input:\n      v: ${{ lists.range(1000).map(i, lists.range(1000).size()).size() }}\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := doc.Steps[0].input.eval(ctx, map[string]any{"inputs": map[string]any{}, "steps": map[string]any{}}, "input")
	if err == nil {
		t.Fatal("eval with a cancelled context succeeded; want an error")
	}
}

func TestNormalize(t *testing.T) {
	type device struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	got, err := normalize(map[string]any{
		"int": 3, "int64": int64(4), "f32": float32(1.5), "devices": []device{{"guo1", "ACTIVE"}}, "nil": (*device)(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"int": 3.0, "int64": 4.0, "f32": 1.5,
		"devices": []any{map[string]any{"id": "guo1", "status": "ACTIVE"}}, "nil": nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("normalize mismatch (-want +got):\n%s", diff)
	}
	if _, err := normalize(func() {}); err == nil {
		t.Error("normalize(func) succeeded; want an error")
	}
}

// TestExpressionMisspeltKey: a key missing right off item or a step's
// output is reported with the keys there are, so that a typo in a flow
// (item.idd, steps.find.output.device) shows its fix; a key missing
// deeper down is not blamed on them: it is one Okta leaves out of some
// devices, tested with has().
func TestExpressionMisspeltKey(t *testing.T) {
	act := map[string]any{"inputs": map[string]any{}, "index": int64(0),
		"item":  map[string]any{"id": "guo1", "status": "ACTIVE", "profile": map[string]any{"displayName": "Mac"}},
		"steps": map[string]any{"find": map[string]any{"output": map[string]any{"count": 1.0, "devices": []any{}}}}}
	tests := []struct {
		name, expr, want string
	}{
		{"item", `${{ item.idd }}`, "no such key: idd (item has id, profile, status)"},
		{"step output", `${{ string(steps.find.output.device) }}`, "no such key: device (steps.find.output has count, devices)"},
		{"step output by index", `${{ string(steps["find"].output.device) }}`, "no such key: device (steps.find.output has count, devices)"},
		{"deeper down", `${{ item.profile.serialNumber }}`, "no such key: serialNumber (Okta leaves out a field a device or user does not have, so item.profile.serialNumber is there on some items only: test has(item.profile.serialNumber) first, e.g. has(item.profile.serialNumber) && ...)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustParse(t, "name: e\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: c\n"+
				"  - id: a\n    card: okta-devices/read-device\n    connection: c\n    for_each: [x]\n    input:\n      deviceId: '"+tt.expr+"'\n")
			_, err := doc.Steps[1].input.eval(context.Background(), act, "input")
			if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
				t.Errorf("eval error = %v; want one ending in %q", err, tt.want)
			}
		})
	}
}
