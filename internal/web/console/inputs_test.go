package console

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/card"
)

func TestReadInputs(t *testing.T) {
	t.Parallel()
	inputs := []card.Input{
		{Name: "deviceId", Type: "string", Required: true},
		{Name: "status", Type: "string", Enum: []string{"ACTIVE", "SUSPENDED"}},
		{Name: "limit", Type: "number"},
		{Name: "registered", Type: "bool"},
		{Name: "deactivateFirst", Type: "bool", Default: false},
		{Name: "query", Type: "object"},
		{Name: "tags", Type: "list"},
	}
	tests := []struct {
		name   string
		form   url.Values
		want   map[string]any
		errors map[string]string // field name → part of its error
	}{
		{
			name: "typed values",
			form: url.Values{"in.deviceId": {" guo1 "}, "in.status": {"ACTIVE"}, "in.limit": {"5"}, "in.registered": {"false"},
				"in.deactivateFirst": {"true"}, "in.query": {`{"a": [1, "b"]}`}},
			want: map[string]any{"deviceId": "guo1", "status": "ACTIVE", "limit": 5.0, "registered": false,
				"deactivateFirst": true, "query": map[string]any{"a": []any{1.0, "b"}}},
		},
		{
			name: "text as the CLI and flows read it (inputtext)",
			form: url.Values{"in.deviceId": {"guo1"}, "in.registered": {"yes"}, "in.tags": {"a, b"}, "in.limit": {"1e2"}},
			want: map[string]any{"deviceId": "guo1", "registered": true, "tags": []any{"a", "b"}, "limit": 100.0, "deactivateFirst": false},
		},
		{
			name: "empty optional inputs are left out; an unticked checkbox is false",
			form: url.Values{"in.deviceId": {"guo1"}, "in.status": {""}, "in.registered": {""}},
			want: map[string]any{"deviceId": "guo1", "deactivateFirst": false},
		},
		{
			name:   "errors",
			form:   url.Values{"in.status": {"GONE"}, "in.limit": {"five"}, "in.registered": {"maybe"}, "in.query": {"{"}},
			errors: map[string]string{"deviceId": "required", "status": "one of ACTIVE, SUSPENDED", "limit": "number", "registered": "true or false", "query": "JSON"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fields []inputField
			for _, in := range inputs {
				fields = append(fields, fieldFor(in))
			}
			got, bad := readInputs(fields, tt.form)
			if bad != (len(tt.errors) > 0) {
				t.Fatalf("bad = %v; want %v (fields %+v)", bad, len(tt.errors) > 0, fields)
			}
			for _, f := range fields {
				want, ok := tt.errors[f.Name]
				switch {
				case ok && !strings.Contains(f.Error, want):
					t.Errorf("%s error = %q; want it to mention %q", f.Name, f.Error, want)
				case !ok && f.Error != "":
					t.Errorf("%s error = %q; want none", f.Name, f.Error)
				}
			}
			if len(tt.errors) == 0 {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("input (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestFieldFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in        card.Input
		kind, val string
	}{
		{card.Input{Name: "a", Type: "string"}, "text", ""},
		{card.Input{Name: "b", Type: "string", Enum: []string{"x"}, Default: "x"}, "choice", "x"},
		{card.Input{Name: "c", Type: "number", Default: 200.0}, "number", "200"},
		{card.Input{Name: "d", Type: "bool"}, "tristate", ""},
		{card.Input{Name: "e", Type: "bool", Default: false}, "checkbox", "false"},
		{card.Input{Name: "f", Type: "list", Default: []any{"a"}}, "json", `["a"]`},
		{card.Input{Name: "g", Type: "any"}, "json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in.Name, func(t *testing.T) {
			f := fieldFor(tt.in)
			if f.Kind != tt.kind || f.Value != tt.val || f.ID != "in."+tt.in.Name {
				t.Errorf("fieldFor(%+v) = kind %q value %q id %q; want %q %q in.%s", tt.in, f.Kind, f.Value, f.ID, tt.kind, tt.val, tt.in.Name)
			}
		})
	}
}

func TestPrettyJSONIsCut(t *testing.T) {
	t.Parallel()
	big := map[string]any{"devices": strings.Split(strings.Repeat("x", maxShownJSON), "")}
	got := prettyJSON(big)
	if len(got) > maxShownJSON+200 || !strings.Contains(got, "more bytes; the API returns the whole document") {
		t.Errorf("prettyJSON of %d bytes returned %d bytes ending %q; want it cut with a note", maxShownJSON*6, len(got), got[len(got)-80:])
	}
	if got := prettyJSON(json.RawMessage(nil)); got != "" {
		t.Errorf("prettyJSON of no document = %q; want empty", got)
	}
	if got, want := prettyJSON(json.RawMessage(`{"a":1}`)), "{\n  \"a\": 1\n}"; got != want {
		t.Errorf("prettyJSON = %q; want %q", got, want)
	}
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	for next, want := range map[string]string{
		"":                   "/connections",
		"/runs/abc?x=1":      "/runs/abc?x=1",
		"//evil.example":     "/connections",
		"/\\evil.example":    "/connections",
		"https://evil":       "/connections",
		"/signin?next=/runs": "/connections",
		"/a\r\nLocation: x":  "/connections",
	} {
		if got := localPath(next); got != want {
			t.Errorf("localPath(%q) = %q; want %q", next, got, want)
		}
	}
}
