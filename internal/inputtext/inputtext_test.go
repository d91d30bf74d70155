package inputtext

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		typ, in string
		want    any
		wantErr string
	}{
		{Number, "90", 90.0, ""},
		{Number, " 1.5e3 ", 1500.0, ""},
		{Number, "ninety", nil, `"ninety" is not a number`},
		{Number, "NaN", nil, "is not a number"},
		{Number, "1e400", nil, "is not a number"},
		{Bool, "TRUE", true, ""},
		{Bool, "yes", true, ""},
		{Bool, " 0 ", false, ""},
		{Bool, "No", false, ""},
		{Bool, "maybe", nil, `"maybe" is not true or false`},
		{List, "a, b ,c", []any{"a", "b", "c"}, ""},
		{List, `[1, "two", true]`, []any{1.0, "two", true}, ""},
		{List, "", []any{}, ""},
		{List, "[1,", nil, "is not a JSON array"},
		{Object, `{"a": 1}`, map[string]any{"a": 1.0}, ""},
		{Object, "null", nil, "is not a JSON object"},
		{Object, "[1]", nil, "is not a JSON object"},
		{"string", " keep  spaces ", " keep  spaces ", ""},
	}
	for _, tt := range tests {
		got, err := Parse(tt.typ, tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%s, %q) error = %v; want %q", tt.typ, tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%s, %q): %v", tt.typ, tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Parse(%s, %q) (-want +got):\n%s", tt.typ, tt.in, diff)
		}
	}
}
